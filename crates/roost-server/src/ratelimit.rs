//! Sign-in throttling per account and per client address (GCRA, via `governor`).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct LoginLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl LoginLimiter {
    pub fn new(per_account_per_minute: u32, per_ip_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"));
        LoginLimiter {
            per_account: RateLimiter::keyed(quota(per_account_per_minute)),
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(seconds to wait)` when either budget is spent. Both are charged on every attempt.
    pub fn check(&self, account: &str, ip: Option<&str>) -> Result<(), u64> {
        self.forget_idle();
        let wait = |r: Result<(), governor::NotUntil<_>>| {
            r.err()
                .map(|nu| nu.wait_time_from(self.clock.now()).as_secs().max(1))
        };
        let ip_wait = ip.and_then(|ip| wait(self.per_ip.check_key(&ip.to_string())));
        let account_wait = wait(self.per_account.check_key(&account.to_string()));
        match ip_wait.max(account_wait) {
            Some(secs) => Err(secs),
            None => Ok(()),
        }
    }

    fn forget_idle(&self) {
        // Bound memory under a spray of distinct keys.
        if self.per_account.len() > 50_000 {
            self.per_account.retain_recent();
        }
        if self.per_ip.len() > 50_000 {
            self.per_ip.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_budget_is_separate_per_account() {
        let l = LoginLimiter::new(2, 100);
        assert!(l.check("acme\na@x.co", Some("1.2.3.4")).is_ok());
        assert!(l.check("acme\na@x.co", Some("1.2.3.4")).is_ok());
        let wait = l.check("acme\na@x.co", Some("1.2.3.4")).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(l.check("acme\nb@x.co", Some("1.2.3.4")).is_ok());
    }

    #[test]
    fn ip_budget_spans_accounts() {
        let l = LoginLimiter::new(100, 2);
        assert!(l.check("a", Some("9.9.9.9")).is_ok());
        assert!(l.check("b", Some("9.9.9.9")).is_ok());
        assert!(l.check("c", Some("9.9.9.9")).is_err());
        assert!(l.check("c", Some("8.8.8.8")).is_ok());
    }
}
