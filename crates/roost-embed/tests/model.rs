//! Real inference with the real model (`cargo xtask test` provides it).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use roost_embed::{EmbedConfig, EmbedError, Embedder, ModelGraph, TOKENIZER_FILES, cosine};

/// One model per test binary; loading is the slow part.
fn embedder(test: &str) -> Option<&'static Embedder> {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    let cfg = common::config(test)?;
    Some(EMBEDDER.get_or_init(|| Embedder::load(&cfg).expect("load the model")))
}

/// The file's own graph (f32 weights at run time), to compare the int8 kernels with.
fn as_shipped(test: &str) -> Option<&'static Embedder> {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    let mut cfg = common::config(test)?;
    cfg.graph = ModelGraph::AsShipped;
    Some(EMBEDDER.get_or_init(|| Embedder::load(&cfg).expect("load the shipped graph")))
}

fn assert_unit(v: &[f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
}

#[test]
fn vectors_have_384_unit_dimensions() {
    let Some(e) = embedder("vectors_have_384_unit_dimensions") else {
        return;
    };
    assert_eq!(e.dim(), 384);
    assert_eq!(e.model_id(), "all-MiniLM-L6-v2-w8a8");
    let docs = e
        .embed_documents(&["Spacious apartment with sea view", "", "a"])
        .unwrap();
    assert_eq!(docs.len(), 3);
    for v in &docs {
        assert_eq!(v.len(), 384);
        assert_unit(v);
    }
    let q = e.embed_query("two bedroom flat").unwrap();
    assert_eq!(q.len(), 384);
    assert_unit(&q);
    assert!(e.embed_documents(&[]).unwrap().is_empty());
}

#[test]
fn query_is_closest_to_the_matching_listing() {
    let Some(e) = embedder("query_is_closest_to_the_matching_listing") else {
        return;
    };
    let query = e
        .embed_query("3 bedroom villa with a private pool in Arabian Ranches")
        .unwrap();
    let docs = e
        .embed_documents(&[
            "Arabian Ranches, Dubai: three-bedroom family villa with a private swimming pool, \
             landscaped garden and maid's room, close to schools and the golf club.",
            "Grade A office space for lease in Business Bay, open-plan floor with meeting \
             rooms, fibre internet and 24/7 security.",
            "Parking policy: each tenant is allocated one covered parking bay; visitors must \
             register with reception and park in the marked visitor area.",
        ])
        .unwrap();
    let [villa, office, parking] = [0, 1, 2].map(|i| cosine(&query, &docs[i]));
    eprintln!("villa {villa:.3}, office {office:.3}, parking {parking:.3}");
    assert!(
        villa > office && villa > parking,
        "villa {villa}, office {office}, parking {parking}"
    );
    assert!(
        villa - office.max(parking) > 0.1,
        "margin too small: {villa} {office} {parking}"
    );
}

#[test]
fn same_text_embeds_identically() {
    let Some(e) = embedder("same_text_embeds_identically") else {
        return;
    };
    let text = "Penthouse in Dubai Marina with a wraparound terrace";
    assert_eq!(e.embed_query(text).unwrap(), e.embed_query(text).unwrap());
}

#[test]
fn batches_match_one_by_one() {
    let Some(e) = embedder("batches_match_one_by_one") else {
        return;
    };
    let areas = [
        "Jumeirah",
        "Downtown",
        "Palm Jumeirah",
        "JVC",
        "Al Barsha",
        "Mirdif",
        "Springs",
    ];
    let kinds = [
        "studio",
        "1 bed apartment",
        "townhouse",
        "villa",
        "office",
        "retail unit",
    ];
    // Different lengths, so that batches are padded.
    let texts: Vec<String> = (0..70)
        .map(|i| {
            let extra = " with balcony, gym and pool access".repeat(i % 4);
            format!(
                "{} in {} for rent{extra}, ref {i}",
                kinds[i % kinds.len()],
                areas[i % areas.len()]
            )
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let batch = e.embed_documents(&refs).unwrap();
    assert_eq!(batch.len(), 70);
    for (text, b) in refs.iter().zip(&batch) {
        let one = e.embed_query(text).unwrap();
        let c = cosine(&one, b);
        assert!(c > 0.999, "{text:?}: cosine {c}");
    }
}

#[test]
fn embedder_is_shared_across_threads() {
    let Some(e) = embedder("embedder_is_shared_across_threads") else {
        return;
    };
    let expected = e.embed_query("sea view").unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| e.embed_query("sea view").unwrap()))
            .collect();
        for h in handles {
            assert!(cosine(&h.join().unwrap(), &expected) > 0.9999);
        }
    });
}

