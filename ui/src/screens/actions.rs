//! The agent's actions: the send-to-client and create-lead dialogs (opened from a listing, a
//! selection of search results or a chat answer), the toast after acting, and the state they
//! share with the Activity screen — the outbox as the shell last reported it, the synced
//! clients, the search selection. Actions go to the shell's outbox (`enqueue_action`), which
//! works offline; the shell sends them and says so with `roost://outbox` events.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::actions::{ActionRequest, ActionStatus, Channel, MAX_SHOWCASE_LISTINGS};
use roost_api::app::{OUTBOX_EVENT, OutboxEntry, SYNC_EVENT, SyncPhase, SyncStatus};
use roost_api::knowledge::Client;
use roost_api::listings::Listing;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use super::{Ctx, Route, no_args};
use crate::bridge::{invoke, listen};
use crate::format;
use crate::outbox::{self, LeadForm, Recipient};

/// How long the toast stays after the agent acted.
const TOAST_FOR: Duration = Duration::from_secs(10);
/// Clients listed under the search box at once.
const CLIENT_OPTIONS: usize = 6;

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// `clear_selection`: opened from the search selection, which empties once sent.
    Send {
        listings: Vec<Uuid>,
        clear_selection: bool,
    },
    Lead {
        listings: Vec<Uuid>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    n: u64,
    key: String,
    status: ActionStatus,
    what: String,
}

#[derive(Clone, Copy)]
pub struct ActionsState {
    pub dialog: RwSignal<Option<Dialog>>,
    pub toast: RwSignal<Option<Toast>>,
    /// The outbox, newest first, as last read.
    pub entries: RwSignal<Option<Result<Vec<OutboxEntry>, String>>>,
    pub clients: RwSignal<Option<Result<Vec<Client>, String>>>,
    /// Search results picked for one showcase or lead, in the order picked.
    pub selected: RwSignal<Vec<Uuid>>,
    pub selection_note: RwSignal<Option<String>>,
    toasts: StoredValue<u64>,
    loads: StoredValue<u64>,
}

/// Called once by the app: the state and the listeners that keep the outbox fresh.
pub fn provide_state() {
    let a = ActionsState {
        dialog: RwSignal::new(None),
        toast: RwSignal::new(None),
        entries: RwSignal::new(None),
        clients: RwSignal::new(None),
        selected: RwSignal::new(vec![]),
        selection_note: RwSignal::new(None),
        toasts: StoredValue::new(0),
        loads: StoredValue::new(0),
    };
    provide_context(a);
    spawn_local(async move {
        listen::<serde_json::Value>(OUTBOX_EVENT, move |_| a.reload()).await;
    });
    spawn_local(async move {
        listen::<SyncStatus>(SYNC_EVENT, move |s| {
            if matches!(s.phase, SyncPhase::Done | SyncPhase::Failed) {
                a.reload();
            }
        })
        .await;
    });
}

pub fn state() -> ActionsState {
    expect_context::<ActionsState>()
}

impl ActionsState {
    /// A fresh start for a newly signed-in account.
    pub fn reset(self) {
        self.dialog.set(None);
        self.toast.set(None);
        self.entries.set(None);
        self.clients.set(None);
        self.selected.set(vec![]);
        self.selection_note.set(None);
        self.reload();
    }

    /// Reads the outbox again; a late answer of an older read is dropped.
    pub fn reload(self) {
        let n = self.loads.get_value() + 1;
        self.loads.set_value(n);
        spawn_local(async move {
            let r = invoke::<_, Vec<OutboxEntry>>("actions", &no_args()).await;
            if self.loads.get_value() == n {
                self.entries.try_set(Some(r));
            }
        });
    }

    pub fn reload_clients(self) {
        spawn_local(async move {
            let r = invoke::<_, Vec<Client>>("clients", &no_args()).await;
            self.clients.try_set(Some(r));
        });
    }

