//! Chat: conversations on the side (a drawer on phones), the thread, the composer. Answers
//! stream in as `roost://chat` events; each turn is its own signal so a token redraws only
//! the answer it belongs to. The state lives as long as the page, so an answer keeps
//! streaming while the agent opens a cited listing and comes back.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::app::{AskForm, AskStarted, CHAT_EVENT, ChatTurnEvent};
use roost_api::chat::{ChatEvent, Conversation, ConversationList, ConversationSummary, Rating};
use uuid::Uuid;

use super::{Ctx, answer::TurnView};
use crate::bridge::{invoke, listen, now_millis};
use crate::format;
use crate::turn::{Failure, Turn, from_conversation};

/// Events for turns not (or no longer) on screen are kept this long, in case `chat_ask`
/// answers after its first events.
const MAX_ORPHANS: usize = 2000;

#[derive(Clone)]
pub struct TurnHandle {
    /// Key for the thread's list; never reused.
    pub key: u64,
    pub state: ArcRwSignal<Turn>,
}

#[derive(Clone, Copy)]
pub struct ChatState {
    list: RwSignal<Option<Result<Vec<ConversationSummary>, String>>>,
    /// The server conversation on screen; `None` for a new one.
    current: RwSignal<Option<Uuid>>,
    pub turns: RwSignal<Vec<TurnHandle>>,
    thread_error: RwSignal<Option<String>>,
    loading: RwSignal<bool>,
    draft: RwSignal<String>,
    drawer: RwSignal<bool>,
    confirm_delete: RwSignal<bool>,
    orphans: StoredValue<Vec<ChatTurnEvent>>,
    next_key: StoredValue<u64>,
    /// Bumped when the thread is replaced, so a late conversation load is dropped.
    generation: StoredValue<u64>,
}

/// Called once by the app: the state and the one listener for answer events.
pub fn provide_state() {
    let s = ChatState {
        list: RwSignal::new(None),
        current: RwSignal::new(None),
        turns: RwSignal::new(vec![]),
        thread_error: RwSignal::new(None),
        loading: RwSignal::new(false),
        draft: RwSignal::new(String::new()),
        drawer: RwSignal::new(false),
        confirm_delete: RwSignal::new(false),
        orphans: StoredValue::new(vec![]),
        next_key: StoredValue::new(0),
        generation: StoredValue::new(0),
    };
    provide_context(s);
    spawn_local(async move {
        listen::<ChatTurnEvent>(CHAT_EVENT, move |e| s.on_event(e)).await;
    });
}

pub fn state() -> ChatState {
    expect_context::<ChatState>()
}

impl ChatState {
    /// A fresh start for a newly signed-in account.
    pub fn reset(self) {
        self.list.set(None);
        self.draft.set(String::new());
        self.new_conversation();
    }

    /// An answer is on its way; asking again waits for it.
    pub fn busy(self) -> bool {
        self.turns
            .with(|ts| ts.iter().any(|h| h.state.with(Turn::is_open)))
    }

    fn busy_untracked(self) -> bool {
        self.turns
            .with_untracked(|ts| ts.iter().any(|h| h.state.with_untracked(Turn::is_open)))
    }

    fn handle(self, turn: Turn) -> TurnHandle {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        TurnHandle {
            key,
            state: ArcRwSignal::new(turn),
        }
    }

    pub fn ask(self, question: &str) {
        let question = question.trim().to_string();
        if question.is_empty() || self.busy_untracked() {
            return;
        }
        let handle = self.handle(Turn::asking(&question));
        self.turns.update(|ts| ts.push(handle.clone()));
        request_animation_frame(|| scroll_to_end(true));
        let form = AskForm {
            question,
            conversation_id: self.current.get_untracked(),
        };
        spawn_local(async move {
            match invoke::<_, AskStarted>("chat_ask", &serde_json::json!({ "form": form })).await {
                Ok(started) => {
                    handle.state.update(|t| t.turn = Some(started.turn));
                    let early = self
                        .orphans
                        .try_update_value(|o| {
                            let (mine, rest) = std::mem::take(o)
                                .into_iter()
                                .partition(|e| e.turn == started.turn);
                            *o = rest;
                            mine
                        })
                        .unwrap_or_else(Vec::new);
                    for e in early {
                        self.apply(&handle, e);
                    }
                }
                Err(message) => handle.state.update(|t| {
                    t.fail(Failure {
                        code: None,
                        message,
                        retry_after_s: None,
                    })
                }),
            }
        });
    }

