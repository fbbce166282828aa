//! A seeded random schedule against a real server over loopback: the company's data changes
//! between syncs (listings added, changed and removed; clients reassigned; knowledge with
//! audiences), the device user's roles change, the server forgets history, connections are
//! cut at random byte offsets, the server dies mid-sync and comes back, the device process is
//! killed. Whenever a sync completes, and always once the faults stop, the device holds
//! exactly what the server's API says the user may see.
//!
//! `ROOST_TEST_SEEDS=17` reruns one seed, `ROOST_TEST_SEEDS=0..500` soaks.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use roost_core::{Cache, CoreError};
use roost_tests::faults::{Fault, FaultProxy};
use roost_tests::{Backend, Session, Tenant, TestServer};
use serde_json::json;
use sqlx::Connection;

use crate::sync_support::{
    ChildSpec, DeviceProcess, assert_same_view, device_client, device_view, open_device_cache,
    seeds, server_view,
};

/// Seeds run by default; each is a fresh server and device.
const SEEDS: std::ops::Range<u64> = 0..32;
const STEPS: usize = 14;
/// Listing references the schedule draws from (`L-0001` …).
const LISTING_REFS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_fault_schedule_converges_to_what_the_server_shows() {
    for seed in seeds(SEEDS) {
        // A task per seed, so a failure names its seed.
        if let Err(e) = tokio::spawn(schedule(seed)).await {
            let message = e
                .try_into_panic()
                .ok()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                })
                .unwrap_or_default();
            panic!("seed {seed} failed; rerun it with ROOST_TEST_SEEDS={seed}: {message}");
        }
    }
}

/// One seed's world: a server behind a fault proxy, a company, the device user and the cache.
struct World {
    seed: u64,
    rng: StdRng,
    server: Option<TestServer>,
    proxy: FaultProxy,
    tenant: Tenant,
    dev_id: String,
    dev: Session,
    page_size: u32,
    _dir: tempfile::TempDir,
    cache_path: PathBuf,
    /// `None` while a device child process has the file.
    cache: Option<Cache>,
    syncs_checked: usize,
}

const DEV: &str = "dev@rand.test";
const OTHER: &str = "other@rand.test";

async fn schedule(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let server = TestServer::start(Backend::Sqlite).await.expect("sqlite");
    let tenant = server
        .register("Random Homes", "rand", "professional")
        .await;
    let roles = random_roles(&mut rng);
    let (dev_id, dev) = server.add_user(&tenant, DEV, &roles).await;
    server.add_user(&tenant, OTHER, &["agent"]).await;
    let proxy = FaultProxy::start(&server.base).await;
    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("device.sqlite3");
    let mut w = World {
        seed,
        page_size: rng.random_range(3..=12),
        rng,
        server: Some(server),
        proxy,
        tenant,
        dev_id,
        dev,
        cache: Some(Cache::open_file(&cache_path).unwrap()),
        cache_path,
        _dir: dir,
        syncs_checked: 0,
    };
    w.log(&format!("roles {roles:?}, pages of {}", w.page_size));
    w.import_listings(false).await;

    for step in 0..STEPS {
        let roll = w.rng.random_range(0..100);
        match roll {
            0..12 => w.import_listings(false).await,
            12..20 => w.import_listings(true).await,
            20..28 => w.replace_clients().await,
            28..34 => w.replace_knowledge().await,
            34..42 => w.change_roles().await,
            42..46 => w.purge_history().await,
            46..76 => w.sync_with_faults().await,
            76..88 => w.restart_server_mid_sync().await,
            _ => w.kill_device_mid_sync().await,
        }
        w.check_cache_sound(&format!("after step {step}"));
    }

    // The faults stop: one sync brings the device to exactly the server's view.
    w.proxy.clear();
    let report = w
        .sync()
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: the final sync failed: {e}"));
    assert!(report.finished);
    w.assert_converged("after the final sync").await;
    let listings = w.cache().listing_count().unwrap();
    w.log(&format!(
        "converged: {listings} listings, {} checks along the way",
        w.syncs_checked
    ));
}

fn random_roles(rng: &mut StdRng) -> Vec<&'static str> {
    let mut roles: Vec<&'static str> = ["agent", "manager", "admin"]
        .into_iter()
        .filter(|_| rng.random_bool(0.5))
        .collect();
    if roles.is_empty() {
        roles.push("agent");
    }
    roles
}

impl World {
    fn log(&self, what: &str) {
        eprintln!("seed {}: {what}", self.seed);
    }

    fn server(&self) -> &TestServer {
        self.server.as_ref().expect("a server")
    }

