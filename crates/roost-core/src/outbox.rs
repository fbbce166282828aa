//! The device outbox: every action the agent takes (a showcase to a client, a lead) is first
//! a row of the cache, with the idempotency key made at that moment, and is then sent to the
//! server (`POST /api/v1/actions`) until the server has recorded it.
//!
//! - [`Cache::enqueue_action`] checks the action against the cache (its listings and client
//!   are synced, the channel has a phone or email) and stores it as `queued`, in one
//!   transaction and without the network.
//! - [`Outbox::drain`] sends the due rows, oldest first, through an [`ActionSender`] (the real
//!   one is [`Session`](crate::Session)). A row is marked `sending` before its request goes
//!   out; a crash leaves it so, and the first drain after a start puts it back in the queue.
//!   Resending is safe because the key is the same: the server performs the effect once and
//!   answers any repeat with its first record.
//! - An answer of the server (200 with its [`ActionRecord`]) settles the row with the
//!   record's status. 409 (the same key in flight), 429, 5xx, an unreadable answer or no
//!   connection schedule another attempt: after the server's `Retry-After`, else after an
//!   exponential backoff with jitter from 2 s to 10 min. Any other 4xx fails the row with the
//!   server's message: the request itself is wrong, and the agent fixes it and acts again
//!   (a new action, with a new key).
//!
//! Everything is in the cache file (encrypted in the app), so actions survive restarts and
//! crashes; [`Cache::reset`] never touches the outbox.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roost_api::Millis;
use roost_api::actions::{
    ActionRecord, ActionRequest, ActionStatus, Channel, ClientRef, LeadInput, MAX_SHOWCASE_LISTINGS,
};
use roost_api::knowledge::Client;
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use roost_api::app::OutboxEntry;

use crate::cache::Cache;
use crate::error::{CoreError, CoreResult, SqlContext};

/// First delay before a retry (the backoff's lower bound).
pub const MIN_RETRY_DELAY: Duration = Duration::from_secs(2);
/// Longest delay between two attempts, unless the server asks for more.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(600);
/// A `Retry-After` longer than this is taken as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// Longest message, name and free text accepted (the server's limits are the reference).
const MAX_TEXT_CHARS: usize = 4_000;

/// How one request to `POST /api/v1/actions` ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// 200: the server's record, new or the one a repeated key returns.
    Recorded(Box<ActionRecord>),
    /// Not now, same key later: 409 (the key is in flight), 429, 5xx, or an answer this app
    /// cannot read. `retry_after` is the server's `Retry-After`.
    RetryLater {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// No answer (refused, dropped, timed out): the server may or may not have performed it;
    /// same key later. Ends the drain, as the next requests would fare no better.
    Unreachable(String),
    /// Any other 4xx: the request is wrong and would be refused again. `message` is the
    /// server's sentence.
    Rejected { status: u16, message: String },
}

/// Sends one action with its key. `Err` means the sender cannot send at all now (signed out,
/// the secret store failed): the drain stops and the action stays queued.
pub trait ActionSender {
    type Error: std::fmt::Display;

    fn send_action(
        &self,
        key: &str,
        request: &ActionRequest,
    ) -> impl Future<Output = Result<SendOutcome, Self::Error>> + Send;
}

/// What one drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainReport {
    /// Rows put back in the queue because a crash left them `sending` (first drain only).
    pub recovered: u32,
    /// Requests sent.
    pub attempted: u32,
    /// Settled as delivered (or read).
    pub delivered: u32,
    /// Settled as failed (by the server's record or a 4xx).
    pub failed: u32,
    /// Recorded by the server with the effect still pending (status queued or sending).
    pub accepted: u32,
    /// Scheduled for another attempt.
    pub retrying: u32,
    /// Why the drain stopped before the end of the due rows (unreachable, signed out).
    pub stopped: Option<String>,
    /// The earliest time a row will be due again, for the caller's scheduler.
    pub next_due: Option<Millis>,
}

/// Sends the outbox. Keep one per cache for the app's lifetime: its first drain recovers the
/// rows a crash left `sending`, and drains must not overlap (it takes `&mut self`).
#[derive(Debug)]
pub struct Outbox {
    rng: StdRng,
    recovered: bool,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new()
    }
}

