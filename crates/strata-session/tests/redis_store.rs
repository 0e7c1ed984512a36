//! The conformance suite against `RedisStore` on a real `redis-server`.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use strata_core::redis::RedisPoolBuilder;
use strata_session::RedisStore;
use strata_testkit::redis::{shared, unique_prefix};

async fn store() -> RedisStore {
    store_and_pool().await.0
}

async fn store_and_pool() -> (RedisStore, strata_core::redis::fred::clients::Pool) {
    let pool = RedisPoolBuilder::from_url(shared().url())
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("pool");
    assert!(
        strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
        "connected in time"
    );
    let store = RedisStore::new(pool.clone()).prefix(unique_prefix("session"));
    (store, pool)
}

conformance_suite!(store().await);

/// The metadata is one field: a session holding one value is two fields,
/// and a listing and a rotation read and rewrite that field only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_with_one_value_is_two_hash_fields() {
    use strata_core::redis::fred::interfaces::HashesInterface as _;
    use strata_session::store::{RecordId, Store as _};

    let (store, pool) = store_and_pool().await;
    let id = RecordId::generate();
    let user = common::unique_user("fields");
    let record = common::record(1, Some(&user), &[("k", "\"v\"")]);
    assert!(store.create(&id, &record, common::HOUR).await.unwrap());
    let fields: u64 = pool.hlen(store.record_key(&id)).await.unwrap();
    assert_eq!(fields, 2);
    let update = common::rotate(common::set(common::update(1), "k", "\"w\""), 2, 60_000);
    assert!(store.update(&id, &update, common::HOUR).await.unwrap());
    let fields: u64 = pool.hlen(store.record_key(&id)).await.unwrap();
    assert_eq!(fields, 2);
    let listed = store.sessions(&user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_agent.as_deref(), Some("test-agent"));
    assert_eq!(listed[0].ip.as_deref(), Some("192.0.2.7"));
}

/// Writes of more values than one Lua `unpack` takes, set and removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_values_are_created_updated_and_removed() {
    use strata_session::store::{RecordId, Store as _};

    let store = store().await;
    let id = RecordId::generate();
    let names: Vec<String> = (0..1000).map(|i| format!("v{i}")).collect();
    let values: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let record = common::record(1, None, &values);
    assert!(store.create(&id, &record, common::HOUR).await.unwrap());
    assert_eq!(store.load(&id).await.unwrap().unwrap().data.len(), 1000);
    let mut update = common::update(1);
    update.set = (0..900)
        .map(|i| (format!("w{i}"), "2".to_owned()))
        .collect();
    update.remove = names[..700].to_vec();
    assert!(store.update(&id, &update, common::HOUR).await.unwrap());
    let data = store.load(&id).await.unwrap().unwrap().data;
    assert_eq!(data.len(), 300 + 900);
    assert_eq!(data.get("w899").map(String::as_str), Some("2"));
    assert_eq!(data.get("v999").map(String::as_str), Some("1"));
    assert!(!data.contains_key("v0"));
}
