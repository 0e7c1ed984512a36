//! The conformance suite against `RedisStore` on a real `redis-server`.
#![cfg(feature = "redis")]

mod common;

use common::Clock;
use strata_core::redis::RedisPoolBuilder;
use strata_rate_limit::RedisStore;
use strata_testkit::redis::{shared, unique_prefix};

fn store() -> RedisStore {
    let pool = RedisPoolBuilder::from_url(shared().url())
        .expect("valid url")
        .command_timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("pool");
    drop(pool.connect_pool());
    RedisStore::new(pool)
        .prefix(unique_prefix("conformance"))
        .timeout(std::time::Duration::from_secs(2))
}

conformance_suite!(
    store(),
    Clock::Real,
    flavor = "multi_thread",
    worker_threads = 2
);