impl Outbox {
    pub fn new() -> Outbox {
        Outbox {
            rng: StdRng::from_os_rng(),
            recovered: false,
        }
    }

    /// With a fixed seed for the backoff's jitter (tests).
    pub fn with_seed(seed: u64) -> Outbox {
        Outbox {
            rng: StdRng::seed_from_u64(seed),
            recovered: false,
        }
    }

    /// Sends every row due at `now` (queued, `next_attempt_at <= now`), oldest first, each at
    /// most once per drain, and settles or reschedules it from the answer. Cache errors are
    /// the error; the sender's problems are in the report.
    pub async fn drain<S>(
        &mut self,
        cache: &mut Cache,
        sender: &S,
        now: Millis,
    ) -> CoreResult<DrainReport>
    where
        S: ActionSender + Sync + ?Sized,
    {
        let mut report = DrainReport::default();
        if !self.recovered {
            report.recovered = cache.recover_outbox(now)?;
            self.recovered = true;
        }
        for (id, key, request) in cache.due_actions(now)? {
            let Some(attempts) = cache.mark_sending(id, now)? else {
                continue;
            };
            report.attempted += 1;
            match sender.send_action(&key, &request).await {
                Ok(SendOutcome::Recorded(record)) if record.idempotency_key != key => {
                    let reason = format!(
                        "the server answered with the record of another action ({})",
                        record.idempotency_key
                    );
                    let at = now + self.delay(attempts, None);
                    cache.reschedule(id, &reason, at, now)?;
                    report.retrying += 1;
                }
                Ok(SendOutcome::Recorded(record)) => {
                    match record.status {
                        ActionStatus::Delivered | ActionStatus::Read => report.delivered += 1,
                        ActionStatus::Failed => report.failed += 1,
                        ActionStatus::Queued | ActionStatus::Sending => report.accepted += 1,
                    }
                    cache.settle(id, &record, now)?;
                }
                Ok(SendOutcome::RetryLater {
                    reason,
                    retry_after,
                }) => {
                    let at = now + self.delay(attempts, retry_after);
                    cache.reschedule(id, &reason, at, now)?;
                    report.retrying += 1;
                }
                Ok(SendOutcome::Unreachable(reason)) => {
                    let at = now + self.delay(attempts, None);
                    cache.reschedule(id, &reason, at, now)?;
                    report.retrying += 1;
                    report.stopped = Some(reason);
                    break;
                }
                Ok(SendOutcome::Rejected { message, .. }) => {
                    cache.fail(id, &message, now)?;
                    report.failed += 1;
                }
                Err(e) => {
                    // Nothing was performed (the request did not go out or was refused as
                    // unauthenticated): due again as soon as the sender can send.
                    let reason = e.to_string();
                    cache.reschedule(id, &reason, now, now)?;
                    report.stopped = Some(reason);
                    break;
                }
            }
        }
        report.next_due = cache.next_due()?;
        Ok(report)
    }

    /// Milliseconds until attempt `attempts + 1`: the server's `Retry-After` when it gave one,
    /// else "equal jitter" over 2 s · 2^(n-1) doubled and capped: uniformly in
    /// [b/2, b] with b = min(4 s · 2^(attempts-1), 10 min), so from 2–4 s to 5–10 min.
    fn delay(&mut self, attempts: u32, retry_after: Option<Duration>) -> Millis {
        if let Some(after) = retry_after {
            return after.min(MAX_RETRY_AFTER).as_millis() as Millis;
        }
        let max = MAX_RETRY_DELAY.as_millis() as u64;
        let doublings = attempts.saturating_sub(1).min(20);
        let b = (2 * MIN_RETRY_DELAY.as_millis() as u64)
            .saturating_mul(1 << doublings)
            .min(max);
        (b / 2 + self.rng.random_range(0..=b / 2)) as Millis
    }
}

/// Milliseconds since the Unix epoch, by the system clock.
pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

const ENTRY_COLUMNS: &str = "id, key, request, status, attempts, last_error, next_attempt_at, \
                             server, created_at, updated_at";

