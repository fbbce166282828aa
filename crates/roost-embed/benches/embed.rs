//! `cargo bench -p roost-embed --bench embed` (or `cargo xtask bench`):
//! real inference with the real model, printed as `BENCH <name> <value> <unit>`.

use std::process::ExitCode;
use std::time::Instant;

use roost_embed::{EmbedConfig, Embedder, ModelGraph};

const QUERY_RUNS: usize = 200;
const WARM_UP: usize = 20;
const DOCS: usize = 512;

fn main() -> ExitCode {
    let Some(cfg) = EmbedConfig::from_env() else {
        eprintln!(
            "error: ROOST_EMBED_MODEL_DIR is not set; run `cargo xtask bench`, or \
             `cargo xtask models` and export what it prints"
        );
        return ExitCode::FAILURE;
    };
    // The product's graph, then the file's own for comparison (suffix `_shipped_graph`).
    let mut shipped = cfg.clone();
    shipped.graph = ModelGraph::AsShipped;
    match run(&cfg, "").and_then(|()| run(&shipped, "_shipped_graph")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: &EmbedConfig, suffix: &str) -> Result<(), roost_embed::EmbedError> {
    let before = resident_mb();
    let start = Instant::now();
    let embedder = Embedder::load(cfg)?;
    println!("BENCH embed_model_load{suffix} {:.0} ms", ms(start));
    // Only the first model's: the second loads into memory the first one freed.
    if suffix.is_empty() {
        println!(
            "BENCH embed_model_resident_mb {:.0} MiB",
            resident_mb() - before
        );
    }

    let query = "3 bedroom villa with pool in Arabian Ranches";
    for _ in 0..WARM_UP {
        embedder.embed_query(query)?;
    }
    let mut times = Vec::with_capacity(QUERY_RUNS);
    for _ in 0..QUERY_RUNS {
        let start = Instant::now();
        embedder.embed_query(query)?;
        times.push(ms(start));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "BENCH embed_query_p50{suffix} {:.2} ms",
        times[QUERY_RUNS / 2]
    );

    let docs: Vec<String> = (0..DOCS).map(listing).collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    embedder.embed_documents(&refs[..32])?;
    let start = Instant::now();
    let vectors = embedder.embed_documents(&refs)?;
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), DOCS);
    println!(
        "BENCH embed_docs_per_s{suffix} {:.0} docs/s",
        DOCS as f64 / secs
    );
    Ok(())
}

/// Resident memory of this process (Linux; 0 elsewhere).
fn resident_mb() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// A realistic listing description of about 90 tokens, varied per `i`.
fn listing(i: usize) -> String {
    const KINDS: [&str; 6] = [
        "apartment",
        "villa",
        "townhouse",
        "penthouse",
        "duplex",
        "studio",
    ];
    const AREAS: [&str; 8] = [
        "Dubai Marina",
        "Arabian Ranches",
        "Downtown Dubai",
        "Jumeirah Village Circle",
        "Palm Jumeirah",
        "Business Bay",
        "Dubai Hills Estate",
        "Al Reem Island",
    ];
    const FEATURES: [&str; 7] = [
        "a private pool and landscaped garden",
        "floor-to-ceiling windows and a full sea view",
        "an open-plan kitchen with built-in appliances",
        "a large balcony overlooking the community park",
        "a maid's room, study and covered parking for two cars",
        "shared gym, infinity pool and 24-hour concierge",
        "upgraded flooring and smart-home lighting throughout",
    ];
    let beds = 1 + i % 5;
    format!(
        "Ref RR-{i:04}. Bright {beds}-bedroom {kind} for sale in {area}, {size} sq ft, \
         offered at AED {price},000. The home features {f1}, plus {f2}. Walking distance \
         to schools, supermarkets and the metro; vacant on transfer, chiller free, \
         service charge AED {sc} per sq ft. Call the agent today to arrange a viewing.",
        kind = KINDS[i % KINDS.len()],
        area = AREAS[(i / 3) % AREAS.len()],
        size = 650 + (i * 37) % 4000,
        price = 900 + (i * 53) % 9000,
        f1 = FEATURES[i % FEATURES.len()],
        f2 = FEATURES[(i / 2 + 3) % FEATURES.len()],
        sc = 12 + i % 9,
    )
}
