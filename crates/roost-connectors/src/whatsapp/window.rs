//! The 24-hour customer-service window: after a client's last message, a business may send
//! free-form messages for 24 hours; outside it, only approved templates.

use crate::Millis;

/// How long a client's message keeps the window open.
pub const SERVICE_WINDOW: Millis = 24 * 60 * 60 * 1000;

/// Free-form messages are not started this close to the window's end when a template can
/// go instead: a queued or paced message may arrive after the window closed.
pub const WINDOW_MARGIN: Millis = 60 * 1000;

/// Whether the window opened by `last_inbound` (the client's last message, from the
/// webhook) is still open at `now`.
pub fn window_open(last_inbound: Option<Millis>, now: Millis) -> bool {
    matches!(last_inbound, Some(t) if now.saturating_sub(t) < SERVICE_WINDOW)
}

/// What to send to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The window is open: the message as the agent wrote it.
    FreeForm,
    /// The window is closed or closing: the tenant's approved template.
    Template,
    /// The window is closed and the tenant has no template: the agent must wait for the
    /// client to write, or an admin must add a template.
    TemplateNeeded,
}

/// Decides free-form vs template at `now`, given whether the tenant has an approved
/// template for this kind of message.
pub fn choose(last_inbound: Option<Millis>, now: Millis, template_available: bool) -> Choice {
    let closes = last_inbound.map(|t| t.saturating_add(SERVICE_WINDOW));
    match closes {
        Some(end) if now < end.saturating_sub(WINDOW_MARGIN) => Choice::FreeForm,
        // Closing soon and nothing better to send: try while it is still open.
        Some(end) if now < end && !template_available => Choice::FreeForm,
        _ if template_available => Choice::Template,
        _ => Choice::TemplateNeeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_700_000_000_000;
    const H: Millis = 3_600_000;

    #[test]
    fn window_is_24_hours_from_the_last_inbound_message() {
        assert!(!window_open(None, NOW));
        assert!(window_open(Some(NOW), NOW));
        assert!(window_open(Some(NOW - 23 * H), NOW));
        assert!(window_open(Some(NOW - SERVICE_WINDOW + 1), NOW));
        assert!(!window_open(Some(NOW - SERVICE_WINDOW), NOW));
        assert!(!window_open(Some(NOW - 48 * H), NOW));
        // A webhook timestamp slightly ahead of our clock still counts as open.
        assert!(window_open(Some(NOW + 5_000), NOW));
    }

    #[test]
    fn choice_follows_the_window_with_a_margin() {
        assert_eq!(choose(Some(NOW - H), NOW, true), Choice::FreeForm);
        assert_eq!(choose(Some(NOW - H), NOW, false), Choice::FreeForm);
        assert_eq!(choose(None, NOW, true), Choice::Template);
        assert_eq!(choose(None, NOW, false), Choice::TemplateNeeded);
        assert_eq!(choose(Some(NOW - 25 * H), NOW, true), Choice::Template);
        assert_eq!(
            choose(Some(NOW - 25 * H), NOW, false),
            Choice::TemplateNeeded
        );
        // 30 s before the window closes: a template when there is one, else still try.
        let closing = NOW - SERVICE_WINDOW + 30_000;
        assert_eq!(choose(Some(closing), NOW, true), Choice::Template);
        assert_eq!(choose(Some(closing), NOW, false), Choice::FreeForm);
    }
}
