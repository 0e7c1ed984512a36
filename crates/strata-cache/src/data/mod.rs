//! The data cache: serde values under typed keys, on the response cache's
//! stores, with coalesced loads.

pub(crate) mod config;
pub(crate) mod error;
mod flight;
pub(crate) mod key;
mod load;
#[cfg(feature = "prometheus")]
pub(crate) mod metrics;
mod negative;
mod value;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use self::error::DataError;
use self::key::{DataKey, Ttl};
use self::value::Stored;
#[cfg(feature = "prometheus")]
use crate::DataCacheMetrics as Metrics;
use crate::store::DynStore;
use crate::{CacheKey, StoreError};

/// A cache of values (query results, computed reports, remote calls) on
/// the response cache's stores: a [`MemoryStore`](crate::MemoryStore), a
/// [`RedisStore`](crate::RedisStore), or a [`TieredStore`](crate::TieredStore)
/// (a coherent memory tier over Redis). Values are serde types encoded as
/// MessagePack; keys are [`DataKey`]s; lifetimes, tags and error handling
/// are per call ([`Ttl`]).
///
/// [`get_or_insert_with`](Self::get_or_insert_with) runs the loader once
/// for concurrent misses of one key: in process, and across instances on
/// a shared store (with the response cache's fill leases).
///
/// ```
/// use std::time::Duration;
/// use strata_cache::{DataCache, DataKey, Ttl};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cache = DataCache::new();
/// let key = DataKey::<Vec<String>>::new("names", 7);
/// let names = cache
///     .get_or_insert_with(&key, Ttl::secs(60).tag("team:7"), || async {
///         Ok::<_, std::io::Error>(vec!["ada".to_owned(), "grace".to_owned()])
///     })
///     .await?;
/// assert_eq!(names, ["ada", "grace"]);
/// assert_eq!(cache.get(&key).await?, Some(names));
/// assert_eq!(cache.purge_tag("team:7").await?, 1);
/// assert_eq!(cache.get(&key).await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DataCache {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Arc<dyn DynStore>,
    store_timeout: Duration,
    load_timeout: Duration,
    ttl_jitter: f64,
    flights: flight::Flights,
    negative: negative::Negatives,
    /// The last store call failed (logged once per outage).
    store_down: AtomicBool,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::DataCacheMetrics>,
}

impl DataCache {
    /// The fresh value of `key`, if stored. A value that no longer decodes
    /// as `V` is a miss.
    pub async fn get<V: DeserializeOwned>(&self, key: &DataKey<V>) -> Result<Option<V>, DataError> {
        let found = self.try_lookup(key.store_key()).await?;
        Ok(found
            .filter(|s| s.fresh)
            .and_then(|s| value::decode(&s.bytes)))
    }

    /// Stores `value` under `key` for `ttl` (a [`Duration`] or a [`Ttl`]
    /// with tags), replacing what was there (on a [`TieredStore`](crate::TieredStore),
    /// every instance's memory copy goes).
    pub async fn insert<V: Serialize>(
        &self,
        key: &DataKey<V>,
        value: &V,
        ttl: impl Into<Ttl>,
    ) -> Result<(), DataError> {
        let bytes = value::encode(value).map_err(DataError::Encode)?;
        self.put(key.store_key(), &bytes, &ttl.into()).await
    }

    /// Removes `key`'s value.
    pub async fn remove<V>(&self, key: &DataKey<V>) -> Result<(), DataError> {
        let key = key.store_key();
        self.inner.negative.remove(key.digest());
        self.inner
            .store
            .purge(key)
            .await
            .map_err(|e| self.failed(e))
    }

    /// Removes every value tagged `tag`; returns how many were tagged. On a
    /// shared store it is seen by every instance. Bounded by the pool's
    /// command timeout, not the store timeout (a cluster purge visits
    /// several nodes).
    pub async fn purge_tag(&self, tag: &str) -> Result<u64, DataError> {
        self.inner.negative.clear();
        self.inner
            .store
            .purge_tag(tag)
            .await
            .map_err(|e| self.failed(e))
    }

    async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let limit = self.inner.store_timeout;
        match tokio::time::timeout(limit, call).await {
            Ok(Ok(value)) => {
                if self.inner.store_down.swap(false, Ordering::Relaxed) {
                    tracing::info!("data cache: the store answers again");
                }
                Ok(value)
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(StoreError::Timeout(limit)),
        }
    }

    /// Counts a store error (logged once per outage) and hands it back.
    fn failed(&self, error: StoreError) -> DataError {
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.inner.metrics {
            m.store_error();
        }
        if !self.inner.store_down.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "data cache: store call failed; loaders serve until it recovers");
        }
        DataError::Store(error)
    }

    /// Reads `key`, counting the lookup; `None` past its stale window.
    async fn try_lookup(&self, key: &CacheKey) -> Result<Option<Stored>, DataError> {
        let lookup = self
            .timed(self.inner.store.get(key, ""))
            .await
            .map_err(|e| self.failed(e))?;
        let stored = lookup.entry.as_ref().and_then(value::read);
        #[cfg(feature = "prometheus")]
        if let Some(m) = &self.inner.metrics {
            let hit = stored.as_ref().is_some_and(|s| s.fresh);
            m.lookup(lookup.tier.as_str(), if hit { "hit" } else { "miss" });
        }
        Ok(stored)
    }

    /// [`try_lookup`](Self::try_lookup), a store error being a miss.
    async fn lookup(&self, key: &CacheKey) -> Option<Stored> {
        self.try_lookup(key).await.ok().flatten()
    }

    fn jittered(&self, ttl: Duration) -> Duration {
        if self.inner.ttl_jitter == 0.0 {
            return ttl;
        }
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let share = (random >> 11) as f64 / (1u64 << 53) as f64;
        ttl.mul_f64(1.0 - self.inner.ttl_jitter * share)
            .max(Duration::from_millis(1))
    }

    async fn put(&self, key: &CacheKey, bytes: &[u8], ttl: &Ttl) -> Result<(), DataError> {
        self.inner.negative.remove(key.digest());
        let fresh = self.jittered(ttl.ttl);
        let entry = value::entry(bytes, fresh, ttl.stale, &ttl.tags);
        self.timed(self.inner.store.put(key, "", entry, fresh + ttl.stale))
            .await
            .map_err(|e| self.failed(e))
    }
}

/// Stands in for the collectors without feature `prometheus`.
#[cfg(not(feature = "prometheus"))]
struct Metrics;

#[cfg(not(feature = "prometheus"))]
impl Metrics {
    fn coalesced(&self) {}
    fn load(&self) {}
    fn loader_error(&self) {}
    fn stale(&self) {}
}

impl fmt::Debug for DataCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataCache")
            .field("store", &self.inner.store)
            .field("store_timeout", &self.inner.store_timeout)
            .field("load_timeout", &self.inner.load_timeout)
            .field("ttl_jitter", &self.inner.ttl_jitter)
            .finish_non_exhaustive()
    }
}
