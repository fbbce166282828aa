//! `cargo xtask bench`: runs the benchmarks and records them with the
//! machine they ran on in docs/benchmarks.md.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::test::KeyringSession;
use crate::{Ctx, app, describe, output, setup, step};

/// Every (package, bench target) to run. Add new `[[bench]]` targets here.
const BENCHES: &[(&str, &str)] = &[
    ("roost-tests", "api"),
    ("roost-tests", "import"),
    ("roost-tests", "sync"),
    ("roost-tests", "chat"),
    ("roost-embed", "embed"),
    ("roost-core", "search"),
    ("roost-core", "outbox"),
    ("roost-tests", "actions"),
    ("roost-tests", "app"),
];

const REPORT: &str = "docs/benchmarks.md";
/// Everything after this line in the report is hand-written and kept.
const NOTES_MARKER: &str = "<!-- notes below are kept by cargo xtask bench -->";

/// One `BENCH <name> <value> <unit>` line printed by a bench binary.
struct Measurement {
    name: String,
    value: String,
    unit: String,
}

pub fn run(ctx: &Ctx) -> Result<()> {
    setup::ensure_tools(ctx)?;
    app::ensure_tools(ctx)?;
    // The app bench drives the release app, as users get it.
    let desktop = app::build_app_release(ctx)?;
    let mut results = Vec::new();
    for (package, bench) in BENCHES {
        let found = step(&format!("cargo bench -p {package} --bench {bench}"), || {
            run_bench(ctx, package, bench, &desktop)
        })?;
        results.extend(found);
    }
    if results.is_empty() {
        bail!("the benchmarks printed no `BENCH <name> <value> <unit>` lines");
    }
    // What a user downloads: the release .deb with the search model and ONNX Runtime.
    let models = ctx.models().context("the model files are not set up")?;
    let deb = app::build_deb(ctx, models)?;
    let size = fs::metadata(&deb)?.len() as f64 / (1024.0 * 1024.0);
    println!("BENCH bundle_deb_mb {size:.1} MB");
    results.push(Measurement {
        name: "bundle_deb_mb".into(),
        value: format!("{size:.1}"),
        unit: "MB".into(),
    });

    println!("==> results");
    for r in &results {
        println!("BENCH {} {} {}", r.name, r.value, r.unit);
    }
    step(&format!("write {REPORT}"), || {
        write_report(&ctx.root, &results)
    })
}

/// Runs one bench target, echoing its stdout and collecting its results.
fn run_bench(ctx: &Ctx, package: &str, bench: &str, desktop: &Path) -> Result<Vec<Measurement>> {
    let mut cmd = ctx.cargo(["bench", "-p", package, "--bench", bench]);
    cmd.env("ROOST_DESKTOP_BIN", desktop);
    // The app keeps its secrets in the OS keyring: give it a real one, as the tests do.
    let keyring = KeyringSession::new()?;
    let mut cmd = keyring.wrap(&cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", describe(&cmd)))?;
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let mut found = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading the bench output")?;
        println!("{line}");
        found.extend(parse_line(&line));
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{} exited with {status}", describe(&cmd));
    }
    Ok(found)
}

fn parse_line(line: &str) -> Option<Measurement> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields[..] {
        ["BENCH", name, value, unit] if value.parse::<f64>().is_ok() => Some(Measurement {
            name: name.into(),
            value: value.into(),
            unit: unit.into(),
        }),
        _ => None,
    }
}

fn write_report(root: &Path, results: &[Measurement]) -> Result<()> {
    let path = root.join(REPORT);
    let notes = match fs::read_to_string(&path) {
        Ok(old) => old
            .split_once(NOTES_MARKER)
            .map(|(_, notes)| notes.to_string()),
        Err(_) => None,
    };
    let mut text = report(root, results);
    text.push_str(NOTES_MARKER);
    text.push_str(notes.as_deref().unwrap_or("\n"));

    let dir = path.parent().context("report path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    fs::write(&path, text).with_context(|| format!("could not write {}", path.display()))?;
    println!("    wrote {}", path.display());
    Ok(())
}

/// The generated part of the report, up to (not including) the marker.
fn report(root: &Path, results: &[Measurement]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(s, "Written by `cargo xtask bench` on {} (UTC).\n", today());
    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(s, "- CPU: {}", cpu_model());
    let _ = writeln!(s, "- Cores: {}", cores());
    let _ = writeln!(s, "- Memory: {}", memory());
    let _ = writeln!(
        s,
        "- Kernel: {}",
        command_or_unknown(Command::new("uname").arg("-sr"))
    );
    let mut rustc = Command::new("rustc");
    rustc.arg("--version").current_dir(root);
    let _ = writeln!(s, "- Rust: {}\n", command_or_unknown(&mut rustc));
    let _ = writeln!(s, "## Results\n");
    let _ = writeln!(s, "| name | value | unit |");
    let _ = writeln!(s, "| --- | ---: | --- |");
    for r in results {
        let _ = writeln!(s, "| {} | {} | {} |", r.name, r.value, r.unit);
    }
    s.push('\n');
    s
}

fn today() -> String {
    command_or_unknown(Command::new("date").args(["-u", "+%Y-%m-%d"]))
}

fn cpu_model() -> String {
    proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into())
}

fn cores() -> String {
    std::thread::available_parallelism().map_or_else(|_| "unknown".into(), |n| n.to_string())
}

/// MemTotal is in KiB; GiB reads better.
fn memory() -> String {
    proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0),
        )
}

/// The value of the first `key : value` line of a /proc file.
fn proc_field(path: &str, key: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn command_or_unknown(cmd: &mut Command) -> String {
    output(cmd).unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_bench_lines() {
        let m = parse_line("BENCH login_p50 1.25 ms").unwrap();
        assert_eq!(
            (m.name.as_str(), m.value.as_str(), m.unit.as_str()),
            ("login_p50", "1.25", "ms")
        );
        assert!(parse_line("BENCH login fast ms").is_none());
        assert!(parse_line("running 3 benches").is_none());
        assert!(parse_line("BENCH a 1 ms extra").is_none());
    }

    #[test]
    fn report_keeps_notes_below_the_marker() {
        let root = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        let report = root.join(REPORT);
        let one = |value: &str| Measurement {
            name: "login".into(),
            value: value.into(),
            unit: "ms".into(),
        };

        write_report(&root, &[one("1.5")]).unwrap();
        let first = fs::read_to_string(&report).unwrap();
        fs::write(&report, format!("{first}my notes\n")).unwrap();
        write_report(&root, &[one("2.5")]).unwrap();
        let second = fs::read_to_string(&report).unwrap();
        fs::remove_dir_all(&root).unwrap();

        assert!(second.contains("| login | 2.5 | ms |"));
        assert!(!second.contains("| login | 1.5 | ms |"));
        assert!(second.ends_with(&format!("{NOTES_MARKER}\nmy notes\n")));
    }
}