    fn on_event(self, e: ChatTurnEvent) {
        let handle = self.turns.try_with_untracked(|ts| {
            ts.iter()
                .find(|h| h.state.with_untracked(|t| t.turn == Some(e.turn)))
                .cloned()
        });
        match handle.flatten() {
            Some(h) => self.apply(&h, e),
            None => {
                self.orphans.try_update_value(|o| {
                    o.push(e);
                    if o.len() > MAX_ORPHANS {
                        o.drain(..o.len() - MAX_ORPHANS);
                    }
                });
            }
        }
    }

    fn apply(self, h: &TurnHandle, e: ChatTurnEvent) {
        let online = !e.offline;
        let started_in = match &e.event {
            ChatEvent::Start {
                conversation_id, ..
            } if online && !conversation_id.is_nil() => Some(*conversation_id),
            _ => None,
        };
        let ended = matches!(e.event, ChatEvent::Done { .. } | ChatEvent::Error { .. });
        h.state.update(|t| t.apply(e.offline, e.event));
        if let Some(id) = started_in
            && self.current.get_untracked() != Some(id)
        {
            // The server opened a new conversation for this question.
            self.current.set(Some(id));
            self.reload_list();
        }
        if ended && online {
            self.reload_list();
        }
    }

    pub fn reload_list(self) {
        spawn_local(async move {
            let list = invoke::<_, ConversationList>("chat_conversations", &super::no_args())
                .await
                .map(|l| {
                    let mut c = l.conversations;
                    c.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
                    c
                });
            self.list.set(Some(list));
        });
    }

    fn bump(self) -> u64 {
        let g = self.generation.get_value() + 1;
        self.generation.set_value(g);
        g
    }

    pub fn new_conversation(self) {
        self.bump();
        self.current.set(None);
        self.turns.set(vec![]);
        self.thread_error.set(None);
        self.loading.set(false);
        self.drawer.set(false);
        self.confirm_delete.set(false);
    }

    fn open(self, id: Uuid) {
        let generation = self.bump();
        self.current.set(Some(id));
        self.turns.set(vec![]);
        self.thread_error.set(None);
        self.loading.set(true);
        self.drawer.set(false);
        self.confirm_delete.set(false);
        spawn_local(async move {
            let c =
                invoke::<_, Conversation>("chat_conversation", &serde_json::json!({ "id": id }))
                    .await;
            if self.generation.get_value() != generation {
                return;
            }
            self.loading.set(false);
            match c {
                Ok(c) => {
                    let turns = from_conversation(&c)
                        .into_iter()
                        .map(|t| self.handle(t))
                        .collect();
                    self.turns.set(turns);
                    request_animation_frame(|| scroll_to_end(true));
                }
                Err(e) => self.thread_error.set(Some(e)),
            }
        });
    }

    fn delete(self, id: Uuid) {
        spawn_local(async move {
            match invoke::<_, ()>("chat_delete", &serde_json::json!({ "id": id })).await {
                Ok(()) => {
                    if self.current.get_untracked() == Some(id) {
                        self.new_conversation();
                    }
                }
                Err(e) => self.thread_error.set(Some(e)),
            }
            self.confirm_delete.set(false);
            self.reload_list();
        });
    }

