//! The signed-in frame: brand bar, navigation, sync status, role switcher, and the first-sync
//! progress screen while the device is still empty.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::app::{AppState, SyncPhase, SyncStatus};
use roost_api::users::Role;

use super::{Ctx, Route, actions, activity, chat, listing, no_args, search, settings, source};
use crate::bridge::{invoke, now_millis};
use crate::format;

#[component]
pub fn Shell() -> impl IntoView {
    let ctx = Ctx::get();
    search::provide_state();
    // A new sign-in starts with an empty chat, no selection and its own outbox.
    chat::state().reset();
    let acts = actions::state();
    acts.reset();
    // Detail screens return to the screen they were opened from.
    Effect::new(move |_| {
        let route = ctx.route.get();
        if !route.is_detail() {
            ctx.back.set(route);
        }
    });
    let company = move || {
        ctx.app.with(|a| {
            let s = a.as_ref().and_then(|a| a.signed_in.as_ref());
            s.map(|s| {
                s.config
                    .as_ref()
                    .map(|c| c.config.company_info.name.clone())
                    .unwrap_or_else(|| s.company_name.clone())
            })
            .unwrap_or_default()
        })
    };
    let has_logo = move || {
        ctx.app.with(|a| {
            a.as_ref()
                .and_then(|a| a.signed_in.as_ref())
                .and_then(|s| s.config.as_ref())
                .is_some_and(|c| c.config.company_info.logo_url.is_some())
        })
    };
    let search_on = Memo::new(move |_| {
        ctx.app.with(|a| {
            a.as_ref()
                .and_then(|a| a.signed_in.as_ref())
                .and_then(|s| s.config.as_ref())
                .is_none_or(|c| c.config.features.property_search)
        })
    });
    let chat_on = Memo::new(move |_| {
        ctx.app.with(|a| {
            a.as_ref()
                .and_then(|a| a.signed_in.as_ref())
                .and_then(|s| s.config.as_ref())
                .is_none_or(|c| c.config.features.chat)
        })
    });
    // Which tab a detail screen belongs to.
    let section = move || match ctx.route.get() {
        r if r.is_detail() => ctx.back.get(),
        r => r,
    };
    // A memo, so sync progress does not draw the open screen anew.
    let empty = Memo::new(move |_| {
        ctx.sync
            .with(|s| s.listings == 0 && s.last_synced.is_none())
    });
    let logo_src = format!("{}/logo", ctx.photo_base());

    view! {
        <div class="shell">
            <header class="topbar">
                <div class="brand">
                    <Show when=has_logo fallback=|| view! { <span class="brand-mark" aria-hidden="true"></span> }>
                        <img class="brand-logo" src=logo_src.clone() alt=""/>
                    </Show>
                    <span class="brand-name" id="company-name">{company}</span>
                </div>
                <SyncBadge/>
                <RoleSwitcher/>
            </header>
            <nav class="tabs" aria-label="Main">
                <Show when=move || search_on.get()>
                    <button class="tab" id="nav-search"
                        class:active=move || section() == Route::Search
                        on:click=move |_| ctx.route.set(Route::Search)>"Search"</button>
                </Show>
                <Show when=move || chat_on.get()>
                    <button class="tab" id="nav-chat"
                        class:active=move || section() == Route::Chat
                        on:click=move |_| ctx.route.set(Route::Chat)>"Chat"</button>
                </Show>
                <button class="tab" id="nav-activity"
                    class:active=move || section() == Route::Activity
                    on:click=move |_| ctx.route.set(Route::Activity)>
                    "Activity"
                    <Show when=move || { acts.pending() > 0 }>
                        <span class="tab-badge" id="activity-badge"
                            aria-label=move || format!("{} waiting", acts.pending())>{move || acts.pending()}</span>
                    </Show>
                </button>
                <button class="tab" id="nav-settings"
                    class:active=move || ctx.route.get() == Route::Settings
                    on:click=move |_| ctx.route.set(Route::Settings)>"Settings"</button>
            </nav>
            <main class="content">
                {move || {
                    // Chat can answer from the server before the first sync is over.
                    if empty.get() && !matches!(ctx.route.get(), Route::Settings | Route::Chat | Route::Activity) {
                        return view! { <FirstSync/> }.into_any();
                    }
                    match ctx.route.get() {
                        Route::Search if search_on.get() => view! { <search::Search/> }.into_any(),
                        Route::Search => view! {
                            <p class="notice">"Listing search is turned off for your company."</p>
                        }.into_any(),
                        Route::Listing(id) => view! { <listing::ListingDetail id=id/> }.into_any(),
                        Route::Settings => view! { <settings::Settings/> }.into_any(),
                        Route::Chat if chat_on.get() => view! { <chat::Chat/> }.into_any(),
                        Route::Chat => view! {
                            <p class="notice">"Chat is turned off for your company."</p>
                        }.into_any(),
                        Route::Knowledge(id) => view! { <source::KnowledgeDetail id=id/> }.into_any(),
                        Route::Client(id) => view! { <source::ClientDetail id=id/> }.into_any(),
                        Route::Activity => view! { <activity::Activity/> }.into_any(),
                    }
                }}
            </main>
            <actions::Overlays/>
        </div>
    }
}