#[test]
fn wrong_ort_path_is_an_error_naming_it() {
    let Some(mut cfg) = common::config("wrong_ort_path_is_an_error_naming_it") else {
        return;
    };
    let bad = PathBuf::from("/nonexistent/roost/libonnxruntime.so");
    cfg.ort_dylib_path = Some(bad.clone());
    let err = Embedder::load(&cfg).unwrap_err();
    assert!(matches!(err, EmbedError::OrtMissing { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
}

/// A temp dir holding the model dir's files except `skip` (symlinked, not copied).
fn partial_model_dir(from: &Path, skip: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in TOKENIZER_FILES.iter().chain(["model.onnx"].iter()) {
        if *name != skip {
            std::os::unix::fs::symlink(from.join(name), dir.path().join(name)).unwrap();
        }
    }
    dir
}

#[test]
fn missing_tokenizer_is_an_error_naming_the_file() {
    let Some(cfg) = common::config("missing_tokenizer_is_an_error_naming_the_file") else {
        return;
    };
    let dir = partial_model_dir(&cfg.model_dir, "tokenizer.json");
    let err = Embedder::load(&EmbedConfig {
        model_dir: dir.path().to_path_buf(),
        ..cfg
    })
    .unwrap_err();
    assert!(matches!(err, EmbedError::ModelFile { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.path().join("tokenizer.json").display().to_string()),
        "{msg}"
    );
}

#[test]
fn unknown_model_file_is_refused() {
    let Some(cfg) = common::config("unknown_model_file_is_refused") else {
        return;
    };
    let dir = partial_model_dir(&cfg.model_dir, "model.onnx");
    std::fs::write(dir.path().join("model.onnx"), b"not the model").unwrap();
    let err = Embedder::load(&EmbedConfig {
        model_dir: dir.path().to_path_buf(),
        ..cfg
    })
    .unwrap_err();
    assert!(matches!(err, EmbedError::UnknownModel { .. }), "{err:?}");
    assert!(err.to_string().contains("model.onnx"), "{err}");
}

#[test]
fn int8_kernels_stay_close_to_the_shipped_graph() {
    let (Some(int8), Some(shipped)) = (
        embedder("int8_kernels_stay_close_to_the_shipped_graph"),
        as_shipped("int8_kernels_stay_close_to_the_shipped_graph"),
    ) else {
        return;
    };
    assert_eq!(shipped.model_id(), "all-MiniLM-L6-v2-int8");
    assert_ne!(int8.model_id(), shipped.model_id());
    let docs = [
        "Arabian Ranches villa, 4 bedrooms, private pool and garden, close to the golf club",
        "Studio apartment in JVC, two minutes from the bus, gym and pool in the building",
        "Penthouse in Downtown Dubai with a full Burj Khalifa view and a private terrace",
        "Townhouse in Mirdif, quiet street, walk to schools, maid room, covered parking",
        "Office floor for lease in Business Bay, fitted, 24/7 access, metro nearby",
        "Beachfront apartment on Palm Jumeirah, direct beach access, high floor, sea view",
        "Commission policy: agents receive their share within 30 days of the transfer",
        "Market report: villa prices in Dubai Hills rose 12% year on year in the third quarter",
    ];
    let queries = [
        "family villa with a pool near golf",
        "cheap studio near public transport",
        "flat with a view of the burj khalifa",
        "when are commissions paid",
        "how did dubai hills prices change",
        "apartment by the beach",
    ];
    let a = int8.embed_documents(&docs).unwrap();
    let b = shipped.embed_documents(&docs).unwrap();
    for (text, (x, y)) in docs.iter().zip(a.iter().zip(&b)) {
        let c = cosine(x, y);
        assert!(c > 0.998, "{text:?}: cosine {c} between the two graphs");
    }
    let best = |q: &[f32], d: &[Vec<f32>]| {
        (0..d.len())
            .max_by(|&i, &j| cosine(q, &d[i]).total_cmp(&cosine(q, &d[j])))
            .unwrap()
    };
    for q in queries {
        let (qa, qb) = (
            int8.embed_query(q).unwrap(),
            shipped.embed_query(q).unwrap(),
        );
        assert!(cosine(&qa, &qb) > 0.998, "{q:?}");
        assert_eq!(
            best(&qa, &a),
            best(&qb, &b),
            "{q:?} finds another text first"
        );
    }
}
