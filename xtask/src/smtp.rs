//! aiosmtpd for the email tests (`crates/roost-connectors/tests/email.rs`): a real SMTP server
//! the tests start on loopback. Installed from PyPI with `pip install --target` into a
//! per-user folder named after the version; the tests get that folder as
//! `ROOST_TEST_AIOSMTPD_PATH` and put it on `PYTHONPATH`.
//!
//! Idempotent like the models: a manifest written last records the install, and an import
//! check confirms it; otherwise the folder is installed anew.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Ctx, home, run_cmd, step, succeeds};

const VERSION: &str = "1.4.6";
/// The variable the email tests read.
pub const PATH_ENV: &str = "ROOST_TEST_AIOSMTPD_PATH";
const MANIFEST: &str = "roost-manifest.txt";

/// Installs aiosmtpd if needed; returns the folder to export as [`PATH_ENV`].
pub fn ensure(_ctx: &Ctx) -> Result<PathBuf> {
    step("aiosmtpd", || {
        let dir = home()?
            .join(".cache/roost/tools")
            .join(format!("aiosmtpd-{VERSION}"));
        ensure_in(&dir)?;
        Ok(dir)
    })
}

fn ensure_in(dir: &Path) -> Result<()> {
    let manifest = dir.join(MANIFEST);
    let expected = format!("aiosmtpd=={VERSION}\n");
    if fs::read_to_string(&manifest).is_ok_and(|m| m == expected) && imports(dir) {
        return Ok(());
    }
    if !succeeds(python().args(["-m", "pip", "--version"])) {
        bail!(
            "`python3 -m pip` is needed to install aiosmtpd for the email tests\n\
             install it with:\n    sudo apt-get install -y python3-pip"
        );
    }
    println!("    installing aiosmtpd=={VERSION} into {}", dir.display());
    // Into a fresh folder beside the final one, moved into place when complete, so a failure
    // never leaves a half-installed folder that looks finished.
    let parent = dir.parent().context("the tools folder has no parent")?;
    fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    let staging = parent.join(format!(".aiosmtpd-{VERSION}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let installed = run_cmd(
        python()
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--progress-bar", "off", "-q", "--target"])
            .arg(&staging)
            .arg(format!("aiosmtpd=={VERSION}")),
    )
    .and_then(|()| {
        if imports(&staging) {
            Ok(())
        } else {
            bail!("aiosmtpd=={VERSION} was installed but cannot be imported")
        }
    });
    if let Err(e) = installed {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    fs::write(staging.join(MANIFEST), &expected)?;
    let _ = fs::remove_dir_all(dir);
    fs::rename(&staging, dir)
        .with_context(|| format!("could not move {} to {}", staging.display(), dir.display()))
}

/// Whether `python3` imports this aiosmtpd version from `dir`.
fn imports(dir: &Path) -> bool {
    let check = format!("import aiosmtpd; assert aiosmtpd.__version__ == '{VERSION}'");
    succeeds(python().args(["-c", &check]).env("PYTHONPATH", dir))
}

fn python() -> Command {
    Command::new("python3")
}
