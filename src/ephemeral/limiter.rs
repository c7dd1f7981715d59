//! Attempt limiting: one atomic primitive in both stores, the policies on top.
//!
//! [`Counter::hit`] counts an attempt *before* it is checked and, in the same atomic
//! step, blocks the key once the free attempts are spent, so N parallel requests cannot
//! get more than the budget's worth of guesses. A success resets (or forgives) the count.

use serde::Serialize;

/// How a key's attempts are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Attempts within `window` that go through without delay.
    pub free: u32,
    /// Seconds after the first attempt that the count lives.
    pub window: i64,
    /// Block after an attempt beyond `free`: `base * 2^(n - free - 1)` seconds, at most `max`.
    pub base: i64,
    pub max: i64,
}

impl Rule {
    /// The block that attempt number `count` starts (0 when it is free).
    pub fn block_for(&self, count: u32) -> i64 {
        if count <= self.free {
            return 0;
        }
        let doublings = (count - self.free - 1).min(40);
        self.base.saturating_mul(1i64 << doublings).min(self.max)
    }
}

/// The answer to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Go ahead; this is attempt number `count` in the window, and `blocked_until`
    /// (when non-zero) is the block this attempt started.
    Allowed { count: u32, blocked_until: i64 },
    /// Refused without a check; retry after this many seconds.
    Refused { retry_after: i64 },
}

/// The stored state of a key: the count, when its window started, and any block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct CounterState {
    pub count: u32,
    pub start: i64,
    pub blocked_until: i64,
}

/// The pure step both stores perform atomically.
pub fn step(state: Option<CounterState>, rule: &Rule, now: i64) -> (CounterState, Decision) {
    let mut state = state.unwrap_or(CounterState { count: 0, start: now, blocked_until: 0 });
    if state.blocked_until > now {
        return (state, Decision::Refused { retry_after: state.blocked_until - now });
    }
    if now >= state.start + rule.window {
        state = CounterState { count: 0, start: now, blocked_until: 0 };
    }
    state.count += 1;
    let block = rule.block_for(state.count);
    state.blocked_until = if block > 0 { now + block } else { 0 };
    (state, Decision::Allowed { count: state.count, blocked_until: state.blocked_until })
}

/// Seconds a key must be kept: its window or its block, whichever ends later.
pub fn keep_for(state: &CounterState, rule: &Rule, now: i64) -> u64 {
    let end = (state.start + rule.window).max(state.blocked_until);
    u64::try_from((end - now).max(1)).unwrap_or(1)
}

/// The budgets, configurable; defaults as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per (tenant, username) from browsers not known to that user, whatever their
    /// address: 20 free, then 1 s, 2 s, 4 s … up to 15 min between attempts.
    pub password_user: Rule,
    /// Per (tenant, username, client address) from unknown browsers: 5 free, then the
    /// same doubling delays.
    pub password_user_ip: Rule,
    /// Per device cookie (a browser that signed in as the user before): its own 5 free,
    /// then the same delays — a stranger's failures elsewhere never reach it.
    pub password_device: Rule,
    /// Per client IP: 100 password failures per 15 min.
    pub password_ip: Rule,
    /// Per user: the 5th wrong code within 15 min locks the TOTP step for 15 min.
    pub totp_user: Rule,
    /// Per client IP: 600 new sign-ins (login flows) per 10 min, so that unauthenticated
    /// `GET /authorize` cannot fill the flow store.
    pub flow_starts: Rule,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            password_user: Rule { free: 20, window: 24 * 3600, base: 1, max: 900 },
            password_user_ip: Rule { free: 5, window: 24 * 3600, base: 1, max: 900 },
            password_device: Rule { free: 5, window: 24 * 3600, base: 1, max: 900 },
            password_ip: Rule { free: 99, window: 900, base: 900, max: 900 },
            totp_user: Rule { free: 4, window: 900, base: 900, max: 900 },
            flow_starts: Rule { free: 599, window: 600, base: 600, max: 600 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_delays_grow_after_five_and_cap() {
        let rule = Limits::default().password_user_ip;
        let delays: Vec<i64> = (1..=17).map(|n| rule.block_for(n)).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(rule.block_for(u32::MAX), 900);
    }

    #[test]
    fn attempts_are_counted_before_they_are_checked() {
        let rule = Limits::default().totp_user;
        let mut state = None;
        let mut allowed = 0;
        // Twenty attempts at the same instant: exactly five go through.
        for _ in 0..20 {
            let (next, decision) = step(state, &rule, 1000);
            state = Some(next);
            if matches!(decision, Decision::Allowed { .. }) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5);
        let (_, decision) = step(state, &rule, 1000 + 899);
        assert_eq!(decision, Decision::Refused { retry_after: 1 });
        let (after, decision) = step(state, &rule, 1000 + 900);
        assert_eq!(
            decision,
            Decision::Allowed { count: 1, blocked_until: 0 },
            "the lock ends, the window too"
        );
        assert_eq!(keep_for(&after, &rule, 1900), 900);
    }

    #[test]
    fn the_ip_budget_is_a_hundred_per_window() {
        let rule = Limits::default().password_ip;
        let mut state = None;
        for n in 1..=100 {
            let (next, decision) = step(state, &rule, 0);
            assert!(matches!(decision, Decision::Allowed { .. }), "{n}");
            state = Some(next);
        }
        assert_eq!(step(state, &rule, 10).1, Decision::Refused { retry_after: 890 });
    }
}

/// The kinds of budget, named by the second part of their keys (`attempts:<kind>:…`).
pub const BUDGETS: [&str; 7] = ["pw", "pwip", "ip", "totp", "flows", "flow", "other"];

/// How many attempts each kind of budget refused since start, for the metrics.
#[derive(Debug, Default)]
pub struct Refusals {
    counts: [std::sync::atomic::AtomicU64; BUDGETS.len()],
}

impl Refusals {
    /// Counts a refusal of the budget `key`.
    pub fn count(&self, key: &str) {
        let kind = key.strip_prefix("attempts:").and_then(|rest| rest.split(':').next()).unwrap_or("");
        let at = BUDGETS.iter().position(|b| *b == kind).unwrap_or(BUDGETS.len() - 1);
        self.counts[at].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Each kind of budget and its refusals.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        BUDGETS
            .iter()
            .zip(&self.counts)
            .map(|(kind, count)| (*kind, count.load(std::sync::atomic::Ordering::Relaxed)))
            .collect()
    }
}