    /// Shows the choice at once; puts it back if the shell could not save it.
    pub fn rate(self, turn: RwSignal<Turn>, rating: Rating, notice: RwSignal<Option<String>>) {
        let Some((message_id, before)) = turn.with_untracked(|t| {
            t.can_rate()
                .then_some(t.message_id.map(|m| (m, t.rating)))
                .flatten()
        }) else {
            return;
        };
        turn.update(|t| t.rating = Some(rating));
        notice.set(None);
        spawn_local(async move {
            let sent = invoke::<_, ()>(
                "chat_feedback",
                &serde_json::json!({ "messageId": message_id, "rating": rating }),
            )
            .await;
            if let Err(e) = sent {
                turn.try_update(|t| t.rating = before);
                notice.try_set(Some(e));
            }
        });
    }
}

/// Scrolls the page to the composer: always after a question, while streaming only when the
/// agent has not scrolled up to read.
fn scroll_to_end(always: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(body) = window.document().and_then(|d| d.document_element()) else {
        return;
    };
    let height = f64::from(body.scroll_height());
    let viewport = window
        .inner_height()
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let y = window.scroll_y().unwrap_or(0.0);
    if always || height - (y + viewport) < 240.0 {
        window.scroll_to_with_x_and_y(0.0, height);
    }
}

const EXAMPLES: [&str; 3] = [
    "3 bed villas under 4M in Arabian Ranches",
    "What is our commission split on off-plan sales?",
    "Who on the team speaks Russian?",
];

#[component]
pub fn Chat() -> impl IntoView {
    let ctx = Ctx::get();
    let s = state();
    s.reload_list();

    let role = move || {
        ctx.app.with(|a| {
            a.as_ref()
                .and_then(|a| a.signed_in.as_ref())
                .map(|s| format!("Asking as {}", format::capitalise(s.role.as_str())))
        })
    };
    let title = move || {
        let current = s.current.get();
        s.list
            .with(|l| {
                let list = l.as_ref()?.as_ref().ok()?;
                list.iter()
                    .find(|c| Some(c.id) == current)
                    .map(|c| c.title.clone())
            })
            .or_else(|| {
                // Not in the list (yet, or offline): named after its first question.
                s.turns.with(|ts| {
                    ts.first()
                        .map(|h| h.state.with(|t| short(&t.question)))
                        .filter(|q| !q.is_empty())
                })
            })
            .unwrap_or_else(|| "New conversation".into())
    };
    let list_note = move || {
        s.list
            .with(|l| l.as_ref().and_then(|l| l.as_ref().err().cloned()))
    };
    let conversations = move || {
        s.list
            .with(|l| l.as_ref().and_then(|l| l.as_ref().ok().cloned()))
            .unwrap_or_default()
    };
    let empty = move || s.turns.with(Vec::is_empty) && !s.loading.get();

    // Follow a streaming answer down the page.
    Effect::new(move |_| {
        let growing = s
            .turns
            .with(|ts| ts.last().map(|h| h.state.with(|t| (t.text.len(), t.phase))));
        if growing.is_some() {
            request_animation_frame(|| scroll_to_end(false));
        }
    });

    view! {
        <section class="chat" id="chat">
            <header class="chat-head">
                <button class="chat-drawer-toggle" id="chat-conversations-toggle"
                    aria-controls="chat-side"
                    aria-expanded=move || s.drawer.get().to_string()
                    on:click=move |_| s.drawer.update(|d| *d = !*d)>"Conversations"</button>
                <h1 class="chat-title" id="chat-title">{title}</h1>
                <span class="chat-role" id="chat-role">{role}</span>
                <DeleteConversation s=s/>
            </header>
            <aside class="chat-side" class:open=move || s.drawer.get() id="chat-side">
                <button class="primary chat-new" id="chat-new" on:click=move |_| s.new_conversation()>
                    "New conversation"
                </button>
                <p class="muted chat-list-note" id="chat-list-note">{list_note}</p>
                <ul class="chat-convs" id="chat-conversations">
                    <For each=conversations key=|c| (c.id, c.updated_at, c.title.clone()) children=move |c| {
                        let id = c.id;
                        view! {
                            <li>
                                <button class="chat-conv" data-id=id.to_string()
                                    class:active=move || s.current.get() == Some(id)
                                    on:click=move |_| s.open(id)>
                                    <span class="chat-conv-title">{c.title.clone()}</span>
                                    <span class="chat-conv-when muted">{format::ago(c.updated_at, now_millis())}</span>
                                </button>
                            </li>
                        }
                    }/>
                </ul>
            </aside>
            <div class="chat-main">
                <p class="error" role="alert" id="chat-thread-error">{move || s.thread_error.get()}</p>
                <Show when=move || s.loading.get()>
                    <p class="muted chat-loading">"Loading the conversation…"</p>
                </Show>
                <Show when=empty>
                    <div class="chat-intro" id="chat-intro">
                        <h2>"Ask about your listings, market figures and company documents"</h2>
                        <p class="muted">"Answers name their sources; tap a number to open it."</p>
                        <div class="chat-examples">
                            {EXAMPLES.into_iter().map(|q| view! {
                                <button class="chat-example" on:click=move |_| s.ask(q)>{q}</button>
                            }).collect_view()}
                        </div>
                    </div>
                </Show>
                <ol class="chat-thread" id="chat-thread">
                    <For each=move || s.turns.get() key=|h| h.key children=move |h| view! { <TurnView h=h/> }/>
                </ol>
                <Composer s=s/>
            </div>
        </section>
    }
}

