//! A stand-in LLM provider on 127.0.0.1:0 for tests of the server's chat: a small HTTP/1.1
//! server (one request per connection, `connection: close`) that keeps every request it gets
//! and answers each from a script the test can swap between questions. Event streams are
//! written piece by piece, each piece flushed on its own, so the server under test reads them
//! as a provider would send them.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Requests larger than this are refused; prompts are far smaller.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: serde_json::Value,
    /// The body's bytes as received (what a signature covers).
    pub raw: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the stand-in answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200 text/event-stream`: the pieces in order, each written and flushed separately,
    /// then the connection closes.
    Events(Vec<String>),
    /// Like `Events`, but only `first` goes out at once; `rest` waits until `gate` is
    /// notified (e.g. after the test let go of the answer).
    Gated {
        first: Vec<String>,
        gate: Arc<tokio::sync::Notify>,
        rest: Vec<String>,
    },
    /// Any status with a body (sent with its length).
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

impl Reply {
    /// An event stream of `data:` events, one per item.
    pub fn data_events<S: AsRef<str>>(items: &[S]) -> Reply {
        Reply::Events(
            items
                .iter()
                .map(|d| format!("data: {}\n\n", d.as_ref()))
                .collect(),
        )
    }

    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Status {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// A running stand-in; dropping it stops accepting connections.
pub struct StandIn {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<Script>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl StandIn {
    /// Starts answering every request with `script(request)`.
    pub async fn start(script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stand-in");
        let addr = listener.local_addr().expect("stand-in address");
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(Arc::new(script)));
        let (kept, current) = (requests.clone(), script.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (kept, current) = (kept.clone(), current.clone());
                tokio::spawn(async move {
                    let _ = serve_one(conn, kept, current).await;
                });
            }
        });
        StandIn {
            base: format!("http://{addr}"),
            requests,
            script,
            accepting,
        }
    }

    /// Answers later requests with `script` instead.
    pub fn set_script(&self, script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *self.script.lock().expect("script lock") = Arc::new(script);
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests lock").clone()
    }
}

async fn serve_one(
    mut conn: TcpStream,
    kept: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<Script>>,
) -> std::io::Result<()> {
    let request = match read_request(&mut conn).await? {
        Some(r) => r,
        None => return Ok(()),
    };
    kept.lock().expect("requests lock").push(request.clone());
    let answer = script.lock().expect("script lock").clone();
    match answer(&request) {
        Reply::Events(pieces) => {
            write_event_head(&mut conn).await?;
            write_pieces(&mut conn, &pieces).await?;
        }
        Reply::Gated { first, gate, rest } => {
            write_event_head(&mut conn).await?;
            write_pieces(&mut conn, &first).await?;
            gate.notified().await;
            write_pieces(&mut conn, &rest).await?;
        }
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (n, v) in &headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            ));
            conn.write_all(head.as_bytes()).await?;
            conn.write_all(body.as_bytes()).await?;
        }
    }
    conn.shutdown().await
}

async fn write_event_head(conn: &mut TcpStream) -> std::io::Result<()> {
    conn.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
          cache-control: no-cache\r\nconnection: close\r\n\r\n",
    )
    .await?;
    conn.flush().await
}

/// Each piece written and flushed on its own, so they arrive as separate reads.
async fn write_pieces(conn: &mut TcpStream, pieces: &[String]) -> std::io::Result<()> {
    for piece in pieces {
        conn.write_all(piece.as_bytes()).await?;
        conn.flush().await?;
        tokio::task::yield_now().await;
    }
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Reads one request with a `content-length` body; `None` when the peer closed first.
async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<Recorded>> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST_BYTES {
            return Err(std::io::Error::other("request head too large"));
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST_BYTES {
        return Err(std::io::Error::other("request body too large"));
    }
    let mut body = buf.split_off(head_end + 4);
    while body.len() < length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("body cut short"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target, None),
    };
    Ok(Some(Recorded {
        method,
        path,
        query,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw: body.clone(),
    }))
}
