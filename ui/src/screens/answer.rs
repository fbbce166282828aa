//! One turn on screen: the question, the answer drawn node by node from its markdown (text
//! is only ever set as text), citation chips, the sources, copy and thumbs, or the error.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::chat::{Citation, Rating, SourceKind};

use super::actions;
use super::chat::{TurnHandle, countdown, state};
use super::{Ctx, Route};
use crate::bridge::copy_to_clipboard;
use crate::markdown::{self, Align, El, Node};
use crate::turn::{Phase, Turn, failure_words, kind_label, wait_words};

pub fn open_source(ctx: Ctx, c: &Citation) {
    ctx.route.set(match c.kind {
        SourceKind::Listing => Route::Listing(c.id),
        SourceKind::Client => Route::Client(c.id),
        _ => Route::Knowledge(c.id),
    });
}

#[component]
pub fn TurnView(h: TurnHandle) -> impl IntoView {
    let s = state();
    let key = h.key;
    let turn: RwSignal<Turn> = h.state.into();
    let question = turn.with_untracked(|t| t.question.clone());
    let phase = Memo::new(move |_| turn.with(|t| t.phase));
    let offline = Memo::new(move |_| turn.with(|t| t.offline));
    let failure = Memo::new(move |_| turn.with(|t| t.failure.clone()));
    let blocks = Memo::new(move |_| turn.with(|t| markdown::blocks(&t.text)));
    let open = move || matches!(phase.get(), Phase::Asking | Phase::Streaming);
    let last = move || s.turns.with(|ts| ts.last().map(|l| l.key) == Some(key));
    let notice = RwSignal::new(None::<String>);

    let again = question.clone();
    let retry = question.clone();
    let failure_view = move || {
        let f = failure.get()?;
        let left = countdown(f.retry_after_s.unwrap_or(0));
        let q = retry.clone();
        let label = move || match left.get() {
            0 => "Try again".to_string(),
            n => format!("Try again in {}", wait_words(n)),
        };
        Some(view! {
            <div class="chat-error" role="alert">
                <p class="chat-error-text">{failure_words(&f)}</p>
                {(!q.is_empty()).then(|| view! {
                    <button class="chat-retry" disabled=move || { left.get() > 0 || s.busy() }
                        on:click=move |_| s.ask(&q)>{label}</button>
                })}
            </div>
        })
    };

    view! {
        <li class="chat-turn">
            {(!question.is_empty()).then(|| view! { <div class="chat-question">{question.clone()}</div> })}
            <article class="chat-answer"
                class:offline=move || offline.get()
                class:chat-done=move || phase.get() == Phase::Done
                class:failed=move || phase.get() == Phase::Failed
                class:streaming=open
                aria-busy=move || open().to_string()>
                <Show when=move || offline.get()>
                    <div class="chat-offline-note">
                        <span>"Offline answer — from the listings and documents on this device"</span>
                        <button class="chat-ask-online" id=move || last().then_some("chat-ask-online")
                            disabled=move || s.busy()
                            on:click={
                                let q = again.clone();
                                move |_| s.ask(&q)
                            }>"Ask again online"</button>
                    </div>
                </Show>
                <Show when=move || phase.get() == Phase::Asking>
                    <p class="chat-thinking muted">"Looking through your listings and documents"<span class="dots" aria-hidden="true"></span></p>
                </Show>
                <Show when=move || phase.get() != Phase::Failed>
                    <div class="chat-body md">
                        <For each=move || blocks.get().into_iter().enumerate()
                            key=|(i, b)| (*i, b.key)
                            children=move |(_, b)| render(&b.node, turn)/>
                    </div>
                    <Sources turn=turn/>
                </Show>
                {failure_view}
                <Show when=move || phase.get() == Phase::Done>
                    <Actions turn=turn notice=notice/>
                </Show>
                <p class="error">{move || notice.get()}</p>
            </article>
        </li>
    }
}

fn render(node: &Node, turn: RwSignal<Turn>) -> AnyView {
    match node {
        Node::Text(t) => t.clone().into_any(),
        Node::Cite(n) => view! { <CiteChip n=*n turn=turn/> }.into_any(),
        Node::Code(t) => view! { <code>{t.clone()}</code> }.into_any(),
        Node::Break => view! { <br/> }.into_any(),
        Node::Rule => view! { <hr/> }.into_any(),
        Node::El(el, children) => element(el, children, turn),
    }
}

fn element(el: &El, children: &[Node], turn: RwSignal<Turn>) -> AnyView {
    let kids = move |children: &[Node]| -> Vec<AnyView> {
        children.iter().map(|c| render(c, turn)).collect()
    };
    match el {
        El::Para => view! { <p>{kids(children)}</p> }.into_any(),
        El::Heading(level) if *level <= 2 => view! { <h3>{kids(children)}</h3> }.into_any(),
        El::Heading(_) => view! { <h4>{kids(children)}</h4> }.into_any(),
        El::Quote => view! { <blockquote>{kids(children)}</blockquote> }.into_any(),
        El::List(None) => view! { <ul>{kids(children)}</ul> }.into_any(),
        El::List(Some(start)) => {
            view! { <ol start=start.to_string()>{kids(children)}</ol> }.into_any()
        }
        El::Item => view! { <li>{kids(children)}</li> }.into_any(),
        El::CodeBlock => view! { <pre><code>{kids(children)}</code></pre> }.into_any(),
        El::Table => {
            let (head, rows): (Vec<&Node>, Vec<&Node>) = children
                .iter()
                .partition(|c| matches!(c, Node::El(El::Head, _)));
            let head: Vec<AnyView> = head.into_iter().map(|c| render(c, turn)).collect();
            let rows: Vec<AnyView> = rows.into_iter().map(|c| render(c, turn)).collect();
            view! {
                <div class="md-table">
                    <table><thead>{head}</thead><tbody>{rows}</tbody></table>
                </div>
            }
            .into_any()
        }
        El::Head | El::Row => view! { <tr>{kids(children)}</tr> }.into_any(),
        El::Cell { head: true, align } => {
            view! { <th class=align_class(*align)>{kids(children)}</th> }.into_any()
        }
        El::Cell { head: false, align } => {
            view! { <td class=align_class(*align)>{kids(children)}</td> }.into_any()
        }
        El::Strong => view! { <strong>{kids(children)}</strong> }.into_any(),
        El::Em => view! { <em>{kids(children)}</em> }.into_any(),
        El::Strike => view! { <del>{kids(children)}</del> }.into_any(),
        // Links are never followed from an answer: the address is only a tooltip.
        El::Link(href) => {
            view! { <span class="md-link" title=href.clone()>{kids(children)}</span> }.into_any()
        }
        El::Span => view! { <span>{kids(children)}</span> }.into_any(),
    }
}

