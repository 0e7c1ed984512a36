//! The conformance suite against `MemoryStore`, and its TTL on tokio's clock.
#![allow(clippy::unwrap_used)]

mod common;

use strata_recorder::MemoryStore;

async fn store(max_bytes: u64, max_count: u64) -> MemoryStore {
    MemoryStore::new()
        .max_bytes(max_bytes)
        .max_count(max_count)
        .ttl(Duration::from_secs(3600))
}

conformance_suite!(store);

#[tokio::test(start_paused = true)]
async fn exchanges_expire_a_ttl_after_they_were_inserted() {
    let store = MemoryStore::new().ttl(Duration::from_secs(60));
    let exchange = common::exchange(common::now_ms(), 1, 200, "/a", None, b"x");
    assert!(common::put(&store, &exchange).await.stored);
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(store.get(&exchange.summary.id).await.unwrap().is_some());
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(store.get(&exchange.summary.id).await.unwrap().is_none());
    assert!(store.query(&Query::new()).await.unwrap().items.is_empty());
    // The next insert removes it and counts the eviction.
    let next = common::exchange(common::now_ms(), 2, 200, "/a", None, b"y");
    let inserted = common::put(&store, &next).await;
    assert_eq!((inserted.evicted, inserted.count), (1, 1));
}

#[test]
fn one_encoder_gives_every_exchange_the_blob_encode_gives() {
    let mut encoder = strata_recorder::store::Encoder::new();
    for n in 0..5 {
        let body = common::noise(100 + 5000 * n as usize, n);
        let exchange = common::exchange(1_700_000_000_000, n, 200, "/r", Some("u"), &body);
        let blob = encoder.encode(&exchange);
        assert_eq!(
            blob,
            strata_recorder::store::encode(&exchange),
            "exchange {n}"
        );
        let back = strata_recorder::store::decode(&blob).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&exchange).unwrap()
        );
    }
}

#[tokio::test]
async fn zero_bounds_are_refused_when_the_layer_is_built_naming_the_setting() {
    let refused = [
        (MemoryStore::new().max_bytes(0), "MemoryStore::max_bytes"),
        (MemoryStore::new().max_count(0), "MemoryStore::max_count"),
        (MemoryStore::new().ttl(Duration::ZERO), "MemoryStore::ttl"),
        (
            MemoryStore::new().ttl(Duration::from_micros(999)),
            "MemoryStore::ttl",
        ),
    ];
    for (store, setting) in refused {
        common::assert_refused(store, setting);
    }
    let smallest = MemoryStore::new()
        .max_bytes(1)
        .max_count(1)
        .ttl(Duration::from_millis(1));
    let layer = strata_recorder::RecorderLayer::builder().store(smallest);
    assert!(layer.build().is_ok());
}
