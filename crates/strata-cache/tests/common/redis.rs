//! Pools on the test kit's real Redis servers.

use std::time::Duration;

use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;

/// A pool on `url` (a server or a cluster), connected.
pub async fn pool(url: &str) -> Pool {
    let pool = RedisPoolBuilder::from_url(url)
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect()
        .await
        .expect("pool");
    assert!(
        strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
        "connected within 20 s"
    );
    pool
}
