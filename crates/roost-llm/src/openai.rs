//! Any endpoint that speaks OpenAI's chat completions with `stream: true` (OpenAI, Ollama,
//! vLLM, llama.cpp).

use std::fmt;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::transport::{self, Decoder};
use crate::{
    ConfigError, FinishReason, LlmError, LlmEvent, LlmProvider, LlmRequest, LlmRole, LlmStream,
    Redacted, Timeouts,
};

/// A model behind an OpenAI-compatible endpoint. The key, when set, is sent as a bearer
/// token; local servers such as Ollama need none.
pub struct OpenAiCompatible {
    http: reqwest::Client,
    url: String,
    model: String,
    key: Option<(String, HeaderValue)>,
    timeouts: Timeouts,
}

impl fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| Redacted))
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatible {
    /// `base_url` is the API root that `/chat/completions` hangs off, e.g.
    /// `https://api.openai.com/v1` or `http://localhost:11434/v1`. A blank key counts as none.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        timeouts: Timeouts,
    ) -> Result<Self, ConfigError> {
        let base = crate::check_base_url(base_url)?;
        let model = model.trim();
        if model.is_empty() || model.chars().any(char::is_control) {
            return Err(ConfigError::InvalidModel {
                model: model.to_owned(),
                reason: "name the model the endpoint serves, e.g. gpt-4o-mini or llama3.2"
                    .to_owned(),
            });
        }
        let key = match api_key.as_deref().map(str::trim) {
            Some(k) if !k.is_empty() => {
                let header = crate::key_header("OpenAI-compatible", &format!("Bearer {k}"))?;
                Some((k.to_owned(), header))
            }
            _ => None,
        };
        Ok(OpenAiCompatible {
            http,
            url: format!("{base}/chat/completions"),
            model: model.to_owned(),
            key,
            timeouts,
        })
    }
}

#[async_trait::async_trait]
impl LlmProvider for OpenAiCompatible {
    fn provider(&self) -> &'static str {
        "openai_compatible"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn stream(&self, req: LlmRequest) -> Result<LlmStream, LlmError> {
        let body = serde_json::to_vec(&request_body(&self.model, &req)).map_err(|e| {
            LlmError::Malformed {
                detail: format!("the request could not be encoded: {e}"),
            }
        })?;
        let build = || {
            let mut rb = self
                .http
                .post(&self.url)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
            if let Some((_, header)) = &self.key {
                rb = rb.header(AUTHORIZATION, header.clone());
            }
            rb
        };
        let secret = self.key.as_ref().map(|(k, _)| k.clone());
        let resp = transport::send(build, self.timeouts, classify)
            .await
            .map_err(|e| match &secret {
                Some(k) => e.redact(k),
                None => e,
            })?;
        Ok(transport::events(
            resp,
            self.timeouts,
            OpenAiDecoder::default(),
            secret,
        ))
    }
}

#[derive(Serialize)]
struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    /// `max_tokens` rather than `max_completion_tokens`: the one every compatible server
    /// reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

fn request_body<'a>(model: &'a str, req: &'a LlmRequest) -> RequestBody<'a> {
    let system = (!req.system.trim().is_empty()).then(|| Message {
        role: "system",
        content: &req.system,
    });
    let turns = req.messages.iter().map(|m| Message {
        role: match m.role {
            LlmRole::User => "user",
            LlmRole::Assistant => "assistant",
        },
        content: &m.text,
    });
    RequestBody {
        model,
        messages: system.into_iter().chain(turns).collect(),
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        temperature: req.temperature,
        max_tokens: req.max_output_tokens,
    }
}

/// `{"error": {"message", "type", "param", "code"}}`; some servers send a bare string.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: serde_json::Value,
}

fn error_message(error: &serde_json::Value) -> String {
    let text = match error {
        serde_json::Value::String(s) => s.as_str(),
        other => other.get("message").and_then(|m| m.as_str()).unwrap_or(""),
    };
    transport::tidy(text, || "no message".to_owned())
}

fn classify(status: u16, headers: &HeaderMap, body: &str) -> LlmError {
    let message = match serde_json::from_str::<ErrorEnvelope>(body) {
        Ok(env) => error_message(&env.error),
        Err(_) => transport::body_snippet(status, body),
    };
    transport::by_status(status, headers, message)
}

