//! One question and its answer on the chat screen, fed by the shell's `roost://chat` events
//! (start, tokens, sources, then done or error) or read back from a stored conversation.

use roost_api::chat::{
    ChatErrorCode, ChatEvent, ChatMessage, Citation, Conversation, MessageAuthor, MessageStatus,
    Rating, SourceKind,
};
use roost_api::users::Role;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Sent; nothing back yet.
    Asking,
    Streaming,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `None` for a stored failure or a command that did not go through.
    pub code: Option<ChatErrorCode>,
    pub message: String,
    pub retry_after_s: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub question: String,
    /// The shell's id for a live turn (from `chat_ask`); `None` for stored ones.
    pub turn: Option<Uuid>,
    /// Answered on the device from its cache.
    pub offline: bool,
    /// The server conversation; `None` for offline answers (nil on the wire).
    pub conversation_id: Option<Uuid>,
    /// The stored answer, which feedback is about.
    pub message_id: Option<Uuid>,
    pub role: Option<Role>,
    pub text: String,
    pub citations: Vec<Citation>,
    pub phase: Phase,
    pub failure: Option<Failure>,
    pub rating: Option<Rating>,
    pub provider: Option<String>,
}

impl Turn {
    pub fn asking(question: &str) -> Turn {
        Turn {
            question: question.to_string(),
            turn: None,
            offline: false,
            conversation_id: None,
            message_id: None,
            role: None,
            text: String::new(),
            citations: Vec::new(),
            phase: Phase::Asking,
            failure: None,
            rating: None,
            provider: None,
        }
    }

    /// Still waiting for words or for the end.
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Asking | Phase::Streaming)
    }

    /// Thumbs are for finished answers the server stored.
    pub fn can_rate(&self) -> bool {
        self.phase == Phase::Done && !self.offline && self.message_id.is_some()
    }

    /// One step of the answer. Steps after the end (done or error) change nothing.
    pub fn apply(&mut self, offline: bool, event: ChatEvent) {
        if !self.is_open() {
            return;
        }
        self.offline |= offline;
        match event {
            ChatEvent::Start {
                conversation_id,
                message_id,
                role,
            } => {
                self.conversation_id = (!conversation_id.is_nil()).then_some(conversation_id);
                self.message_id = (!message_id.is_nil()).then_some(message_id);
                self.role = Some(role);
                self.phase = Phase::Streaming;
            }
            ChatEvent::Token { text } => {
                self.text.push_str(&text);
                self.phase = Phase::Streaming;
            }
            ChatEvent::Sources { mut citations } => {
                citations.sort_by_key(|c| c.n);
                self.citations = citations;
            }
            ChatEvent::Done { usage } => {
                self.provider = Some(usage.provider);
                self.phase = Phase::Done;
            }
            ChatEvent::Error {
                code,
                message,
                retry_after_s,
            } => self.fail(Failure {
                code: Some(code),
                message,
                retry_after_s,
            }),
        }
    }

    pub fn fail(&mut self, failure: Failure) {
        self.failure = Some(failure);
        self.phase = Phase::Failed;
    }

    pub fn citation(&self, n: u32) -> Option<&Citation> {
        self.citations.iter().find(|c| c.n == n)
    }
}

/// A stored conversation as turns: each question with the answer that follows it.
pub fn from_conversation(c: &Conversation) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for m in &c.messages {
        match m.author {
            MessageAuthor::User => turns.push(Turn::asking(&m.text)),
            MessageAuthor::Assistant => {
                let open = turns.last().is_some_and(Turn::is_open);
                if !open {
                    turns.push(Turn::asking(""));
                }
                if let Some(t) = turns.last_mut() {
                    answer(t, c.id, m);
                }
            }
        }
    }
    for t in turns.iter_mut().filter(|t| t.is_open()) {
        t.conversation_id = Some(c.id);
        t.fail(stored_failure("No answer was stored for this question."));
    }
    turns
}

fn answer(t: &mut Turn, conversation: Uuid, m: &ChatMessage) {
    t.conversation_id = Some(conversation);
    t.message_id = Some(m.id);
    t.text = m.text.clone();
    t.citations = m.citations.clone();
    t.citations.sort_by_key(|c| c.n);
    t.rating = m.rating;
    t.provider = m.provider.clone();
    t.offline = m.provider.as_deref() == Some("offline");
    match m.status {
        MessageStatus::Complete => t.phase = Phase::Done,
        MessageStatus::Failed => t.fail(stored_failure(
            m.error
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .unwrap_or("This answer failed."),
        )),
        MessageStatus::Streaming => t.fail(stored_failure("This answer was not finished.")),
    }
}

fn stored_failure(message: &str) -> Failure {
    Failure {
        code: None,
        message: message.to_string(),
        retry_after_s: None,
    }
}

/// What went wrong, in words: the shell's sentence, else one for the code.
pub fn failure_words(f: &Failure) -> String {
    let message = f.message.trim();
    if !message.is_empty() {
        return message.to_string();
    }
    match f.code {
        Some(ChatErrorCode::Timeout) => "The answer took too long.",
        Some(ChatErrorCode::RateLimited) => "Too many questions at once right now.",
        Some(ChatErrorCode::ProviderUnavailable) => "The answering service could not be reached.",
        Some(ChatErrorCode::ProviderAuth) => {
            "The answering service refused the company's key; an admin needs to check it."
        }
        Some(ChatErrorCode::MalformedStream) => "The answer could not be read.",
        Some(ChatErrorCode::Blocked) => "The answering service declined this question.",
        Some(ChatErrorCode::Internal) | None => "Something went wrong while answering.",
    }
    .to_string()
}

