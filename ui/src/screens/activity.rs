//! Activity: every action of the outbox, newest first — what it is, where it stands, when it
//! was made, how often it was tried, why it has not gone yet and when it goes next. "Send now"
//! syncs (the shell sends the outbox after a sync). The list follows `roost://outbox` and
//! sync events through [`ActionsState`](super::actions::ActionsState).

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::actions::{ActionRequest, ActionStatus, ClientRef};
use roost_api::app::{OutboxEntry, SyncPhase, SyncStatus};

use super::actions::{self, channel_icon};
use super::{Ctx, no_args};
use crate::bridge::{invoke, now_millis};
use crate::format;
use crate::outbox;

#[component]
pub fn Activity() -> impl IntoView {
    let ctx = Ctx::get();
    let a = actions::state();
    a.reload();
    a.reload_clients();
    // A clock for "Next try in 40 s".
    let now = RwSignal::new(now_millis());
    if let Ok(h) = set_interval_with_handle(
        move || {
            now.try_set(now_millis());
        },
        Duration::from_secs(1),
    ) {
        on_cleanup(move || h.clear());
    }
    let sending = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let syncing = move || {
        ctx.sync.with(|s| {
            matches!(
                s.phase,
                SyncPhase::Connecting | SyncPhase::Downloading | SyncPhase::Resyncing
            )
        })
    };
    let send_now = move |_| {
        sending.set(true);
        notice.set(None);
        spawn_local(async move {
            match invoke::<_, SyncStatus>("sync_now", &no_args()).await {
                Ok(s) if !s.online => {
                    notice.try_set(Some(
                        "Still offline: the server cannot be reached. Your actions stay queued and go when the network is back."
                            .into(),
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    notice.try_set(Some(e));
                }
            }
            ctx.reload();
            a.reload();
            sending.try_set(false);
        });
    };
    let online = move || ctx.sync.with(|s| s.online);
    let entries = move || {
        a.entries.with(|e| match e {
            Some(Ok(list)) => list.clone(),
            _ => vec![],
        })
    };
    let queued = move || {
        a.entries.with(|e| match e {
            Some(Ok(list)) => list
                .iter()
                .filter(|e| e.status == ActionStatus::Queued)
                .count(),
            _ => 0,
        })
    };

    view! {
        <section class="activity" id="activity">
            <header class="activity-head">
                <div>
                    <h1>"Activity"</h1>
                    <p class="muted">"What you sent to clients and the leads you created, newest first."</p>
                </div>
                <button class="primary" id="activity-send-now"
                    disabled=move || sending.get() || syncing()
                    on:click=send_now>
                    {move || if sending.get() || syncing() { "Sending…" } else { "Send now" }}
                </button>
            </header>
            <Show when=move || { !online() && queued() > 0 }>
                <div class="offline-banner" id="activity-offline" role="status">
                    <span class="offline-icon" aria-hidden="true"></span>
                    <span>{move || format!(
                        "You're offline. {} will go when the network is back.",
                        match queued() { 1 => "1 queued action".to_string(), n => format!("{n} queued actions") }
                    )}</span>
                </div>
            </Show>
            <p class="notice" role="status" id="activity-notice">{move || notice.get()}</p>
            {move || a.entries.with(|e| match e {
                Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.clone()}</p> }.into_any()),
                None => Some(view! { <p class="muted">"Loading…"</p> }.into_any()),
                Some(Ok(list)) if list.is_empty() => Some(view! {
                    <div class="activity-empty" id="activity-empty">
                        <h2>"Nothing sent yet"</h2>
                        <p class="muted">"Send listings to a client or create a lead from a listing, a selection of search results or a chat answer. Each one shows here with where it stands."</p>
                    </div>
                }.into_any()),
                Some(Ok(_)) => None,
            })}
            <ol class="activity-list" id="activity-list">
                <For each=entries
                    key=|e| (e.key.clone(), e.updated_at, outbox::status_key(e.status), e.attempts)
                    children=move |e| view! { <Row entry=e now=now/> }/>
            </ol>
        </section>
    }
}

