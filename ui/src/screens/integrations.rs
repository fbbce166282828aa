//! Company integrations, for admins (in Settings): what is connected, and forms to connect
//! WhatsApp, email and a CRM (HubSpot or a signed webhook). Tokens and passwords go to the server, which keeps them encrypted and
//! never shows them again, so changing a connection means typing them again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use roost_api::actions::{
    ConnectorSettings, CrmWebhookSettings, EmailSecurity, EmailSettings, EmailStatus,
    HubSpotSettings, IntegrationsStatus, WhatsAppSettings, WhatsAppStatus,
};

use super::no_args;
use crate::bridge::invoke;

/// Which form is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    WhatsApp,
    Email,
    Crm,
}

#[component]
pub fn Integrations() -> impl IntoView {
    let status = RwSignal::new(None::<Result<IntegrationsStatus, String>>);
    let open = RwSignal::new(Open::None);
    let notice = RwSignal::new(None::<String>);
    spawn_local(async move {
        status.set(Some(invoke("integrations", &no_args()).await));
    });
    // `set` notifies even with the same value: a second click would rebuild the open form and
    // lose what was typed.
    let show = move |form: Open| {
        notice.set(None);
        if open.get_untracked() != form {
            open.set(form);
        }
    };
    let current = move || status.with_untracked(|s| s.clone().and_then(Result::ok));
    let connected =
        move |f: fn(&IntegrationsStatus) -> bool| status.with(|s| matches!(s, Some(Ok(s)) if f(s)));
    let saved = move |s: IntegrationsStatus, what: &str| {
        status.set(Some(Ok(s)));
        open.set(Open::None);
        notice.set(Some(format!("{what} connected.")));
    };

    view! {
        <div class="panel" id="integrations">
            <h2>"Company integrations"</h2>
            <p class="muted">"Agents send showcases and leads through these. Tokens and passwords are stored encrypted on the server and never shown again."</p>
            <p class="notice" role="status" id="integrations-notice">{move || notice.get()}</p>
            {move || match status.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(s)) => view! {
                    <dl class="attributes">
                        <dt>"WhatsApp"</dt>
                        <dd id="integration-whatsapp">{whatsapp_line(&s)}</dd>
                        <dt>"Email"</dt>
                        <dd id="integration-email">{email_line(&s)}</dd>
                        <dt>"CRM"</dt>
                        <dd id="integration-crm">{crm_line(&s)}</dd>
                    </dl>
                    {(!s.unreadable.is_empty()).then(|| view! {
                        <p class="error">{format!(
                            "These settings can no longer be read (the server's secrets key changed, or another version stored them): {}. Enter them again.",
                            s.unreadable.join(", ")
                        )}</p>
                    })}
                }.into_any(),
            }}
            <div class="integration-actions">
                <button type="button" id="connect-whatsapp" on:click=move |_| show(Open::WhatsApp)>
                    {move || if connected(|s| s.whatsapp.is_some()) { "Change WhatsApp…" } else { "Connect WhatsApp…" }}
                </button>
                <button type="button" id="connect-email" on:click=move |_| show(Open::Email)>
                    {move || if connected(|s| s.email.is_some()) { "Change email…" } else { "Connect email…" }}
                </button>
                <button type="button" id="connect-crm" on:click=move |_| show(Open::Crm)>
                    {move || if connected(|s| s.hubspot || s.crm_webhook.is_some()) { "Change CRM…" } else { "Connect a CRM…" }}
                </button>
            </div>
            {move || match open.get() {
                Open::WhatsApp => view! {
                    <WhatsAppForm current=current().and_then(|s| s.whatsapp)
                        on_saved=move |s| saved(s, "WhatsApp") on_cancel=move || open.set(Open::None)/>
                }.into_any(),
                Open::Email => view! {
                    <EmailForm current=current().and_then(|s| s.email)
                        on_saved=move |s| saved(s, "Email") on_cancel=move || open.set(Open::None)/>
                }.into_any(),
                Open::Crm => view! {
                    <CrmForm on_saved=move |s| saved(s, "The CRM") on_cancel=move || open.set(Open::None)/>
                }.into_any(),
                Open::None => ().into_any(),
            }}
        </div>
    }
}

