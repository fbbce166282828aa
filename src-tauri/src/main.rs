//! The desktop shell. The Tauri v2 app (window, commands over the offline core) lands with the
//! desktop-app issue; until then this binary only says where things stand.

fn main() {
    println!(
        "Roost desktop {} (API v{}): the desktop window arrives with the desktop-app issue; \
         run `cargo xtask demo` for the API.",
        env!("CARGO_PKG_VERSION"),
        roost_api::API_VERSION
    );
}
