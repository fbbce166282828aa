//! `cargo xtask demo`: the release server with demo data, in the foreground.

use std::process::Command;

use anyhow::{Context, Result};

use crate::{Ctx, home, models, run_cmd, setup, step};

const DEFAULT_BIND: &str = "127.0.0.1:8080";

pub fn run(ctx: &Ctx) -> Result<()> {
    setup::ensure_tools(ctx)?;
    models::ensure(ctx)?;
    step("build roost-server (release)", || {
        run_cmd(&mut ctx.cargo(["build", "--release", "-p", "roost-server"]))
    })?;

    // Respect what the caller set; otherwise a persistent per-user demo dir.
    let data_dir = match std::env::var_os("ROOST_DATA_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => dir.into(),
        None => home()?.join(".local/share/roost-demo"),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    let bind = std::env::var("ROOST_BIND")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_BIND.into());

    println!();
    println!("Roost demo");
    println!("  API:       http://{bind}  (ROOST_BIND to change)");
    println!(
        "  data:      {}  (ROOST_DATA_DIR to change)",
        data_dir.display()
    );
    println!("  sign in:   the server prints the demo sign-in details below");
    println!("  desktop:   the desktop app arrives with the desktop-app issue");
    println!("  stop:      Ctrl-C");
    println!();

    let server = ctx.target_dir.join("release/roost-server");
    // Ctrl-C reaches the server directly (same process group) and ends it.
    run_cmd(
        Command::new(server)
            .args(["serve", "--demo"])
            .current_dir(&ctx.root)
            .env("ROOST_DATA_DIR", &data_dir)
            .env("ROOST_BIND", &bind)
            .envs(ctx.model_env()),
    )
}
