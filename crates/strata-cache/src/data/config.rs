//! [`DataCacheBuilder`]: the settings of a [`DataCache`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use strata_core::ConfigError;

use super::{DataCache, Inner};
use crate::store::DynStore;
use crate::{MemoryStore, Store};

/// Default for [`DataCacheBuilder::store_timeout`]: 50 ms.
pub const DEFAULT_DATA_STORE_TIMEOUT: Duration = Duration::from_millis(50);
/// Default for [`DataCacheBuilder::load_timeout`]: 10 s.
pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of a [`DataCache`]; every one has a production default. Made
/// by [`DataCache::builder`]; [`build`](Self::build) checks them and
/// reports the first invalid one by its method's name
/// ([`ConfigError::Invalid`] with `setting` `"store_timeout"`, ...,
/// or the store's, such as `"TieredStore::memory_ttl"`).
#[must_use]
pub struct DataCacheBuilder {
    store: Arc<dyn DynStore>,
    store_check: Result<(), ConfigError>,
    store_timeout: Duration,
    load_timeout: Duration,
    ttl_jitter: f64,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::DataCacheMetrics>,
}

impl DataCacheBuilder {
    pub(crate) fn new<S: Store>(store: S) -> Self {
        Self {
            store_check: crate::store::validate(&store),
            store: Arc::new(store),
            store_timeout: DEFAULT_DATA_STORE_TIMEOUT,
            load_timeout: DEFAULT_LOAD_TIMEOUT,
            ttl_jitter: 0.0,
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }

    /// Longest wait for any one read, write or lease call on the store;
    /// past it the call counts as a store error and the loader serves.
    /// Default 50 ms; between 1 ms and 10 s.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Longest a loader may run ([`LoadError::Timeout`](crate::LoadError::Timeout)
    /// past it), and the lease time across instances. Default 10 s;
    /// between 1 ms and 10 min.
    pub fn load_timeout(mut self, timeout: Duration) -> Self {
        self.load_timeout = timeout;
        self
    }

    /// Shortens every TTL by a random share of up to `fraction`, so values
    /// stored together do not expire together. Default 0; between 0 and
    /// 0.5.
    pub fn ttl_jitter(mut self, fraction: f64) -> Self {
        self.ttl_jitter = fraction;
        self
    }

    /// Count lookups, loads, coalesced waits, loader and store errors in
    /// `metrics` (give the same to the [`TieredStore`](crate::TieredStore)
    /// for its invalidations).
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::DataCacheMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Checks the settings and builds the cache.
    pub fn build(mut self) -> Result<DataCache, ConfigError> {
        let bounded = |d: Duration, max: Duration| d >= Duration::from_millis(1) && d <= max;
        if !bounded(self.store_timeout, Duration::from_secs(10)) {
            return Err(ConfigError::invalid(
                "store_timeout",
                "must be between 1 ms and 10 s",
            ));
        }
        if !bounded(self.load_timeout, Duration::from_secs(600)) {
            return Err(ConfigError::invalid(
                "load_timeout",
                "must be between 1 ms and 10 min",
            ));
        }
        if !(0.0..=0.5).contains(&self.ttl_jitter) {
            return Err(ConfigError::invalid(
                "ttl_jitter",
                "must be between 0 and 0.5",
            ));
        }
        std::mem::replace(&mut self.store_check, Ok(()))?;
        Ok(self.finish())
    }

    pub(crate) fn finish(self) -> DataCache {
        DataCache {
            inner: Arc::new(Inner {
                store: self.store,
                store_timeout: self.store_timeout,
                load_timeout: self.load_timeout,
                ttl_jitter: self.ttl_jitter,
                flights: super::flight::Flights::default(),
                negative: super::negative::Negatives::new(),
                store_down: std::sync::atomic::AtomicBool::new(false),
                #[cfg(feature = "prometheus")]
                metrics: self.metrics,
            }),
        }
    }
}

impl Default for DataCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DataCache {
    /// A cache in this process's memory ([`MemoryStore::new`], 64 MiB),
    /// with the default settings.
    pub fn new() -> Self {
        DataCacheBuilder::new(MemoryStore::new()).finish()
    }

    /// A builder on `store`: a [`MemoryStore`], a
    /// [`RedisStore`](crate::RedisStore) or a
    /// [`TieredStore`](crate::TieredStore) (memory over Redis).
    pub fn builder<S: Store>(store: S) -> DataCacheBuilder {
        DataCacheBuilder::new(store)
    }
}

impl fmt::Debug for DataCacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataCacheBuilder")
            .field("store", &self.store)
            .field("store_timeout", &self.store_timeout)
            .field("load_timeout", &self.load_timeout)
            .field("ttl_jitter", &self.ttl_jitter)
            .finish_non_exhaustive()
    }
}
