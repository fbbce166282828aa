//! What the sync fault tests share: the server's and the device's view of what a user may
//! see, and the device as a child process that can be killed at any moment.
//!
//! The child is this test binary run again with [`CHILD_ENV`] set, selecting the test named
//! [`CHILD_TEST`], which then syncs instead of testing. It prints a line before and after
//! each page it applies, so the parent can kill it inside an apply.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use roost_api::knowledge::{Client, KnowledgeItem};
use roost_api::listings::Listing;
use roost_api::sync::ChangePage;
use roost_core::{Cache, CacheKey, CoreError, SyncClient, Tokens};
use roost_tests::TestServer;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Set (to the child's spec, JSON) in the environment of a device child process.
pub const CHILD_ENV: &str = "ROOST_SYNC_DEVICE_CHILD";
/// The test that turns into the device when [`CHILD_ENV`] is set.
pub const CHILD_TEST: &str = "sync_kill::a_device_killed_mid_apply_keeps_its_cache_consistent";
/// Starts every line the child prints for the parent.
const MARK: &str = "roost-device:";

/// Seeds from `ROOST_TEST_SEEDS` (`7` or `0..40`) or else `default`: a failing seed reruns
/// alone.
pub fn seeds(default: std::ops::Range<u64>) -> std::ops::Range<u64> {
    let Ok(text) = std::env::var("ROOST_TEST_SEEDS") else {
        return default;
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .expect("ROOST_TEST_SEEDS: `N` or `A..B`")
    };
    match text.split_once("..") {
        Some((a, b)) => parse(a)..parse(b),
        None => parse(&text)..parse(&text) + 1,
    }
}

/// A device's sync client talking to `base` (the server, or a proxy in front of it). No
/// refresh token: tests run well inside an access token's 15 minutes, and a 401 should fail.
pub fn device_client(base: &str, access: &str, page_size: u32) -> SyncClient {
    SyncClient::new(
        base,
        Tokens {
            access: access.to_string(),
            refresh: None,
        },
    )
    .expect("client")
    .with_page_size(page_size)
}

/// Every page of the feed from 0, as a device asking for `page_size` changes sees them.
pub async fn all_pages(base: &str, access: &str, page_size: u32) -> Vec<ChangePage> {
    let mut client = device_client(base, access, page_size);
    let mut pages: Vec<ChangePage> = Vec::new();
    loop {
        let since = pages.last().map_or(0, |p| p.next_cursor);
        let scope = pages.last().map(|p| p.scope.clone());
        let (page, _) = client.fetch_page(since, scope.as_deref()).await.unwrap();
        let more = page.has_more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
}

/// What a user may see: listings, clients and knowledge items by id.
#[derive(Debug, Default, PartialEq)]
pub struct View {
    pub listings: BTreeMap<Uuid, Listing>,
    pub clients: BTreeMap<Uuid, Client>,
    pub knowledge: BTreeMap<Uuid, KnowledgeItem>,
}

/// The server's answer, through its API, to what the holder of `token` may see.
pub async fn server_view(s: &TestServer, token: &str) -> View {
    let parse = |v: Value, what: &str| -> Vec<Value> {
        v.as_array()
            .unwrap_or_else(|| panic!("{what}: {v}"))
            .clone()
    };
    let listings = s
        .all_listings(token)
        .await
        .into_iter()
        .map(|l| serde_json::from_value::<Listing>(l).expect("a listing"));
    let clients = s.get("/api/v1/clients", token).await;
    assert!(clients.status.is_success(), "{}", clients.body);
    let knowledge = s.get("/api/v1/knowledge", token).await;
    assert!(knowledge.status.is_success(), "{}", knowledge.body);
    View {
        listings: listings.map(|l| (l.id, l)).collect(),
        clients: parse(clients.body, "clients")
            .into_iter()
            .map(|c| serde_json::from_value::<Client>(c).expect("a client"))
            .map(|c| (c.id, c))
            .collect(),
        knowledge: parse(knowledge.body, "knowledge")
            .into_iter()
            .map(|k| serde_json::from_value::<KnowledgeItem>(k).expect("a knowledge item"))
            .map(|k| (k.id, k))
            .collect(),
    }
}

/// What the device's cache holds.
pub fn device_view(cache: &Cache) -> View {
    View {
        listings: cache
            .listing_ids()
            .unwrap()
            .into_iter()
            .map(|id| (id, cache.listing(id).unwrap().expect("a listed id")))
            .collect(),
        clients: cache
            .clients()
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c))
            .collect(),
        knowledge: cache
            .knowledge_items()
            .unwrap()
            .into_iter()
            .map(|k| (k.id, k))
            .collect(),
    }
}