/// `12 s`, `2 min`: how long to wait before asking again.
pub fn wait_words(seconds: u64) -> String {
    if seconds < 90 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds.div_ceil(60))
    }
}

/// What a cited source is, for people.
pub fn kind_label(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Listing => "Listing",
        SourceKind::MarketIntelligence => "Market figures",
        SourceKind::AgentResource => "Agent resource",
        SourceKind::Document => "Document",
        SourceKind::Employee => "Team profile",
        SourceKind::Client => "Client",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roost_api::chat::Usage;

    fn cite(n: u32, kind: SourceKind) -> Citation {
        Citation {
            n,
            kind,
            id: Uuid::from_u128(u128::from(n)),
            title: format!("Source {n}"),
            shared: false,
        }
    }

    fn start(conversation: Uuid) -> ChatEvent {
        ChatEvent::Start {
            conversation_id: conversation,
            message_id: Uuid::from_u128(7),
            role: Role::Agent,
        }
    }

    fn token(s: &str) -> ChatEvent {
        ChatEvent::Token { text: s.into() }
    }

    fn done() -> ChatEvent {
        ChatEvent::Done {
            usage: Usage {
                provider: "grounded".into(),
                ..Usage::default()
            },
        }
    }

    #[test]
    fn an_answer_streams_then_ends() {
        let mut t = Turn::asking("3 bed villas");
        assert!(t.is_open() && t.phase == Phase::Asking);
        t.apply(false, start(Uuid::from_u128(1)));
        assert_eq!(t.phase, Phase::Streaming);
        assert_eq!(t.conversation_id, Some(Uuid::from_u128(1)));
        t.apply(false, token("Two "));
        t.apply(false, token("villas [2] [1]."));
        t.apply(
            false,
            ChatEvent::Sources {
                citations: vec![cite(2, SourceKind::Document), cite(1, SourceKind::Listing)],
            },
        );
        assert!(!t.can_rate());
        t.apply(false, done());
        assert_eq!(t.text, "Two villas [2] [1].");
        assert_eq!(t.phase, Phase::Done);
        assert_eq!(t.citations[0].n, 1, "sources are listed by number");
        assert_eq!(t.citation(2).map(|c| c.kind), Some(SourceKind::Document));
        assert!(t.can_rate());
        assert_eq!(t.provider.as_deref(), Some("grounded"));
        // Nothing moves an ended answer.
        t.apply(false, token(" more"));
        assert_eq!(t.text, "Two villas [2] [1].");
    }

    #[test]
    fn errors_end_the_answer_at_any_point() {
        let mut t = Turn::asking("q");
        t.apply(false, start(Uuid::from_u128(1)));
        t.apply(false, token("Half"));
        t.apply(
            false,
            ChatEvent::Error {
                code: ChatErrorCode::RateLimited,
                message: String::new(),
                retry_after_s: Some(30),
            },
        );
        assert_eq!(t.phase, Phase::Failed);
        let f = t.failure.clone().unwrap();
        assert_eq!(f.retry_after_s, Some(30));
        assert_eq!(failure_words(&f), "Too many questions at once right now.");
        t.apply(false, done());
        assert_eq!(t.phase, Phase::Failed);
        assert!(!t.can_rate());
    }

    #[test]
    fn offline_answers_have_no_conversation_and_no_thumbs() {
        let mut t = Turn::asking("q");
        t.apply(true, start(Uuid::nil()));
        t.apply(true, token("From the cache."));
        t.apply(true, done());
        assert!(t.offline);
        assert_eq!(t.conversation_id, None);
        assert!(!t.can_rate());
    }

    fn message(author: MessageAuthor, text: &str, status: MessageStatus) -> ChatMessage {
        ChatMessage {
            id: Uuid::from_u128(text.len() as u128 + 100),
            author,
            text: text.into(),
            citations: vec![],
            status,
            error: None,
            provider: Some("grounded".into()),
            rating: Some(Rating::Up),
            created_at: 0,
        }
    }

    #[test]
    fn stored_conversations_pair_questions_with_answers() {
        let mut failed = message(MessageAuthor::Assistant, "partial", MessageStatus::Failed);
        failed.error = Some("The provider timed out.".into());
        let c = Conversation {
            id: Uuid::from_u128(9),
            title: "Villas".into(),
            messages: vec![
                message(MessageAuthor::User, "villas?", MessageStatus::Complete),
                message(
                    MessageAuthor::Assistant,
                    "Two [1].",
                    MessageStatus::Complete,
                ),
                message(MessageAuthor::User, "and flats?", MessageStatus::Complete),
                failed,
                message(MessageAuthor::User, "lost", MessageStatus::Complete),
            ],
            created_at: 0,
            updated_at: 0,
        };
        let turns = from_conversation(&c);
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0].question, "villas?");
        assert_eq!(turns[0].phase, Phase::Done);
        assert_eq!(turns[0].rating, Some(Rating::Up));
        assert!(turns[0].can_rate());
        assert_eq!(turns[1].phase, Phase::Failed);
        assert_eq!(
            failure_words(turns[1].failure.as_ref().unwrap()),
            "The provider timed out."
        );
        assert_eq!(turns[2].phase, Phase::Failed);
        assert_eq!(turns[2].conversation_id, Some(c.id));
    }

    #[test]
    fn waits_read_as_seconds_then_minutes() {
        assert_eq!(wait_words(12), "12 s");
        assert_eq!(wait_words(89), "89 s");
        assert_eq!(wait_words(121), "3 min");
    }
}
