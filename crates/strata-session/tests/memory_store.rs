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

/// Updates in place racing a delete on other threads: once the delete has
/// returned, the record stays gone and every later write is refused.
#[test]
fn updates_racing_a_delete_never_bring_the_record_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use strata_session::store::{RecordId, Store};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..50 {
        let store = Arc::new(MemoryStore::new());
        let id = RecordId::generate();
        let record = common::record(1, Some("racer"), &[]);
        assert!(
            runtime
                .block_on(store.create(&id, &record, common::HOUR))
                .unwrap()
        );
        let deleted = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|n| {
                let (store, deleted) = (store.clone(), deleted.clone());
                std::thread::spawn(move || {
                    let update = common::set(common::update(1), &format!("w{n}"), "1");
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    for _ in 0..200 {
                        let was_deleted = deleted.load(Ordering::SeqCst);
                        let applied = runtime
                            .block_on(store.update(&id, &update, common::HOUR))
                            .unwrap();
                        assert!(!(was_deleted && applied), "a write after the delete");
                    }
                })
            })
            .collect();
        assert!(runtime.block_on(store.delete(&id)).unwrap());
        deleted.store(true, Ordering::SeqCst);
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(runtime.block_on(store.load(&id)).unwrap(), None);
        assert!(
            runtime
                .block_on(store.sessions("racer"))
                .unwrap()
                .is_empty()
        );
    }
}
