//! Lookups kept in memory for a few seconds: clients by id and tenants' branding by
//! tenant id, read on every sign-in page. Unknown ids are kept too (`None`), so probing
//! costs no queries. A change made by this process forgets its entry at once; one made
//! by another instance or the CLI is seen within `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// A lookup result (`None`: there is no such row) and when it was made.
type Entries<V> = HashMap<String, (Option<V>, i64)>;

#[derive(Clone)]
pub struct TtlCache<V> {
    entries: Arc<RwLock<Entries<V>>>,
    ttl: i64,
}

impl<V> std::fmt::Debug for TtlCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache").field("ttl", &self.ttl).finish()
    }
}

impl<V: Clone> TtlCache<V> {
    /// Past this many entries the cache starts again (ids made up by a prober).
    const MAX_ENTRIES: usize = 10_000;

    pub fn new(ttl: i64) -> Self {
        Self { entries: Arc::default(), ttl }
    }

    /// The cached lookup of `id`, when fresh: `Some(None)` means "known not to exist".
    pub fn get(&self, id: &str, now: i64) -> Option<Option<V>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(id).filter(|(_, at)| at + self.ttl > now).map(|(value, _)| value.clone())
    }

    pub fn put(&self, id: &str, value: Option<V>, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(id.to_owned(), (value, now));
    }

    /// Drops `id`'s entry: the next lookup reads the database.
    pub fn forget(&self, id: &str) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = TtlCache::new(30);
        cache.put("a", Some(1), 100);
        cache.put("gone", None::<i32>, 100);
        assert_eq!(cache.get("a", 129), Some(Some(1)));
        assert_eq!(cache.get("gone", 129), Some(None), "a miss is remembered too");
        assert_eq!(cache.get("a", 130), None, "stale after ttl");
        assert_eq!(cache.get("never", 100), None);
        cache.forget("gone");
        assert_eq!(cache.get("gone", 101), None);
    }
}
