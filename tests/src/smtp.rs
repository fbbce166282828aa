//! A real SMTP server on loopback for the tests: `aiosmtpd` (installed from PyPI by
//! `cargo xtask test`, found through `ROOST_TEST_AIOSMTPD_PATH`) running the connectors'
//! `smtp_sink.py`, which stores every accepted message in a folder.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The SMTP server of one test; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/roost-connectors/tests/smtp_sink.py")
}

impl SmtpSink {
    /// Starts the sink with `args` (e.g. `["--rcpt", "bounce=550"]`). `None` (with a line on
    /// stderr) when aiosmtpd is not installed, unless `ROOST_TEST_REQUIRE_SMTP=1`.
    pub fn start(args: &[&str]) -> Option<SmtpSink> {
        let Ok(pythonpath) = std::env::var("ROOST_TEST_AIOSMTPD_PATH") else {
            assert!(
                std::env::var("ROOST_TEST_REQUIRE_SMTP").as_deref() != Ok("1"),
                "ROOST_TEST_AIOSMTPD_PATH is not set and the SMTP tests are required"
            );
            eprintln!("skipped: ROOST_TEST_AIOSMTPD_PATH is not set (aiosmtpd for the SMTP tests)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(script())
            .args(["--port", "0", "--dir"])
            .arg(dir.path())
            .args(args)
            .env("PYTHONPATH", pythonpath)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 could not be started");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("listening 127.0.0.1:")
            .and_then(|p| p.parse::<u16>().ok());
        let sink = SmtpSink {
            child,
            port: port.unwrap_or(0),
            dir,
        };
        assert!(port.is_some(), "the SMTP sink did not start: {line:?}");
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", sink.port)).is_ok() {
                return Some(sink);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the SMTP sink never accepted on port {}", sink.port);
    }

    /// Every message accepted so far, in order: (envelope JSON, raw message as text).
    pub fn received(&self) -> Vec<(serde_json::Value, String)> {
        let mut emls: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        emls.sort();
        emls.into_iter()
            .map(|eml| {
                let envelope = std::fs::read(eml.with_extension("json")).unwrap();
                let raw = std::fs::read(&eml).unwrap();
                (
                    serde_json::from_slice(&envelope).unwrap(),
                    String::from_utf8_lossy(&raw).into_owned(),
                )
            })
            .collect()
    }
}
