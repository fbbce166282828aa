//! Off-line sentence embeddings for Roost, shared by the server and the
//! on-device core.
//!
//! One model, one vector space: all-MiniLM-L6-v2 exported to ONNX with int8
//! weights (384 dimensions, mean pooling, L2-normalised, inputs cut at 256
//! tokens), run by ONNX Runtime through fastembed with int8 kernels (the
//! graph is edited at load so the weights stay int8; see `graph.rs`). ONNX Runtime is a shared
//! library loaded at run time (`libonnxruntime.so`, 1.24 or newer), so the
//! binary builds without it and reports a missing library as an error.
//!
//! Vectors from different models are not comparable: store
//! [`Embedder::model_id`] beside every vector and never compare across ids.
//!
//! `cargo xtask models` installs the model files and ONNX Runtime and prints
//! the environment [`EmbedConfig::from_env`] reads.

mod encode;
mod graph;
mod ort_env;

#[cfg(feature = "hub-download")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use fastembed::{
    InitOptionsUserDefined, Pooling, QuantizationMode, TextEmbedding, TokenizerFiles,
    UserDefinedEmbeddingModel,
};
use sha2::{Digest, Sha256};

pub use encode::{decode_f32_le, dequantize_i8, encode_f32_le, quantize_i8};

/// Environment variable naming the model directory.
pub const MODEL_DIR_ENV: &str = "ROOST_EMBED_MODEL_DIR";
/// Environment variable naming the ONNX Runtime shared library (also read by `ort`).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// Optional environment variable capping the inference threads (default: one per core).
pub const THREADS_ENV: &str = "ROOST_EMBED_THREADS";

/// Files a model directory must hold.
pub const MODEL_FILE: &str = "model.onnx";
pub const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// Texts per inference call; bigger batches only cost memory.
const BATCH_SIZE: usize = 32;

/// The ONNX files this crate knows, by sha256, with the ids of their vector
/// spaces. A file not listed here is refused: its vectors would silently not
/// match the stored ones.
const KNOWN_MODELS: &[KnownModel] = &[KnownModel {
    sha256: "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    id: "all-MiniLM-L6-v2-int8",
    int8_kernels_id: "all-MiniLM-L6-v2-w8a8",
    dim: 384,
}];

struct KnownModel {
    sha256: &'static str,
    /// The file's graph as shipped.
    id: &'static str,
    /// The graph with int8 kernels: weights and activations in int8.
    int8_kernels_id: &'static str,
    dim: usize,
}

/// Which graph of the model file runs. The two make slightly different vectors
/// (cosine ~0.9995 to each other), so each is a vector space of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ModelGraph {
    /// Edited at load so the int8 weights stay int8 and the matrix products
    /// run on int8 (`graph.rs`): short queries ~1.5× faster (2.1 vs 3.2 ms on
    /// the bench machine; up to 2× for very short ones), ~105 MB less
    /// memory, ~30% faster documents. The product's default.
    #[default]
    Int8Kernels,
    /// The file's own graph: ONNX Runtime widens the weights to f32 at load.
    /// For comparing the two (tests, benchmarks).
    AsShipped,
}

/// Everything that can go wrong; every variant names the file involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    #[error("ONNX Runtime library {} does not exist (set {ORT_DYLIB_ENV} or run `cargo xtask models`)", path.display())]
    OrtMissing { path: PathBuf },
    #[error("could not load ONNX Runtime from {}: {message}", path.display())]
    OrtLoad { path: PathBuf, message: String },
    #[error(
        "ONNX Runtime is already loaded from {} in this process; cannot also load {}",
        loaded.display(),
        requested.display()
    )]
    OrtConflict { loaded: PathBuf, requested: PathBuf },
    #[error("could not read model file {}: {source}", path.display())]
    ModelFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a model this build knows (sha256 {sha256}); vectors from another model would not match stored ones",
        path.display()
    )]
    UnknownModel { path: PathBuf, sha256: String },
    #[error("could not edit the graph of {}: {source}", path.display())]
    Graph {
        path: PathBuf,
        #[source]
        source: graph::GraphError,
    },
    #[error("could not load the embedding model from {}: {message}", dir.display())]
    ModelLoad { dir: PathBuf, message: String },
    #[error("embedding failed: {0}")]
    Inference(String),
    #[error("vector bytes: expected {expected} bytes ({dim} × f32), got {actual}")]
    VectorBytes {
        dim: usize,
        expected: usize,
        actual: usize,
    },
}