#[component]
fn Row(entry: OutboxEntry, now: RwSignal<i64>) -> impl IntoView {
    let ctx = Ctx::get();
    let a = actions::state();
    let e = entry;
    let status = e.status;
    let request = e.request.clone();
    let title = {
        let request = request.clone();
        move || outbox::describe(&request, |id| a.client_name(id))
    };
    let (icon, detail) = match &e.request {
        ActionRequest::SendShowcase {
            channel,
            message,
            client,
            ..
        } => {
            let to = match client {
                ClientRef::New { phone, email, .. } => {
                    let c: Vec<String> = [phone.clone(), email.clone()]
                        .into_iter()
                        .flatten()
                        .collect();
                    (!c.is_empty()).then(|| format!("New client · {}", c.join(" · ")))
                }
                ClientRef::Existing { .. } => None,
            };
            (
                channel_icon(*channel),
                [to, Some(short(message, 140))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
            )
        }
        ActionRequest::CreateLead { lead } => {
            let mut parts: Vec<String> = [lead.phone.clone(), lead.email.clone()]
                .into_iter()
                .flatten()
                .collect();
            if let Some(b) = &lead.budget {
                parts.push(format!(
                    "budget {}",
                    roost_api::money::format_amount_short(b.amount_minor, &b.currency)
                ));
            }
            if !lead.listings.is_empty() {
                parts.push(format::count(
                    lead.listings.len() as u64,
                    "listing",
                    "listings",
                ));
            }
            let mut lines = vec![parts.join(" · ")];
            if let Some(i) = lead.interests.as_ref().filter(|i| !i.trim().is_empty()) {
                lines.push(short(i, 140));
            }
            (lead_icon(), lines)
        }
    };
    // Why it has not gone (or failed), in words the agent can act on.
    let problem = e
        .server
        .as_ref()
        .and_then(|s| s.reason.clone())
        .or_else(|| e.last_error.clone())
        .filter(|_| status != ActionStatus::Delivered && status != ActionStatus::Read)
        .map(|p| outbox::error_words(&p));
    let created = e.created_at;
    let made_title = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(created as f64))
        .to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default();
    let attempts = e.attempts;
    let next = e.next_attempt_at.filter(|_| status == ActionStatus::Queued);
    let meta = move || {
        let mut parts = vec![format!("Made {}", format::ago(created, now.get()))];
        parts.push(outbox::attempts(attempts));
        // Offline, nothing is tried until the network is back (the line below says so).
        if let Some(at) = next.filter(|_| ctx.sync.with(|s| s.online)) {
            parts.push(outbox::next_try(at, now.get()));
        }
        parts.join(" · ")
    };
    let offline_line = move || {
        (status == ActionStatus::Queued && !ctx.sync.with(|s| s.online))
            .then_some("Offline — it will go when the network is back.")
    };
    view! {
        <li class="activity-row" data-key=e.key.clone() data-status=outbox::status_key(status)>
            <span class="activity-icon" data-status=outbox::status_key(status)>{icon}</span>
            <div class="activity-main">
                <div class="activity-top">
                    <span class="activity-title">{title}</span>
                    <span class=format!("pill pill-{}", outbox::status_key(status))>
                        {outbox::status_label(status)}
                    </span>
                </div>
                {detail.into_iter().filter(|d| !d.is_empty()).map(|d| view! { <p class="activity-detail muted">{d}</p> }).collect_view()}
                <p class="activity-meta" title=made_title>{meta}</p>
                {problem.map(|p| view! {
                    <p class="activity-problem" class:failed=status == ActionStatus::Failed>{p}</p>
                })}
                {move || offline_line().map(|l| view! { <p class="activity-offline">{l}</p> })}
            </div>
        </li>
    }
}

fn lead_icon() -> AnyView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
            <circle cx="10" cy="8" r="4"/>
            <path d="M3 20c0-3.9 3.1-6 7-6s7 2.1 7 6z"/>
            <path class="icon-detail" d="M19 8v6M16 11h6"/>
        </svg>
    }
    .into_any()
}

fn short(text: &str, max: usize) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match t.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", t[..at].trim_end()),
        None => t,
    }
}
