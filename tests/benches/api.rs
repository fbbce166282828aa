//! API figures over real HTTP on loopback, SQLite backend (the one-box default).
//! Prints one `BENCH <name> <value> <unit>` line per figure; `cargo xtask bench` collects them.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use roost_tests::{Backend, TestServer};

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.2} {unit}");
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn timed<F, Fut>(n: usize, mut f: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let t0 = Instant::now();
    let s = TestServer::start(Backend::Sqlite).await.expect("server");
    bench(
        "api_cold_start_sqlite",
        t0.elapsed().as_secs_f64() * 1000.0,
        "ms",
    );

    let t = s.register("Bench Realty", "bench", "enterprise").await;

    let mut login = timed(20, || async {
        let r = s
            .try_login("bench", "admin@bench.test", "bench-admin-pass")
            .await;
        assert_eq!(r.status, StatusCode::OK);
    })
    .await;
    bench("api_login_p50", percentile(&mut login, 0.5), "ms");

    let token = t.admin.access.clone();
    let mut me = timed(500, || async {
        let r = s.get("/api/v1/me", &token).await;
        assert_eq!(r.status, StatusCode::OK);
    })
    .await;
    bench("api_me_p50", percentile(&mut me, 0.5), "ms");
    bench("api_me_p99", percentile(&mut me, 0.99), "ms");

    let mut cfg = timed(500, || async {
        let r = s.get("/api/v1/config", &token).await;
        assert_eq!(r.status, StatusCode::OK);
    })
    .await;
    bench("api_config_get_p50", percentile(&mut cfg, 0.5), "ms");

    // Throughput of authenticated reads with 16 concurrent clients for 3 s.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let base = s.base.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let r = client
                    .get(format!("{base}/api/v1/me"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), StatusCode::OK);
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("task");
    }
    bench("api_me_throughput_c16", total as f64 / 3.0, "req/s");

    // Writes: each is a transaction with its audit event.
    let mut writes = timed(50, || async {
        let r = s
            .req(reqwest::Method::PUT, "/api/v1/config", Some(&token))
            .header("if-match", "*")
            .json(&s.get("/api/v1/config", &token).await.body["config"])
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK);
    })
    .await;
    bench(
        "api_config_read_modify_write_p50",
        percentile(&mut writes, 0.5),
        "ms",
    );
    bench("process_rss_after_load", rss_mib(), "MiB");
}
