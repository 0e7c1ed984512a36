//! [`CacheHandle`]: purges.

use std::fmt;
use std::sync::Arc;

use crate::config::Shared;
use crate::{CacheKey, StoreError};

/// Purges a cache's store; returned by
/// [`CacheBuilder::pair`](crate::CacheBuilder::pair), or made for a store
/// alone by [`new`](Self::new) (an operators' tool). Cheap to clone.
///
/// On a shared store (Redis), a purge is seen by every instance at once.
/// Each call is one or a few store round trips, bounded by the pool's
/// command timeout (not the layer's `store_timeout`: a tag purge on a
/// cluster visits several nodes).
#[derive(Clone)]
pub struct CacheHandle {
    shared: Arc<Shared>,
}

impl CacheHandle {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// A handle on `store` without a layer, with the layer's default
    /// settings: for a process that manages a service's cache (the `strata`
    /// tool). Fails as [`CacheBuilder::pair`](crate::CacheBuilder::pair)
    /// does on an invalid store setting.
    ///
    /// A purge through it reaches every instance sharing the store; to
    /// also evict the memory tiers of instances running a
    /// [`TieredStore`](crate::TieredStore), wrap the store in one here
    /// too: its purges are announced on the store's channel.
    ///
    /// ```no_run
    /// # #[cfg(feature = "redis")]
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use strata_cache::{CacheHandle, CacheKey, RedisStore, TieredStore};
    /// use strata_core::redis::RedisPoolBuilder;
    ///
    /// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
    /// let handle = CacheHandle::new(TieredStore::new(RedisStore::new(pool)))?;
    /// let key = CacheKey::from_url("https://example.com/items?page=2").expect("an absolute URL");
    /// handle.purge(&key).await?;
    /// let purged = handle.purge_tag_progress("items", false, &|done| eprint!("\r{done}")).await?;
    /// # let _ = purged;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(store: impl crate::Store) -> Result<Self, strata_core::ConfigError> {
        crate::CacheLayer::builder(store)
            .pair()
            .map(|(_, handle)| handle)
    }

    /// Removes every variant of `key`.
    pub async fn purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.shared
            .flights
            .clear_hit_for_miss(&format!("{}:", key.digest()));
        self.shared.store.purge(key).await
    }

    /// Removes every resource whose response carried `tag`; returns how
    /// many were tagged.
    pub async fn purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.shared.store.purge_tag(tag).await
    }

    /// [`purge_tag`](Self::purge_tag), or with `soft`
    /// [`soft_purge_tag`](Self::soft_purge_tag), calling `progress` with the
    /// resources done so far after each batch (the Redis store purges a tag
    /// in batches of about 500).
    pub async fn purge_tag_progress(
        &self,
        tag: &str,
        soft: bool,
        progress: &crate::Progress<'_>,
    ) -> Result<u64, StoreError> {
        self.shared
            .store
            .purge_tag_progress(tag, soft, progress)
            .await
    }

    /// How many resources a purge of `tag` would touch; changes nothing
    /// (a dry run). On Redis, resources that expired since they were
    /// tagged count until the tag index is cleaned.
    pub async fn count_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.shared.store.count_tag(tag).await
    }

    /// How many variants of `key` are stored (0: nothing to purge);
    /// changes nothing.
    pub async fn count(&self, key: &CacheKey) -> Result<u64, StoreError> {
        self.shared.store.count_variants(key).await
    }

    /// What the store holds (see [`StoreStats`](crate::StoreStats) for what
    /// each store counts), calling `progress` with the items visited so
    /// far; on Redis a `SCAN` of the prefix, never `KEYS`.
    pub async fn stats(
        &self,
        progress: &crate::Progress<'_>,
    ) -> Result<crate::StoreStats, StoreError> {
        self.shared.store.stats(progress).await
    }

    /// Marks every variant of `key` stale: the next request revalidates it,
    /// or, where the response allows `stale-while-revalidate`, is answered
    /// stale while one background request refreshes it.
    pub async fn soft_purge(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.shared.store.soft_purge(key).await
    }

    /// Marks every resource tagged `tag` stale (as [`soft_purge`](Self::soft_purge));
    /// returns how many were tagged.
    pub async fn soft_purge_tag(&self, tag: &str) -> Result<u64, StoreError> {
        self.shared.store.soft_purge_tag(tag).await
    }
}

impl fmt::Debug for CacheHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheHandle")
            .field("store", &self.shared.store)
            .finish()
    }
}
