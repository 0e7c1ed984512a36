//! The conformance suite against `RedisStore` on a real 3-master Redis
//! Cluster.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod common;

use strata_core::redis::RedisPoolBuilder;
use strata_recorder::RedisStore;
use strata_testkit::redis::{shared_cluster, unique_prefix};

async fn store(max_bytes: u64, max_count: u64) -> RedisStore {
    let pool = RedisPoolBuilder::from_url(shared_cluster().url())
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("pool");
    assert!(
        strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
        "connected in time"
    );
    RedisStore::new(pool)
        .prefix(unique_prefix("recorder"))
        .max_bytes(max_bytes)
        .max_count(max_count)
        .ttl(Duration::from_secs(3600))
}

conformance_suite!(store);
