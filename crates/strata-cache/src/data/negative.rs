//! Loader errors remembered for a call's [`Ttl::negative`](crate::Ttl::negative)
//! window, in this process (errors need not be serializable).

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

use crate::clock::now_ms;

#[derive(Clone)]
struct Negative {
    error: Arc<dyn Any + Send + Sync>,
    /// On the cache clock (ms), so paused time applies.
    until: u64,
    ttl: Duration,
}

struct ByTtl;

impl Expiry<String, Negative> for ByTtl {
    fn expire_after_create(&self, _: &String, value: &Negative, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub(crate) struct Negatives {
    errors: Cache<String, Negative>,
}

impl std::fmt::Debug for Negatives {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negatives")
            .field("entries", &self.errors.entry_count())
            .finish()
    }
}

impl Negatives {
    pub(crate) fn new() -> Self {
        Self {
            errors: Cache::builder()
                .max_capacity(10_000)
                .expire_after(ByTtl)
                .build(),
        }
    }

    /// The error remembered for `digest`, if it is an `E` and still within
    /// its window.
    pub(crate) fn get<E: Send + Sync + 'static>(&self, digest: &str) -> Option<Arc<E>> {
        let negative = self.errors.get(digest)?;
        if negative.until <= now_ms() {
            self.errors.invalidate(digest);
            return None;
        }
        negative.error.downcast::<E>().ok()
    }

    pub(crate) fn insert(&self, digest: &str, error: Arc<dyn Any + Send + Sync>, ttl: Duration) {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let until = now_ms().saturating_add(ms);
        let negative = Negative { error, until, ttl };
        self.errors.insert(digest.to_owned(), negative);
    }

    pub(crate) fn remove(&self, digest: &str) {
        self.errors.invalidate(digest);
    }

    pub(crate) fn clear(&self) {
        self.errors.invalidate_all();
    }
}
