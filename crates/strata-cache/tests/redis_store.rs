//! `RedisStore` on a real Redis server: the conformance suite, the key
//! layout (raw bytes, a TTL on every key) and index cleaning.
#![cfg(feature = "redis")]

mod common;

use std::time::Duration;

use common::redis::pool;
use common::suite;
use strata_cache::{CacheLayer, RedisStore, Store};
use strata_core::ConfigError;
use strata_core::redis::fred::interfaces::KeysInterface;
use strata_core::redis::fred::types::Value;
use strata_testkit::redis::{shared, unique_prefix};

async fn store(name: &str) -> (RedisStore, strata_core::redis::fred::clients::Pool, String) {
    let pool = pool(shared().url()).await;
    let prefix = unique_prefix(name);
    (
        RedisStore::new(pool.clone()).prefix(prefix.clone()),
        pool,
        prefix,
    )
}

#[tokio::test]
async fn conformance() {
    let (s, _, _) = store("cache-conformance").await;
    suite::round_trip(&s, "rt").await;
    suite::variants(&s, "v").await;
    suite::tag_purge(&s, "tp").await;
    suite::soft_purge(&s, "sp").await;
    suite::leases(&s, "l").await;
}

#[tokio::test]
async fn expiry() {
    let (s, _, _) = store("cache-expiry").await;
    suite::expiry(&s, "ex").await;
}

#[tokio::test]
async fn every_key_has_a_ttl_and_entries_are_raw_bytes() {
    let (s, pool, prefix) = store("cache-layout").await;
    let key = suite::key("layout", "/a");
    s.put(
        &key,
        "",
        suite::entry("raw body", &["t1", "t{2}"]),
        Duration::from_secs(60),
    )
    .await
    .expect("put");
    let keys: Vec<String> = {
        use futures_util::StreamExt;
        let mut scan = pool
            .next()
            .scan_buffered(format!("{prefix}*"), Some(100), None);
        let mut keys = Vec::new();
        while let Some(k) = scan.next().await {
            keys.push(k.expect("scan").as_str().expect("utf-8").to_owned());
        }
        keys.sort();
        keys
    };
    let digest = key.digest();
    assert_eq!(
        keys,
        [
            format!("{prefix}e:{{{digest}}}:"),
            format!("{prefix}m:{{{digest}}}"),
            format!("{prefix}t:{{t%7B2%7D}}"),
            format!("{prefix}t:{{t1}}"),
            format!("{prefix}v:{{{digest}}}"),
        ]
    );
    for k in &keys {
        let ttl: i64 = pool.next().pttl(k.as_str()).await.expect("pttl");
        assert!(ttl > 0 && ttl <= 60_000, "{k} has ttl {ttl}");
    }
    let raw: Value = pool
        .next()
        .get(format!("{prefix}e:{{{digest}}}:"))
        .await
        .expect("get");
    let raw = raw.as_bytes().expect("bytes").to_vec();
    assert!(
        raw.starts_with(b"SCE1") && raw.ends_with(b"raw body"),
        "not raw bytes: {raw:?}"
    );
}

#[tokio::test]
async fn clean_tags_removes_index_entries_of_resources_that_are_gone() {
    let (s, _, _) = store("cache-clean").await;
    let (a, b) = (suite::key("clean", "/a"), suite::key("clean", "/b"));
    s.put(&a, "", suite::entry("a", &["t"]), Duration::from_secs(60))
        .await
        .expect("put");
    s.put(&b, "", suite::entry("b", &["t"]), Duration::from_secs(60))
        .await
        .expect("put");
    s.purge(&a)
        .await
        .expect("purge by key leaves the index entry");
    assert_eq!(s.clean_tags().await.expect("clean"), 1);
    assert_eq!(s.clean_tags().await.expect("clean"), 0);
    assert_eq!(
        s.purge_tag("t").await.expect("purge"),
        1,
        "only /b is left in the index"
    );
}

#[tokio::test]
async fn a_prefix_with_braces_is_refused_at_build() {
    let pool = strata_core::redis::RedisPoolBuilder::from_url("redis://127.0.0.1:1")
        .expect("url")
        .build()
        .expect("pool");
    let result = CacheLayer::builder(RedisStore::new(pool).prefix("a{b}")).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "RedisStore::prefix",
                ..
            })
        ),
        "{result:?}"
    );
}
