//! The in-process store: a mutex-guarded map whose entries expire by the clock's time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::limiter::{self, CounterState, Decision, Rule, keep_for};

/// Value and expiry time (Unix seconds) per key.
type Entries = HashMap<String, (Vec<u8>, i64)>;

#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    entries: Arc<Mutex<Entries>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Entries) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written entry: every
        // operation is a single map call, so the poisoned map is still consistent.
        let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut map)
    }

    fn expires(ttl_secs: u64, now: i64) -> i64 {
        now.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX))
    }

    pub fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64, now: i64) {
        self.with(|map| {
            // Sweep expired entries now and then so the map cannot grow without bound.
            if map.len() > 10_000 {
                map.retain(|_, (_, exp)| *exp > now);
            }
            map.insert(key.to_owned(), (value, Self::expires(ttl_secs, now)));
        });
    }

    pub fn get(&self, key: &str, now: i64) -> Option<Vec<u8>> {
        self.with(|map| match map.get(key) {
            Some((value, exp)) if *exp > now => Some(value.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        })
    }

    pub fn delete(&self, key: &str) {
        self.with(|map| map.remove(key));
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

    /// Read, step and write under one lock: atomic, like the Redis script.
    pub fn hit(&self, key: &str, rule: &Rule, now: i64) -> Decision {
        self.with(|map| {
            let (next, decision) = limiter::step(Self::read(map, key, now), rule, now);
            Self::save(map, key, &next, rule, now);
            decision
        })
    }

    pub fn forgive(&self, key: &str, rule: &Rule, now: i64) {
        self.with(|map| {
            if let Some(mut state) = Self::read(map, key, now) {
                state.count = state.count.saturating_sub(1);
                if state.count <= rule.free {
                    state.blocked_until = 0;
                }
                Self::save(map, key, &state, rule, now);
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
}
