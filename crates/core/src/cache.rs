//! The rules of the in-isolate read cache in front of KV: fresh for a while, then
//! served stale while one refresh runs, then gone. Bounded in size.

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
    entries: HashMap<K, (V, i64)>,
    fresh_ms: i64,
    usable_ms: i64,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(fresh_ms: i64, usable_ms: i64, capacity: usize) -> Self {
        Self { entries: HashMap::new(), fresh_ms, usable_ms, capacity }
    }

    pub fn get(&self, key: &K, now_ms: i64) -> Option<(V, Freshness)> {
        let (value, stored_at) = self.entries.get(key)?;
        let age = now_ms.saturating_sub(*stored_at);
        if age < self.fresh_ms {
            Some((value.clone(), Freshness::Fresh))
        } else if age < self.usable_ms {
            Some((value.clone(), Freshness::Stale))
        } else {
            None
        }
    }

    pub fn put(&mut self, key: K, value: V, now_ms: i64) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let usable_ms = self.usable_ms;
            self.entries.retain(|_, (_, at)| now_ms.saturating_sub(*at) < usable_ms);
            if self.entries.len() >= self.capacity {
                // Everything is live: drop the oldest entry rather than grow.
                if let Some(oldest) =
                    self.entries.iter().min_by_key(|(_, (_, at))| *at).map(|(k, _)| k.clone())
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(key, (value, now_ms));
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
