//! The shared response cache in front of the catalogue: in memory, or in
//! Redis when `REDIS_URL` is set (every instance serves what any stored,
//! and a purge on one is seen by all).

use std::time::Duration;

use strata::cache::{CacheHandle, CacheLayer, CacheMetrics, MemoryStore, RedisStore};
use strata::core::redis::fred::clients::Pool;
use strata::metrics::prometheus::Registry;

use crate::app::BoxError;

/// Tag of the item list's responses.
pub(crate) const LIST_TAG: &str = "items";

/// Tag of one item's responses.
pub(crate) fn item_tag(id: u32) -> String {
    format!("item-{id}")
}

/// The cache layer and its purge handle. The catalogue is public: a
/// signed-in user's session cookie does not keep it from being shared.
pub(crate) fn layer(
    redis: Option<&Pool>,
    registry: &Registry,
) -> Result<(CacheLayer, CacheHandle), BoxError> {
    let builder = match redis {
        Some(pool) => CacheLayer::builder(RedisStore::new(pool.clone()).prefix("strata:cache:")),
        None => CacheLayer::builder(MemoryStore::new().max_bytes(64 * 1024 * 1024)),
    };
    Ok(builder
        .ignore_cookies_when(|parts| parts.uri.path().starts_with("/api/items"))
        .store_timeout(Duration::from_millis(100))
        .metrics(CacheMetrics::register(registry)?)
        .pair()?)
}
