//! The company's branding, for admins (in Settings): name, colors and currency. Saved to the
//! server, then every device (this one at its next sync, started at once) shows it.

use leptos::prelude::*;
use roost_api::app::BrandingForm;

use super::Ctx;
use super::integrations::{save_button, send, text_field};

const FIELDS: &[(&str, &str)] = &[
    ("company_info.name", "Company name"),
    ("company_info.primary_color", "Main color"),
    ("company_info.secondary_color", "Second color"),
    ("company_info.currency", "Currency"),
];

#[component]
pub fn Branding() -> impl IntoView {
    let ctx = Ctx::get();
    // The branding as last synced; the form starts from it, and its save is refused if
    // another admin saved since that version.
    let (synced, base_version) = ctx.app.with_untracked(|a| {
        let c = a
            .as_ref()
            .and_then(|a| a.signed_in.as_ref())
            .and_then(|s| s.config.as_ref());
        (
            c.map(|c| c.config.company_info.clone()),
            c.map(|c| c.version),
        )
    });
    let name = RwSignal::new(synced.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let primary = RwSignal::new(
        synced
            .as_ref()
            .map(|c| c.primary_color.clone())
            .unwrap_or_else(|| "#1f4e79".into()),
    );
    let secondary = RwSignal::new(
        synced
            .as_ref()
            .map(|c| c.secondary_color.clone())
            .unwrap_or_else(|| "#f2a900".into()),
    );
    let currency = RwSignal::new(
        synced
            .as_ref()
            .and_then(|c| c.currency.clone())
            .unwrap_or_default(),
    );
    // Moves on with each save of this form.
    let base = RwSignal::new(base_version);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let form = BrandingForm {
            name: name.get_untracked(),
            primary_color: primary.get_untracked(),
            secondary_color: secondary.get_untracked(),
            currency: currency.get_untracked(),
            base_version: base.get_untracked(),
        };
        notice.set(None);
        let args = serde_json::json!({ "form": form });
        send(
            "save_branding",
            args,
            FIELDS,
            busy,
            error,
            move |version: i64| {
                base.set(Some(version));
                notice.set(Some(
                    "Saved. Every device shows it after its next sync.".into(),
                ));
            },
        );
    };
    let color = |id: &'static str, label: &'static str, value: RwSignal<String>| {
        // The swatch shows the last color the text spelled right (a color input takes only
        // #rrggbb and would show black meanwhile).
        let swatch = Memo::new(move |last: Option<&String>| {
            swatch_color(&value.get())
                .or_else(|| last.cloned())
                .unwrap_or_else(|| "#000000".into())
        });
        view! {
            <div class="field">
                <label class="field-label" for=id>{label}</label>
                <span class="color-field">
                    <input type="color" aria-label=format!("{label}: pick") tabindex="-1"
                        prop:value=move || swatch.get()
                        on:input=move |ev| value.set(event_target_value(&ev))/>
                    <input id=id type="text" autocomplete="off" spellcheck="false"
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))/>
                </span>
            </div>
        }
    };

    view! {
        <div class="panel" id="branding">
            <h2>"Company"</h2>
            <p class="muted">"How the app looks for everyone in the company."</p>
            <form class="integration-form branding-form" on:submit=submit novalidate>
                <div class="field-pair">
                    {text_field("brand-name", "Company name", name, "text")}
                    <label>"Currency (e.g. AED)"
                        <input id="brand-currency" type="text" autocomplete="off" maxlength="3" placeholder="AED"
                            prop:value=move || currency.get()
                            on:input=move |ev| currency.set(event_target_value(&ev).to_uppercase())/>
                    </label>
                </div>
                <div class="field-pair">
                    {color("brand-primary", "Main color", primary)}
                    {color("brand-secondary", "Second color", secondary)}
                </div>
                <p class="notice" role="status" id="branding-notice">{move || notice.get()}</p>
                <p class="error" role="alert" id="branding-error">{move || error.get()}</p>
                <div class="form-buttons">{save_button("branding-save", busy)}</div>
            </form>
        </div>
    }
}

/// `#rgb` or `#rrggbb` as a color input's `#rrggbb`; `None` for anything else.
fn swatch_color(text: &str) -> Option<String> {
    let hex = text.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    match hex.len() {
        6 => Some(format!("#{hex}")),
        3 => Some(hex.chars().fold(String::from("#"), |mut s, c| {
            s.push(c);
            s.push(c);
            s
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::swatch_color;

    #[test]
    fn swatches_take_what_a_color_input_can_show() {
        assert_eq!(swatch_color("#0B6E4F").as_deref(), Some("#0b6e4f"));
        assert_eq!(swatch_color(" #FA0 ").as_deref(), Some("#ffaa00"));
        for bad in ["", "#", "0B6E4F", "#0B6E4", "#GGGGGG", "sea green"] {
            assert_eq!(swatch_color(bad), None, "{bad}");
        }
    }
}
