//! A throwaway PostgreSQL server for the test suite, private to this repo's
//! runs: its own data dir and port, trust auth, durability off for speed.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{Ctx, describe, is_root, output, run_cmd, setup, step, succeeds};

pub const URL: &str = "postgres://roost@127.0.0.1:54329/postgres";
const PORT: &str = "54329";
/// Under /tmp, not $HOME: the server runs as the `postgres` user when we are
/// root, and that user cannot enter /root.
const DATA_DIR: &str = "/tmp/roost-pg-54329";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server; dropping it stops the server.
pub struct Postgres {
    bin: PathBuf,
    as_postgres: bool,
    /// Stops the server if we die without running Drop (Ctrl-C, SIGTERM).
    watchdog: Option<Child>,
}

impl Postgres {
    pub fn start() -> Result<Self> {
        step("start PostgreSQL", || {
            let mut pg = Self {
                bin: find_bin_dir()?,
                as_postgres: is_root(),
                watchdog: None,
            };
            pg.stop_stale();
            pg.init_data_dir()?;
            pg.watchdog = pg.spawn_watchdog();
            // From here on, Drop cleans up even if starting fails halfway.
            pg.start_server()?;
            pg.wait_ready()?;
            println!("    {URL} (data dir {DATA_DIR})");
            Ok(pg)
        })
    }

    /// A PostgreSQL tool, run as the `postgres` user when we are root.
    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        // The postgres user may not be able to enter our working directory.
        cmd.current_dir("/tmp");
        cmd
    }

    fn pg_ctl_stop(&self, mode: &str) -> Command {
        let mut cmd = self.tool("pg_ctl");
        cmd.args(["-D", DATA_DIR, "stop", "-m", mode]);
        cmd
    }

    /// A server left over from a killed run would hold the port and the dir.
    fn stop_stale(&self) {
        if Path::new(DATA_DIR).exists() {
            succeeds(&mut self.pg_ctl_stop("immediate"));
        }
    }

    fn init_data_dir(&self) -> Result<()> {
        match fs::remove_dir_all(DATA_DIR) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                // Typically left by a run as another user (root vs. not).
                return Err(e).with_context(|| {
                    format!("could not remove {DATA_DIR}; try `sudo rm -rf {DATA_DIR}`")
                });
            }
            _ => {}
        }
        // initdb insists on 0700 (or 0750) for the data dir.
        fs::DirBuilder::new()
            .mode(0o700)
            .create(DATA_DIR)
            .with_context(|| format!("could not create {DATA_DIR}"))?;
        if self.as_postgres {
            run_cmd(Command::new("chown").args(["postgres:postgres", DATA_DIR]))?;
        }
        let base = ["-D", DATA_DIR, "-U", "roost", "--auth=trust", "-E", "UTF8"];
        let with_locale = output(self.tool("initdb").args(base).arg("--locale=C.UTF-8"));
        if let Err(e) = with_locale {
            // Minimal systems may lack C.UTF-8; initdb empties the dir on failure.
            println!("    initdb with C.UTF-8 failed, retrying with --no-locale ({e:#})");
            output(self.tool("initdb").args(base).arg("--no-locale"))?;
        }
        Ok(())
    }

    /// A shell that waits for EOF on a pipe only we hold, then stops the
    /// server. It ignores the signals that kill us, so it outlives us.
    fn spawn_watchdog(&self) -> Option<Child> {
        let stop = self.pg_ctl_stop("fast");
        let spawned = Command::new("sh")
            .args(["-c", "trap '' INT TERM HUP; read _; exec \"$@\"", "sh"])
            .arg(stop.get_program())
            .args(stop.get_args())
            .current_dir("/tmp")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => Some(child),
            Err(e) => {
                println!("    warning: no watchdog, Ctrl-C may leave PostgreSQL running ({e})");
                None
            }
        }
    }

    fn start_server(&self) -> Result<()> {
        let options = format!(
            "-p {PORT} -k {DATA_DIR} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        );
        let log = format!("{DATA_DIR}/log");
        let mut cmd = self.tool("pg_ctl");
        cmd.args(["-D", DATA_DIR, "-o", &options, "-l", &log, "-w", "start"]);
        if let Err(e) = output(&mut cmd) {
            eprintln!("{}", server_log());
            return Err(e);
        }
        Ok(())
    }

    fn wait_ready(&self) -> Result<()> {
        let start = Instant::now();
        let mut cmd = pg_isready(&self.bin);
        while start.elapsed() < READY_TIMEOUT {
            if succeeds(&mut cmd) {
                return Ok(());
            }
            sleep(Duration::from_millis(200));
        }
        eprintln!("{}", server_log());
        bail!(
            "{} did not succeed within {}s",
            describe(&cmd),
            READY_TIMEOUT.as_secs()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Kill the watchdog first so it cannot later stop a newer server.
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        println!("==> stop PostgreSQL");
        if let Err(e) = output(&mut self.pg_ctl_stop("fast")) {
            // Also fails when the server never started; only warn if it did.
            if Path::new(DATA_DIR).join("postmaster.pid").exists() {
                eprintln!("xtask: warning: could not stop PostgreSQL: {e:#}");
            }
        }
    }
}

/// `cargo xtask pg-check`: start, `select 1`, stop.
pub fn check(ctx: &Ctx) -> Result<()> {
    setup::ensure_tools(ctx)?;
    let pg = Postgres::start()?;
    step("psql select 1", || {
        run_cmd(Command::new(tool_path(&pg.bin, "psql")).args([URL, "-c", "select 1"]))
    })
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout).
fn find_bin_dir() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let entries = fs::read_dir(root).with_context(|| {
        format!(
            "PostgreSQL is not installed ({} is missing)",
            root.display()
        )
    })?;
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = version_key(&entry.file_name().to_string_lossy())?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
        .with_context(|| format!("no {}/*/bin/pg_ctl found", root.display()))
}

/// "9.6" -> [9, 6], "15" -> [15]: compares numerically, so 15 beats 9.6.
fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// Client tools work as any user; prefer the server's version, else PATH.
fn tool_path(bin: &Path, name: &str) -> PathBuf {
    let path = bin.join(name);
    if path.is_file() { path } else { name.into() }
}

fn pg_isready(bin: &Path) -> Command {
    let mut cmd = Command::new(tool_path(bin, "pg_isready"));
    cmd.args(["-q", "-h", "127.0.0.1", "-p", PORT]);
    cmd
}

fn server_log() -> String {
    let path = format!("{DATA_DIR}/log");
    match fs::read_to_string(&path) {
        Ok(log) => format!("--- {path} ---\n{log}--- end of log ---"),
        Err(e) => format!("(could not read {path}: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::version_key;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_key("15") > version_key("9.6"));
        assert!(version_key("16") > version_key("15"));
        assert_eq!(version_key("main"), None);
    }
}