    fn cache(&mut self) -> &mut Cache {
        self.cache.as_mut().expect("the cache is open")
    }

    async fn import(&mut self, file: &str, body: String, query: &str) {
        let s = self.server.as_ref().expect("a server");
        let r = s
            .import(&self.tenant.admin.access, file, body.into(), query)
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "seed {}: {query}: {}",
            self.seed,
            r.body
        );
    }

    /// Upserts a random handful of listings in a random version each, or replaces all with
    /// them (the rest become tombstones).
    async fn import_listings(&mut self, replace: bool) {
        let mut refs: Vec<usize> = (1..=LISTING_REFS).collect();
        refs.shuffle(&mut self.rng);
        refs.truncate(self.rng.random_range(1..=12));
        let communities = ["Dubai Marina", "Arabian Ranches", "JVC", "Palm Jumeirah"];
        let types = ["Apartment", "Villa", "Townhouse"];
        let mut csv = String::from(
            "Ref,Title,Property Type,Community,Beds,Baths,Size (sqft),Asking Price,Status,View\n",
        );
        for &i in &refs {
            let v: usize = self.rng.random_range(0..3);
            csv.push_str(&format!(
                "L-{i:04},\"{beds} bed {ty} in {c}\",{ty},{c},{beds},{baths},{size},\"AED {price}\",For Sale,{view}\n",
                beds = (i + v) % 5 + 1,
                ty = types[(i + v) % 3],
                c = communities[(i * 7 + v) % 4],
                baths = v + 1,
                size = 700 + i * 31 + v,
                price = 500_000 + i * 10_000 + v * 1_000,
                view = ["Sea", "Garden", "Golf"][v],
            ));
        }
        let query = if replace { "mode=replace" } else { "" };
        self.log(&format!("listings {query:?}: {refs:?}"));
        self.import("l.csv", csv, query).await;
    }

    /// The clients become a random few, each the device user's, another agent's or nobody's.
    async fn replace_clients(&mut self) {
        let n = self.rng.random_range(1..=6);
        let mut csv = String::from("Client Ref,Full Name,E-mail,Assigned Agent\n");
        let mut refs: Vec<usize> = (1..=8).collect();
        refs.shuffle(&mut self.rng);
        for &i in &refs[..n] {
            let agent = *[DEV, OTHER, ""].choose(&mut self.rng).unwrap();
            csv.push_str(&format!("C-{i},Client {i},c{i}@mail.test,{agent}\n"));
        }
        self.log(&format!(
            "clients: {}",
            csv.lines().skip(1).collect::<Vec<_>>().join("; ")
        ));
        self.import("c.csv", csv, "kind=clients&mode=replace").await;
    }

    /// The agent resources become a random few with random audiences.
    async fn replace_knowledge(&mut self) {
        let n = self.rng.random_range(1..=4);
        let mut refs: Vec<usize> = (1..=5).collect();
        refs.shuffle(&mut self.rng);
        let items: Vec<serde_json::Value> = refs[..n]
            .iter()
            .map(|i| {
                let audience: &[&str] = [&[][..], &["manager", "admin"], &["agent"]]
                    .choose(&mut self.rng)
                    .unwrap();
                json!({ "title": format!("Resource {i}"), "body": format!("Guidance number {i}."), "audience": audience })
            })
            .collect();
        self.log(&format!("knowledge: {items:?}"));
        let body = json!({ "resources": items }).to_string();
        self.import("r.json", body, "kind=agent_resources&mode=replace")
            .await;
    }

    async fn change_roles(&mut self) {
        let roles = random_roles(&mut self.rng);
        self.log(&format!("roles become {roles:?}"));
        let s = self.server.as_ref().expect("a server");
        let r = s
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{}", self.dev_id),
                Some(&self.tenant.admin.access),
                Some(json!({ "roles": roles })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// The server stops keeping history before its current head: an older cursor must sync
    /// again from 0.
    async fn purge_history(&mut self) {
        self.log("history purged up to the head");
        sqlx::any::install_default_drivers();
        let url = self.server().database_url.clone();
        let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE tenants SET purged_before = change_seq WHERE id = $1")
            .bind(&self.tenant.id)
            .execute(&mut db)
            .await
            .unwrap();
        db.close().await.unwrap();
    }

    fn random_faults(&mut self) -> Vec<Fault> {
        (0..self.rng.random_range(0..=3))
            .map(|_| match self.rng.random_range(0..4) {
                0 => Fault::Pass,
                1 => Fault::DropRequest,
                _ => Fault::CutResponse(self.rng.random_range(0..3_000)),
            })
            .collect()
    }

    async fn sync(&mut self) -> Result<roost_core::SyncReport, CoreError> {
        let mut client = device_client(&self.proxy.base(), &self.dev.access, self.page_size);
        let cache = self.cache.as_mut().expect("the cache is open");
        client.sync(cache, |_| ControlFlow::Continue(())).await
    }

    /// A sync through a few random faults: it completes (and then must match the server) or
    /// fails with a network error.
    async fn sync_with_faults(&mut self) {
        let faults = self.random_faults();
        self.log(&format!("sync through {faults:?}"));
        self.proxy.push(faults);
        let result = self.sync().await;
        self.proxy.clear();
        self.after_sync(result).await;
    }

    async fn after_sync(&mut self, result: Result<roost_core::SyncReport, CoreError>) {
        match result {
            Ok(report) => {
                assert!(report.finished);
                self.assert_converged("after a completed sync").await;
            }
            Err(e) => {
                assert!(
                    matches!(e, CoreError::Http { .. } | CoreError::BadResponse { .. }),
                    "seed {}: a fault must fail a sync only as a network error: {e:?}",
                    self.seed
                );
                self.log(&format!("sync failed: {e}"));
            }
        }
    }

    /// The server dies while answering a request of a sync, and a new one starts on the same
    /// database at another port.
    async fn restart_server_mid_sync(&mut self) {
        let before = self.rng.random_range(0..3);
        self.log(&format!("server dies at request {}", before + 1));
        self.proxy
            .push(std::iter::repeat_n(Fault::Pass, before).chain([Fault::Stall]));
        let mut client = device_client(&self.proxy.base(), &self.dev.access, self.page_size);
        let mut cache = self.cache.take().expect("the cache is open");
        let mut syncing = tokio::spawn(async move {
            let result = client.sync(&mut cache, |_| ControlFlow::Continue(())).await;
            (cache, result)
        });
        let outcome = tokio::select! {
            () = self.proxy.stalled() => None,
            ended = &mut syncing => Some(ended.unwrap()),
        };
        self.proxy.kill_upstream();
        let (cache, result) = match outcome {
            Some(ended) => ended, // fewer requests than that: it finished first
            None => syncing.await.unwrap(),
        };
        self.cache = Some(cache);
        self.proxy.clear();
        let server = self.server.take().unwrap().restart(None).await;
        self.proxy.set_upstream(&server.base);
        self.server = Some(server);
        self.after_sync(result).await;
    }

    /// The device process is killed at a random moment of a sync, most often inside an
    /// apply.
    async fn kill_device_mid_sync(&mut self) {
        drop(self.cache.take());
        let faults = self.random_faults();
        self.proxy.push(faults.clone());
        let spec = ChildSpec {
            base: self.proxy.base(),
            access: self.dev.access.clone(),
            cache: self.cache_path.clone(),
            key: None,
            page_size: self.page_size,
        };
        // Pages here are small and apply in about a millisecond: aim within a few.
        let delay = Duration::from_micros(self.rng.random_range(0..3_000));
        let mut device = DeviceProcess::spawn(&spec);
        let mut aim = None;
        while let Some((at, line)) = device.next_line(Duration::from_secs(60)).await {
            if line.starts_with("applying") {
                aim = Some(at);
                break;
            }
        }
        let end = match aim {
            Some(at) => {
                tokio::time::sleep_until((at + delay).into()).await;
                device.kill().await
            }
            None => device.wait().await,
        };
        self.proxy.clear();
        self.log(&format!(
            "device through {faults:?} killed {delay:?} after its first apply began{}: {:?}",
            if end.killed_mid_apply {
                ", inside it"
            } else {
                ""
            },
            end.lines
        ));
        assert!(
            !end.lines.iter().any(|l| l.starts_with("failed other")),
            "seed {}: {:?}",
            self.seed,
            end.lines
        );
        self.cache = Some(open_device_cache(&self.cache_path, None));
    }

    fn check_cache_sound(&mut self, when: &str) {
        let seed = self.seed;
        let problems = self.cache().integrity_problems().unwrap();
        assert!(problems.is_empty(), "seed {seed} {when}: {problems:?}");
    }

    async fn assert_converged(&mut self, when: &str) {
        self.syncs_checked += 1;
        let s = self.server.as_ref().expect("a server");
        let server = server_view(s, &self.dev.access).await;
        let device = device_view(self.cache());
        assert_same_view(&device, &server, &format!("seed {} {when}", self.seed));
    }
}
