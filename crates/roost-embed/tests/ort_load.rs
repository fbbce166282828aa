//! ONNX Runtime that cannot be loaded gives errors, not panics. Its own test
//! binary (process): `ort` keeps the first library it loads for good, so no
//! successful load may happen before these.

use roost_embed::{EmbedConfig, EmbedError, Embedder};

#[test]
fn bad_ort_libraries_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = EmbedConfig::new(dir.path());

    let missing = dir.path().join("missing/libonnxruntime.so");
    cfg.ort_dylib_path = Some(missing.clone());
    let err = Embedder::load(&cfg).unwrap_err();
    assert!(matches!(err, EmbedError::OrtMissing { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );

    let broken = dir.path().join("libonnxruntime.so");
    std::fs::write(&broken, b"this is not a shared library").unwrap();
    cfg.ort_dylib_path = Some(broken.clone());
    let err = Embedder::load(&cfg).unwrap_err();
    assert!(matches!(err, EmbedError::OrtLoad { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&broken.display().to_string()),
        "{err}"
    );
}
