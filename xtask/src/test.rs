//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::time::Instant;

use anyhow::Result;

use crate::postgres::{self, Postgres};
use crate::{Ctx, models, run_cmd, setup, step};

/// `extra` goes to `cargo test` (e.g. `-- --nocapture` or a name filter).
pub fn run(ctx: &Ctx, extra: &[String]) -> Result<()> {
    let start = Instant::now();
    let result = run_steps(ctx, extra);
    let verdict = if result.is_ok() { "passed" } else { "FAILED" };
    println!(
        "==> cargo xtask test {verdict} in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    result
}

fn run_steps(ctx: &Ctx, extra: &[String]) -> Result<()> {
    setup::ensure_tools(ctx)?;
    models::ensure(ctx)?;
    // Kept alive until the end of this function; dropping it stops the server.
    let _pg = Postgres::start()?;
    let locked = ctx.locked();

    step("cargo fmt --check", || {
        run_cmd(&mut ctx.cargo(["fmt", "--all", "--", "--check"]))
    })?;
    step("cargo clippy", || {
        let mut cmd = ctx.cargo(["clippy", "--workspace", "--all-targets"]);
        run_cmd(cmd.args(locked).args(["--", "-D", "warnings"]))
    })?;
    step("wasm check", || {
        let mut cmd = ctx.cargo(["check", "--target", "wasm32-unknown-unknown"]);
        run_cmd(cmd.args(locked).args(["-p", "roost-api", "-p", "roost-ui"]))
    })?;
    step("cargo test", || {
        let mut cmd = ctx.cargo(["test", "--workspace"]);
        cmd.args(locked)
            .args(extra)
            .env("ROOST_TEST_POSTGRES_URL", postgres::URL)
            .env("ROOST_TEST_REQUIRE_POSTGRES", "1")
            .env("ROOST_TEST_REQUIRE_MODEL", "1");
        run_cmd(&mut cmd)
    })
}