    pub fn client_name(self, id: Uuid) -> Option<String> {
        self.clients.with(|c| {
            c.as_ref()?
                .as_ref()
                .ok()?
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.name.clone())
        })
    }

    pub fn pending(self) -> usize {
        self.entries.with(|e| match e {
            Some(Ok(list)) => list.iter().filter(|e| outbox::is_pending(e.status)).count(),
            _ => 0,
        })
    }

    pub fn open_send(self, listings: Vec<Uuid>, clear_selection: bool) {
        self.dialog.set(Some(Dialog::Send {
            listings,
            clear_selection,
        }));
    }

    pub fn open_lead(self, listings: Vec<Uuid>) {
        self.dialog.set(Some(Dialog::Lead { listings }));
    }

    pub fn close(self) {
        self.dialog.set(None);
    }

    pub fn is_selected(self, id: Uuid) -> bool {
        self.selected.with(|s| s.contains(&id))
    }

    /// Picks or drops a search result; an eleventh is refused with a note.
    pub fn toggle(self, id: Uuid) {
        if self.is_selected(id) {
            self.selected.update(|s| s.retain(|x| *x != id));
            self.selection_note.set(None);
        } else if self.selected.with(Vec::len) >= MAX_SHOWCASE_LISTINGS {
            self.selection_note.set(Some(format!(
                "You can pick up to {MAX_SHOWCASE_LISTINGS} listings at once."
            )));
        } else {
            self.selected.update(|s| s.push(id));
            self.selection_note.set(None);
        }
    }

    pub fn clear_selection(self) {
        self.selected.set(vec![]);
        self.selection_note.set(None);
    }

    /// Queues `req` from a dialog: `busy` while the shell stores it, then the dialog closes
    /// (and the selection it came from clears, when asked) or `error` says why not.
    fn enqueue(
        self,
        req: ActionRequest,
        busy: RwSignal<bool>,
        error: RwSignal<Option<String>>,
        clear_selection: bool,
    ) {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r =
                invoke::<_, OutboxEntry>("enqueue_action", &serde_json::json!({ "request": req }))
                    .await;
            busy.try_set(false);
            match r {
                Ok(entry) => {
                    if clear_selection {
                        self.clear_selection();
                    }
                    self.acted(entry);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    }

    /// The action is in the outbox: close the dialog, say where it stands.
    fn acted(self, entry: OutboxEntry) {
        let n = self.toasts.get_value() + 1;
        self.toasts.set_value(n);
        let what = outbox::describe(&entry.request, |id| self.client_name(id));
        self.toast.set(Some(Toast {
            n,
            key: entry.key.clone(),
            status: entry.status,
            what,
        }));
        self.dialog.set(None);
        self.reload();
        set_timeout(
            move || {
                if self.toast.with_untracked(|t| t.as_ref().map(|t| t.n)) == Some(n) {
                    self.toast.try_set(None);
                }
            },
            TOAST_FOR,
        );
    }

    /// The current status of the action a toast is about.
    fn status_of(self, key: &str) -> Option<ActionStatus> {
        self.entries.with(|e| {
            e.as_ref()?
                .as_ref()
                .ok()?
                .iter()
                .find(|e| e.key == key)
                .map(|e| e.status)
        })
    }
}

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

fn set_body_class(class: &str, on: bool) {
    if let Some(body) = document().and_then(|d| d.body()) {
        let list = body.class_list();
        let _ = if on {
            list.add_1(class)
        } else {
            list.remove_1(class)
        };
    }
}

thread_local! {
    /// What had the focus when a dialog opened; it gets it back when the dialog closes.
    static OPENER: std::cell::Cell<Option<web_sys::HtmlElement>> = const { std::cell::Cell::new(None) };
}

/// The dialogs and the toast, drawn over whatever screen is open.
#[component]
pub fn Overlays() -> impl IntoView {
    let a = state();
    view! {
        {move || a.dialog.get().map(|d| match d {
            Dialog::Send { listings, clear_selection } => {
                view! { <SendDialog listings=listings clear_selection=clear_selection/> }.into_any()
            }
            Dialog::Lead { listings } => view! { <LeadDialog listings=listings/> }.into_any(),
        })}
        <ToastView/>
    }
}

/// A modal: a scrim that closes it, Escape that closes it, the page behind kept still, and
/// focus back where it was when it closes.
#[component]
fn Modal(
    id: &'static str,
    labelled_by: &'static str,
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let a = state();
    OPENER.set(
        document()
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
    );
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            a.close();
        }
    });
    set_body_class("modal-open", true);
    on_cleanup(move || {
        escape.remove();
        set_body_class("modal-open", false);
        if let Some(el) = OPENER.take() {
            let _ = el.focus();
        }
    });
    view! {
        <div class="modal">
            <div class="modal-scrim" aria-hidden="true" on:click=move |_| a.close()></div>
            <div class=format!("dialog {class}") id=id role="dialog" aria-modal="true" aria-labelledby=labelled_by>
                {children()}
            </div>
        </div>
    }
}

