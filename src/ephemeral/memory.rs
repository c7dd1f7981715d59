//! The in-process store: a mutex-guarded map whose entries expire by the clock's time.
//!
//! It is bounded: expired entries are swept once a minute, and entries made with
//! [`MemoryStore::put_new`] (new login flows, which anyone can start) are capped — the
//! oldest is evicted to make room, so a flood of `GET /authorize` costs a bounded
//! amount of memory and never refuses a new sign-in, and updating a flow already
//! under way never evicts anything.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::limiter::{self, CounterState, Decision, Rule, keep_for};

/// Value and expiry time (Unix seconds) per key.
type Entries = HashMap<String, (Vec<u8>, i64)>;

/// At most this many entries made by `put_new` live at once (login flows: about 1 KiB each).
pub const MAX_NEW_ENTRIES: usize = 50_000;

#[derive(Debug, Default)]
struct State {
    entries: Entries,
    /// Keys made by `put_new` that still exist…
    live_new: HashSet<String>,
    /// …and all of them, oldest first (deleted ones are skipped when met).
    created: VecDeque<String>,
    next_sweep: i64,
}

#[derive(Debug, Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    max_new: usize,
    refusals: Arc<super::limiter::Refusals>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(MAX_NEW_ENTRIES)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that keeps at most `max_new` entries made by [`MemoryStore::put_new`].
    pub fn with_capacity(max_new: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            max_new: max_new.max(1),
            refusals: Arc::default(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Entries) -> T) -> T {
        self.with_state(|state| f(&mut state.entries))
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written entry: every
        // operation is a single map call, so the poisoned map is still consistent.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    /// Drops expired entries, at most once a minute (a sweep is a pass over the map).
    fn sweep(state: &mut State, now: i64) {
        if now < state.next_sweep {
            return;
        }
        state.next_sweep = now + 60;
        state.entries.retain(|_, (_, exp)| *exp > now);
        let entries = &state.entries;
        state.live_new.retain(|key| entries.contains_key(key));
        let live = &state.live_new;
        state.created.retain(|key| live.contains(key));
    }

    fn remove(state: &mut State, key: &str) {
        state.entries.remove(key);
        state.live_new.remove(key);
    }

    /// Stores a new entry under a fresh key, evicting the oldest such entry when
    /// `max_new` of them exist.
    pub fn put_new(&self, key: &str, value: Vec<u8>, ttl_secs: u64, now: i64) {
        let max_new = self.max_new;
        self.with_state(|state| {
            Self::sweep(state, now);
            while state.live_new.len() >= max_new {
                let Some(oldest) = state.created.pop_front() else { break };
                if state.live_new.remove(&oldest) {
                    state.entries.remove(&oldest);
                }
            }
            if state.created.len() >= 2 * max_new {
                let live = &state.live_new;
                state.created.retain(|key| live.contains(key));
            }
            state.live_new.insert(key.to_owned());
            state.created.push_back(key.to_owned());
            state.entries.insert(key.to_owned(), (value, Self::expires(ttl_secs, now)));
        });
    }

    /// An attempt counted against `budget` and, when allowed, [`MemoryStore::put_new`].
    pub fn put_new_within(
        &self,
        budget: (&str, &Rule),
        key: &str,
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Option<Decision> {
        let decision = self.hit_each(&[budget], now).into_iter().next()?;
        if matches!(decision, Decision::Allowed { .. }) {
            self.put_new(key, value, ttl_secs, now);
        }
        Some(decision)
    }

    /// What the limiter refused, by kind of budget.
    pub fn refusals(&self) -> &super::limiter::Refusals {
        &self.refusals
    }

    /// How many entries made by `put_new` (sign-in flows) are live at `now`.
    pub fn live_new(&self, now: i64) -> usize {
        self.with_state(|state| {
            state
                .live_new
                .iter()
                .filter(|key| state.entries.get(*key).is_some_and(|(_, exp)| *exp > now))
                .count()
        })
    }

    /// How many entries the store holds (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.with(|map| map.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expires(ttl_secs: u64, now: i64) -> i64 {
        now.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX))
    }

    pub fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64, now: i64) {
        self.with_state(|state| {
            Self::sweep(state, now);
            state.entries.insert(key.to_owned(), (value, Self::expires(ttl_secs, now)));
        });
    }

    /// Replaces `key`'s value only while it is live and still `expected`.
    pub fn swap(&self, key: &str, expected: &[u8], value: Vec<u8>, ttl_secs: u64, now: i64) -> bool {
        self.with(|map| match map.get_mut(key) {
            Some((held, exp)) if *exp > now && held.as_slice() == expected => {
                *held = value;
                *exp = Self::expires(ttl_secs, now);
                true
            }
            _ => false,
        })
    }

    pub fn get(&self, key: &str, now: i64) -> Option<Vec<u8>> {
        self.with_state(|state| match state.entries.get(key) {
            Some((value, exp)) if *exp > now => Some(value.clone()),
            Some(_) => {
                Self::remove(state, key);
                None
            }
            None => None,
        })
    }

    pub fn delete(&self, key: &str) {
        self.with_state(|state| Self::remove(state, key));
    }

    pub fn claim(&self, key: &str, ttl_secs: u64, now: i64) -> bool {
        self.with(|map| match map.get(key) {
            Some((_, exp)) if *exp > now => false,
            _ => {
                map.insert(key.to_owned(), (Vec::new(), Self::expires(ttl_secs, now)));
                true
            }
        })
    }
}