fn align_class(a: Align) -> Option<&'static str> {
    match a {
        Align::None => None,
        Align::Left => Some("align-left"),
        Align::Center => Some("align-center"),
        Align::Right => Some("align-right"),
    }
}

/// `[n]` in the text: opens what source `n` is once the sources have arrived.
#[component]
fn CiteChip(n: u32, turn: RwSignal<Turn>) -> impl IntoView {
    let ctx = Ctx::get();
    let c = Memo::new(move |_| turn.with(|t| t.citation(n).cloned()));
    view! {
        <button type="button" class="cite-chip" data-n=n.to_string()
            data-kind=move || c.with(|c| c.as_ref().map(|c| c.kind.as_str()))
            title=move || c.with(|c| c.as_ref().map(|c| format!("{}: {}", kind_label(c.kind), c.title)))
            aria-label=move || c.with(|c| match c {
                Some(c) => format!("Source {n}: {}", c.title),
                None => format!("Source {n}"),
            })
            disabled=move || c.with(Option::is_none)
            on:click=move |_| {
                if let Some(c) = c.get_untracked() {
                    open_source(ctx, &c);
                }
            }>
            {n}
        </button>
    }
}

#[component]
fn Sources(turn: RwSignal<Turn>) -> impl IntoView {
    let ctx = Ctx::get();
    let cites = Memo::new(move |_| turn.with(|t| t.citations.clone()));
    move || {
        let cites = cites.get();
        (!cites.is_empty()).then(|| {
            view! {
                <div class="chat-sources-box">
                    <h3 class="chat-sources-title">"Sources"</h3>
                    <ol class="chat-sources">
                        {cites.into_iter().map(|c| {
                            let kind = kind_label(c.kind);
                            let title = c.title.clone();
                            let shared = c.shared.then_some(" · shared knowledge");
                            let (n, data_kind) = (c.n, c.kind.as_str());
                            view! {
                                <li class="chat-source" data-kind=data_kind>
                                    <CiteChip n=n turn=turn/>
                                    <button type="button" class="link chat-source-title"
                                        on:click=move |_| open_source(ctx, &c)>{title}</button>
                                    <span class="muted chat-source-kind">{kind}{shared}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </div>
            }
        })
    }
}

#[component]
fn Actions(turn: RwSignal<Turn>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let s = state();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        let text = turn.with_untracked(|t| t.text.clone());
        spawn_local(async move {
            // Where the clipboard is not available the button just does nothing.
            if copy_to_clipboard(&text).await {
                copied.try_set(true);
                set_timeout(
                    move || {
                        copied.try_set(false);
                    },
                    Duration::from_secs(2),
                );
            }
        });
    };
    // The listings the answer cites, for a showcase (at most one showcase's worth).
    let cited = Memo::new(move |_| {
        turn.with(|t| {
            let mut ids: Vec<uuid::Uuid> = vec![];
            for c in t.citations.iter().filter(|c| c.kind == SourceKind::Listing) {
                if !ids.contains(&c.id) && ids.len() < roost_api::actions::MAX_SHOWCASE_LISTINGS {
                    ids.push(c.id);
                }
            }
            ids
        })
    });
    let rating = Memo::new(move |_| turn.with(|t| t.rating));
    let can_rate = Memo::new(move |_| turn.with(Turn::can_rate));
    let thumb = move |r: Rating| {
        let (class, label) = match r {
            Rating::Up => ("chat-rate chat-rate-up", "Helpful"),
            Rating::Down => ("chat-rate chat-rate-down", "Not helpful"),
        };
        view! {
            <button type="button" class=class title=label
                class:active=move || rating.get() == Some(r)
                aria-pressed=move || (rating.get() == Some(r)).to_string()
                on:click=move |_| s.rate(turn, r, notice)>
                <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                    <path d="M2 10h4v11H2zM8 10l4-8c1.4 0 2.5 1.1 2.5 2.5V8h5.3a2 2 0 0 1 2 2.4l-1.5 8A2 2 0 0 1 18.3 20H8z"/>
                </svg>
                <span class="sr-only">{label}</span>
            </button>
        }
    };
    view! {
        <div class="chat-actions">
            <button type="button" class="chat-copy" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy answer" }}
            </button>
            <Show when=move || can_rate.get()>
                {thumb(Rating::Up)}
                {thumb(Rating::Down)}
            </Show>
            <Show when=move || !cited.with(Vec::is_empty)>
                <button type="button" class="chat-send-listings"
                    on:click=move |_| actions::state().open_send(cited.get_untracked(), false)>
                    {move || match cited.with(Vec::len) {
                        1 => "Send this to a client".to_string(),
                        _ => "Send these to a client".to_string(),
                    }}
                </button>
            </Show>
        </div>
    }
}