fn whatsapp_line(s: &IntegrationsStatus) -> String {
    match &s.whatsapp {
        None => "Not connected: showcases cannot go by WhatsApp.".into(),
        Some(w) => {
            let template = match &w.template_name {
                Some(t) => format!(
                    "template {t} ({}{})",
                    w.template_language.as_deref().unwrap_or("en"),
                    if w.template_photo_header {
                        ", with a photo"
                    } else {
                        ""
                    }
                ),
                None => "no template: only clients who wrote in the last 24 hours".into(),
            };
            format!("Connected: number id {}, {template}", w.phone_number_id)
        }
    }
}

fn email_line(s: &IntegrationsStatus) -> String {
    match &s.email {
        None => "Not connected: showcases cannot go by email.".into(),
        Some(e) => {
            let port = e.port.map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "Connected: from {} through {}{port}",
                e.from_address, e.host
            )
        }
    }
}

fn crm_line(s: &IntegrationsStatus) -> String {
    match (&s.crm_webhook, s.hubspot) {
        (Some(w), true) => format!("HubSpot, and a signed webhook to {}", w.url),
        (None, true) => "HubSpot".into(),
        (Some(w), false) => format!("Signed webhook to {}", w.url),
        (None, false) => "None: leads stay in Roost's client records.".into(),
    }
}

/// The server's refusal "why (field)" as "Label: why", with the form's label for the field.
fn name_field(e: String, labels: &[(&str, &str)]) -> String {
    let Some((why, field)) = e.strip_suffix(')').and_then(|rest| rest.rsplit_once(" (")) else {
        return e;
    };
    // Some refusals already start with the field's path ("company_info.name: …").
    let why = why.strip_prefix(&format!("{field}: ")).unwrap_or(why);
    match labels.iter().find(|(f, _)| *f == field) {
        Some((_, label)) => format!("{label}: {}.", why.trim_end_matches('.')),
        None => e,
    }
}

/// Sends a form to the shell: `busy` meanwhile; then `done` with the answer, or the refusal
/// in `error` with the field named by its label.
pub(super) fn send<T: serde::de::DeserializeOwned + 'static>(
    command: &'static str,
    args: serde_json::Value,
    labels: &'static [(&'static str, &'static str)],
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    done: impl FnOnce(T) + 'static,
) {
    busy.set(true);
    error.set(None);
    spawn_local(async move {
        let answer = invoke::<_, T>(command, &args).await;
        busy.set(false);
        match answer {
            Ok(value) => done(value),
            Err(e) => error.set(Some(name_field(e, labels))),
        }
    });
}

/// The shell's command that connects a service, and its arguments.
const CONNECT: &str = "connect_integration";

fn connect_args(settings: ConnectorSettings) -> serde_json::Value {
    serde_json::json!({ "settings": settings })
}

/// A labelled one-line input bound to `value`.
pub(super) fn text_field(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    kind: &'static str,
) -> impl IntoView {
    view! {
        <label>{label}
            <input id=id type=kind autocomplete="off" prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </label>
    }
}

/// A form's submit button, "Saving…" and disabled while `busy`.
pub(super) fn save_button(id: &'static str, busy: RwSignal<bool>) -> impl IntoView {
    view! {
        <button type="submit" class="primary" id=id disabled=move || busy.get()>
            {move || if busy.get() { "Saving…" } else { "Save" }}
        </button>
    }
}

