//! A connect that never completes: a listener whose accept queue is full drops new SYNs.

mod common;

use std::time::{Duration, Instant};

use roost_api::chat::ChatErrorCode;
use roost_llm::{Gemini, LlmError, LlmMessage, LlmProvider, LlmRequest, OpenAiCompatible};
use tokio::net::{TcpSocket, TcpStream};

#[tokio::test]
async fn an_unanswered_connect_times_out_as_connect() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap(); // never accepts
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fillers.push(s),
            _ => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the accept queue should fill up");

    let req = LlmRequest {
        messages: vec![LlmMessage::user("Hi")],
        ..Default::default()
    };
    let base = format!("http://{addr}");
    let gemini = Gemini::new(
        common::client(),
        Some(&base),
        "gemini-2.5-flash",
        "k-1".into(),
        common::fast(),
    )
    .unwrap();
    let openai = OpenAiCompatible::new(common::client(), &base, "m", None, common::fast()).unwrap();
    for p in [&gemini as &dyn LlmProvider, &openai] {
        let started = Instant::now();
        let err = p.stream(req.clone()).await.err().expect("cannot connect");
        assert_eq!(
            err,
            LlmError::Timeout { what: "connect" },
            "{}",
            p.provider()
        );
        assert_eq!(err.code(), ChatErrorCode::Timeout);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not retried: {:?}",
            started.elapsed()
        );
    }
    drop(fillers);
}
