//! The screens and the state they share.

mod actions;
mod activity;
mod answer;
mod chat;
mod company;
mod integrations;
mod listing;
mod search;
mod settings;
mod shell;
mod signin;
mod source;

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::app::{AppState, SYNC_EVENT, SyncPhase, SyncStatus};
use roost_api::listings::Listing;
use uuid::Uuid;

use crate::brand::theme_css;
use crate::bridge::{apply_theme, invoke, listen, remember_theme};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Route {
    Search,
    Listing(Uuid),
    Settings,
    Chat,
    /// A knowledge item a chat answer cites (document, market figures, profile).
    Knowledge(Uuid),
    /// A client a chat answer cites.
    Client(Uuid),
    /// The agent's actions (showcases, leads) and where each stands.
    Activity,
}

impl Route {
    /// Screens opened from another one, with a back button to it.
    pub fn is_detail(self) -> bool {
        matches!(
            self,
            Route::Listing(_) | Route::Knowledge(_) | Route::Client(_)
        )
    }
}

/// The back button of a detail screen, named after where it returns.
pub fn back_label(to: Route) -> &'static str {
    match to {
        Route::Chat => "← Back to chat",
        Route::Settings => "← Back to settings",
        Route::Activity => "← Back to activity",
        _ => "← Back to results",
    }
}

/// State every screen can read; provided once by [`App`].
#[derive(Clone, Copy)]
pub struct Ctx {
    pub app: RwSignal<Option<AppState>>,
    pub sync: RwSignal<SyncStatus>,
    pub route: RwSignal<Route>,
    /// Where a detail screen's back button returns: the last screen that was not a detail.
    pub back: RwSignal<Route>,
    pub fatal: RwSignal<Option<String>>,
}

impl Ctx {
    pub fn get() -> Ctx {
        expect_context::<Ctx>()
    }

    /// Reads the shell's state again (after sign-in, sync, a role change).
    pub fn reload(self) {
        spawn_local(async move {
            match invoke::<_, AppState>("app_state", &no_args()).await {
                Ok(s) => self.set_state(s),
                Err(e) => self.fatal.set(Some(e)),
            }
        });
    }

    pub fn set_state(self, s: AppState) {
        self.sync.set(s.sync.clone());
        self.app.set(Some(s));
    }

    pub fn photo_base(self) -> String {
        self.app
            .with_untracked(|a| a.as_ref().map(|a| a.photo_base.clone()))
            .unwrap_or_default()
    }

    /// The first photo of a listing through the photo protocol, as the search cards show it.
    pub fn cover(self, l: &Listing) -> Option<String> {
        (!l.photos.is_empty()).then(|| format!("{}/{}/0", self.photo_base(), l.id))
    }

    /// The company's name as its config has it (else as the account knows it).
    pub fn company_name(self) -> String {
        self.app
            .with_untracked(|a| {
                let s = a.as_ref()?.signed_in.as_ref()?;
                Some(
                    s.config
                        .as_ref()
                        .map(|c| c.config.company_info.name.clone())
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| s.company_name.clone()),
                )
            })
            .unwrap_or_default()
    }

    /// The signed-in user's name.
    pub fn user_name(self) -> String {
        self.app
            .with_untracked(|a| {
                a.as_ref()
                    .and_then(|a| a.signed_in.as_ref())
                    .map(|s| s.name.clone())
            })
            .unwrap_or_default()
    }

    pub fn currency(self) -> String {
        self.app
            .with(|a| {
                a.as_ref()
                    .and_then(|a| a.signed_in.as_ref())
                    .and_then(|s| s.config.as_ref())
                    .and_then(|c| c.config.company_info.currency.clone())
            })
            .unwrap_or_else(|| "AED".into())
    }
}

pub fn no_args() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Screen {
    Loading,
    Fatal,
    SignIn,
    Shell,
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        app: RwSignal::new(None),
        sync: RwSignal::new(SyncStatus::idle()),
        route: RwSignal::new(Route::Search),
        back: RwSignal::new(Route::Search),
        fatal: RwSignal::new(None),
    };
    provide_context(ctx);
    chat::provide_state();
    actions::provide_state();

    spawn_local(async move {
        listen::<SyncStatus>(SYNC_EVENT, move |s| {
            let finished = matches!(s.phase, SyncPhase::Done | SyncPhase::Failed);
            ctx.sync.set(s);
            if finished {
                // Roles, branding or the signed-in state may have changed.
                ctx.reload();
            }
        })
        .await;
        ctx.reload();
    });

    // The tenant's colors, applied now and remembered for the next start.
    Effect::new(move |_| {
        ctx.app.with(|a| {
            let Some(signed) = a.as_ref().and_then(|a| a.signed_in.as_ref()) else {
                return;
            };
            let (css, name) = match &signed.config {
                Some(c) => (
                    theme_css(
                        &c.config.company_info.primary_color,
                        &c.config.company_info.secondary_color,
                    ),
                    c.config.company_info.name.clone(),
                ),
                None => (theme_css("", ""), signed.company_name.clone()),
            };
            apply_theme(&css);
            remember_theme(&css, &name);
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                doc.set_title(&name);
            }
        })
    });

    let screen = Memo::new(move |_| {
        if ctx.fatal.with(Option::is_some) {
            return Screen::Fatal;
        }
        ctx.app.with(|a| match a {
            None => Screen::Loading,
            Some(a) if a.signed_in.is_none() => Screen::SignIn,
            Some(_) => Screen::Shell,
        })
    });

    move || match screen.get() {
        Screen::Loading => {
            view! { <div class="boot" aria-busy="true"><div class="boot-mark"></div></div> }
                .into_any()
        }
        Screen::Fatal => view! {
            <main class="fatal" role="alert">
                <h1>"Roost cannot start"</h1>
                <p>{move || ctx.fatal.get().unwrap_or_default()}</p>
            </main>
        }
        .into_any(),
        Screen::SignIn => view! { <signin::SignIn/> }.into_any(),
        Screen::Shell => view! { <shell::Shell/> }.into_any(),
    }
}
