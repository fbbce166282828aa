//! A fault-injecting TCP proxy on loopback, between a device (a `SyncClient`) and a
//! [`TestServer`](crate::TestServer): requests pass through unless a queued [`Fault`] says
//! otherwise, and the whole server can vanish ([`FaultProxy::kill_upstream`]) and come back at
//! another address ([`FaultProxy::set_upstream`]) while the device keeps one URL.
//!
//! It speaks TCP, not HTTP: an exchange is the bytes a client sends until the server answers,
//! then the answer until the client sends again (HTTP/1.1 without pipelining, which is what
//! reqwest does). Faults apply to exchanges in the order they start, on any connection.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// What happens to one request and its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Relayed untouched.
    Pass,
    /// The connection closes once the request arrives; the server never sees it.
    DropRequest,
    /// The server gets the request; the client gets the first `n` bytes of the response
    /// (headers included), then the connection closes. `CutResponse(0)`: the server did the
    /// work and the answer never arrived.
    CutResponse(usize),
    /// The server gets the request; nothing comes back until [`FaultProxy::kill_upstream`]
    /// cuts the connection: the server died while answering.
    Stall,
    /// The proxy answers `401 unauthorized` itself, as the server does to an expired access
    /// token; the server never sees the request.
    Unauthorized,
}

/// What [`Fault::Unauthorized`] answers: the server's error body for an expired token.
const UNAUTHORIZED: &str = "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
    content-length: 63\r\nconnection: close\r\n\r\n\
    {\"error\":{\"code\":\"unauthorized\",\"message\":\"the token expired\"}}";

/// Counters, for tests to check that the faults they queued happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub connections: u64,
    /// Connections accepted while there was no upstream, closed at once.
    pub refused: u64,
    pub exchanges: u64,
    /// Exchanges that met a fault other than [`Fault::Pass`].
    pub faults: u64,
}

struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    faults: Mutex<VecDeque<Fault>>,
    stats: Mutex<ProxyStats>,
    /// Bumped to close every open connection.
    generation: watch::Sender<u64>,
    /// Signalled when an exchange stalls.
    stalled: Notify,
    /// Response bytes that reached the client, per exchange, in the order they started.
    responses: Mutex<Vec<usize>>,
    /// Added before each request goes on: a slow network.
    latency: Mutex<std::time::Duration>,
}

/// Listens on `127.0.0.1:0`; dropping it stops accepting and closes every connection.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.generation.send_modify(|g| *g += 1);
    }
}

impl FaultProxy {
    /// A proxy to the server at `upstream` (`http://127.0.0.1:PORT`, as `TestServer::base`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let shared = Arc::new(Shared {
            upstream: Mutex::new(Some(parse_base(upstream))),
            faults: Mutex::new(VecDeque::new()),
            stats: Mutex::new(ProxyStats::default()),
            generation: watch::Sender::new(0),
            stalled: Notify::new(),
            responses: Mutex::new(Vec::new()),
            latency: Mutex::new(std::time::Duration::ZERO),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        FaultProxy {
            addr,
            shared,
            accept,
        }
    }

    /// The URL a client uses instead of the server's.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues faults for the next exchanges, in order; exchanges past the queue pass.
    pub fn push(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().unwrap().extend(faults);
    }

    /// Faults queued but not met yet.
    pub fn pending(&self) -> usize {
        self.shared.faults.lock().unwrap().len()
    }

    /// Forgets queued faults that were not met.
    pub fn clear(&self) {
        self.shared.faults.lock().unwrap().clear();
    }

    pub fn stats(&self) -> ProxyStats {
        *self.shared.stats.lock().unwrap()
    }

    /// How many response bytes reached the client in each exchange so far, in the order
    /// they started (to aim cuts inside a response of known size).
    pub fn response_sizes(&self) -> Vec<usize> {
        self.shared.responses.lock().unwrap().clone()
    }

    /// The server died: every open connection is cut and new ones are closed at once, until
    /// [`FaultProxy::set_upstream`].
    pub fn kill_upstream(&self) {
        *self.shared.upstream.lock().unwrap() = None;
        self.shared.generation.send_modify(|g| *g += 1);
    }

    /// The server is (back) at `base`.
    pub fn set_upstream(&self, base: &str) {
        *self.shared.upstream.lock().unwrap() = Some(parse_base(base));
    }

    /// Delays every request from now on by `latency` (zero: none), like a slow network.
    pub fn set_latency(&self, latency: std::time::Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// Waits until an exchange meets [`Fault::Stall`] (one queued before this call counts).
    pub async fn stalled(&self) {
        self.shared.stalled.notified().await;
    }
}

fn parse_base(base: &str) -> SocketAddr {
    base.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{base:?} is not http://IP:PORT: {e}"))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let _ = client.set_nodelay(true);
        shared.stats.lock().unwrap().connections += 1;
        let upstream = *shared.upstream.lock().unwrap();
        let Some(upstream) = upstream else {
            shared.stats.lock().unwrap().refused += 1;
            continue; // dropping `client` closes it
        };
        tokio::spawn(relay(client, upstream, shared.clone()));
    }
}

/// The exchange in progress on a connection.
struct Exchange {
    fault: Fault,
    /// The server has started answering.
    answered: bool,
    /// Response bytes relayed to the client.
    relayed: usize,
    /// Its entry in `Shared::responses`.
    index: usize,
}

/// Relays one connection until either side closes, a fault ends it, or the proxy cuts all.
async fn relay(mut client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let mut current: Option<Exchange> = None;
    let mut cut = shared.generation.subscribe();
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        tokio::select! {
            read = client.read(&mut up) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if current.as_ref().is_none_or(|e| e.answered) {
                    // A new request: the previous exchange is over; take the next fault.
                    let index = {
                        let mut responses = shared.responses.lock().unwrap();
                        responses.push(0);
                        responses.len() - 1
                    };
                    let fault = shared.faults.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
                    {
                        let mut stats = shared.stats.lock().unwrap();
                        stats.exchanges += 1;
                        stats.faults += u64::from(fault != Fault::Pass);
                    }
                    current = Some(Exchange {
                        fault,
                        answered: false,
                        relayed: 0,
                        index,
                    });
                    let latency = *shared.latency.lock().unwrap();
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    match fault {
                        Fault::DropRequest => return,
                        Fault::Unauthorized => {
                            let _ = client.write_all(UNAUTHORIZED.as_bytes()).await;
                            return;
                        }
                        Fault::Stall => shared.stalled.notify_one(),
                        Fault::Pass | Fault::CutResponse(_) => {}
                    }
                }
                if server.write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            read = server.read(&mut down) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let Some(exchange) = current.as_mut() else {
                    return; // the server spoke unasked
                };
                exchange.answered = true;
                let take = match exchange.fault {
                    Fault::Stall => 0,
                    Fault::CutResponse(limit) => n.min(limit - exchange.relayed),
                    Fault::Pass | Fault::DropRequest | Fault::Unauthorized => n,
                };
                if client.write_all(&down[..take]).await.is_err() {
                    return;
                }
                exchange.relayed += take;
                shared.responses.lock().unwrap()[exchange.index] += take;
                if matches!(exchange.fault, Fault::CutResponse(limit) if exchange.relayed >= limit) {
                    return;
                }
            }
            _ = cut.changed() => return,
        }
    }
}
