//! Installs what the other steps need; every check is cheap so warm runs
//! stay fast.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::{Ctx, is_root, output, run_cmd, step, succeeds};

/// Debian packages the build, the tests and the demo need. Append here.
/// python3-pip fetches the embedding model and ONNX Runtime (xtask/src/models.rs).
/// libssl-dev: SQLCipher's crypto (roost-core's encrypted cache links the system libcrypto).
/// The OS keyring (roost-core's `KeyringStore`): libdbus-1-dev to build its Secret Service
/// client; keyutils (`keyctl`), dbus-daemon (`dbus-run-session`) and gnome-keyring to give
/// the tests a real keyring (xtask/src/test.rs).
const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "postgresql",
    "python3-pip",
    "libssl-dev",
    "libdbus-1-dev",
    "keyutils",
    "dbus-daemon",
    "gnome-keyring",
    // The desktop app (Tauri v2 on WebKitGTK) and its end-to-end tests: a virtual display,
    // WebKit's WebDriver, and the session services WebKit expects.
    "libwebkit2gtk-4.1-dev",
    "libsoup-3.0-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "file",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus-x11",
    "at-spi2-core",
];

const WASM_TARGET: &str = "wasm32-unknown-unknown";

pub fn ensure_tools(ctx: &Ctx) -> Result<()> {
    step("system packages", ensure_apt_packages)?;
    step("rust toolchain", || ensure_rust(ctx))
}

fn ensure_apt_packages() -> Result<()> {
    if !Path::new("/usr/bin/apt-get").exists() {
        println!("    not Debian/Ubuntu; make sure these are installed: {APT_PACKAGES:?}");
        return Ok(());
    }
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|pkg| !dpkg_installed(pkg))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!(
            "missing Debian packages: {list}\n\
             install them with:\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends {list}"
        );
    }
    println!("    installing {list}");
    run_cmd(Command::new("apt-get").arg("update"))?;
    run_cmd(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn dpkg_installed(pkg: &str) -> bool {
    // `${Status}` is "install ok installed" only when fully installed;
    // removed-but-configured packages still have an entry.
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .is_ok_and(|out| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).ends_with("ok installed")
        })
}

fn ensure_rust(ctx: &Ctx) -> Result<()> {
    let Ok(installed) = output(&mut rustup(ctx, &["target", "list", "--installed"])) else {
        // A distro toolchain without rustup: nothing we can install, so leave
        // it to the steps themselves to fail if something is missing.
        println!("    rustup not found; skipping the {WASM_TARGET} target and components");
        return Ok(());
    };
    if !installed.lines().any(|t| t.trim() == WASM_TARGET) {
        run_cmd(&mut rustup(ctx, &["target", "add", WASM_TARGET]))?;
    }
    let fmt_ok = succeeds(&mut ctx.cargo(["fmt", "--version"]));
    let clippy_ok = succeeds(&mut ctx.cargo(["clippy", "--version"]));
    if !(fmt_ok && clippy_ok) {
        run_cmd(&mut rustup(ctx, &["component", "add", "rustfmt", "clippy"]))?;
    }
    Ok(())
}

/// rustup in the repo root, so it acts on the toolchain cargo uses here.
fn rustup(ctx: &Ctx, args: &[&str]) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(args).current_dir(&ctx.root);
    cmd
}
