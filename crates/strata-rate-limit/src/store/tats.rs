//! The keyed state of one policy: `governor`'s per-key state in a bounded
//! `DashMap`, readable and restorable by the store.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use dashmap::DashMap;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed, StateStore};

use crate::Key;

thread_local! {
    /// The state governor's last evaluation started from (see [`Tats`]).
    pub(crate) static PREV: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The keyed state of one policy, shared by its limiter and the store (which
/// restores it when another policy of the rule refuses).
#[derive(Clone)]
pub(crate) struct Tats(pub(crate) Arc<TatMap>);

/// The per-key map. Its hasher is hashbrown's default (`foldhash`, seeded
/// per process): with it a lookup takes about 105 instructions against
/// about 170 with SipHash (callgrind, `docs/rate-limit.md`).
pub(crate) type KeyMap = DashMap<Key, InMemoryState, foldhash::fast::RandomState>;

pub(crate) struct TatMap {
    pub(crate) map: KeyMap,
    pub(crate) len: AtomicUsize,
    pub(crate) max: usize,
    pub(crate) full: AtomicBool,
}

impl StateStore for Tats {
    type Key = Key;

    #[inline]
    fn measure_and_replace<T, F, E>(&self, key: &Key, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // Remember what the decision started from, for the headers.
        let f = |prev: Option<Nanos>| {
            PREV.with(|cell| cell.set(prev.map(Nanos::as_u64)));
            f(prev)
        };
        if let Some(state) = self.0.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        if self.0.len.load(Ordering::Relaxed) >= self.0.max {
            // Full: judge as a fresh key, keep nothing, ask for a sweep.
            self.0.full.store(true, Ordering::Relaxed);
            return f(None).map(|(outcome, _)| outcome);
        }
        self.0.len.fetch_add(1, Ordering::Relaxed);
        let state = self.0.map.entry(key.clone()).or_default();
        state.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

impl Tats {
    /// The stored theoretical arrival time, without inserting.
    pub(crate) fn read(&self, key: &Key) -> Option<u64> {
        let state = self.0.map.get(key)?;
        let tat = state.measure_and_replace(&NotKeyed::NonKey, Err::<((), Nanos), _>);
        tat.err().flatten().map(Nanos::as_u64)
    }

    /// Puts back `tat` (`None`: a fresh key) if the key is stored.
    pub(crate) fn restore(&self, key: &Key, tat: Option<u64>) {
        if let Some(state) = self.0.map.get(key) {
            let tat = Nanos::new(tat.unwrap_or(0));
            let _ = state.measure_and_replace(&NotKeyed::NonKey, |_| Ok::<_, ()>(((), tat)));
        }
    }
}
