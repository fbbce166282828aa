//! Settings: account, role, devices, what is stored here (and clearing it), server, the
//! company's branding and integrations (admins), about.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::app::{AppState, SettingsView};
use roost_api::users::Role;

use super::company::Branding;
use super::integrations::Integrations;
use super::{Ctx, no_args};
use crate::bridge::{invoke, now_millis};
use crate::format;

#[component]
pub fn Settings() -> impl IntoView {
    let ctx = Ctx::get();
    let view_ = RwSignal::new(None::<Result<SettingsView, String>>);
    let load = move || {
        spawn_local(async move {
            view_.set(Some(
                invoke::<_, SettingsView>("settings", &no_args()).await,
            ));
        })
    };
    load();
    let wipe = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);

    let sign_out = move |_| {
        busy.set(true);
        let wipe = wipe.get_untracked();
        spawn_local(async move {
            match invoke::<_, AppState>("sign_out", &serde_json::json!({ "wipe": wipe })).await {
                Ok(s) => ctx.set_state(s),
                Err(e) => notice.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let clear = move |_| {
        spawn_local(async move {
            match invoke::<_, ()>("clear_cache", &no_args()).await {
                Ok(()) => notice.set(Some("Cleared. Listings download again now.".into())),
                Err(e) => notice.set(Some(e)),
            }
            ctx.reload();
            load();
        });
    };
    let account = move || {
        ctx.app
            .with(|a| a.as_ref().and_then(|a| a.signed_in.clone()))
    };
    // A memo, so the panel (and a half-filled form) survives the app state's other updates.
    let is_admin = Memo::new(move |_| {
        ctx.app.with(|a| {
            a.as_ref()
                .and_then(|a| a.signed_in.as_ref())
                .is_some_and(|s| s.roles.contains(&Role::Admin))
        })
    });
    let version = move || {
        ctx.app
            .with(|a| a.as_ref().map(|a| a.version.clone()).unwrap_or_default())
    };

    view! {
        <section class="settings">
            <h1>"Settings"</h1>
            <p class="notice" role="status">{move || notice.get()}</p>
            <div class="panel">
                <h2>"Account"</h2>
                {move || account().map(|a| view! {
                    <dl class="attributes">
                        <dt>"Name"</dt><dd id="account-name">{a.name.clone()}</dd>
                        <dt>"Email"</dt><dd>{a.email.clone()}</dd>
                        <dt>"Company"</dt><dd>{a.company_name.clone()}" ("{a.company_slug.clone()}")"</dd>
                        <dt>"Working as"</dt><dd>{format::capitalise(a.role.as_str())}</dd>
                    </dl>
                })}
                <label class="check">
                    <input type="checkbox" prop:checked=move || wipe.get()
                        on:change=move |ev| wipe.set(event_target_checked(&ev))/>
                    "Also delete this company's data from this device"
                </label>
                <button class="danger" id="sign-out" disabled=move || busy.get() on:click=sign_out>"Sign out of this device"</button>
            </div>
            {move || match view_.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(v)) => view! {
                    <div class="panel">
                        <h2>"Your devices"</h2>
                        <p class="muted">{v.devices_message.clone()}</p>
                        <ul class="devices">
                            {v.devices.iter().map(|d| view! {
                                <li>
                                    <span>{d.name.clone()}</span>
                                    {d.current.then(|| view! { <span class="chip">"This device"</span> })}
                                    <span class="muted">{format!("last seen {}", format::ago(d.last_seen_at, now_millis()))}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                    <div class="panel">
                        <h2>"On this device"</h2>
                        <dl class="attributes">
                            <dt>"Listings"</dt><dd id="settings-listings">{format::count(v.listings, "listing", "listings")}</dd>
                            <dt>"Data"</dt><dd id="cache-size">{format::bytes(v.cache_bytes)}</dd>
                            <dt>"Photos"</dt><dd>{format::bytes(v.photo_bytes)}</dd>
                            <dt>"Stored at"</dt><dd class="path">{v.cache_path.clone()}</dd>
                            <dt>"Offline search"</dt><dd>{v.search_model.clone().unwrap_or_else(|| "keywords and filters only (no search model found)".into())}</dd>
                        </dl>
                        <button id="clear-cache" on:click=clear>"Clear and download again"</button>
                    </div>
                    <div class="panel">
                        <h2>"Server"</h2>
                        <p id="server-url">{v.server_url.clone()}</p>
                        <p class="muted">"To use another server, sign out and sign in there."</p>
                    </div>
                }.into_any(),
            }}
            {move || is_admin.get().then(|| view! { <Branding/> <Integrations/> })}
            <div class="panel">
                <h2>"About"</h2>
                <p>{move || format!("Roost {}", version())}</p>
            </div>
        </section>
    }
}
