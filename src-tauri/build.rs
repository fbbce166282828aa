fn main() {
    // The UI is built separately (`cargo xtask app` or `cargo xtask test`) and embedded here;
    // without it the generated context cannot compile, so say what to run.
    if !std::path::Path::new("../ui/dist/index.html").is_file() {
        panic!("ui/dist is missing: build the UI first with `cargo xtask app`");
    }
    println!("cargo:rerun-if-changed=commands.txt");
    // Every command the app registers, so tauri-build generates an `allow-…` permission for
    // each and release builds refuse anything not granted in `capabilities/`.
    let commands: Vec<&'static str> = include_str!("commands.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let commands: &'static [&'static str] = commands.leak();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri-build");
}