impl Cache {
    /// Checks `request` against the cache and stores it as `queued` with a new idempotency
    /// key, due at once. No network. Refusals are [`CoreError::InvalidAction`] naming the
    /// field to fix.
    pub fn enqueue_action(&mut self, request: &ActionRequest) -> CoreResult<OutboxEntry> {
        let now = now_millis();
        let tx = self.conn.transaction().at(&self.path)?;
        validate(&tx, &self.path, request)?;
        let key = Uuid::now_v7().to_string();
        let json = serde_json::to_string(request).map_err(|e| CoreError::Corrupt {
            what: "action request".into(),
            message: e.to_string(),
        })?;
        tx.prepare_cached(
            "INSERT INTO outbox (key, request, status, attempts, next_attempt_at, created_at,
                                 updated_at)
             VALUES (?1, ?2, 'queued', 0, ?3, ?3, ?3)",
        )
        .and_then(|mut s| s.execute(params![key, json, now]))
        .at(&self.path)?;
        let id = tx.last_insert_rowid();
        tx.commit().at(&self.path)?;
        Ok(OutboxEntry {
            id,
            key,
            request: request.clone(),
            status: ActionStatus::Queued,
            attempts: 0,
            last_error: None,
            next_attempt_at: Some(now),
            server: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Every action in the outbox, newest first.
    pub fn outbox(&self) -> CoreResult<Vec<OutboxEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC"
            ))
            .at(&self.path)?;
        let rows = stmt
            .query_map([], read_entry)
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter().collect()
    }

    /// One action of the outbox by its row id.
    pub fn outbox_entry(&self, id: i64) -> CoreResult<Option<OutboxEntry>> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                read_entry,
            )
            .optional()
            .at(&self.path)?;
        row.transpose()
    }

    /// Puts rows a crash left `sending` (sent, no answer stored) back in the queue, due at
    /// `now`; returns how many. [`Outbox::drain`] does this on its first run.
    pub fn recover_outbox(&self, now: Millis) -> CoreResult<u32> {
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET status = 'queued', next_attempt_at = ?1, updated_at = ?1
                 WHERE status = 'sending' AND server IS NULL",
                [now],
            )
            .at(&self.path)?;
        Ok(n as u32)
    }

    /// Makes every queued action due at `now`, whatever its backoff: the agent asked to send
    /// now ("Send now") and the network is back. Returns how many were waiting.
    pub fn outbox_expedite(&self, now: Millis) -> CoreResult<u32> {
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET next_attempt_at = ?1
                 WHERE status = 'queued' AND next_attempt_at > ?1",
                [now],
            )
            .at(&self.path)?;
        Ok(n as u32)
    }

    /// The earliest time a queued action is due, if any is.
    pub fn outbox_next_due(&self) -> CoreResult<Option<Millis>> {
        self.next_due()
    }

    fn next_due(&self) -> CoreResult<Option<Millis>> {
        self.conn
            .query_row(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued' AND server IS NULL",
                [],
                |r| r.get(0),
            )
            .at(&self.path)
    }

    /// Queued rows due at `now`, oldest first.
    fn due_actions(&self, now: Millis) -> CoreResult<Vec<(i64, String, ActionRequest)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, key, request FROM outbox
                 WHERE status = 'queued' AND server IS NULL AND next_attempt_at <= ?1
                 ORDER BY created_at, id",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map([now], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter()
            .map(|(id, key, json)| Ok((id, key, parse_json(&json, "action request", id)?)))
            .collect()
    }

    /// Marks a queued row `sending` and counts the attempt; `None` if it is no longer queued.
    fn mark_sending(&self, id: i64, now: Millis) -> CoreResult<Option<u32>> {
        self.conn
            .query_row(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?2
                 WHERE id = ?1 AND status = 'queued' AND server IS NULL
                 RETURNING attempts",
                params![id, now],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)
    }

    fn settle(&self, id: i64, record: &ActionRecord, now: Millis) -> CoreResult<()> {
        let json = serde_json::to_string(record).map_err(|e| CoreError::Corrupt {
            what: "action record".into(),
            message: e.to_string(),
        })?;
        self.conn
            .execute(
                // Unless sync brought a newer record meanwhile (a WhatsApp status).
                "UPDATE outbox SET status = ?2, server = ?3, last_error = ?4,
                        next_attempt_at = NULL, updated_at = ?5
                 WHERE id = ?1
                   AND (server IS NULL OR json_extract(server, '$.updated_at') <= ?6)",
                params![
                    id,
                    status_str(record.status),
                    json,
                    record.reason.as_deref(),
                    now,
                    record.updated_at
                ],
            )
            .at(&self.path)
            .map(drop)
    }

    fn reschedule(&self, id: i64, reason: &str, at: Millis, now: Millis) -> CoreResult<()> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'queued', last_error = ?2, next_attempt_at = ?3,
                        updated_at = ?4
                 WHERE id = ?1",
                params![id, reason, at, now],
            )
            .at(&self.path)
            .map(drop)
    }

    fn fail(&self, id: i64, message: &str, now: Millis) -> CoreResult<()> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'failed', last_error = ?2, next_attempt_at = NULL,
                        updated_at = ?3
                 WHERE id = ?1",
                params![id, message, now],
            )
            .at(&self.path)
            .map(drop)
    }
}

fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::InvalidAction {
        field: field.into(),
        message: message.into(),
    }
}

/// The checks the device can make without the server: text present and not too long,
/// listings and clients synced here, a phone for WhatsApp and an email for email.
fn validate(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    request: &ActionRequest,
) -> CoreResult<()> {
    match request {
        ActionRequest::SendShowcase {
            channel,
            client,
            listings,
            message,
        } => {
            if listings.is_empty() {
                return Err(invalid("listings", "Choose at least one listing to send."));
            }
            check_listings(conn, path, listings)?;
            check_text("message", "the message", message, true)?;
            let (phone, email) = match client {
                ClientRef::Existing { id } => {
                    let client = synced_client(conn, path, *id)?;
                    // As the server reads them.
                    let phone = client.phone_candidates().into_iter().next();
                    let email = client.email_address();
                    (phone, email)
                }
                ClientRef::New { name, phone, email } => {
                    check_text("client.name", "the client's name", name, true)?;
                    (phone.clone(), email.clone())
                }
            };
            match channel {
                Channel::Whatsapp => {
                    let phone = phone.filter(|p| !p.trim().is_empty()).ok_or_else(|| {
                        invalid("client.phone", "WhatsApp needs the client's phone number.")
                    })?;
                    check_phone("client.phone", &phone)
                }
                Channel::Email => {
                    let email = email.filter(|e| !e.trim().is_empty()).ok_or_else(|| {
                        invalid("client.email", "Email needs the client's email address.")
                    })?;
                    check_email("client.email", &email)
                }
            }
        }
        ActionRequest::CreateLead { lead } => {
            let LeadInput {
                name,
                phone,
                email,
                budget,
                interests,
                listings,
            } = lead;
            check_text("lead.name", "the lead's name", name, true)?;
            let phone = phone.as_deref().filter(|p| !p.trim().is_empty());
            let email = email.as_deref().filter(|e| !e.trim().is_empty());
            if phone.is_none() && email.is_none() {
                return Err(invalid(
                    "lead.phone",
                    "Give the lead's phone number or email address.",
                ));
            }
            if let Some(p) = phone {
                check_phone("lead.phone", p)?;
            }
            if let Some(e) = email {
                check_email("lead.email", e)?;
            }
            if let Some(b) = budget
                && b.amount_minor <= 0
            {
                return Err(invalid("lead.budget", "The budget must be more than zero."));
            }
            if let Some(i) = interests {
                check_text("lead.interests", "the interests", i, false)?;
            }
            check_listings(conn, path, listings)
        }
    }
}

fn check_text(field: &str, what: &str, text: &str, required: bool) -> CoreResult<()> {
    if required && text.trim().is_empty() {
        return Err(invalid(field, format!("Write {what}.")));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            field,
            format!("Shorten {what} to {MAX_TEXT_CHARS} characters or fewer."),
        ));
    }
    Ok(())
}

/// Digits with the usual separators and an optional leading `+`; 7 to 15 digits (E.164).
fn check_phone(field: &str, phone: &str) -> CoreResult<()> {
    if roost_api::actions::looks_like_phone(phone) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{phone:?} is not a phone number (7 to 15 digits, with the country code)."),
        ))
    }
}

fn check_email(field: &str, email: &str) -> CoreResult<()> {
    let ok = roost_api::actions::looks_like_email(email);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{email:?} is not an email address."),
        ))
    }
}