impl MemoryStore {
    fn read(map: &Entries, key: &str, now: i64) -> Option<CounterState> {
        map.get(key).filter(|(_, exp)| *exp > now).and_then(|(bytes, _)| serde_json::from_slice(bytes).ok())
    }

    fn save(map: &mut Entries, key: &str, state: &CounterState, rule: &Rule, now: i64) {
        let bytes = serde_json::to_vec(state).unwrap_or_default();
        map.insert(key.to_owned(), (bytes, Self::expires(keep_for(state, rule, now), now)));
    }

    /// Read, step and write under one lock, for each budget until one refuses: atomic,
    /// like the Redis script.
    pub fn hit_each(&self, budgets: &[(&str, &Rule)], now: i64) -> Vec<Decision> {
        self.with(|map| {
            let mut decisions = Vec::with_capacity(budgets.len());
            for (key, rule) in budgets {
                let (next, decision) = limiter::step(Self::read(map, key, now), rule, now);
                Self::save(map, key, &next, rule, now);
                decisions.push(decision);
                if matches!(decision, Decision::Refused { .. }) {
                    break;
                }
            }
            decisions
        })
    }

    /// Each budget deleted (`None`) or given an attempt back (`Some(rule)`).
    pub fn release(&self, budgets: &[(&str, Option<&Rule>)], now: i64) {
        self.with_state(|state| {
            for (key, rule) in budgets {
                match rule {
                    None => Self::remove(state, key),
                    Some(rule) => {
                        if let Some(mut counted) = Self::read(&state.entries, key, now) {
                            counted.count = counted.count.saturating_sub(1);
                            if counted.count <= rule.free {
                                counted.blocked_until = 0;
                            }
                            Self::save(&mut state.entries, key, &counted, rule, now);
                        }
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_claims_are_exclusive() {
        let store = MemoryStore::new();
        store.put("a", b"1".to_vec(), 10, 100);
        assert_eq!(store.get("a", 109), Some(b"1".to_vec()));
        assert_eq!(store.get("a", 110), None);
        assert!(store.claim("c", 5, 100));
        assert!(!store.claim("c", 5, 104));
        assert!(store.claim("c", 5, 105));
        store.delete("c");
        assert!(store.claim("c", 5, 105));
    }

    #[test]
    fn new_entries_are_capped_by_evicting_the_oldest() {
        let store = MemoryStore::with_capacity(3);
        for n in 0..5 {
            store.put_new(&format!("flow:{n}"), vec![1], 600, 100);
        }
        assert_eq!(store.get("flow:0", 100), None);
        assert_eq!(store.get("flow:1", 100), None);
        assert!((2..5).all(|n| store.get(&format!("flow:{n}"), 100).is_some()));
        // Updating one under way evicts nothing; a deleted one frees its place.
        store.put("flow:2", vec![2], 600, 100);
        store.delete("flow:3");
        store.put_new("flow:5", vec![1], 600, 100);
        assert_eq!(store.get("flow:2", 100), Some(vec![2]));
        assert!(store.get("flow:4", 100).is_some() && store.get("flow:5", 100).is_some());
        assert_eq!(store.len(), 3);
    }
}
