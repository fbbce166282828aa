//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::postgres::{self, Postgres};
use crate::{Ctx, app, models, run_cmd, setup, smtp, step};

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
    app::ensure_tools(ctx)?;
    models::ensure(ctx)?;
    let aiosmtpd = smtp::ensure(ctx)?;
    // Kept alive until the end of this function; dropping it stops the server.
    let _pg = Postgres::start()?;
    let locked = ctx.locked();

    step("cargo fmt --check", || {
        run_cmd(&mut ctx.cargo(["fmt", "--all", "--", "--check"]))
    })?;
    // The desktop crate embeds the built UI, so it comes before anything compiles that crate.
    // `cargo test` builds the app binary itself (its crate has integration tests), with the
    // same features as everything else, and the end-to-end tests drive that binary.
    app::build_ui(ctx)?;
    let desktop = ctx.target_dir.join("debug/roost-desktop");
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
            .env("ROOST_TEST_REQUIRE_MODEL", "1")
            .env("ROOST_DESKTOP_BIN", &desktop)
            .env("ROOST_TEST_REQUIRE_E2E", "1")
            .env(smtp::PATH_ENV, &aiosmtpd)
            .env("ROOST_TEST_REQUIRE_SMTP", "1");
        let keyring = KeyringSession::new()?;
        run_cmd(&mut keyring.wrap(&cmd))
    })
}

/// A real OS keyring for the keyring tests, private to one test run. On a headless machine
/// there is none: the kernel keyutils need a session keyring (without one they answer
/// `NoEntry` to everything) and the Secret Service needs a D-Bus session with an unlocked
/// GNOME Keyring. So the tests run under `dbus-run-session`, with gnome-keyring-daemon
/// unlocked over a throw-away keyring folder, inside `keyctl session`; and with
/// `ROOST_TEST_REQUIRE_KEYRING=1` they fail rather than skip if the keyring still is unusable.
pub struct KeyringSession {
    /// XDG_DATA_HOME of the run: GNOME Keyring keeps its keyring files here, away from the
    /// user's own; removed on drop.
    data_home: PathBuf,
}

/// Runs in `dbus-run-session`: unlocks (creating) the login keyring, then the test command in
/// a fresh kernel session keyring. The password only guards this run's throw-away keyring; an
/// empty one creates no keyring, and every write then fails with "no result found".
const KEYRING_SCRIPT: &str = r#"set -e
printf 'roost-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
exec keyctl session - "$@""#;

impl KeyringSession {
    pub fn new() -> Result<KeyringSession> {
        let data_home = std::env::temp_dir().join(format!("roost-keyring-{}", std::process::id()));
        std::fs::create_dir_all(&data_home)
            .with_context(|| format!("could not create {}", data_home.display()))?;
        Ok(KeyringSession { data_home })
    }

    /// `cmd` (program, arguments, environment, folder) run inside the keyring session.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let mut wrapped = Command::new("dbus-run-session");
        wrapped
            .args(["--", "sh", "-c", KEYRING_SCRIPT, "roost-keyring"])
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .env("XDG_DATA_HOME", &self.data_home)
            .env("ROOST_TEST_REQUIRE_KEYRING", "1");
        for (key, value) in cmd.get_envs() {
            match value {
                Some(v) => wrapped.env(key, v),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_home);
    }
}
