//! Actions for the app (a showcase to a client, a lead): written to the cache's outbox at
//! once, with or without network, then sent by [`Device::drain_actions`] — after each sync
//! and right after the agent acts. The outbox keeps their state for the Activity screen.

use std::sync::Arc;

use roost_api::actions::ActionRequest;
use roost_api::app::OutboxEntry;
use roost_core::secrets::{Account, Session};
use roost_core::{CoreError, DrainReport, Outbox};

use super::{Device, now_millis};
use crate::error::{AppError, AppResult};

/// The outbox sender of the signed-in account; one drain at a time. A new account (or a new
/// start) gets a new [`Outbox`], whose first drain recovers what a crash left `sending`.
#[derive(Default)]
pub struct Drainer(tokio::sync::Mutex<Option<(Account, Outbox)>>);

impl Device {
    /// Checks the action against the cache and queues it; it is sent when the server can be
    /// reached. Fast and offline: no network here.
    pub fn enqueue_action(&self, request: &ActionRequest) -> AppResult<OutboxEntry> {
        let reader = self.reader()?;
        let mut cache = reader.lock().unwrap();
        cache.enqueue_action(request).map_err(|e| match e {
            CoreError::InvalidAction { message, .. } => AppError::Input(message),
            other => other.into(),
        })
    }

    /// Every action of this account on this device, newest first.
    pub fn actions(&self) -> AppResult<Vec<OutboxEntry>> {
        let reader = self.reader()?;
        let cache = reader.lock().unwrap();
        Ok(cache.outbox()?)
    }

    /// "Send now": every queued action is due at once, whatever its backoff, then drained.
    pub async fn send_actions_now(&self) -> AppResult<DrainReport> {
        {
            let reader = self.reader()?;
            let cache = reader.lock().unwrap();
            cache.outbox_expedite(now_millis())?;
        }
        self.drain_actions().await
    }

    /// Sends the actions that are due, through a connection of its own to the cache (the
    /// reader stays free for search). Returns at once with an empty report when another
    /// drain is running.
    pub async fn drain_actions(&self) -> AppResult<DrainReport> {
        let Ok(mut slot) = self.actions.0.try_lock() else {
            return Ok(DrainReport::default());
        };
        let (account, session) = {
            let signed = self.signed.lock().unwrap();
            let signed = signed.as_ref().ok_or(AppError::SignedOut)?;
            (signed.account.clone(), signed.session.clone())
        };
        let session: Arc<Session> = self.live_session(&account, session).await?;
        if slot.as_ref().is_none_or(|(a, _)| *a != account) {
            *slot = Some((account, Outbox::new()));
        }
        let Some((_, outbox)) = slot.as_mut() else {
            unreachable!("set above")
        };
        let mut cache = session.open_cache()?;
        let report = outbox.drain(&mut cache, &*session, now_millis()).await?;
        if report.attempted > 0 {
            tracing::info!(
                attempted = report.attempted,
                delivered = report.delivered,
                failed = report.failed,
                retrying = report.retrying,
                stopped = report.stopped.as_deref().unwrap_or(""),
                "outbox drained"
            );
        }
        Ok(report)
    }
}