/// Where the model is and how to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedConfig {
    /// Directory with `model.onnx` and the four tokenizer files.
    pub model_dir: PathBuf,
    /// `libonnxruntime.so`; `None` means `libonnxruntime.so` beside the
    /// executable, else the system library search path.
    pub ort_dylib_path: Option<PathBuf>,
    /// ONNX Runtime intra-op threads; 0 means one per CPU core.
    pub threads: usize,
    /// Tokens per text; longer texts are cut. 256 is what the model was trained with.
    pub max_length: usize,
    /// Which graph runs; see [`ModelGraph`].
    pub graph: ModelGraph,
}

impl EmbedConfig {
    pub fn new(model_dir: impl Into<PathBuf>) -> Self {
        Self {
            model_dir: model_dir.into(),
            ort_dylib_path: None,
            threads: 0,
            max_length: 256,
            graph: ModelGraph::default(),
        }
    }

    /// From `ROOST_EMBED_MODEL_DIR` (required), `ORT_DYLIB_PATH` and
    /// `ROOST_EMBED_THREADS` (optional; ignored unless a number); `None`
    /// when the model dir is not set.
    pub fn from_env() -> Option<Self> {
        let var = |key| std::env::var_os(key).filter(|v| !v.is_empty());
        let mut cfg = Self::new(var(MODEL_DIR_ENV)?);
        cfg.ort_dylib_path = var(ORT_DYLIB_ENV).map(PathBuf::from);
        cfg.threads = var(THREADS_ENV)
            .and_then(|v| v.to_str()?.trim().parse().ok())
            .unwrap_or(0);
        Some(cfg)
    }
}

/// A loaded model. `Send + Sync`: share one per process (loading takes a
/// fraction of a second; the loaded model holds ~70 MB of ONNX Runtime's
/// memory with int8 kernels); calls are serialised per batch of 32.
pub struct Embedder {
    model: Mutex<TextEmbedding>,
    model_id: &'static str,
    dim: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model_id", &self.model_id)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads ONNX Runtime (first, so that a bad library is an error rather
    /// than a panic inside fastembed), checks the model file is a known one,
    /// and builds the session with mean pooling.
    pub fn load(cfg: &EmbedConfig) -> Result<Self, EmbedError> {
        let environment = ort_env::environment(cfg.ort_dylib_path.as_deref())?;

        let read = |name: &str| {
            let path = cfg.model_dir.join(name);
            std::fs::read(&path).map_err(|source| EmbedError::ModelFile { path, source })
        };
        let [tokenizer, config, special_tokens, tokenizer_config] = TOKENIZER_FILES;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read(tokenizer)?,
            config_file: read(config)?,
            special_tokens_map_file: read(special_tokens)?,
            tokenizer_config_file: read(tokenizer_config)?,
        };
        let onnx = read(MODEL_FILE)?;
        let sha256 = hex(&Sha256::digest(&onnx));
        let Some(known) = KNOWN_MODELS.iter().find(|m| m.sha256 == sha256) else {
            return Err(EmbedError::UnknownModel {
                path: cfg.model_dir.join(MODEL_FILE),
                sha256,
            });
        };

