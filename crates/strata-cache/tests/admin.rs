//! Admin operations through `CacheHandle::new` on every store: memory,
//! Redis, a Redis Cluster, and a tiered store over Redis.
#![cfg(feature = "redis")]

mod common;

use common::admin;
use common::redis::pool;
use strata_cache::{MemoryStore, RedisStore, TieredStore};
use strata_testkit::redis::{shared, shared_cluster, unique_prefix};

async fn redis(name: &str) -> RedisStore {
    RedisStore::new(pool(shared().url()).await).prefix(unique_prefix(name))
}

async fn cluster(name: &str) -> RedisStore {
    RedisStore::new(pool(shared_cluster().url()).await).prefix(unique_prefix(name))
}

#[tokio::test]
async fn memory() {
    admin::tag_purge_in_batches(&MemoryStore::new(), "mem", 1200, 1).await;
    admin::soft_tag_purge_with_progress(&MemoryStore::new(), "mem", 50).await;
    admin::purge_by_url(&MemoryStore::new(), "mem").await;
    admin::stats(&MemoryStore::new(), "mem", 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_server() {
    admin::tag_purge_in_batches(&redis("cache-admin").await, "r", 1200, 2).await;
    admin::soft_tag_purge_with_progress(&redis("cache-admin").await, "r", 1200).await;
    admin::purge_by_url(&redis("cache-admin").await, "r").await;
    admin::stats(&redis("cache-admin").await, "r", 1200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster() {
    admin::tag_purge_in_batches(&cluster("cache-admin").await, "c", 1200, 2).await;
    admin::soft_tag_purge_with_progress(&cluster("cache-admin").await, "c", 600).await;
    admin::purge_by_url(&cluster("cache-admin").await, "c").await;
    admin::stats(&cluster("cache-admin").await, "c", 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiered_over_redis() {
    admin::tag_purge_in_batches(&TieredStore::new(redis("cache-admin").await), "t", 700, 2).await;
    admin::purge_by_url(&TieredStore::new(redis("cache-admin").await), "t").await;
}
