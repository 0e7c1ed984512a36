//! Real `redis-server` processes for tests.
//!
//! [`shared()`] is one server per test binary (or the server at `REDIS_URL`),
//! [`shared_cluster()`] one 3-master Redis Cluster per test binary (or the
//! cluster at `REDIS_CLUSTER_URL`); every test takes its own key prefix from
//! [`unique_prefix`], so tests run in parallel on them. Outage tests start a
//! private [`RedisServer`] or [`RedisCluster`] they may stop and restart
//! without disturbing other tests.
//!
//! Each server runs under a small shell supervisor that kills it when the test
//! process exits, even when the test process is killed, so no `redis-server`
//! outlives the tests.

mod cluster;
mod process;
mod server;

use std::sync::atomic::{AtomicU64, Ordering};

pub use cluster::{RedisCluster, shared_cluster};
pub use server::{RedisServer, shared};

/// A key prefix no other test in any running test process uses:
/// `strata-test:{name}:{pid}:{n}:`.
pub fn unique_prefix(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("strata-test:{name}:{}:{n}:", std::process::id())
}
