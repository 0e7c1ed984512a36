//! The catalogue's reads through a data cache, in front of a catalogue that
//! answers like a slow database (`CATALOGUE_DELAY_MS`, each read timed as
//! `db_client_operation_duration_seconds`). With `REDIS_URL`, values live in
//! Redis under `strata:data:` with a memory tier on each instance, and a `PUT`
//! on one instance evicts the item from every instance's memory tier.

use std::convert::Infallible;
use std::time::Duration;

use strata::cache::{
    DataCache, DataCacheMetrics, DataKey, MemoryStore, RedisStore, TieredStore, Ttl,
};
use strata::core::redis::fred::clients::Pool;
use strata::metrics::DbMetrics;
use strata::metrics::prometheus::Registry;

use crate::app::BoxError;
use crate::cache::{LIST_TAG, item_tag};
use crate::items::{Catalogue, Item};

/// How long a read stays in the data cache (a `PUT` purges it sooner).
const TTL: Duration = Duration::from_secs(300);

/// Catalogue reads, cached.
#[derive(Debug, Clone)]
pub(crate) struct ItemData {
    cache: DataCache,
    catalogue: Catalogue,
    db: DbMetrics,
    delay: Duration,
}

impl ItemData {
    /// The data cache on `redis` (memory tier in front) or in memory, its
    /// metrics and the catalogue's query timings registered into `registry`.
    pub(crate) fn new(
        catalogue: Catalogue,
        delay: Duration,
        redis: Option<&Pool>,
        registry: &Registry,
    ) -> Result<Self, BoxError> {
        let metrics = DataCacheMetrics::register(registry)?;
        let builder = match redis {
            Some(pool) => DataCache::builder(
                TieredStore::new(RedisStore::new(pool.clone()).prefix("strata:data:"))
                    .memory(MemoryStore::new().max_bytes(16 * 1024 * 1024))
                    .metrics(metrics.clone()),
            ),
            None => DataCache::builder(MemoryStore::new().max_bytes(16 * 1024 * 1024)),
        };
        Ok(Self {
            cache: builder
                .store_timeout(Duration::from_millis(100))
                .load_timeout(Duration::from_secs(5))
                .ttl_jitter(0.1)
                .metrics(metrics)
                .build()?,
            catalogue,
            db: DbMetrics::register(registry, "other_sql")?,
            delay,
        })
    }

    /// Item `id`, `None` when there is none (cached too).
    pub(crate) async fn item(&self, id: u32) -> Option<Item> {
        let key = DataKey::<Option<Item>>::new("item", id);
        let (catalogue, db, delay) = (self.catalogue.clone(), self.db.clone(), self.delay);
        let loaded = self
            .cache
            .get_or_insert_with(&key, Ttl::new(TTL).tag(item_tag(id)), move || async move {
                db.time("select_item", async {
                    tokio::time::sleep(delay).await;
                    Ok::<_, Infallible>(catalogue.find(id))
                })
                .await
            })
            .await;
        loaded.unwrap_or_else(|error| {
            tracing::warn!(%error, item = id, "catalogue read failed through the cache; reading it directly");
            self.catalogue.find(id)
        })
    }

    /// The catalogue's revision and every item.
    pub(crate) async fn list(&self) -> (u64, Vec<Item>) {
        let key = DataKey::<(u64, Vec<Item>)>::new("items", "all");
        let (catalogue, db, delay) = (self.catalogue.clone(), self.db.clone(), self.delay);
        let loaded = self
            .cache
            .get_or_insert_with(&key, Ttl::new(TTL).tag(LIST_TAG), move || async move {
                db.time("select_items", async {
                    tokio::time::sleep(delay).await;
                    Ok::<_, Infallible>(catalogue.snapshot())
                })
                .await
            })
            .await;
        loaded.unwrap_or_else(|error| {
            tracing::warn!(%error, "catalogue list failed through the cache; reading it directly");
            self.catalogue.snapshot()
        })
    }

    /// Drops item `id` and the list from the data cache, on every instance.
    pub(crate) async fn purge(&self, id: u32) {
        for tag in [item_tag(id), LIST_TAG.to_owned()] {
            if let Err(error) = self.cache.purge_tag(&tag).await {
                tracing::warn!(%error, tag, "data cache purge failed; cached reads expire within 5 min");
            }
        }
    }
}