fn check_listings(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    listings: &[Uuid],
) -> CoreResult<()> {
    if listings.len() > MAX_SHOWCASE_LISTINGS {
        return Err(invalid(
            "listings",
            format!("Choose at most {MAX_SHOWCASE_LISTINGS} listings."),
        ));
    }
    let mut exists = conn
        .prepare_cached("SELECT 1 FROM listings WHERE id = ?1")
        .at(path)?;
    for (i, id) in listings.iter().enumerate() {
        if listings[..i].contains(id) {
            return Err(invalid("listings", "A listing is chosen twice."));
        }
        if !exists.exists([id.to_string()]).at(path)? {
            return Err(invalid(
                "listings",
                format!("Listing {id} is not on this device (removed, or not synced yet)."),
            ));
        }
    }
    Ok(())
}

fn synced_client(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    id: Uuid,
) -> CoreResult<Client> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM records WHERE kind = 'client' AND id = ?1")
        .and_then(|mut s| s.query_row([id.to_string()], |r| r.get(0)).optional())
        .at(path)?;
    let json = json.ok_or_else(|| {
        invalid(
            "client.id",
            "This client is not on this device (removed, or not yours); pick another or enter a new one.",
        )
    })?;
    serde_json::from_str(&json).map_err(|e| CoreError::Corrupt {
        what: format!("client {id}"),
        message: e.to_string(),
    })
}

/// Follows the server's record of one of this user's actions, as the change feed brought it
/// (in the sync page's transaction). Only a settled record (delivered, read, failed) and only
/// when newer than the one kept: it settles a row whose answer was lost on the way (the
/// server performed it, the connection dropped), and carries WhatsApp's later statuses.
/// Actions made on another device are not added. Returns whether a row changed.
pub(crate) fn follow_record(
    conn: &rusqlite::Connection,
    record: &ActionRecord,
    now: Millis,
) -> rusqlite::Result<bool> {
    if !matches!(
        record.status,
        ActionStatus::Delivered | ActionStatus::Read | ActionStatus::Failed
    ) {
        return Ok(false);
    }
    let json = serde_json::to_string(record)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET status = ?2, server = ?3, last_error = ?4,
                    next_attempt_at = NULL, updated_at = ?5
             WHERE key = ?1
               AND (server IS NULL OR json_extract(server, '$.updated_at') < ?6
                    OR (json_extract(server, '$.updated_at') = ?6 AND status <> ?2))",
        )?
        .execute(params![
            record.idempotency_key,
            status_str(record.status),
            json,
            record.reason.as_deref(),
            now,
            record.updated_at
        ])?;
    Ok(n > 0)
}

fn status_str(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::Queued => "queued",
        ActionStatus::Sending => "sending",
        ActionStatus::Delivered => "delivered",
        ActionStatus::Read => "read",
        ActionStatus::Failed => "failed",
    }
}