#[derive(Deserialize)]
struct Chunk {
    /// Empty or null on the usage chunk.
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Option<u32>,
    #[serde(default)]
    completion_tokens: Option<u32>,
}

/// The answer is complete once a `finish_reason` arrived; usage follows in its own chunk,
/// then `[DONE]`.
#[derive(Default)]
struct OpenAiDecoder {
    finish: Option<FinishReason>,
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
}

impl OpenAiDecoder {
    fn done(&self, finish: FinishReason) -> LlmEvent {
        LlmEvent::Done {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            finish,
        }
    }
}

impl Decoder for OpenAiDecoder {
    fn data(&mut self, data: &str) -> Vec<Result<LlmEvent, LlmError>> {
        if data.trim() == "[DONE]" {
            // A server that skips finish_reason but says [DONE] still finished normally.
            return vec![Ok(self.done(self.finish.unwrap_or(FinishReason::Stop)))];
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                return vec![Err(LlmError::Malformed {
                    detail: format!("a chunk from the endpoint is not valid JSON ({e})"),
                })];
            }
        };
        if let Some(error) = chunk.error {
            return vec![Err(LlmError::Unavailable {
                status: None,
                message: error_message(&error),
            })];
        }
        if let Some(u) = chunk.usage {
            self.input_tokens = u.prompt_tokens.or(self.input_tokens);
            self.output_tokens = u.completion_tokens.or(self.output_tokens);
        }
        let mut out = Vec::new();
        let Some(choice) = chunk.choices.and_then(|c| c.into_iter().next()) else {
            return out;
        };
        if let Some(text) = choice.delta.and_then(|d| d.content)
            && !text.is_empty()
        {
            out.push(Ok(LlmEvent::Text(text)));
        }
        match choice.finish_reason.as_deref() {
            None => {}
            Some("length") => self.finish = Some(FinishReason::Length),
            Some("content_filter") => out.push(Err(LlmError::Blocked {
                reason: "the answer was stopped: content_filter".to_owned(),
            })),
            // stop, and tool calls we never ask for.
            Some(_) => self.finish = Some(FinishReason::Stop),
        }
        out
    }

    fn settled(&self) -> Option<LlmEvent> {
        self.finish.map(|f| self.done(f))
    }

    fn truncated(&self) -> String {
        "the stream ended before the endpoint said the answer was finished".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LlmMessage;

    #[test]
    fn body_has_system_first_and_asks_for_usage() {
        let req = LlmRequest {
            system: "Be brief.".into(),
            messages: vec![LlmMessage::user("Hi"), LlmMessage::assistant("Hello")],
            temperature: Some(0.25),
            max_output_tokens: Some(64),
        };
        let v = serde_json::to_value(request_body("gpt-x", &req)).unwrap();
        assert_eq!(v["model"], "gpt-x");
        assert_eq!(v["messages"][0]["role"], "system");
        assert_eq!(v["messages"][0]["content"], "Be brief.");
        assert_eq!(v["messages"][2]["role"], "assistant");
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["temperature"], 0.25);
        assert_eq!(v["max_tokens"], 64);

        let bare = LlmRequest {
            messages: vec![LlmMessage::user("Hi")],
            ..Default::default()
        };
        let v = serde_json::to_value(request_body("m", &bare)).unwrap();
        assert_eq!(v["messages"].as_array().unwrap().len(), 1);
        assert!(v.get("temperature").is_none() && v.get("max_tokens").is_none());
    }

    #[test]
    fn finish_without_done_marker_settles() {
        let mut d = OpenAiDecoder::default();
        assert!(d.settled().is_none());
        let out = d.data(r#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#);
        assert!(out.is_empty());
        assert_eq!(
            d.settled(),
            Some(LlmEvent::Done {
                input_tokens: None,
                output_tokens: None,
                finish: FinishReason::Length
            })
        );
    }

    #[test]
    fn errors_read_both_shapes() {
        let h = HeaderMap::new();
        let e = classify(404, &h, r#"{"error":"model 'x' not found"}"#);
        assert_eq!(
            e,
            LlmError::Rejected {
                status: 404,
                message: "model 'x' not found".into()
            }
        );
        let e = classify(502, &h, "<html>Bad gateway</html>");
        assert!(
            matches!(
                e,
                LlmError::Unavailable {
                    status: Some(502),
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