/// Fails naming what differs: ids only on one side, and the first few that differ.
pub fn assert_same_view(device: &View, server: &View, context: &str) {
    fn diff<T: PartialEq + Debug>(
        what: &str,
        device: &BTreeMap<Uuid, T>,
        server: &BTreeMap<Uuid, T>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (id, d) in device {
            match server.get(id) {
                None => out.push(format!(
                    "{what} {id} is on the device, not visible on the server"
                )),
                Some(s) if s != d => out.push(format!(
                    "{what} {id} differs:\n  device {d:?}\n  server {s:?}"
                )),
                Some(_) => {}
            }
        }
        for id in server.keys().filter(|id| !device.contains_key(id)) {
            out.push(format!(
                "{what} {id} is visible on the server, missing on the device"
            ));
        }
        out
    }
    let mut problems = diff("listing", &device.listings, &server.listings);
    problems.extend(diff("client", &device.clients, &server.clients));
    problems.extend(diff("knowledge item", &device.knowledge, &server.knowledge));
    if !problems.is_empty() {
        let shown: Vec<&String> = problems.iter().take(6).collect();
        panic!(
            "{context}: the device differs from the server in {} ways:\n{}",
            problems.len(),
            shown
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Everything a device child needs; travels as JSON in [`CHILD_ENV`].
pub struct ChildSpec {
    pub base: String,
    pub access: String,
    pub cache: PathBuf,
    pub key: Option<[u8; 32]>,
    pub page_size: u32,
}

pub fn open_device_cache(path: &Path, key: Option<[u8; 32]>) -> Cache {
    match key {
        Some(k) => Cache::open_file_encrypted(path, &CacheKey::from_bytes(k)),
        None => Cache::open_file(path),
    }
    .expect("open the device cache")
}

/// The child's side: syncs the cache to the end of the feed, page by page, saying before
/// and after each apply. The same steps as `SyncClient::sync`, spelled out so the parent
/// knows when an apply runs.
pub async fn run_device_child(spec: &str) {
    let spec: Value = serde_json::from_str(spec).expect("child spec");
    let key = spec["key"].as_array().map(|bytes| {
        let v: Vec<u8> = bytes.iter().map(|b| b.as_u64().unwrap() as u8).collect();
        <[u8; 32]>::try_from(v).expect("32-byte key")
    });
    let mut cache = open_device_cache(Path::new(spec["cache"].as_str().unwrap()), key);
    let mut client = device_client(
        spec["base"].as_str().unwrap(),
        spec["access"].as_str().unwrap(),
        spec["page_size"].as_u64().unwrap() as u32,
    );
    let mut resets = 0;
    loop {
        let state = cache.sync_state().unwrap();
        let fetched = client
            .fetch_page(state.cursor, state.scope.as_deref())
            .await;
        let page = match fetched {
            Ok((page, _)) => page,
            Err(CoreError::ResyncRequired { .. }) if resets == 0 => {
                resets += 1;
                cache.reset().unwrap();
                println!("{MARK} reset");
                continue;
            }
            Err(e) => fail(&e),
        };
        println!("{MARK} applying {} {}", state.cursor, page.next_cursor);
        match cache.apply_page(&page) {
            Ok(_) => println!("{MARK} applied {}", page.next_cursor),
            Err(CoreError::ResyncNeeded(_)) if resets == 0 => {
                resets += 1;
                cache.reset().unwrap();
                println!("{MARK} reset");
                continue;
            }
            Err(e) => fail(&e),
        }
        if !page.has_more {
            println!("{MARK} done {}", page.next_cursor);
            return;
        }
    }
}

/// Ends the child, saying whether the failure came from the network (which a fault may
/// cause) or from anything else (which no fault may).
fn fail(e: &CoreError) -> ! {
    let kind = match e {
        CoreError::Http { .. } | CoreError::BadResponse { .. } => "network",
        _ => "other",
    };
    println!("{MARK} failed {kind}: {e}");
    std::process::exit(3);
}

/// A running device child.
pub struct DeviceProcess {
    child: Child,
    lines: mpsc::UnboundedReceiver<(Instant, String)>,
    seen: Vec<String>,
}

/// How a device child ended.
#[derive(Debug)]
pub struct DeviceEnd {
    /// Its lines, without the mark.
    pub lines: Vec<String>,
    /// Its last words were `applying`: killed inside an apply (or in the instant between
    /// the commit and the print).
    pub killed_mid_apply: bool,
    /// It synced to the end of the feed.
    pub done: bool,
}

impl DeviceProcess {
    pub fn spawn(spec: &ChildSpec) -> DeviceProcess {
        let json = json!({
            "base": spec.base,
            "access": spec.access,
            "cache": spec.cache,
            "key": spec.key.map(|k| k.to_vec()),
            "page_size": spec.page_size,
        });
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, json.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the device child");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The test harness may print on the same line before the child's first words.
                if let Some(at) = line.find(MARK) {
                    let words = line[at + MARK.len()..].trim().to_string();
                    if tx.send((Instant::now(), words)).is_err() {
                        break;
                    }
                }
            }
        });
        DeviceProcess {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The next line and when it arrived; `None` when the child ended or said nothing for
    /// `timeout`.
    pub async fn next_line(&mut self, timeout: Duration) -> Option<(Instant, String)> {
        let got = tokio::time::timeout(timeout, self.lines.recv())
            .await
            .ok()??;
        self.seen.push(got.1.clone());
        Some(got)
    }

    /// SIGKILL, then what it said before dying.
    pub async fn kill(mut self) -> DeviceEnd {
        let _ = self.child.kill();
        self.finish().await
    }

    /// Waits for the child to end by itself.
    pub async fn wait(self) -> DeviceEnd {
        self.finish().await
    }

    async fn finish(mut self) -> DeviceEnd {
        // The reader thread ends at EOF, which comes when the process is gone.
        while let Some((_, line)) = self.lines.recv().await {
            self.seen.push(line);
        }
        let _ = self.child.wait();
        DeviceEnd {
            killed_mid_apply: self.seen.last().is_some_and(|l| l.starts_with("applying")),
            done: self.seen.iter().any(|l| l.starts_with("done")),
            lines: self.seen,
        }
    }
}