#[component]
fn DeleteConversation(s: ChatState) -> impl IntoView {
    move || {
        let id = s.current.get()?;
        Some(if s.confirm_delete.get() {
            view! {
                <span class="chat-delete-confirm">
                    "Delete this conversation?"
                    <button class="danger" id="chat-delete-confirm" on:click=move |_| s.delete(id)>"Delete"</button>
                    <button id="chat-delete-cancel" on:click=move |_| s.confirm_delete.set(false)>"Keep"</button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button class="link chat-delete" id="chat-delete" on:click=move |_| s.confirm_delete.set(true)>"Delete"</button>
            }
            .into_any()
        })
    }
}

#[component]
fn Composer(s: ChatState) -> impl IntoView {
    let input = NodeRef::<leptos::html::Textarea>::new();
    let send = move || {
        if s.busy_untracked() {
            return;
        }
        let q = s.draft.get_untracked();
        if q.trim().is_empty() {
            return;
        }
        s.draft.set(String::new());
        s.ask(&q);
    };
    Effect::new(move |_| {
        let wide = web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w > 640.0);
        // On phones focusing would pop the keyboard over the thread.
        if wide && let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let can_send = move || !s.busy() && !s.draft.with(|d| d.trim().is_empty());
    view! {
        <form class="chat-composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            <label class="sr-only" for="chat-input">"Your question"</label>
            <textarea id="chat-input" rows="2" node_ref=input
                placeholder="Ask about listings, the market or company policy…"
                prop:value=move || s.draft.get()
                on:input=move |ev| s.draft.set(event_target_value(&ev))
                on:keydown=keydown></textarea>
            <button type="submit" class="primary" id="chat-send" disabled=move || !can_send()>
                {move || if s.busy() { "Answering…" } else { "Ask" }}
            </button>
        </form>
    }
}

fn short(question: &str) -> String {
    const MAX: usize = 60;
    let q = question.trim();
    match q.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", q[..at].trim_end()),
        None => q.to_string(),
    }
}

/// Counts down a provider's wait, for the "Try again" button.
pub fn countdown(seconds: u64) -> RwSignal<u64> {
    let left = RwSignal::new(seconds);
    if seconds > 0
        && let Ok(h) = set_interval_with_handle(
            move || {
                left.try_update(|l| *l = l.saturating_sub(1));
            },
            Duration::from_secs(1),
        )
    {
        on_cleanup(move || h.clear());
    }
    left
}
