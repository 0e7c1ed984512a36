//! The keyed state of one policy: each key's theoretical arrival time in a
//! bounded map, updated with the crate's GCRA ([`Gcra`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use dashmap::DashMap;

use crate::Key;
use crate::decision::Gcra;

/// Each key's theoretical arrival time, in nanoseconds since the store's
/// origin; 0 stands for a key with its whole burst (an arrival time is
/// never 0 once written: it is at least one emission interval).
///
/// The hasher is hashbrown's default (`foldhash`, seeded per process),
/// cheaper per lookup than SipHash (see `docs/rate-limit.md`).
type KeyMap = DashMap<Key, AtomicU64, foldhash::fast::RandomState>;

/// One policy's state in a [`MemoryStore`](crate::MemoryStore).
pub(super) struct Limiter {
    pub(super) gcra: Gcra,
    map: KeyMap,
    len: AtomicUsize,
    max: usize,
    /// A new key found the map full: a sweep should run now.
    pub(super) full: AtomicBool,
    /// Part of a rule with several policies: every check takes the key's
    /// lock (see `MemoryStore::decide_general`).
    pub(super) multi: AtomicBool,
}

impl Limiter {
    pub(super) fn new(gcra: Gcra, max: usize) -> Self {
        Self {
            gcra,
            map: KeyMap::default(),
            len: AtomicUsize::new(0),
            max,
            full: AtomicBool::new(false),
            multi: AtomicBool::new(false),
        }
    }

    /// Runs `f` on the key's arrival time (`None`: whole burst) and stores
    /// the arrival time it returns, if any, atomically (compare and swap:
    /// `f` may run more than once under contention). A key that is not
    /// stored yet is added, unless the map is full: then `f` judges it as a
    /// fresh key, nothing is stored and a sweep is asked for.
    #[inline]
    pub(super) fn update<T>(&self, key: &Key, f: impl Fn(Option<u64>) -> (T, Option<u64>)) -> T {
        if let Some(cell) = self.map.get(key) {
            return swap(&cell, f);
        }
        if self.len.load(Ordering::Relaxed) >= self.max {
            self.full.store(true, Ordering::Relaxed);
            return f(None).0;
        }
        self.len.fetch_add(1, Ordering::Relaxed);
        let cell = self.map.entry(key.clone()).or_default();
        swap(&cell, f)
    }

    /// The key's arrival time, without adding the key.
    pub(super) fn read(&self, key: &Key) -> Option<u64> {
        let tat = self.map.get(key)?.load(Ordering::Acquire);
        (tat != 0).then_some(tat)
    }

    /// Forgets the key (its whole burst again); whether it was stored.
    pub(super) fn remove(&self, key: &Key) -> bool {
        let removed = self.map.remove(key).is_some();
        if removed {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Number of keys stored.
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Drops every key whose quota is full again at `now`.
    pub(super) fn sweep(&self, now: u64) {
        self.map.retain(|_, tat| tat.load(Ordering::Relaxed) > now);
        self.map.shrink_to_fit();
        self.len.store(self.map.len(), Ordering::Relaxed);
        self.full.store(false, Ordering::Relaxed);
    }
}

#[inline]
fn swap<T>(cell: &AtomicU64, f: impl Fn(Option<u64>) -> (T, Option<u64>)) -> T {
    let mut prev = cell.load(Ordering::Acquire);
    loop {
        let (out, next) = f((prev != 0).then_some(prev));
        let Some(next) = next else {
            return out;
        };
        match cell.compare_exchange_weak(prev, next, Ordering::Release, Ordering::Acquire) {
            Ok(_) => return out,
            Err(current) => prev = current,
        }
    }
}
