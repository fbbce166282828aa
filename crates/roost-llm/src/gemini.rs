//! Google Gemini over its REST API: `models/{model}:streamGenerateContent?alt=sse`.

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::transport::{self, Decoder};
use crate::{
    ConfigError, FinishReason, LlmError, LlmEvent, LlmProvider, LlmRequest, LlmRole, LlmStream,
    Redacted, Timeouts,
};

const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
const KEY_HEADER: &str = "x-goog-api-key";

/// A Gemini model. The key travels in the `x-goog-api-key` header, never in the URL, so
/// it stays out of logs that record URLs.
pub struct Gemini {
    http: reqwest::Client,
    url: String,
    model: String,
    key: String,
    key_header: HeaderValue,
    timeouts: Timeouts,
}

impl fmt::Debug for Gemini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gemini")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &Redacted)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Gemini {
    /// `base_url` defaults to Google's endpoint; `model` may carry the `models/` prefix.
    pub fn new(
        http: reqwest::Client,
        base_url: Option<&str>,
        model: &str,
        api_key: String,
        timeouts: Timeouts,
    ) -> Result<Self, ConfigError> {
        let base = crate::check_base_url(base_url.unwrap_or(DEFAULT_BASE_URL))?;
        // The API version is ours to add; tolerate a base URL that already names it.
        let base = base.strip_suffix("/v1beta").unwrap_or(&base);
        let model = check_model(model)?;
        let key = api_key.trim().to_owned();
        if key.is_empty() {
            return Err(ConfigError::MissingKey { provider: "Gemini" });
        }
        let key_header = crate::key_header("Gemini", &key)?;
        let url = format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse");
        Ok(Gemini {
            http,
            url,
            model,
            key,
            key_header,
            timeouts,
        })
    }
}

/// Model ids go into the URL path, so only the characters Google's ids use are allowed.
fn check_model(raw: &str) -> Result<String, ConfigError> {
    let model = raw.trim();
    let model = model.strip_prefix("models/").unwrap_or(model);
    let ok = !model.is_empty()
        && model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if ok {
        Ok(model.to_owned())
    } else {
        Err(ConfigError::InvalidModel {
            model: raw.to_owned(),
            reason: "use a Gemini model id such as gemini-2.5-flash".to_owned(),
        })
    }
}