/// `Some(trimmed)` unless blank.
fn optional(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

const WHATSAPP_FIELDS: &[(&str, &str)] = &[
    ("phone_number_id", "Phone number ID"),
    ("access_token", "Access token"),
    ("app_secret", "App secret"),
    ("template_name", "Approved template"),
    ("template_language", "Template language"),
    ("webhook_verify_token", "Webhook verify token"),
];

const CRM_FIELDS: &[(&str, &str)] = &[
    ("private_app_token", "Private app token"),
    ("url", "Webhook address"),
    ("secret", "Signing secret"),
];

const EMAIL_FIELDS: &[(&str, &str)] = &[
    ("host", "Mail server"),
    ("port", "Port"),
    ("security", "Security"),
    ("username", "Username"),
    ("password", "Password"),
    ("from_address", "From address"),
    ("from_name", "From name"),
];

/// Starts from what is stored (`current`), but for the secrets, which must be typed again;
/// what the form does not show (API version and address) is sent back unchanged.
#[component]
fn WhatsAppForm(
    current: Option<WhatsAppStatus>,
    on_saved: impl Fn(IntegrationsStatus) + Copy + Send + Sync + 'static,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let c = current.unwrap_or(WhatsAppStatus {
        phone_number_id: String::new(),
        template_name: None,
        template_language: None,
        template_photo_header: false,
        api_version: None,
        base_url: None,
        webhook_verify_token_set: false,
    });
    let (api_version, base_url) = (c.api_version.clone(), c.base_url.clone());
    let verify_label = if c.webhook_verify_token_set {
        "Webhook verify token (empty keeps the current one)"
    } else {
        "Webhook verify token (optional)"
    };
    let phone = RwSignal::new(c.phone_number_id);
    let token = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let template = RwSignal::new(c.template_name.unwrap_or_default());
    let language = RwSignal::new(c.template_language.unwrap_or_default());
    let photo = RwSignal::new(c.template_photo_header);
    let verify = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let settings = WhatsAppSettings {
            phone_number_id: phone.get_untracked().trim().to_string(),
            access_token: token.get_untracked(),
            api_version: api_version.clone(),
            base_url: base_url.clone(),
            app_secret: secret.get_untracked(),
            template_name: optional(template.get_untracked()),
            template_language: optional(language.get_untracked()),
            template_photo_header: photo.get_untracked(),
            webhook_verify_token: optional(verify.get_untracked()),
        };
        let settings = ConnectorSettings::Whatsapp(settings);
        send(
            CONNECT,
            connect_args(settings),
            WHATSAPP_FIELDS,
            busy,
            error,
            on_saved,
        );
    };
    view! {
        <form class="integration-form" id="whatsapp-form" on:submit=submit novalidate>
            <h3>"WhatsApp Business (Cloud API)"</h3>
            <div class="field-pair">
                {text_field("wa-phone-id", "Phone number ID", phone, "text")}
                {text_field("wa-token", "Access token", token, "password")}
            </div>
            <div class="field-pair">
                {text_field("wa-app-secret", "App secret", secret, "password")}
                {text_field("wa-verify", verify_label, verify, "text")}
            </div>
            <div class="field-pair">
                {text_field("wa-template", "Approved template (optional)", template, "text")}
                {text_field("wa-language", "Template language, e.g. en_US", language, "text")}
            </div>
            <label class="check">
                <input type="checkbox" id="wa-photo" prop:checked=move || photo.get()
                    on:change=move |ev| photo.set(event_target_checked(&ev))/>
                "The template has a photo header (the first listing's photo fills it)"
            </label>
            <p class="error" role="alert" id="whatsapp-error">{move || error.get()}</p>
            <div class="form-buttons">
                <button type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                {save_button("whatsapp-save", busy)}
            </div>
        </form>
    }
}

