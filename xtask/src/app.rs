//! The desktop app: the UI built to wasm (cargo + wasm-bindgen, no bundler), then the Tauri
//! shell that embeds it. The tools it needs are installed here at the exact versions the lock
//! file asks for.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Ctx, output, run_cmd, step};

/// Must equal the `wasm-bindgen` in Cargo.lock: the CLI refuses other versions' output.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const TAURI_DRIVER_VERSION: &str = "2.0.5";

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
    let path = cargo_bin(bin)?;
    if let Ok(v) = output(Command::new(&path).arg("--version"))
        && v.split_whitespace().any(|w| w == version)
    {
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
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ]);
        run_cmd(cmd.args(ctx.locked()))?;
        let wasm = ctx
            .target_dir
            .join("wasm32-unknown-unknown/release/roost_ui.wasm");
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