#[async_trait::async_trait]
impl LlmProvider for Gemini {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn stream(&self, req: LlmRequest) -> Result<LlmStream, LlmError> {
        let body =
            serde_json::to_vec(&RequestBody::from(&req)).map_err(|e| LlmError::Malformed {
                detail: format!("the request could not be encoded: {e}"),
            })?;
        let build = || {
            self.http
                .post(&self.url)
                .header(KEY_HEADER, self.key_header.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
        };
        let resp = transport::send(build, self.timeouts, classify)
            .await
            .map_err(|e| e.redact(&self.key))?;
        Ok(transport::events(
            resp,
            self.timeouts,
            GeminiDecoder::default(),
            Some(self.key.clone()),
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Content<'a>>,
    contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig,
}

#[derive(Serialize)]
struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    parts: [TextPart<'a>; 1],
}

#[derive(Serialize)]
struct TextPart<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
}

impl GenerationConfig {
    fn is_empty(&self) -> bool {
        self.temperature.is_none() && self.max_output_tokens.is_none()
    }
}

impl<'a> From<&'a LlmRequest> for RequestBody<'a> {
    fn from(req: &'a LlmRequest) -> Self {
        let system_instruction = (!req.system.trim().is_empty()).then(|| Content {
            role: None,
            parts: [TextPart { text: &req.system }],
        });
        let contents = req
            .messages
            .iter()
            .map(|m| Content {
                role: Some(match m.role {
                    LlmRole::User => "user",
                    LlmRole::Assistant => "model",
                }),
                parts: [TextPart { text: &m.text }],
            })
            .collect();
        RequestBody {
            system_instruction,
            contents,
            generation_config: GenerationConfig {
                temperature: req.temperature,
                max_output_tokens: req.max_output_tokens,
            },
        }
    }
}

/// `{"error": {...}}`, Google's error shape, in an error body or a stream chunk.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ApiError,
}

#[derive(Deserialize, Default)]
struct ApiError {
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

fn classify(status: u16, headers: &HeaderMap, body: &str) -> LlmError {
    match serde_json::from_str::<ErrorEnvelope>(body) {
        Ok(env) => api_error(status, headers, env.error),
        Err(_) => transport::by_status(status, headers, transport::body_snippet(status, body)),
    }
}

fn api_error(status: u16, headers: &HeaderMap, err: ApiError) -> LlmError {
    let message = transport::tidy(&err.message, || {
        if err.status.is_empty() {
            format!("HTTP {status}")
        } else {
            err.status.clone()
        }
    });
    let detail = |kind: &str, field: &str| {
        err.details.iter().find_map(|d| {
            let ty = d.get("@type")?.as_str()?;
            ty.ends_with(kind)
                .then(|| d.get(field)?.as_str().map(str::to_owned))?
        })
    };
    let reason = detail("google.rpc.ErrorInfo", "reason");
    // Google answers a wrong key with 400 INVALID_ARGUMENT plus this reason.
    if reason.as_deref() == Some("API_KEY_INVALID")
        || matches!(err.status.as_str(), "UNAUTHENTICATED" | "PERMISSION_DENIED")
    {
        return LlmError::Auth { message };
    }
    if status == 429 || err.status == "RESOURCE_EXHAUSTED" {
        let retry_after = detail("google.rpc.RetryInfo", "retryDelay")
            .as_deref()
            .and_then(parse_proto_duration)
            .or_else(|| transport::retry_after_header(headers));
        return LlmError::RateLimited {
            retry_after,
            message,
        };
    }
    transport::by_status(status, headers, message)
}

/// A protobuf `Duration` in JSON: seconds with an `s` suffix, e.g. `"30s"` or `"1.5s"`.
fn parse_proto_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    #[serde(default)]
    candidates: Option<Vec<Candidate>>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    error: Option<ApiError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<CandidateContent>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct CandidateContent {
    #[serde(default)]
    parts: Option<Vec<Part>>,
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    /// Thought summaries are not part of the answer.
    #[serde(default)]
    thought: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Option<u32>,
    #[serde(default)]
    candidates_token_count: Option<u32>,
    #[serde(default)]
    thoughts_token_count: Option<u32>,
}

/// Every chunk repeats the running usage; the chunk with a `finishReason` ends the answer.
#[derive(Default)]
struct GeminiDecoder {
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
}

impl Decoder for GeminiDecoder {
    fn data(&mut self, data: &str) -> Vec<Result<LlmEvent, LlmError>> {
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                return vec![Err(LlmError::Malformed {
                    detail: format!("a chunk from Gemini is not valid JSON ({e})"),
                })];
            }
        };
        if let Some(err) = chunk.error {
            let status = err.code.unwrap_or(500);
            return vec![Err(api_error(status, &HeaderMap::new(), err))];
        }
        if let Some(reason) = chunk.prompt_feedback.and_then(|f| f.block_reason)
            && reason != "BLOCK_REASON_UNSPECIFIED"
        {
            return vec![Err(LlmError::Blocked {
                reason: format!("the question was blocked: {reason}"),
            })];
        }
        if let Some(u) = chunk.usage_metadata {
            self.input_tokens = u.prompt_token_count.or(self.input_tokens);
            // Thinking tokens are billed as output, so they count as output here.
            let output = match (u.candidates_token_count, u.thoughts_token_count) {
                (None, None) => None,
                (c, t) => Some(c.unwrap_or(0).saturating_add(t.unwrap_or(0))),
            };
            self.output_tokens = output.or(self.output_tokens);
        }
        let mut out = Vec::new();
        let Some(candidate) = chunk.candidates.and_then(|c| c.into_iter().next()) else {
            return out;
        };
        let text: String = candidate
            .content
            .and_then(|c| c.parts)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.thought != Some(true))
            .filter_map(|p| p.text)
            .collect();
        if !text.is_empty() {
            out.push(Ok(LlmEvent::Text(text)));
        }
        let finish = match candidate.finish_reason.as_deref() {
            None | Some("FINISH_REASON_UNSPECIFIED") => return out,
            Some("STOP") => FinishReason::Stop,
            Some("MAX_TOKENS") => FinishReason::Length,
            Some(
                r @ ("SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII"
                | "IMAGE_SAFETY" | "LANGUAGE"),
            ) => {
                out.push(Err(LlmError::Blocked {
                    reason: format!("the answer was stopped: {r}"),
                }));
                return out;
            }
            Some(other) => {
                out.push(Err(LlmError::Unavailable {
                    status: None,
                    message: format!("Gemini stopped the answer early ({other})"),
                }));
                return out;
            }
        };
        out.push(Ok(LlmEvent::Done {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            finish,
        }));
        out
    }

    fn settled(&self) -> Option<LlmEvent> {
        // Gemini's end is the finishReason chunk, handled in `data`.
        None
    }

    fn truncated(&self) -> String {
        "the stream ended before Gemini said the answer was finished".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LlmMessage;

    #[test]
    fn body_puts_system_turns_and_config_where_gemini_reads_them() {
        let req = LlmRequest {
            system: "Be brief.".into(),
            messages: vec![LlmMessage::user("Hi"), LlmMessage::assistant("Hello")],
            temperature: Some(0.5),
            max_output_tokens: Some(64),
        };
        let v = serde_json::to_value(RequestBody::from(&req)).unwrap();
        assert_eq!(v["systemInstruction"]["parts"][0]["text"], "Be brief.");
        assert!(v["systemInstruction"].get("role").is_none());
        assert_eq!(v["contents"][0]["role"], "user");
        assert_eq!(v["contents"][1]["role"], "model");
        assert_eq!(v["contents"][1]["parts"][0]["text"], "Hello");
        assert_eq!(v["generationConfig"]["temperature"], 0.5);
        assert_eq!(v["generationConfig"]["maxOutputTokens"], 64);

        let bare = LlmRequest {
            messages: vec![LlmMessage::user("Hi")],
            ..Default::default()
        };
        let v = serde_json::to_value(RequestBody::from(&bare)).unwrap();
        assert!(v.get("systemInstruction").is_none());
        assert!(v.get("generationConfig").is_none());
    }

    #[test]
    fn proto_durations() {
        assert_eq!(parse_proto_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_proto_duration("1.5s"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_proto_duration("30"), None);
        assert_eq!(parse_proto_duration("-1s"), None);
    }

    #[test]
    fn model_ids() {
        assert_eq!(
            check_model("models/gemini-2.5-flash").unwrap(),
            "gemini-2.5-flash"
        );
        assert!(check_model("").is_err());
        assert!(check_model("a/b").is_err());
        assert!(check_model("x?key=1").is_err());
    }

    #[test]
    fn base_url_may_name_the_api_version() {
        let t = Timeouts::default();
        let http = reqwest::Client::new();
        let a = Gemini::new(http.clone(), Some("http://h:1/v1beta/"), "m", "k".into(), t).unwrap();
        let b = Gemini::new(http, None, "m", "k".into(), t).unwrap();
        assert_eq!(
            a.url,
            "http://h:1/v1beta/models/m:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            b.url,
            "https://generativelanguage.googleapis.com/v1beta/models/m:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn thoughts_are_not_answer_text_but_count_as_output() {
        let mut d = GeminiDecoder::default();
        let out = d.data(
            r#"{"candidates":[{"content":{"parts":[{"text":"pondering","thought":true},{"text":"Yes."}]},"finishReason":"STOP"}],
                "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"thoughtsTokenCount":10}}"#,
        );
        assert_eq!(
            out,
            vec![
                Ok(LlmEvent::Text("Yes.".into())),
                Ok(LlmEvent::Done {
                    input_tokens: Some(5),
                    output_tokens: Some(12),
                    finish: FinishReason::Stop
                })
            ]
        );
    }
}
