//! What a chat citation opens when it is not a listing: a knowledge item (document part,
//! market figures, agent resource, team profile) or a client, read from the device's cache.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::chat::SourceKind;
use roost_api::knowledge::{Client, KnowledgeItem};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::Ctx;
use crate::bridge::{invoke, now_millis};
use crate::format;
use crate::turn::kind_label;

/// Loads `cmd` for `id` and draws it with `show`; the back button returns where the agent was.
fn detail<T, V>(cmd: &'static str, id: Uuid, show: fn(T) -> V) -> impl IntoView
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let ctx = Ctx::get();
    let item = RwSignal::new(None::<Result<T, String>>);
    spawn_local(async move {
        let r = invoke::<_, T>(cmd, &serde_json::json!({ "id": id })).await;
        item.try_set(Some(r));
    });
    let back = ctx.back.get_untracked();
    view! {
        <article class="detail source-detail" id="source-detail">
            <button class="link back" id="back" on:click=move |_| ctx.route.set(back)>{super::back_label(back)}</button>
            {move || match item.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(v)) => show(v).into_any(),
            }}
        </article>
    }
}

#[component]
pub fn KnowledgeDetail(id: Uuid) -> impl IntoView {
    detail::<KnowledgeItem, _>("knowledge_item", id, knowledge)
}

#[component]
pub fn ClientDetail(id: Uuid) -> impl IntoView {
    detail::<Client, _>("client", id, client)
}

fn knowledge(k: KnowledgeItem) -> impl IntoView {
    let rows = format::data_rows(&k.data);
    let meta = [
        k.source.clone().filter(|s| !s.trim().is_empty()),
        Some(format!(
            "updated {}",
            format::ago(k.updated_at, now_millis())
        )),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <div class="panel source-panel" data-kind=k.kind.as_str()>
            <p class="source-kind">{kind_label(SourceKind::from(k.kind))}</p>
            <h1 id="source-title">{k.title.clone()}</h1>
            <p class="muted">{meta}</p>
            <div class="source-body">{k.body.clone()}</div>
            {(!rows.is_empty()).then(|| view! { <Rows rows=rows/> })}
        </div>
    }
}

fn client(c: Client) -> impl IntoView {
    let mut rows: Vec<(String, String)> = vec![("Reference".into(), c.external_id.clone())];
    let mut push = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
            rows.push((k.into(), v.clone()));
        }
    };
    push("Email", &c.email);
    push("Phone", &c.phone);
    push("Agent", &c.agent_email);
    rows.extend(format::data_rows(&c.data));
    view! {
        <div class="panel source-panel" data-kind="client">
            <p class="source-kind">{kind_label(SourceKind::Client)}</p>
            <h1 id="source-title">{c.name.clone()}</h1>
            <p class="muted">{format!("updated {}", format::ago(c.updated_at, now_millis()))}</p>
            <Rows rows=rows/>
        </div>
    }
}

#[component]
fn Rows(rows: Vec<(String, String)>) -> impl IntoView {
    view! {
        <dl class="attributes">
            {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
    }
}
