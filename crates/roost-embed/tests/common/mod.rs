//! Shared by the integration tests: the real model, or a skip.

use roost_embed::EmbedConfig;

/// The model from the environment `cargo xtask test` sets. Without it the
/// test is skipped (`None`), unless `ROOST_TEST_REQUIRE_MODEL=1`, which
/// makes a missing model a failure so that CI cannot pass by skipping.
pub fn config(test: &str) -> Option<EmbedConfig> {
    if let Some(cfg) = EmbedConfig::from_env() {
        return Some(cfg);
    }
    if std::env::var("ROOST_TEST_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!(
            "ROOST_TEST_REQUIRE_MODEL=1 but ROOST_EMBED_MODEL_DIR is not set; \
             run `cargo xtask models` and export what it prints"
        );
    }
    eprintln!(
        "skipping {test}: ROOST_EMBED_MODEL_DIR is not set (`cargo xtask models` prints the environment)"
    );
    None
}