fn sync_now(ctx: Ctx) {
    spawn_local(async move {
        let _ = invoke::<_, SyncStatus>("sync_now", &no_args()).await;
        ctx.reload();
    });
}

/// Online and synced, syncing, or offline with the last sync time: calm, never a dialog.
#[component]
fn SyncBadge() -> impl IntoView {
    let ctx = Ctx::get();
    let text = move || {
        ctx.sync.with(|s| {
            let syncing = matches!(
                s.phase,
                SyncPhase::Connecting | SyncPhase::Downloading | SyncPhase::Resyncing
            );
            let last = s
                .last_synced
                .map(|t| format!("synced {}", format::ago(t, now_millis())))
                .unwrap_or_else(|| "not synced yet".into());
            if syncing {
                format!("Syncing… {}", format::count(s.changes, "change", "changes"))
            } else if !s.online {
                format!("Offline · {last}")
            } else {
                format::capitalise(&last)
            }
        })
    };
    let offline = move || ctx.sync.with(|s| !s.online);
    let title = move || ctx.sync.with(|s| s.message.clone().unwrap_or_default());
    view! {
        <div class="sync" class:offline=offline>
            <span class="sync-dot" aria-hidden="true"></span>
            <span id="sync-status" title=title>{text}</span>
            <button class="link" id="sync-now" on:click=move |_| sync_now(ctx)>"Sync now"</button>
        </div>
    }
}

#[component]
fn RoleSwitcher() -> impl IntoView {
    let ctx = Ctx::get();
    let roles = move || {
        ctx.app.with(|a| {
            a.as_ref()
                .and_then(|a| a.signed_in.as_ref())
                .map(|s| (s.roles.clone(), s.role))
        })
    };
    let change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let Some(role) = Role::ALL.into_iter().find(|r| r.as_str() == value) else {
            return;
        };
        spawn_local(async move {
            if let Ok(s) =
                invoke::<_, AppState>("set_role", &serde_json::json!({ "role": role })).await
            {
                ctx.set_state(s);
            }
        });
    };
    move || {
        let (roles, current) = roles()?;
        (roles.len() > 1).then(|| {
            view! {
                <label class="role">
                    <span class="sr-only">"Working as"</span>
                    <select id="role" on:change=change>
                        {roles.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == current>{format::capitalise(r.as_str())}</option>
                        }).collect_view()}
                    </select>
                </label>
            }
        })
    }
}

/// The first sync fills an empty device: a real bar with pages, rows and bytes.
#[component]
fn FirstSync() -> impl IntoView {
    let ctx = Ctx::get();
    let s = move || ctx.sync.get();
    view! {
        <section class="first-sync" aria-live="polite">
            <h1>"Getting your listings onto this device"</h1>
            <p class="muted">"After this, search works without a connection."</p>
            <div class="bar" role="progressbar" id="sync-progress"
                aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || s().fraction().map(|f| (f * 100.0).round().to_string())>
                <div class="bar-fill"
                    class:indeterminate=move || s().fraction().is_none()
                    style:width=move || s().fraction().map(|f| format!("{:.0}%", f * 100.0)).unwrap_or_else(|| "35%".into())></div>
            </div>
            <p class="progress-text" id="sync-progress-text">{move || {
                let s = s();
                let phase = match s.phase {
                    SyncPhase::Idle | SyncPhase::Connecting => "Connecting",
                    SyncPhase::Downloading => "Downloading",
                    SyncPhase::Resyncing => "Starting over from a fresh copy",
                    SyncPhase::Done => "Done",
                    SyncPhase::Failed => "Stopped",
                };
                format!("{phase} · {} · {} · {}",
                    format::count(u64::from(s.pages), "page", "pages"),
                    format::count(s.changes, "change", "changes"),
                    format::bytes(s.bytes))
            }}</p>
            <p class="error" role="alert">{move || s().message}</p>
            <Show when=move || matches!(s().phase, SyncPhase::Failed | SyncPhase::Done | SyncPhase::Idle)>
                <button class="primary" on:click=move |_| sync_now(ctx)>"Try again"</button>
            </Show>
        </section>
    }
}
