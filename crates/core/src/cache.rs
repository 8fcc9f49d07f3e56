//! The rules of the in-isolate read cache in front of KV: fresh for a while, then
//! served stale while one refresh runs, then gone. Bounded in size.
//!
//! "One refresh": the first read of a stale entry is told to refresh it; the reads after
//! it use the value as it is until that refresh lands ([`TtlCache::put`]) or, if it
//! never does (KV failed), until `fresh_ms` have passed, when the next read tries again.
//! So an isolate taking hundreds of calls a second asks KV once per entry and period,
//! not once per call.

use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Usable, but the caller should refresh it (in the background).
    Stale,
}

#[derive(Debug)]
pub struct TtlCache<K, V> {
    entries: HashMap<K, Entry<V>>,
    fresh_ms: i64,
    usable_ms: i64,
    capacity: usize,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    stored_at: i64,
    /// When a read was last told to refresh this entry.
    refresh_asked_at: Option<i64>,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(fresh_ms: i64, usable_ms: i64, capacity: usize) -> Self {
        Self { entries: HashMap::new(), fresh_ms, usable_ms, capacity }
    }

    /// The value and whether this caller should refresh it: [`Freshness::Stale`] goes
    /// to one read at a time (see the module's doc).
    pub fn get(&mut self, key: &K, now_ms: i64) -> Option<(V, Freshness)> {
        let fresh_ms = self.fresh_ms;
        let entry = self.entries.get_mut(key)?;
        let age = now_ms.saturating_sub(entry.stored_at);
        if age < fresh_ms {
            return Some((entry.value.clone(), Freshness::Fresh));
        }
        if age >= self.usable_ms {
            return None;
        }
        let refreshing =
            entry.refresh_asked_at.is_some_and(|at| now_ms.saturating_sub(at) < fresh_ms);
        if refreshing {
            return Some((entry.value.clone(), Freshness::Fresh));
        }
        entry.refresh_asked_at = Some(now_ms);
        Some((entry.value.clone(), Freshness::Stale))
    }

    pub fn put(&mut self, key: K, value: V, now_ms: i64) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let usable_ms = self.usable_ms;
            self.entries.retain(|_, e| now_ms.saturating_sub(e.stored_at) < usable_ms);
            if self.entries.len() >= self.capacity {
                // Everything is live: drop the oldest entry rather than grow.
                if let Some(oldest) =
                    self.entries.iter().min_by_key(|(_, e)| e.stored_at).map(|(k, _)| k.clone())
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(key, Entry { value, stored_at: now_ms, refresh_asked_at: None });
    }

    pub fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_fresh_then_stale_then_gone() {
        let mut c = TtlCache::new(10, 30, 8);
        c.put("k", 1, 100);
        assert_eq!(c.get(&"k", 109), Some((1, Freshness::Fresh)));
        assert_eq!(c.get(&"k", 110), Some((1, Freshness::Stale)));
        assert_eq!(c.get(&"k", 130), None);
    }

    #[test]
    fn a_stale_entry_is_refreshed_by_one_read_at_a_time() {
        let mut c = TtlCache::new(10, 60, 8);
        c.put("k", 1, 100);
        assert_eq!(c.get(&"k", 110), Some((1, Freshness::Stale)), "the first read refreshes");
        for now in [110, 111, 119] {
            assert_eq!(c.get(&"k", now), Some((1, Freshness::Fresh)), "the others use it");
        }
        // The refresh never landed: after fresh_ms the next read tries again.
        assert_eq!(c.get(&"k", 120), Some((1, Freshness::Stale)));
        assert_eq!(c.get(&"k", 121), Some((1, Freshness::Fresh)));
        // It landed: fresh again, and a refresh is asked for again when it goes stale.
        c.put("k", 2, 125);
        assert_eq!(c.get(&"k", 134), Some((2, Freshness::Fresh)));
        assert_eq!(c.get(&"k", 135), Some((2, Freshness::Stale)));
        assert_eq!(c.get(&"k", 185), None, "never past usable_ms, refreshing or not");
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let mut c = TtlCache::new(10, 30, 3);
        for i in 0..10 {
            c.put(i, i, i64::from(i));
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&9, 9), Some((9, Freshness::Fresh)));
        assert_eq!(c.get(&0, 9), None, "the oldest entries went first");
    }
}
