//! Loading ONNX Runtime ourselves, once per process.
//!
//! `ort` keeps the first library it loads for the life of the process and
//! allows one environment. Left to itself (first use inside fastembed) it
//! panics when the library is missing, so we load it explicitly and turn
//! every failure into an [`EmbedError`] that names the path.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ort::environment::Environment;

use crate::EmbedError;

/// What `ort` itself would look for: beside the executable, else the system
/// library search path.
const DEFAULT_LIB: &str = "libonnxruntime.so";

/// The library loaded in this process and the one environment built on it.
static LOADED: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// The process-wide environment, loading the library at `path` on first use.
pub(crate) fn environment(path: Option<&Path>) -> Result<Environment, EmbedError> {
    let requested = path.map_or_else(|| PathBuf::from(DEFAULT_LIB), Path::to_path_buf);
    // An explicit path must exist, whatever is loaded already.
    if path.is_some() && !requested.is_file() {
        return Err(EmbedError::OrtMissing { path: requested });
    }

    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((loaded_path, environment)) = loaded.as_ref() {
        if path.is_none() || same_file(loaded_path, &requested) {
            return Ok(environment.clone());
        }
        return Err(EmbedError::OrtConflict {
            loaded: loaded_path.clone(),
            requested,
        });
    }

    let load_error = |message: String| EmbedError::OrtLoad {
        path: requested.clone(),
        message,
    };
    let environment = ort::init_from(&requested)
        .map_err(|e| load_error(e.to_string()))?
        .with_name("roost-embed")
        .build()
        .map_err(|e| load_error(e.to_string()))?;
    *loaded = Some((requested, environment.clone()));
    Ok(environment)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