/// Loads the listings a dialog is about.
fn load_listings(ids: Vec<Uuid>) -> RwSignal<Option<Result<Vec<Listing>, String>>> {
    let data = RwSignal::new(None);
    spawn_local(async move {
        let r = invoke::<_, Vec<Listing>>("listings", &serde_json::json!({ "ids": ids })).await;
        data.try_set(Some(r));
    });
    data
}

/// The loaded listings still picked, in the picked order.
fn picked(
    data: RwSignal<Option<Result<Vec<Listing>, String>>>,
    ids: RwSignal<Vec<Uuid>>,
) -> Vec<Listing> {
    let ids = ids.get();
    data.with(|d| match d {
        Some(Ok(list)) => ids
            .iter()
            .filter_map(|id| list.iter().find(|l| l.id == *id).cloned())
            .collect(),
        _ => vec![],
    })
}

fn price_of(l: &Listing) -> String {
    l.price
        .as_ref()
        .map(format::price)
        .unwrap_or_else(|| "Price on request".into())
}

fn close_button() -> impl IntoView {
    let a = state();
    view! {
        <button type="button" class="dialog-close" aria-label="Close" on:click=move |_| a.close()>
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>
        </button>
    }
}

#[component]
fn SendDialog(listings: Vec<Uuid>, clear_selection: bool) -> impl IntoView {
    let ctx = Ctx::get();
    let a = state();
    a.reload_clients();
    let data = load_listings(listings.clone());
    let ids = RwSignal::new(listings);
    let channel = RwSignal::new(Channel::Whatsapp);
    let query = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<Client>);
    let new_mode = RwSignal::new(false);
    let new_name = RwSignal::new(String::new());
    let new_phone = RwSignal::new(String::new());
    let new_email = RwSignal::new(String::new());
    // `None` until the agent edits the message; until then it follows the client and count.
    let typed = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let name_ref = NodeRef::<leptos::html::Input>::new();

    let recipient = move || {
        if new_mode.get() {
            Recipient::New {
                name: new_name.get(),
                phone: new_phone.get(),
                email: new_email.get(),
            }
        } else {
            chosen.get().map_or(Recipient::None, Recipient::Existing)
        }
    };
    let default_message = Memo::new(move |_| {
        let client = if new_mode.get() {
            Some(new_name.get())
        } else {
            chosen.with(|c| c.as_ref().map(|c| c.name.clone()))
        };
        outbox::default_message(
            ids.with(Vec::len),
            &ctx.company_name(),
            client.as_deref(),
            &ctx.user_name(),
        )
    });
    let message = move || typed.get().unwrap_or_else(|| default_message.get());
    let request =
        Memo::new(move |_| outbox::showcase(channel.get(), &recipient(), &ids.get(), &message()));
    let shown = Memo::new(move |_| picked(data, ids));
    // 0: search saved clients, 1: one picked, 2: a new client.
    let mode = Memo::new(move |_| {
        if new_mode.get() {
            2
        } else if chosen.with(Option::is_some) {
            1
        } else {
            0
        }
    });
    Effect::new(move |_| {
        // Focus follows the step: the search box, or the new client's name.
        match mode.get() {
            0 => {
                if let Some(el) = search_ref.get() {
                    let _ = el.focus();
                }
            }
            2 => {
                if let Some(el) = name_ref.get() {
                    let _ = el.focus();
                }
            }
            _ => {}
        }
    });

    let options = move || {
        let q = query.get();
        a.clients.with(|c| match c {
            Some(Ok(list)) => Ok(list
                .iter()
                .filter(|c| outbox::client_matches(c, &q))
                .take(CLIENT_OPTIONS)
                .cloned()
                .collect::<Vec<_>>()),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(vec![]),
        })
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Ok(req) = request.get_untracked() else {
            return;
        };
        a.enqueue(req, busy, error, clear_selection);
    };

    let channel_button = move |c: Channel, id: &'static str| {
        view! {
            <button type="button" id=id role="radio" class="segment"
                class:active=move || channel.get() == c
                aria-checked=move || (channel.get() == c).to_string()
                on:click=move |_| channel.set(c)>
                {channel_icon(c)}
                {outbox::channel_label(c)}
            </button>
        }
    };

    let title = move || {
        let n = ids.with(Vec::len);
        format!(
            "Send {} to a client",
            if n == 1 {
                "1 listing".to_string()
            } else {
                format!("{n} listings")
            }
        )
    };

    view! {
        <Modal id="send-dialog" labelled_by="send-title" class="send-dialog">
            <form class="dialog-form" on:submit=submit novalidate>
                <header class="dialog-head">
                    <h2 id="send-title">{title}</h2>
                    {close_button()}
                </header>
                <div class="dialog-body send-grid">
                    <div class="send-form">
                        <div class="field">
                            <span class="field-label" id="channel-label">"Send by"</span>
                            <div class="segmented" role="radiogroup" aria-labelledby="channel-label">
                                {channel_button(Channel::Whatsapp, "channel-whatsapp")}
                                {channel_button(Channel::Email, "channel-email")}
                            </div>
                        </div>
                        <div class="field" role="group" aria-labelledby="client-label">
                            <div class="field-row">
                                <span class="field-label" id="client-label">"Client"</span>
                                <button type="button" class="link" id="client-new"
                                    aria-pressed=move || new_mode.get().to_string()
                                    on:click=move |_| new_mode.update(|m| *m = !*m)>
                                    {move || if new_mode.get() { "Pick a saved client" } else { "+ New client" }}
                                </button>
                            </div>
                            {move || match mode.get() {
                                2 => view! {
                                    <div class="new-client">
                                        <label>"Name"
                                            <input id="new-client-name" autocomplete="off" node_ref=name_ref
                                                prop:value=move || new_name.get()
                                                on:input=move |ev| new_name.set(event_target_value(&ev))/>
                                        </label>
                                        <div class="field-pair">
                                            <label>"Phone"
                                                <input id="new-client-phone" type="tel" inputmode="tel" autocomplete="off"
                                                    placeholder="+971 50 123 4567"
                                                    prop:value=move || new_phone.get()
                                                    on:input=move |ev| new_phone.set(event_target_value(&ev))/>
                                            </label>
                                            <label>"Email"
                                                <input id="new-client-email" type="email" autocomplete="off"
                                                    placeholder="name@example.com"
                                                    prop:value=move || new_email.get()
                                                    on:input=move |ev| new_email.set(event_target_value(&ev))/>
                                            </label>
                                        </div>
                                    </div>
                                }.into_any(),
                                1 => {
                                    let c = chosen.get_untracked().unwrap_or_else(|| unreachable!("mode 1 has a client"));
                                    view! {
                                        <div class="client-chosen" id="client-chosen" data-id=c.id.to_string()>
                                            <span class="avatar" aria-hidden="true">{initials(&c.name)}</span>
                                            <span class="client-lines">
                                                <span class="client-name">{c.name.clone()}</span>
                                                <span class="client-contact muted">{contact_line(&c)}</span>
                                            </span>
                                            <button type="button" class="link" id="client-change"
                                                on:click=move |_| chosen.set(None)>"Change"</button>
                                        </div>
                                    }.into_any()
                                }
                                _ => view! {
                                    <div class="client-picker">
                                        <input id="client-search" type="search" node_ref=search_ref autocomplete="off"
                                            aria-label="Search your clients by name, phone or email"
                                            aria-controls="client-options"
                                            placeholder="Search by name, phone or email"
                                            prop:value=move || query.get()
                                            on:input=move |ev| query.set(event_target_value(&ev))/>
                                        <ul class="client-options" id="client-options" aria-label="Your clients">
                                            {move || match options() {
                                                Err(e) => view! { <li class="error">{e}</li> }.into_any(),
                                                Ok(list) if list.is_empty() => view! {
                                                    <li class="muted client-none">
                                                        {if a.clients.with(Option::is_none) { "Loading your clients…" } else { "No saved client matches. Add a new client instead." }}
                                                    </li>
                                                }.into_any(),
                                                Ok(list) => list.into_iter().map(|c| {
                                                    let id = c.id.to_string();
                                                    let contact = contact_line(&c);
                                                    let name = c.name.clone();
                                                    let ini = initials(&c.name);
                                                    view! {
                                                        <li>
                                                            <button type="button" class="client-option" data-id=id
                                                                on:click=move |_| chosen.set(Some(c.clone()))>
                                                                <span class="avatar" aria-hidden="true">{ini}</span>
                                                                <span class="client-lines">
                                                                    <span class="client-name">{name}</span>
                                                                    <span class="client-contact muted">{contact}</span>
                                                                </span>
                                                            </button>
                                                        </li>
                                                    }
                                                }).collect_view().into_any(),
                                            }}
                                        </ul>
                                    </div>
                                }.into_any(),
                            }}
                        </div>
                        <div class="field">
                            <div class="field-row">
                                <label class="field-label" for="showcase-message">"Message"</label>
                                <Show when=move || typed.with(Option::is_some)>
                                    <button type="button" class="link" id="message-reset"
                                        on:click=move |_| typed.set(None)>"Reset"</button>
                                </Show>
                            </div>
                            <textarea id="showcase-message" rows="5"
                                prop:value=message
                                on:input=move |ev| typed.set(Some(event_target_value(&ev)))></textarea>
                        </div>
                    </div>
                    <section class="preview" aria-labelledby="preview-title">
                        <h3 class="preview-title" id="preview-title">
                            {move || format!("{} preview", outbox::channel_label(channel.get()))}
                        </h3>
                        <div class="preview-canvas" class:email=move || channel.get() == Channel::Email>
                            <div class="preview-bubble">
                                <p class="preview-message">{message}</p>
                                {move || match data.get() {
                                    None => view! { <p class="muted">"Loading the listings…"</p> }.into_any(),
                                    Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                                    Some(Ok(_)) => view! {
                                        <ul class="preview-listings" id="preview-listings">
                                            <For each=move || shown.get() key=|l| l.id children=move |l| {
                                                let id = l.id;
                                                let title = format::title(&l);
                                                let label = format!("Remove {title}");
                                                view! {
                                                    <li class="preview-listing" data-id=id.to_string()>
                                                        <ListingThumb listing=l.clone()/>
                                                        <div class="preview-text">
                                                            <div class="preview-price">{price_of(&l)}</div>
                                                            <div class="preview-name">{title}</div>
                                                            <div class="preview-facts muted">{format::facts(&l)}</div>
                                                        </div>
                                                        <Show when=move || { ids.with(Vec::len) > 1 }>
                                                            <button type="button" class="chip-remove" aria-label=label.clone()
                                                                on:click=move |_| ids.update(|v| v.retain(|x| *x != id))>
                                                                <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>
                                                            </button>
                                                        </Show>
                                                    </li>
                                                }
                                            }/>
                                        </ul>
                                    }.into_any(),
                                }}
                            </div>
                        </div>
                    </section>
                </div>
                <footer class="dialog-foot">
                    <p class="hint" id="send-missing" aria-live="polite">{move || request.get().err()}</p>
                    <p class="error" role="alert" id="send-error">{move || error.get()}</p>
                    <div class="dialog-buttons">
                        <button type="button" id="send-cancel" on:click=move |_| a.close()>"Cancel"</button>
                        <button type="submit" class="primary" id="send-submit"
                            disabled=move || busy.get() || request.with(Result::is_err)>
                            {move || if busy.get() {
                                "Queuing…".to_string()
                            } else {
                                match channel.get() {
                                    Channel::Whatsapp => "Send on WhatsApp".to_string(),
                                    Channel::Email => "Send by email".to_string(),
                                }
                            }}
                        </button>
                    </div>
                </footer>
            </form>
        </Modal>
    }
}

