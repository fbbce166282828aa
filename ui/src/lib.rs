//! The Roost UI: Leptos, rendered in the webview of the desktop (and later mobile) shell. It
//! talks to the shell only through [`bridge`]; everything it shows comes from the device.
//!
//! Pure logic (formatting, the filter form, the theme) sits in modules the host tests cover;
//! the screens are in `screens/`.

pub mod brand;
pub mod bridge;
pub mod form;
pub mod format;
pub mod markdown;
pub mod outbox;
mod screens;
pub mod turn;

pub use brand::readable_text_color;

use wasm_bindgen::prelude::*;

/// Entry point of the wasm module (called by `main.js`).
#[wasm_bindgen(start)]
pub fn start() {
    // The wasm is compiled and running.
    bridge::first_mark("roost-ui-start");
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    leptos::mount::mount_to_body(screens::App);
}
