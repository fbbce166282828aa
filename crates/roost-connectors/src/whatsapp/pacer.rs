//! Pacing of one business number's messages: about one message per 6 s to the same client
//! (faster bursts get 131056) and a throughput ceiling in messages per second (130429).
//!
//! Pure and clock-injected: the sender asks [`Pacer::next_allowed`], sends when that time
//! has come, and then calls [`Pacer::record`]. A rate-limit answer becomes a
//! [`Pacer::hold`].

use std::collections::{HashMap, VecDeque};

use crate::Millis;

/// The gap kept between two messages to the same client.
pub const RECIPIENT_GAP: Millis = 6_000;
/// The Cloud API's default throughput per business number.
pub const DEFAULT_PER_SECOND: u32 = 80;

#[derive(Debug, Clone)]
pub struct Pacer {
    per_second: usize,
    gap: Millis,
    /// When each client last got a message (or may next get one, after a hold).
    next_to: HashMap<String, Millis>,
    /// Times of the most recent sends, oldest first, at most `per_second` of them.
    recent: VecDeque<Millis>,
    /// No message at all before this (a throughput error).
    held_until: Millis,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(DEFAULT_PER_SECOND)
    }
}

impl Pacer {
    /// `per_second` is the number's throughput (at least 1).
    pub fn new(per_second: u32) -> Self {
        Pacer::with_gap(per_second, RECIPIENT_GAP)
    }

    pub fn with_gap(per_second: u32, gap: Millis) -> Self {
        let per_second = per_second.max(1) as usize;
        Pacer {
            per_second,
            gap: gap.max(0),
            next_to: HashMap::new(),
            recent: VecDeque::with_capacity(per_second),
            held_until: Millis::MIN,
        }
    }

    /// The earliest time, not before `now`, a message to `recipient` may go.
    pub fn next_allowed(&self, recipient: &str, now: Millis) -> Millis {
        let key = key(recipient);
        let by_recipient = self.next_to.get(&key).copied().unwrap_or(Millis::MIN);
        // With `per_second` sends in the last second, the next waits until the oldest of
        // them is a full second old.
        let by_throughput = if self.recent.len() >= self.per_second {
            self.recent[self.recent.len() - self.per_second].saturating_add(1000)
        } else {
            Millis::MIN
        };
        now.max(by_recipient)
            .max(by_throughput)
            .max(self.held_until)
    }

    /// Notes a message sent to `recipient` at `at`.
    pub fn record(&mut self, recipient: &str, at: Millis) {
        let pos = self.recent.partition_point(|&t| t <= at);
        self.recent.insert(pos, at);
        while self.recent.len() > self.per_second {
            self.recent.pop_front();
        }
        let next = at.saturating_add(self.gap);
        let slot = self.next_to.entry(key(recipient)).or_insert(next);
        *slot = (*slot).max(next);
        // Forget clients whose gap has passed, so the map stays small.
        if self.next_to.len() > 4 * self.per_second + 64 {
            self.next_to.retain(|_, &mut t| t > at);
        }
    }

    /// Holds messages until `until`: to one client after 131056, to everyone after 130429.
    pub fn hold(&mut self, recipient: Option<&str>, until: Millis) {
        match recipient {
            Some(r) => {
                let slot = self.next_to.entry(key(r)).or_insert(until);
                *slot = (*slot).max(until);
            }
            None => self.held_until = self.held_until.max(until),
        }
    }
}

/// The same client however the number was written.
fn key(recipient: &str) -> String {
    super::normalize_number(recipient).unwrap_or_else(|| recipient.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_700_000_000_000;

    #[test]
    fn same_recipient_waits_six_seconds() {
        let mut p = Pacer::default();
        assert_eq!(p.next_allowed("+971 50 111 2222", T0), T0);
        p.record("+971 50 111 2222", T0);
        // The same number written differently is the same client.
        assert_eq!(p.next_allowed("971501112222", T0 + 1), T0 + 6_000);
        assert_eq!(p.next_allowed("971501112222", T0 + 7_000), T0 + 7_000);
        // Another client is not held back.
        assert_eq!(p.next_allowed("971503334444", T0 + 1), T0 + 1);
    }

    #[test]
    fn throughput_allows_a_burst_then_waits_for_the_window() {
        let mut p = Pacer::with_gap(3, 0);
        for (i, r) in ["1111111", "2222222", "3333333"].iter().enumerate() {
            let at = T0 + i as Millis * 10;
            assert_eq!(p.next_allowed(r, at), at);
            p.record(r, at);
        }
        // The 4th message in this second waits until the 1st is a second old.
        assert_eq!(p.next_allowed("4444444", T0 + 30), T0 + 1_000);
        p.record("4444444", T0 + 1_000);
        // Then the 5th until the 2nd is a second old.
        assert_eq!(p.next_allowed("5555555", T0 + 1_000), T0 + 1_010);
    }

    #[test]
    fn default_throughput_is_80_per_second() {
        let mut p = Pacer::default();
        for i in 0..80 {
            let r = format!("97150{i:07}");
            assert_eq!(p.next_allowed(&r, T0), T0, "message {i}");
            p.record(&r, T0);
        }
        assert_eq!(p.next_allowed("971509999999", T0), T0 + 1_000);
    }

    #[test]
    fn out_of_order_records_keep_the_window_right() {
        let mut p = Pacer::with_gap(2, 0);
        p.record("1111111", T0 + 500);
        p.record("2222222", T0);
        assert_eq!(p.next_allowed("3333333", T0 + 600), T0 + 1_000);
    }

    #[test]
    fn holds_apply_to_one_client_or_all() {
        let mut p = Pacer::default();
        p.hold(Some("971501112222"), T0 + 6_000);
        assert_eq!(p.next_allowed("+971501112222", T0), T0 + 6_000);
        assert_eq!(p.next_allowed("971503334444", T0), T0);
        p.hold(None, T0 + 2_000);
        assert_eq!(p.next_allowed("971503334444", T0), T0 + 2_000);
        // A record never shortens a hold.
        p.record("971501112222", T0 - 5_000);
        assert_eq!(p.next_allowed("971501112222", T0), T0 + 6_000);
    }

    #[test]
    fn the_recipient_map_is_pruned() {
        let mut p = Pacer::with_gap(1, 10);
        for i in 0..1_000 {
            p.record(&format!("97150{i:07}"), T0 + i * 100);
        }
        assert!(p.next_to.len() <= 4 + 64 + 1, "{}", p.next_to.len());
    }
}