fn parse_status(s: &str, id: i64) -> CoreResult<ActionStatus> {
    Ok(match s {
        "queued" => ActionStatus::Queued,
        "sending" => ActionStatus::Sending,
        "delivered" => ActionStatus::Delivered,
        "read" => ActionStatus::Read,
        "failed" => ActionStatus::Failed,
        other => {
            return Err(CoreError::Corrupt {
                what: format!("status of outbox row {id}"),
                message: format!("unknown status {other:?}"),
            });
        }
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(json: &str, what: &str, id: i64) -> CoreResult<T> {
    serde_json::from_str(json).map_err(|e| CoreError::Corrupt {
        what: format!("{what} of outbox row {id}"),
        message: e.to_string(),
    })
}

fn read_entry(r: &Row<'_>) -> rusqlite::Result<CoreResult<OutboxEntry>> {
    let id: i64 = r.get(0)?;
    let request: String = r.get(2)?;
    let status: String = r.get(3)?;
    let server: Option<String> = r.get(7)?;
    let key: String = r.get(1)?;
    let attempts: u32 = r.get(4)?;
    let last_error: Option<String> = r.get(5)?;
    let next_attempt_at: Option<Millis> = r.get(6)?;
    let created_at: Millis = r.get(8)?;
    let updated_at: Millis = r.get(9)?;
    Ok((|| {
        Ok(OutboxEntry {
            id,
            key,
            request: parse_json(&request, "action request", id)?,
            status: parse_status(&status, id)?,
            attempts,
            last_error,
            next_attempt_at,
            server: server
                .map(|s| parse_json(&s, "server record", id))
                .transpose()?,
            created_at,
            updated_at,
        })
    })())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use roost_api::actions::LeadInput;
    use roost_api::sync::{Change, ChangePage};

    use super::*;
    use crate::testdata;

    fn cache_with_listings(dir: &std::path::Path, n: i64) -> Cache {
        let mut cache = Cache::open(dir, "t", "u").unwrap();
        let page = ChangePage {
            changes: (0..n)
                .map(|i| Change::Listing {
                    seq: i + 1,
                    listing: testdata::listing(i),
                    embedding: None,
                })
                .collect(),
            next_cursor: n,
            has_more: false,
            head: n,
            embedding_model: None,
            scope: "agent".into(),
        };
        cache.apply_page(&page).unwrap();
        cache
    }

    fn showcase(listings: Vec<Uuid>) -> ActionRequest {
        ActionRequest::SendShowcase {
            channel: Channel::Whatsapp,
            client: ClientRef::New {
                name: "Layla".into(),
                phone: Some("+971 50 111 2222".into()),
                email: None,
            },
            listings,
            message: "Two villas for you".into(),
        }
    }

    fn record(key: &str, request: &ActionRequest, status: ActionStatus) -> ActionRecord {
        ActionRecord {
            id: Uuid::new_v4(),
            idempotency_key: key.into(),
            request: request.clone(),
            status,
            reason: None,
            retry_after_s: None,
            external_id: None,
            client_id: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    /// Answers from a script; records the keys it was given.
    #[derive(Default)]
    struct Scripted {
        answers: Mutex<VecDeque<Result<SendOutcome, String>>>,
        keys: Mutex<Vec<String>>,
    }

    impl ActionSender for Scripted {
        type Error = String;
        fn send_action(
            &self,
            key: &str,
            request: &ActionRequest,
        ) -> impl Future<Output = Result<SendOutcome, String>> + Send {
            self.keys.lock().unwrap().push(key.to_string());
            let answer = self.answers.lock().unwrap().pop_front().unwrap_or_else(|| {
                Ok(SendOutcome::Recorded(Box::new(record(
                    key,
                    request,
                    ActionStatus::Delivered,
                ))))
            });
            std::future::ready(answer)
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn an_imported_clients_number_in_its_data_is_enough_for_whatsapp() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = cache_with_listings(dir.path(), 2);
        let client = |id: u128, data: serde_json::Value| Change::Client {
            seq: 10 + id as i64,
            client: roost_api::knowledge::Client {
                id: Uuid::from_u128(id),
                external_id: format!("C-{id}"),
                name: "Dana".into(),
                email: None,
                phone: None,
                agent_user_id: None,
                agent_email: None,
                data,
                updated_at: 1,
            },
        };
        cache
            .apply_page(&ChangePage {
                changes: vec![
                    client(
                        1,
                        serde_json::json!({ "whatsapp": { "number": "+971501112222" } }),
                    ),
                    client(2, serde_json::json!({ "email": "dana@example.com" })),
                ],
                next_cursor: 12,
                has_more: false,
                head: 12,
                embedding_model: None,
                scope: "agent".into(),
            })
            .unwrap();
        let send = |id: u128, channel: Channel| ActionRequest::SendShowcase {
            channel,
            client: ClientRef::Existing {
                id: Uuid::from_u128(id),
            },
            listings: vec![testdata::listing(0).id],
            message: "hi".into(),
        };
        assert!(cache.enqueue_action(&send(1, Channel::Whatsapp)).is_ok());
        assert!(cache.enqueue_action(&send(2, Channel::Email)).is_ok());
        match cache.enqueue_action(&send(2, Channel::Whatsapp)) {
            Err(CoreError::InvalidAction { field, .. }) => assert_eq!(field, "client.phone"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn enqueue_checks_the_action_against_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = cache_with_listings(dir.path(), 12);
        let ids: Vec<Uuid> = (0..12).map(|i| testdata::listing(i).id).collect();

        let field = |r: CoreResult<OutboxEntry>| match r {
            Err(CoreError::InvalidAction { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(field(cache.enqueue_action(&showcase(vec![]))), "listings");
        assert_eq!(
            field(cache.enqueue_action(&showcase(ids.clone()))),
            "listings"
        );
        assert_eq!(
            field(cache.enqueue_action(&showcase(vec![ids[0], ids[0]]))),
            "listings"
        );
        assert_eq!(
            field(cache.enqueue_action(&showcase(vec![Uuid::new_v4()]))),
            "listings"
        );
        let mut no_message = showcase(vec![ids[0]]);
        if let ActionRequest::SendShowcase { message, .. } = &mut no_message {
            *message = "  ".into();
        }
        assert_eq!(field(cache.enqueue_action(&no_message)), "message");
        let by_email = ActionRequest::SendShowcase {
            channel: Channel::Email,
            client: ClientRef::New {
                name: "Layla".into(),
                phone: Some("+971501112222".into()),
                email: None,
            },
            listings: vec![ids[0]],
            message: "Hi".into(),
        };
        assert_eq!(field(cache.enqueue_action(&by_email)), "client.email");
        let unknown_client = ActionRequest::SendShowcase {
            channel: Channel::Whatsapp,
            client: ClientRef::Existing { id: Uuid::new_v4() },
            listings: vec![ids[0]],
            message: "Hi".into(),
        };
        assert_eq!(field(cache.enqueue_action(&unknown_client)), "client.id");
        let lead = |phone: Option<&str>, email: Option<&str>| ActionRequest::CreateLead {
            lead: LeadInput {
                name: "Ivan".into(),
                phone: phone.map(Into::into),
                email: email.map(Into::into),
                budget: None,
                interests: None,
                listings: vec![],
            },
        };
        assert_eq!(field(cache.enqueue_action(&lead(None, None))), "lead.phone");
        assert_eq!(
            field(cache.enqueue_action(&lead(Some("12ab"), None))),
            "lead.phone"
        );
        assert_eq!(
            field(cache.enqueue_action(&lead(None, Some("ivan@")))),
            "lead.email"
        );
        assert!(
            cache.outbox().unwrap().is_empty(),
            "nothing refused is stored"
        );

        let a = cache.enqueue_action(&showcase(ids[..10].to_vec())).unwrap();
        let b = cache
            .enqueue_action(&lead(None, Some("ivan@x.test")))
            .unwrap();
        assert_eq!(a.status, ActionStatus::Queued);
        assert_ne!(a.key, b.key);
        assert_eq!(Uuid::parse_str(&a.key).unwrap().get_version_num(), 7);
        let listed = cache.outbox().unwrap();
        assert_eq!(listed, vec![b.clone(), a.clone()], "newest first");
        assert_eq!(cache.outbox_entry(a.id).unwrap(), Some(a));
    }

    #[test]
    fn a_resync_keeps_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = cache_with_listings(dir.path(), 1);
        cache
            .enqueue_action(&showcase(vec![testdata::listing(0).id]))
            .unwrap();
        cache.reset().unwrap();
        assert_eq!(cache.outbox().unwrap().len(), 1);
    }

    #[test]
    fn drain_settles_reschedules_and_fails() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = cache_with_listings(dir.path(), 3);
        let ids: Vec<Uuid> = (0..3).map(|i| testdata::listing(i).id).collect();
        let entries: Vec<OutboxEntry> = ids
            .iter()
            .map(|id| cache.enqueue_action(&showcase(vec![*id])).unwrap())
            .collect();
        let sender = Scripted::default();
        sender.answers.lock().unwrap().extend([
            Ok(SendOutcome::RetryLater {
                reason: "busy".into(),
                retry_after: Some(Duration::from_secs(30)),
            }),
            Ok(SendOutcome::Rejected {
                status: 422,
                message: "The number is not on WhatsApp.".into(),
            }),
        ]);
        let now = now_millis() + 1;
        let mut outbox = Outbox::with_seed(1);
        let report = block_on(outbox.drain(&mut cache, &sender, now)).unwrap();
        assert_eq!(
            (
                report.attempted,
                report.retrying,
                report.failed,
                report.delivered
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(
            *sender.keys.lock().unwrap(),
            entries.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
            "oldest first"
        );
        let get = |cache: &Cache, e: &OutboxEntry| cache.outbox_entry(e.id).unwrap().unwrap();
        let first = get(&cache, &entries[0]);
        assert_eq!(first.status, ActionStatus::Queued);
        assert_eq!(first.next_attempt_at, Some(now + 30_000));
        assert_eq!(first.attempts, 1);
        assert_eq!(report.next_due, Some(now + 30_000));
        let second = get(&cache, &entries[1]);
        assert_eq!(second.status, ActionStatus::Failed);
        assert_eq!(
            second.last_error.as_deref(),
            Some("The number is not on WhatsApp.")
        );
        assert_eq!(second.next_attempt_at, None);
        let third = get(&cache, &entries[2]);
        assert_eq!(third.status, ActionStatus::Delivered);
        assert!(third.server.is_some());

        // Not due yet: nothing is sent; then due: sent with the same key.
        let report = block_on(outbox.drain(&mut cache, &sender, now + 29_999)).unwrap();
        assert_eq!(report.attempted, 0);
        let report = block_on(outbox.drain(&mut cache, &sender, now + 30_000)).unwrap();
        assert_eq!((report.attempted, report.delivered), (1, 1));
        assert_eq!(sender.keys.lock().unwrap()[3], entries[0].key);
        assert_eq!(report.next_due, None);
    }

    #[test]
    fn unreachable_stops_the_drain_and_sender_errors_keep_it_due() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = cache_with_listings(dir.path(), 2);
        for i in 0..2 {
            cache
                .enqueue_action(&showcase(vec![testdata::listing(i).id]))
                .unwrap();
        }
        let sender = Scripted::default();
        sender.answers.lock().unwrap().extend([
            Ok(SendOutcome::Unreachable("connection refused".into())),
            Err("signed out".into()),
        ]);
        let now = now_millis() + 1;
        let mut outbox = Outbox::with_seed(2);
        let report = block_on(outbox.drain(&mut cache, &sender, now)).unwrap();
        assert_eq!(report.attempted, 1);
        assert_eq!(report.stopped.as_deref(), Some("connection refused"));
        let due = report.next_due.unwrap();
        assert!(due <= now, "the second was not tried and is still due");
        let report = block_on(outbox.drain(&mut cache, &sender, now)).unwrap();
        assert_eq!(report.attempted, 1, "only the second is due");
        assert_eq!(report.stopped.as_deref(), Some("signed out"));
        let all = cache.outbox().unwrap();
        assert!(all.iter().all(|e| e.status == ActionStatus::Queued));
        assert_eq!(all[0].next_attempt_at, Some(now), "due again at once");
        let backoff = all[1].next_attempt_at.unwrap() - now;
        assert!((2_000..=4_000).contains(&backoff), "{backoff}");
    }

    #[test]
    fn backoff_grows_within_bounds() {
        let mut outbox = Outbox::with_seed(3);
        for attempts in 1..40 {
            let d = outbox.delay(attempts, None);
            let b = (4_000u64 << (attempts - 1).min(20)).min(600_000) as Millis;
            assert!(d >= b / 2 && d <= b, "attempt {attempts}: {d}");
            assert!((2_000..=600_000).contains(&d));
        }
        assert_eq!(outbox.delay(9, Some(Duration::from_secs(5))), 5_000);
        assert_eq!(
            outbox.delay(1, Some(Duration::from_secs(86_400))),
            3_600_000
        );
    }

    #[test]
    fn a_crash_while_sending_is_recovered_on_the_first_drain() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = cache_with_listings(dir.path(), 1);
        let e = cache
            .enqueue_action(&showcase(vec![testdata::listing(0).id]))
            .unwrap();
        let now = now_millis() + 1;
        assert_eq!(cache.mark_sending(e.id, now).unwrap(), Some(1));
        let path = cache.path().to_path_buf();
        drop(cache);
        let mut cache = Cache::open_file(&path).unwrap();
        assert_eq!(cache.outbox().unwrap()[0].status, ActionStatus::Sending);
        let sender = Scripted::default();
        let report = block_on(Outbox::with_seed(4).drain(&mut cache, &sender, now)).unwrap();
        assert_eq!((report.recovered, report.delivered), (1, 1));
        assert_eq!(*sender.keys.lock().unwrap(), vec![e.key]);
        let entry = &cache.outbox().unwrap()[0];
        assert_eq!((entry.status, entry.attempts), (ActionStatus::Delivered, 2));
    }
}
