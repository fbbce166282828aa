//! Calls into the shell: `window.__TAURI__.core.invoke` and `event.listen` (the app sets
//! `withGlobalTauri`). Values cross as JSON, so the shared serde types are the contract.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn tauri_listen(event: &str, handler: &Closure<dyn FnMut(JsValue)>) -> JsValue;
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
}

fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let text = if value.is_undefined() {
        "null".to_string()
    } else {
        js_sys::JSON::stringify(value)
            .map(String::from)
            .map_err(|_| "the app sent something that is not JSON".to_string())?
    };
    serde_json::from_str(&text).map_err(|e| format!("the app's answer was not understood: {e}"))
}

/// Calls a command; the error is the sentence the shell wrote for the agent.
pub async fn invoke<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Result<T, String> {
    match tauri_invoke(cmd, to_js(args)).await {
        Ok(v) => from_js(&v),
        Err(e) => Err(e
            .as_string()
            .unwrap_or_else(|| format!("{cmd} failed: {e:?}"))),
    }
}

/// Calls `f` with every payload of `event` for the life of the page.
pub async fn listen<T: DeserializeOwned + 'static>(event: &str, mut f: impl FnMut(T) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let payload =
            js_sys::Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(v) = from_js::<T>(&payload) {
            f(v);
        }
    });
    tauri_listen(event, &closure).await;
    // The listener lives as long as the page.
    closure.forget();
}

/// Puts `text` on the clipboard; false where the webview offers no clipboard or refuses.
pub async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    // Checked by hand: outside a secure context `navigator.clipboard` is undefined.
    let clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))
        .ok()
        .filter(JsValue::is_object);
    let Some(clipboard) = clipboard else {
        return false;
    };
    let clipboard: web_sys::Clipboard = clipboard.unchecked_into();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .is_ok()
}

/// Remembers the theme for the next start, read by `boot.js` before the first paint.
pub fn remember_theme(css: &str, company: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item("roost.theme", css);
        let _ = storage.set_item("roost.company", company);
    }
}

pub fn apply_theme(css: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("style", css);
    }
}

pub fn now_millis() -> i64 {
    js_sys::Date::now() as i64
}

/// A performance mark for the start-up timeline (the app bench reads it), the first time
/// only: later searches leave nothing behind.
pub fn first_mark(name: &str) {
    let Some(p) = web_sys::window().and_then(|w| w.performance()) else {
        return;
    };
    if p.get_entries_by_name(name).length() == 0 {
        let _ = p.mark(name);
    }
}

/// Leaves `window.roostRendered = { query, at }` on the frame after search results for `query`
/// reached the page, so a benchmark can time keystroke-to-results (`at` is
/// `performance.now()`).
pub fn mark_rendered(query: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let query = query.to_string();
    let mark = Closure::once_into_js(move || {
        let Some(window) = web_sys::window() else {
            return;
        };
        let at = window.performance().map(|p| p.now()).unwrap_or_default();
        let record = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&record, &"query".into(), &query.into());
        let _ = js_sys::Reflect::set(&record, &"at".into(), &at.into());
        let _ = js_sys::Reflect::set(&window, &"roostRendered".into(), &record);
    });
    let _ = window.request_animation_frame(mark.unchecked_ref());
}
