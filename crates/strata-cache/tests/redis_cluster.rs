//! `RedisStore` on a real 3-master Redis Cluster: the conformance suite,
//! and tag purges whose resources live on every master.
#![cfg(feature = "redis")]

mod common;

use std::time::Duration;

use common::redis::pool;
use common::suite;
use strata_cache::{RedisStore, Store};
use strata_testkit::redis::{shared_cluster, unique_prefix};

async fn store(name: &str) -> RedisStore {
    RedisStore::new(pool(shared_cluster().url()).await).prefix(unique_prefix(name))
}

#[tokio::test]
async fn conformance() {
    let s = store("cache-cluster").await;
    suite::round_trip(&s, "rt").await;
    suite::variants(&s, "v").await;
    suite::tag_purge(&s, "tp").await;
    suite::soft_purge(&s, "sp").await;
    suite::leases(&s, "l").await;
    suite::expiry(&s, "ex").await;
}

#[tokio::test]
async fn a_tag_purge_reaches_resources_on_every_slot() {
    let s = store("cache-cluster-tags").await;
    let keys: Vec<_> = (0..30)
        .map(|i| suite::key("spread", &format!("/{i}")))
        .collect();
    for k in &keys {
        s.put(k, "", suite::entry("x", &["all"]), Duration::from_secs(60))
            .await
            .expect("put");
    }
    assert_eq!(s.purge_tag("all").await.expect("purge"), 30);
    for k in &keys {
        assert!(s.get(k, "").await.expect("get").entry.is_none());
    }
    assert_eq!(s.clean_tags().await.expect("clean"), 0);
}
