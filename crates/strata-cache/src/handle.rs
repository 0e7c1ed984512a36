//! [`CacheHandle`]: purges.

use std::fmt;
use std::sync::Arc;

use crate::config::Shared;
use crate::{CacheKey, StoreError};

/// Purges a cache's store; returned by
/// [`CacheBuilder::pair`](crate::CacheBuilder::pair). Cheap to clone.
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
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
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
