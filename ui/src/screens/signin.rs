//! Sign-in: server, company, email, password. Errors say what to fix.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::app::{AppState, SignInForm};

use super::Ctx;
use crate::bridge::invoke;

#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = Ctx::get();
    let prefill = ctx.app.get_untracked();
    let server = RwSignal::new(
        prefill
            .as_ref()
            .map(|a| a.server_url.clone())
            .unwrap_or_default(),
    );
    let company = RwSignal::new(
        prefill
            .as_ref()
            .map(|a| a.company.clone())
            .unwrap_or_default(),
    );
    let email = RwSignal::new(
        prefill
            .as_ref()
            .map(|a| a.email.clone())
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let form = SignInForm {
            server_url: server.get_untracked(),
            company: company.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            let result =
                invoke::<_, AppState>("sign_in", &serde_json::json!({ "form": form })).await;
            busy.set(false);
            match result {
                Ok(state) => {
                    password.set(String::new());
                    ctx.set_state(state);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <main class="signin">
            <form class="signin-card" on:submit=submit>
                <div class="signin-mark" aria-hidden="true"></div>
                <h1>"Sign in"</h1>
                <p class="muted">"Your listings stay on this device, so search works even without signal."</p>
                <label>
                    "Server"
                    <input id="server" type="url" autocomplete="url" required
                        placeholder="https://roost.example.com"
                        prop:value=move || server.get()
                        on:input=move |ev| server.set(event_target_value(&ev))/>
                </label>
                <label>
                    "Company"
                    <input id="company" type="text" autocomplete="organization" required
                        placeholder="your-company"
                        prop:value=move || company.get()
                        on:input=move |ev| company.set(event_target_value(&ev))/>
                </label>
                <label>
                    "Email"
                    <input id="email" type="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))/>
                </label>
                <label>
                    "Password"
                    <input id="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                <p class="error" role="alert" id="signin-error">{move || error.get()}</p>
                <button id="signin-submit" class="primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
