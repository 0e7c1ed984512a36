//! The conformance suite against `MemoryStore`.

#![allow(clippy::unwrap_used)]

mod common;

use strata_session::MemoryStore;

conformance_suite!(MemoryStore::new());

#[test]
fn the_store_is_bounded_by_count() {
    use strata_session::store::{RecordId, Store};
    let store = MemoryStore::with_capacity(100);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..1_000 {
            let id = RecordId::generate();
            store
                .create(&id, &common::record(1, None, &[]), common::HOUR)
                .await
                .unwrap();
        }
    });
    assert!(store.len() <= 100, "{}", store.len());
}
