//! `cargo xtask demo`: the release server with the demo company, and the desktop app signed in
//! to it as the demo agent. Without a display the server runs alone and the command says how
//! to start the app under Xvfb.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{Ctx, app, home, models, run_cmd, setup, step};

const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The demo agent, whose sign-in the app performs on its first start (demo builds only).
const DEMO_LOGIN: &str = "demo agent@demo.roost.test demo-agent-pass";

pub fn run(ctx: &Ctx) -> Result<()> {
    setup::ensure_tools(ctx)?;
    app::ensure_tools(ctx)?;
    models::ensure(ctx)?;
    step("build roost-server (release)", || {
        run_cmd(&mut ctx.cargo(["build", "--release", "-p", "roost-server"]))
    })?;
    let desktop = app::build_app(ctx)?;

    // Respect what the caller set; otherwise a persistent per-user demo dir.
    let data_dir = match std::env::var_os("ROOST_DATA_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => dir.into(),
        None => home()?.join(".local/share/roost-demo"),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    let app_dir = data_dir.join("desktop");
    let bind = std::env::var("ROOST_BIND")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_BIND.into());
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));

    println!();
    println!("Roost demo");
    println!("  API:       http://{bind}  (ROOST_BIND to change)");
    println!(
        "  data:      {}  (ROOST_DATA_DIR to change)",
        data_dir.display()
    );
    println!("  sign in:   company `demo`; the server prints the accounts below");
    if has_display {
        println!("  desktop:   opening, signed in as the demo agent");
    } else {
        println!("  desktop:   no display here. To see the app, run under a virtual one:");
        println!("                 xvfb-run -a -s '-screen 0 1280x800x24' cargo xtask demo");
        println!("             or start it yourself on a machine with a screen:");
        println!(
            "                 ROOST_SERVER_URL=http://{bind} {}",
            desktop.display()
        );
    }
    println!("  stop:      Ctrl-C");
    println!();

    let server_bin = ctx.target_dir.join("release/roost-server");
    let mut server = Running(
        Command::new(server_bin)
            .args(["serve", "--demo"])
            .current_dir(&ctx.root)
            .env("ROOST_DATA_DIR", &data_dir)
            .env("ROOST_BIND", &bind)
            .envs(ctx.model_env())
            .spawn()
            .context("could not start roost-server")?,
    );
    wait_for_server(&bind, &mut server.0)?;
    if has_display {
        run_cmd(
            Command::new(&desktop)
                .env("ROOST_APP_DATA_DIR", &app_dir)
                .env("ROOST_SERVER_URL", format!("http://{bind}"))
                .env("ROOST_DEMO_LOGIN", DEMO_LOGIN)
                .envs(ctx.model_env()),
        )?;
        println!("the app was closed; the API keeps running until Ctrl-C");
    }
    let status = server.0.wait()?;
    if !status.success() {
        bail!("roost-server exited with {status}");
    }
    Ok(())
}

/// Stops the server when the demo ends some other way than Ctrl-C.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_server(bind: &str, server: &mut Child) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Some(status) = server.try_wait()? {
            bail!("roost-server exited with {status} before it was ready");
        }
        if std::net::TcpStream::connect(bind).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("roost-server did not listen on {bind} within 2 minutes")
}