#[component]
fn ListingThumb(listing: Listing) -> impl IntoView {
    let ctx = Ctx::get();
    match ctx.cover(&listing) {
        Some(src) => view! { <img class="thumb-img" src=src alt=""/> }.into_any(),
        None => view! { <span class="thumb-img thumb-none" aria-hidden="true"></span> }.into_any(),
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

fn contact_line(c: &Client) -> String {
    let parts: Vec<String> = [outbox::client_phone(c), outbox::client_email(c)]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        "No phone or email on file".into()
    } else {
        parts.join(" · ")
    }
}

pub fn channel_icon(c: Channel) -> AnyView {
    match c {
        Channel::Whatsapp => view! {
            <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                <path d="M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3z"/>
                <path class="icon-detail" d="M9 8.5c.3 2.7 3.2 5.8 6.5 6.5l1-1.4-2-1-1 .8a5 5 0 0 1-2.4-2.4l.8-1-1-2z"/>
            </svg>
        }
        .into_any(),
        Channel::Email => view! {
            <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                <rect x="3" y="5.5" width="18" height="13" rx="2"/>
                <path class="icon-detail" d="M4 7l8 6 8-6"/>
            </svg>
        }
        .into_any(),
    }
}

#[component]
fn LeadDialog(listings: Vec<Uuid>) -> impl IntoView {
    let ctx = Ctx::get();
    let a = state();
    let data = load_listings(listings.clone());
    let ids = RwSignal::new(listings);
    let form = RwSignal::new(LeadForm {
        currency: ctx.currency(),
        ..LeadForm::default()
    });
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let name_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = name_ref.get() {
            let _ = el.focus();
        }
    });
    let request = Memo::new(move |_| form.with(|f| outbox::lead(f, &ids.get())));
    let shown = Memo::new(move |_| picked(data, ids));
    let currencies = outbox::currencies(&ctx.currency());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Ok(req) = request.get_untracked() else {
            return;
        };
        a.enqueue(req, busy, error, false);
    };
    // One text field of the form: its id, label, value and setter.
    let text = move |id: &'static str,
                     label: &'static str,
                     kind: &'static str,
                     placeholder: &'static str,
                     get: fn(&LeadForm) -> String,
                     set: fn(&mut LeadForm, String)| {
        view! {
            <label>{label}
                <input id=id type=kind autocomplete="off" placeholder=placeholder
                    prop:value=move || form.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); }/>
            </label>
        }
    };

    view! {
        <Modal id="lead-dialog" labelled_by="lead-title" class="lead-dialog">
            <form class="dialog-form" on:submit=submit novalidate>
                <header class="dialog-head">
                    <h2 id="lead-title">"Create a lead"</h2>
                    {close_button()}
                </header>
                <div class="dialog-body lead-form">
                    <label>"Name"
                        <input id="lead-name" autocomplete="off" node_ref=name_ref
                            prop:value=move || form.with(|f| f.name.clone())
                            on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.name = v); }/>
                    </label>
                    <div class="field-pair">
                        {text("lead-phone", "Phone", "tel", "+971 50 123 4567", |f| f.phone.clone(), |f, v| f.phone = v)}
                        {text("lead-email", "Email", "email", "name@example.com", |f| f.email.clone(), |f, v| f.email = v)}
                    </div>
                    <div class="field-pair budget">
                        <label>"Budget"
                            <input id="lead-budget" inputmode="decimal" autocomplete="off" placeholder="e.g. 2.5M or 850k"
                                prop:value=move || form.with(|f| f.budget.clone())
                                on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.budget = v); }/>
                        </label>
                        <label>"Currency"
                            <select id="lead-currency"
                                prop:value=move || form.with(|f| f.currency.clone())
                                on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.currency = v); }>
                                {currencies.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                    </div>
                    <p class="hint budget-read muted">{move || form.with(|f| {
                        let c = f.currency.trim().to_uppercase();
                        match crate::form::parse_amount(&f.budget, &c) {
                            Ok(Some(m)) if m > 0 => format!("Budget: {}", roost_api::money::format_amount(m, &c)),
                            _ => String::new(),
                        }
                    })}</p>
                    <label>"Interests"
                        <textarea id="lead-interests" rows="3"
                            placeholder="e.g. 3-bed villa in Arabian Ranches, moving in the summer"
                            prop:value=move || form.with(|f| f.interests.clone())
                            on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.interests = v); }></textarea>
                    </label>
                    <div class="field">
                        <span class="field-label">"Linked listings"</span>
                        <ul class="linked" id="lead-listings">
                            <For each=move || shown.get() key=|l| l.id children=move |l| {
                                let id = l.id;
                                let title = format::title(&l);
                                let label = format!("Remove {title}");
                                let price = l.price.as_ref().map(format::price_short);
                                view! {
                                    <li class="linked-chip" data-id=id.to_string()>
                                        <ListingThumb listing=l.clone()/>
                                        <span class="linked-text">
                                            <span class="linked-title">{title}</span>
                                            {price.map(|p| view! { <span class="muted">{p}</span> })}
                                        </span>
                                        <button type="button" class="chip-remove" aria-label=label
                                            on:click=move |_| ids.update(|v| v.retain(|x| *x != id))>
                                            <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>
                                        </button>
                                    </li>
                                }
                            }/>
                        </ul>
                        <Show when=move || ids.with(Vec::is_empty)>
                            <p class="muted linked-none">"No listings linked."</p>
                        </Show>
                    </div>
                </div>
                <footer class="dialog-foot">
                    <p class="hint" id="lead-missing" aria-live="polite">{move || request.get().err()}</p>
                    <p class="error" role="alert" id="lead-error">{move || error.get()}</p>
                    <div class="dialog-buttons">
                        <button type="button" id="lead-cancel" on:click=move |_| a.close()>"Cancel"</button>
                        <button type="submit" class="primary" id="lead-submit"
                            disabled=move || busy.get() || request.with(Result::is_err)>
                            {move || if busy.get() { "Queuing…" } else { "Create lead" }}
                        </button>
                    </div>
                </footer>
            </form>
        </Modal>
    }
}

/// After acting: where the action stands (following it as the outbox moves), and a way to
/// the Activity screen.
#[component]
fn ToastView() -> impl IntoView {
    let ctx = Ctx::get();
    let a = state();
    move || {
        let t = a.toast.get()?;
        let key = t.key.clone();
        let status = Memo::new(move |_| a.status_of(&key).unwrap_or(t.status));
        let online = move || ctx.sync.with(|s| s.online);
        Some(view! {
            <div class="toast" id="toast" role="status" aria-live="polite"
                data-status=move || outbox::status_key(status.get())>
                <span class="toast-dot" aria-hidden="true"></span>
                <div class="toast-lines">
                    <span class="toast-text" id="toast-text">{move || outbox::toast_text(status.get(), online())}</span>
                    <span class="toast-what">{t.what.clone()}</span>
                </div>
                <button type="button" class="link toast-link" id="toast-activity"
                    on:click=move |_| { a.toast.set(None); ctx.route.set(Route::Activity); }>"View activity"</button>
                <button type="button" class="toast-close" aria-label="Dismiss"
                    on:click=move |_| a.toast.set(None)>
                    <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>
                </button>
            </div>
        })
    }
}
