//! The desktop app: the UI built to wasm (cargo + wasm-bindgen, no bundler), then the Tauri
//! shell that embeds it. The tools it needs are installed here at the exact versions the lock
//! file asks for.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Ctx, output, run_cmd, step};

/// Must equal the `wasm-bindgen` in Cargo.lock: the CLI refuses other versions' output.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// wasm-bindgen and tauri-driver, from crates.io, into cargo's bin folder.
pub fn ensure_tools(ctx: &Ctx) -> Result<()> {
    step("app tools", || {
        ensure_cargo_tool(
            ctx,
            "wasm-bindgen-cli",
            "wasm-bindgen",
            WASM_BINDGEN_VERSION,
            &[],
        )?;
        ensure_cargo_tool(
            ctx,
            "tauri-driver",
            "tauri-driver",
            TAURI_DRIVER_VERSION,
            &["--locked"],
        )
    })
}

fn ensure_cargo_tool(
    ctx: &Ctx,
    krate: &str,
    bin: &str,
    version: &str,
    extra: &[&str],
) -> Result<()> {
    // `cargo install --list` names each installed crate as `name vX.Y.Z:`; tauri-driver has no
    // `--version` to ask.
    let wanted = format!("{krate} v{version}:");
    let listed = output(Command::new(ctx.cargo_path()).args(["install", "--list"]))?;
    if listed.lines().any(|l| l.trim() == wanted) && cargo_bin(bin)?.is_file() {
        return Ok(());
    }
    println!("    installing {krate} {version} (a few minutes, once)");
    let mut cmd = Command::new(ctx.cargo_path());
    cmd.args(["install", krate, "--version", &format!("={version}")])
        .args(extra)
        .current_dir(&ctx.root);
    run_cmd(&mut cmd)
}

/// `~/.cargo/bin/<bin>` (or `$CARGO_HOME/bin`).
pub fn cargo_bin(bin: &str) -> Result<PathBuf> {
    let home = match std::env::var_os("CARGO_HOME").filter(|v| !v.is_empty()) {
        Some(h) => PathBuf::from(h),
        None => crate::home()?.join(".cargo"),
    };
    Ok(home.join("bin").join(bin))
}

/// `ui/dist`: index.html, styles, the wasm and its JS glue.
pub fn build_ui(ctx: &Ctx) -> Result<()> {
    step("build the UI (wasm)", || {
        let mut cmd = ctx.cargo([
            "build",
            "-p",
            "roost-ui",
            "--lib",
            "--profile",
            "wasm-release",
            "--target",
            "wasm32-unknown-unknown",
        ]);
        run_cmd(cmd.args(ctx.locked()))?;
        let wasm = ctx
            .target_dir
            .join("wasm32-unknown-unknown/wasm-release/roost_ui.wasm");
        let dist = ctx.root.join("ui/dist");
        if dist.exists() {
            std::fs::remove_dir_all(&dist)
                .with_context(|| format!("clearing {}", dist.display()))?;
        }
        std::fs::create_dir_all(&dist)?;
        run_cmd(
            Command::new(cargo_bin("wasm-bindgen")?)
                .args(["--target", "web", "--no-typescript", "--out-dir"])
                .arg(&dist)
                // Without the function-name section (~1 MB the webview would parse at every
                // start; a panic's message still reaches the console).
                .args(["--remove-name-section", "--remove-producers-section"])
                .arg(&wasm),
        )?;
        copy(&ctx.root.join("ui/index.html"), &dist.join("index.html"))?;
        for entry in std::fs::read_dir(ctx.root.join("ui/static"))? {
            let entry = entry?;
            copy(&entry.path(), &dist.join(entry.file_name()))?;
        }
        Ok(())
    })
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

/// The desktop binary with the UI inside it.
pub fn build_app(ctx: &Ctx) -> Result<PathBuf> {
    build_ui(ctx)?;
    step("build the desktop app", || {
        let mut cmd = ctx.cargo(["build", "-p", "roost-desktop"]);
        run_cmd(cmd.args(ctx.locked()))
    })?;
    let bin = ctx.target_dir.join("debug/roost-desktop");
    if !bin.is_file() {
        bail!("the build did not produce {}", bin.display());
    }
    Ok(bin)
}

/// The release desktop binary with the UI inside it (for the benchmarks).
pub fn build_app_release(ctx: &Ctx) -> Result<PathBuf> {
    build_ui(ctx)?;
    step("build the desktop app (release)", || {
        let mut cmd = ctx.cargo(["build", "--release", "-p", "roost-desktop"]);
        run_cmd(cmd.args(ctx.locked()))
    })?;
    let bin = ctx.target_dir.join("release/roost-desktop");
    if !bin.is_file() {
        bail!("the build did not produce {}", bin.display());
    }
    Ok(bin)
}

/// The Tauri CLI, from npm (the package carries the native binary; `cargo install tauri-cli`
/// takes a quarter of an hour here).
const TAURI_CLI: &str = "@tauri-apps/cli@2.12.5";

/// Builds the release `.deb` with the search model and ONNX Runtime inside (under the app's
/// resources `models/`, where the app looks for them) and returns its path.
pub fn build_deb(ctx: &Ctx, models: &crate::models::Models) -> Result<PathBuf> {
    build_ui(ctx)?;
    let tools = crate::home()?.join(".cache/roost/tools");
    let cli = tools.join("node_modules/.bin/tauri");
    if !cli.is_file() {
        step("install the Tauri CLI (npm)", || {
            std::fs::create_dir_all(&tools)?;
            run_cmd(
                Command::new("npm")
                    .args([
                        "install",
                        "--no-save",
                        "--no-audit",
                        "--no-fund",
                        "--prefix",
                    ])
                    .arg(&tools)
                    .arg(TAURI_CLI),
            )
        })?;
    }
    // Resources from wherever the model files are on this machine, as a config overlay.
    let overlay = ctx.target_dir.join("tauri-bundle.json");
    let resources = format!(
        r#"{{"bundle": {{"active": true, "targets": ["deb"], "resources": {{"{}/": "models/all-minilm-l6-v2/", "{}": "models/libonnxruntime.so"}}}}}}"#,
        models.model_dir.display(),
        models.ort_dylib.display()
    );
    std::fs::write(&overlay, resources)?;
    step("bundle the .deb", || {
        let mut cmd = Command::new(&cli);
        cmd.args(["build", "--bundles", "deb", "--config"])
            .arg(&overlay)
            .args(["--", "--profile", "dist"])
            .current_dir(&ctx.root)
            .env("TAURI_APP_PATH", "src-tauri")
            .env("CARGO_TARGET_DIR", &ctx.target_dir);
        run_cmd(&mut cmd)
    })?;
    let dir = ctx.target_dir.join("dist/bundle/deb");
    let deb = std::fs::read_dir(&dir)
        .with_context(|| format!("no bundle folder {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .with_context(|| format!("no .deb in {}", dir.display()))?;
    Ok(deb)
}