        let (onnx, model_id) = match cfg.graph {
            ModelGraph::AsShipped => (onnx, known.id),
            ModelGraph::Int8Kernels => {
                let (edited, _) = graph::rewrite(&onnx).map_err(|source| EmbedError::Graph {
                    path: cfg.model_dir.join(MODEL_FILE),
                    source,
                })?;
                (edited, known.int8_kernels_id)
            }
        };
        // Left unset, fastembed pools the CLS token: wrong for MiniLM.
        let model = UserDefinedEmbeddingModel::new(onnx, tokenizer_files)
            .with_pooling(Pooling::Mean)
            .with_quantization(QuantizationMode::Static);
        let mut options = InitOptionsUserDefined::new()
            .with_environment(environment)
            .with_max_length(cfg.max_length);
        if cfg.threads > 0 {
            options = options.with_intra_threads(cfg.threads);
        }
        // ONNX Runtime's worker threads spin for a while after each inference by default,
        // holding a core the caller wants next (the search's vector scan, the app's webview):
        // 100k-row searches took ~5.6 ms instead of ~4.7 on two cores. Stopping the spin when
        // a run returns left the inference itself as fast.
        options = options.with_session_config("session.force_spinning_stop", "1");
        let model = TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
            EmbedError::ModelLoad {
                dir: cfg.model_dir.clone(),
                message: e.to_string(),
            }
        })?;

        let embedder = Self {
            model: Mutex::new(model),
            model_id,
            dim: known.dim,
        };
        // One real inference proves the whole pipeline before anyone relies on it.
        embedder.embed_query("roost")?;
        Ok(embedder)
    }

    /// The vector space: store it with every vector, never mix two.
    pub fn model_id(&self) -> &str {
        self.model_id
    }

    /// Vector length (384).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One unit-length vector per text, in order.
    pub fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        // Locking per batch lets a query slip in between the batches of a long job.
        for batch in texts.chunks(BATCH_SIZE) {
            let vectors = self
                .model
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .embed(batch, Some(BATCH_SIZE))
                .map_err(|e| EmbedError::Inference(e.to_string()))?;
            if vectors.len() != batch.len() || vectors.iter().any(|v| v.len() != self.dim) {
                return Err(EmbedError::Inference(format!(
                    "the model returned {} vectors for {} texts (expected {} dimensions each)",
                    vectors.len(),
                    batch.len(),
                    self.dim
                )));
            }
            out.extend(vectors);
        }
        Ok(out)
    }

    /// A search query. all-MiniLM-L6-v2 is symmetric, so this is the same as
    /// embedding one document; it exists so that callers need not change if
    /// a model with query prefixes replaces it.
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut vectors = self.embed_documents(&[text])?;
        vectors
            .pop()
            .ok_or_else(|| EmbedError::Inference("no vector returned".into()))
    }
}

#[cfg(feature = "hub-download")]
impl Embedder {
    /// For real users: fetch the model from the Hugging Face hub (into
    /// `cache_dir`) instead of local files. This is fastembed's fp32
    /// all-MiniLM-L6-v2, a different vector space from the int8 files
    /// (`model_id` "all-MiniLM-L6-v2"); do not mix their vectors.
    pub fn load_from_hub(
        cache_dir: &Path,
        ort_dylib_path: Option<&Path>,
        threads: usize,
    ) -> Result<Self, EmbedError> {
        use fastembed::{EmbeddingModel, TextInitOptions};

        let environment = ort_env::environment(ort_dylib_path)?;
        let mut options = TextInitOptions::new(EmbeddingModel::AllMiniLML6V2)
            .with_cache_dir(cache_dir.to_path_buf())
            .with_environment(environment)
            .with_max_length(256)
            .with_show_download_progress(false);
        if threads > 0 {
            options = options.with_intra_threads(threads);
        }
        let model = TextEmbedding::try_new(options).map_err(|e| EmbedError::ModelLoad {
            dir: cache_dir.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Self {
            model: Mutex::new(model),
            model_id: "all-MiniLM-L6-v2",
            dim: 384,
        })
    }
}

/// Cosine similarity; for the unit vectors [`Embedder`] returns this is the
/// dot product. 0 when either vector is all zeros.
///
/// # Panics
/// If the lengths differ: that means two vector spaces were mixed.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "cosine of vectors of different lengths");
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedder_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Embedder>();
    }

    #[test]
    fn cosine_basics() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 2.0], &[-1.0, -2.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn config_defaults() {
        let cfg = EmbedConfig::new("/m");
        assert_eq!(cfg.max_length, 256);
        assert_eq!(cfg.threads, 0);
        assert_eq!(cfg.ort_dylib_path, None);
        assert_eq!(cfg.graph, ModelGraph::Int8Kernels);
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab]), "000fab");
    }
}
