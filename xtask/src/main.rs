//! Roost task runner: `cargo xtask test | demo | bench`.
//!
//! Std only, so that `cargo xtask` compiles in seconds on a fresh clone.

mod app;
mod bench;
mod demo;
mod models;
mod postgres;
mod setup;
mod smtp;
mod test;

use std::cell::OnceCell;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  test [ARGS]   install tools, start a private PostgreSQL, run fmt, clippy,
                the wasm check and the whole test suite (ARGS go to cargo test)
  demo          build and run the server in demo mode and the desktop app
                signed in to it
  app           build the UI (wasm) and the desktop app
  deb           build the release .deb (with the search model and ONNX Runtime)
  bench         run the benchmarks and write docs/benchmarks.md
  models        fetch the embedding model and ONNX Runtime (into
                $ROOST_MODELS_DIR or ~/.cache/roost/models) and print
                the environment `cargo test -p roost-embed` needs
  pg-check      start the private PostgreSQL, run `select 1`, stop it";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        bail!("no command given\n\n{USAGE}");
    };
    let ctx = Ctx::new()?;
    match command.as_str() {
        "test" => test::run(&ctx, rest),
        "demo" => no_args(command, rest).and_then(|()| demo::run(&ctx)),
        "bench" => no_args(command, rest)
            .and_then(|()| setup::ensure_tools(&ctx))
            .and_then(|()| models::ensure(&ctx))
            .and_then(|()| bench::run(&ctx)),
        "app" => no_args(command, rest)
            .and_then(|()| setup::ensure_tools(&ctx))
            .and_then(|()| app::ensure_tools(&ctx))
            .and_then(|()| app::build_app(&ctx).map(drop)),
        "deb" => no_args(command, rest)
            .and_then(|()| setup::ensure_tools(&ctx))
            .and_then(|()| app::ensure_tools(&ctx))
            .and_then(|()| models::ensure(&ctx))
            .and_then(|()| {
                let models = ctx.models().context("the model files are not set up")?;
                let deb = app::build_deb(&ctx, models)?;
                let mb = std::fs::metadata(&deb)?.len() as f64 / (1024.0 * 1024.0);
                println!("{} ({mb:.1} MB)", deb.display());
                Ok(())
            }),
        "models" => no_args(command, rest).and_then(|()| models::print_env(&ctx)),
        "pg-check" => no_args(command, rest).and_then(|()| postgres::check(&ctx)),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn no_args(command: &str, rest: &[String]) -> Result<()> {
    match rest {
        [] => Ok(()),
        _ => bail!("`{command}` takes no arguments, got {rest:?}"),
    }
}

/// What every subcommand needs: where the repo is and how to call cargo.
pub struct Ctx {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    cargo: String,
    locked: bool,
    /// Set by `models::ensure`; passed to every cargo command from then on.
    models: OnceCell<models::Models>,
}

impl Ctx {
    fn new() -> Result<Self> {
        // xtask lives one level below the workspace root. `cargo run` names the manifest
        // directory at run time too; prefer that: with a target directory shared between
        // clones, the binary may have been compiled in another clone.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        Ok(Self {
            locked: root.join("Cargo.lock").is_file(),
            target_dir: target_dir()?,
            // Cargo tells us which cargo ran us; reuse it so the toolchain matches.
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            root,
            models: OnceCell::new(),
        })
    }

    /// A cargo command in the repo root with the shared target dir.
    pub fn cargo<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.cargo);
        cmd.args(args)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target_dir);
        cmd.envs(self.model_env());
        cmd
    }

    /// The cargo that runs xtask, for commands outside the workspace (`cargo install`).
    pub fn cargo_path(&self) -> &str {
        &self.cargo
    }

    /// The model files, once `models::ensure` ran.
    pub fn models(&self) -> Option<&models::Models> {
        self.models.get()
    }

    /// `ROOST_EMBED_MODEL_DIR` and `ORT_DYLIB_PATH` once `models::ensure` ran.
    pub fn model_env(&self) -> Vec<(&'static str, &Path)> {
        self.models
            .get()
            .map(|m| m.env().to_vec())
            .unwrap_or_default()
    }

    /// `--locked` when there is a lock file to be locked to.
    pub fn locked(&self) -> &'static [&'static str] {
        if self.locked { &["--locked"] } else { &[] }
    }
}

/// `$CARGO_TARGET_DIR`, else a per-user dir shared by all clones, so warm
/// runs from a fresh clone don't rebuild the world.
fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        // Absolute, because child cargos run in the repo root, not our cwd.
        return Ok(std::env::current_dir()?.join(dir));
    }
    Ok(home()?.join(".cache/roost/target"))
}

pub fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set")
}

/// Runs one named step, printing `==> name` before and the elapsed time after.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("==> {name}");
    let start = Instant::now();
    let result = f().with_context(|| format!("step `{name}` failed"));
    let status = if result.is_ok() { "ok" } else { "FAILED" };
    println!(
        "==> {name}: {status} ({:.1}s)",
        start.elapsed().as_secs_f64()
    );
    result
}

/// Runs a command with inherited stdio; fails unless it exits 0.
pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} exited with {status}", describe(cmd));
    }
    Ok(())
}

/// Runs a command quietly and reports whether it exited 0.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|out| out.status.success())
}

/// Runs a command quietly and returns its stdout, trimmed.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !out.status.success() {
        bail!(
            "{} exited with {}: {}",
            describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `prog arg arg` for error messages.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    format!("`{}`", parts.join(" "))
}

/// Effective uid from /proc, to avoid a libc dependency (and `unsafe`).
pub fn is_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0")
}
