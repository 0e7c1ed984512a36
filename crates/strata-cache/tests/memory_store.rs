//! The conformance suite on `MemoryStore`.

mod common;

use common::suite;
use strata_cache::{Lease, MemoryStore, Store};

#[tokio::test]
async fn round_trip() {
    suite::round_trip(&MemoryStore::new(), "rt").await;
}

#[tokio::test]
async fn variants() {
    suite::variants(&MemoryStore::new(), "v").await;
}

#[tokio::test]
async fn tag_purge() {
    suite::tag_purge(&MemoryStore::new(), "tp").await;
}

#[tokio::test]
async fn soft_purge() {
    suite::soft_purge(&MemoryStore::new(), "sp").await;
}

#[tokio::test]
async fn expiry() {
    suite::expiry(&MemoryStore::new(), "ex").await;
}

#[tokio::test]
async fn a_memory_store_needs_no_lease() {
    let store = MemoryStore::new();
    let k = suite::key("lease", "/");
    for _ in 0..2 {
        assert!(matches!(
            store.lease(&k, "", std::time::Duration::from_secs(1)).await,
            Ok(Lease::Unshared)
        ));
    }
}

#[tokio::test]
async fn total_bytes_are_bounded() {
    let store = MemoryStore::new().max_bytes(64 * 1024);
    let body = "x".repeat(4096);
    for i in 0..200 {
        let k = suite::key("bound", &format!("/{i}"));
        store
            .put(
                &k,
                "",
                suite::entry(&body, &[]),
                std::time::Duration::from_secs(60),
            )
            .await
            .expect("put");
    }
    let mut kept = 0;
    for i in 0..200 {
        if store
            .get(&suite::key("bound", &format!("/{i}")), "")
            .await
            .expect("get")
            .entry
            .is_some()
        {
            kept += 1;
        }
    }
    // 64 KiB holds at most 15 of these 4 KiB+ entries.
    assert!(kept <= 16, "{kept} entries of 4 KiB kept in 64 KiB");
    assert!(kept > 0);
}