/// Starts from what is stored (`current`), but for the password, which must be typed again.
#[component]
fn EmailForm(
    current: Option<EmailStatus>,
    on_saved: impl Fn(IntegrationsStatus) + Copy + Send + Sync + 'static,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let c = current.as_ref();
    let host = RwSignal::new(c.map(|c| c.host.clone()).unwrap_or_default());
    let port = RwSignal::new(
        c.and_then(|c| c.port)
            .map(|p| p.to_string())
            .unwrap_or_default(),
    );
    let security = RwSignal::new(
        match c.map(|c| c.security) {
            Some(EmailSecurity::Tls) => "tls",
            Some(EmailSecurity::Plain) => "plain",
            _ => "starttls",
        }
        .to_string(),
    );
    let username = RwSignal::new(c.and_then(|c| c.username.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let from = RwSignal::new(c.map(|c| c.from_address.clone()).unwrap_or_default());
    let from_name = RwSignal::new(c.and_then(|c| c.from_name.clone()).unwrap_or_default());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let port = match port.get_untracked().trim() {
            "" => None,
            p => match p.parse::<u16>() {
                Ok(n) => Some(n),
                Err(_) => {
                    error.set(Some("Port: expected a number from 1 to 65535.".into()));
                    return;
                }
            },
        };
        let settings = EmailSettings {
            host: host.get_untracked().trim().to_string(),
            port,
            security: match security.get_untracked().as_str() {
                "tls" => EmailSecurity::Tls,
                "plain" => EmailSecurity::Plain,
                _ => EmailSecurity::Starttls,
            },
            username: optional(username.get_untracked()),
            password: Some(password.get_untracked()).filter(|p| !p.is_empty()),
            from_address: from.get_untracked().trim().to_string(),
            from_name: optional(from_name.get_untracked()),
        };
        let settings = ConnectorSettings::Email(settings);
        send(
            CONNECT,
            connect_args(settings),
            EMAIL_FIELDS,
            busy,
            error,
            on_saved,
        );
    };
    view! {
        <form class="integration-form" id="email-form" on:submit=submit novalidate>
            <h3>"Outgoing mail (SMTP)"</h3>
            <div class="field-pair">
                {text_field("mail-host", "Mail server", host, "text")}
                {text_field("mail-port", "Port (optional)", port, "text")}
            </div>
            <label>"Security"
                <select id="mail-security" prop:value=move || security.get()
                    on:change=move |ev| security.set(event_target_value(&ev))>
                    <option value="starttls" selected=security.get_untracked() == "starttls">"STARTTLS (port 587)"</option>
                    <option value="tls" selected=security.get_untracked() == "tls">"TLS (port 465)"</option>
                    <option value="plain" selected=security.get_untracked() == "plain">"None: a relay on the server's own machine"</option>
                </select>
            </label>
            <div class="field-pair">
                {text_field("mail-username", "Username (optional)", username, "text")}
                {text_field("mail-password", "Password", password, "password")}
            </div>
            <div class="field-pair">
                {text_field("mail-from", "From address", from, "email")}
                {text_field("mail-from-name", "From name (optional)", from_name, "text")}
            </div>
            <p class="error" role="alert" id="email-error">{move || error.get()}</p>
            <div class="form-buttons">
                <button type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                {save_button("email-save", busy)}
            </div>
        </form>
    }
}

#[component]
fn CrmForm(
    on_saved: impl Fn(IntegrationsStatus) + Copy + Send + Sync + 'static,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let hubspot = RwSignal::new(true);
    let token = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let settings = if hubspot.get_untracked() {
            ConnectorSettings::Hubspot(HubSpotSettings {
                private_app_token: token.get_untracked(),
                base_url: None,
            })
        } else {
            ConnectorSettings::CrmWebhook(CrmWebhookSettings {
                url: url.get_untracked().trim().to_string(),
                secret: secret.get_untracked(),
            })
        };
        send(
            CONNECT,
            connect_args(settings),
            CRM_FIELDS,
            busy,
            error,
            on_saved,
        );
    };
    view! {
        <form class="integration-form" id="crm-form" on:submit=submit novalidate>
            <h3>"CRM: where new leads go besides Roost"</h3>
            <label class="check">
                <input type="radio" name="crm-kind" id="crm-hubspot" prop:checked=move || hubspot.get()
                    on:change=move |_| hubspot.set(true)/>
                "HubSpot (a private app with the contacts and deals scopes)"
            </label>
            <label class="check">
                <input type="radio" name="crm-kind" id="crm-webhook" prop:checked=move || !hubspot.get()
                    on:change=move |_| hubspot.set(false)/>
                "Another CRM: a signed webhook Roost posts each lead to"
            </label>
            {move || if hubspot.get() {
                text_field("crm-token", "Private app token", token, "password").into_any()
            } else {
                view! {
                    <div class="field-pair">
                        {text_field("crm-url", "Webhook address (https://…)", url, "url")}
                        {text_field("crm-secret", "Signing secret (16 characters or more)", secret, "password")}
                    </div>
                }.into_any()
            }}
            <p class="error" role="alert" id="crm-error">{move || error.get()}</p>
            <div class="form-buttons">
                <button type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                {save_button("crm-save", busy)}
            </div>
        </form>
    }
}
