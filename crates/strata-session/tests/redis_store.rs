//! The conformance suite against `RedisStore` on a real `redis-server`.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::interfaces::ClientLike as _;
use strata_session::RedisStore;
use strata_testkit::redis::{shared, unique_prefix};

async fn store() -> RedisStore {
    let pool = RedisPoolBuilder::from_url(shared().url())
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("pool");
    tokio::time::timeout(Duration::from_secs(20), pool.wait_for_connect())
        .await
        .expect("connected in time")
        .expect("connected");
    RedisStore::new(pool).prefix(unique_prefix("session"))
}

conformance_suite!(store().await);
