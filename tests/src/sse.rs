//! Server-Sent Events read off a response body: `event:` and `data:` fields per the
//! specification's line rules (CRLF or LF, `:` comments such as keep-alives, multi-line data),
//! dispatched at each blank line.

/// One dispatched event. `event` is `message` when the stream named none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// An incremental parser: feed it text as it arrives, take the events it completed.
#[derive(Debug, Default)]
pub struct SseParser {
    pending: String,
    event: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    /// Adds `text` and returns the events whose blank line arrived with it.
    pub fn feed(&mut self, text: &str) -> Vec<SseEvent> {
        self.pending.push_str(text);
        let mut out = Vec::new();
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            let line = line.trim_end_matches('\n').trim_end_matches('\r');
            if line.is_empty() {
                if !self.data.is_empty() || self.event.is_some() {
                    out.push(SseEvent {
                        event: self.event.take().unwrap_or_else(|| "message".into()),
                        data: std::mem::take(&mut self.data).join("\n"),
                    });
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => self.event = Some(value.to_string()),
                "data" => self.data.push(value.to_string()),
                _ => {}
            }
        }
        out
    }

    /// True when text is left that no newline has ended yet.
    pub fn has_partial_line(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// Reads `resp` to its end and returns its events in order. Panics on a body that is not
/// UTF-8 or that ends mid-line.
pub async fn read_all(mut resp: reqwest::Response) -> Vec<SseEvent> {
    let mut parser = SseParser::default();
    let mut bytes: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    while let Some(chunk) = resp.chunk().await.expect("read the event stream") {
        bytes.extend_from_slice(&chunk);
        // Only whole UTF-8 sequences go to the parser; a split character waits for the rest.
        let valid = match std::str::from_utf8(&bytes) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => panic!("the event stream is not UTF-8: {e}"),
        };
        let text = String::from_utf8(bytes.drain(..valid).collect()).expect("checked UTF-8");
        events.extend(parser.feed(&text));
    }
    assert!(
        bytes.is_empty(),
        "the event stream ended inside a character"
    );
    assert!(
        !parser.has_partial_line(),
        "the event stream ended inside a line"
    );
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_comments_and_line_endings() {
        let mut p = SseParser::default();
        let mut got = p.feed(": keep-alive\r\nevent: token\r\ndata: {\"a\":");
        assert!(got.is_empty());
        got.extend(p.feed("1}\r\n\r\ndata: one\ndata:two\n\nevent: done\n"));
        assert_eq!(got.len(), 2, "the third event has no blank line yet");
        got.extend(p.feed("data: {}\n\n"));
        assert_eq!(
            got,
            vec![
                SseEvent {
                    event: "token".into(),
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: "message".into(),
                    data: "one\ntwo".into()
                },
                SseEvent {
                    event: "done".into(),
                    data: "{}".into()
                },
            ]
        );
        assert!(!p.has_partial_line());
    }
}
