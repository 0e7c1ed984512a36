//! Waiting for a pool's connections, without missing one.

use std::time::Duration;

use fred::clients::Pool;
use fred::interfaces::ClientLike;

/// How often [`wait_connected`] looks at the connections.
const POLL: Duration = Duration::from_millis(10);

/// Waits until every connection of `pool` is up, at most `timeout`;
/// `false` when they are not all up by then.
///
/// Use it rather than `fred`'s `wait_for_connect()`: that reads the
/// connection state, then subscribes to the next "connected" event, so a
/// connection that comes up between the two is missed and the call waits
/// for the one after it, which on a healthy server never comes. This looks
/// at the state of each connection every 10 ms instead.
///
/// ```no_run
/// use std::time::Duration;
/// use strata_core::redis::{RedisPoolBuilder, wait_connected};
///
/// # async fn run() -> Result<(), strata_core::ConfigError> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// if !wait_connected(&pool, Duration::from_secs(5)).await {
///     eprintln!("Redis is not reachable yet: starting degraded");
/// }
/// # Ok(())
/// # }
/// ```
pub async fn wait_connected(pool: &Pool, timeout: Duration) -> bool {
    let all_up = || pool.clients().iter().all(ClientLike::is_connected);
    tokio::time::timeout(timeout, async {
        while !all_up() {
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .is_ok()
}
