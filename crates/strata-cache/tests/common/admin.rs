//! The admin operations every store passes through a `CacheHandle` made
//! for the store alone: counts, purges by URL and by tag with progress,
//! stats.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt as _;
use strata_cache::{CacheHandle, CacheKey, Store};

use super::suite::{entry, key};

const TTL: Duration = Duration::from_secs(60);

/// Stores `n` resources of `test` tagged `tag` (and one untagged), 32 at a
/// time.
pub async fn fill<S: Store>(store: &S, test: &str, tag: &str, n: usize) -> Vec<CacheKey> {
    let keys: Vec<CacheKey> = (0..n).map(|i| key(test, &format!("/t/{i}"))).collect();
    let mut puts = futures_util::stream::iter(keys.clone())
        .map(|k| async move { store.put(&k, "", entry("x", &[tag]), TTL).await })
        .buffer_unordered(32);
    while let Some(put) = puts.next().await {
        put.expect("put");
    }
    store
        .put(&key(test, "/untagged"), "", entry("u", &[]), TTL)
        .await
        .expect("put");
    keys
}

/// A tag of `n` resources (several purge batches on Redis): counted
/// without change, purged with monotonic progress up to `n` reported at
/// least `reports` times (once per batch), gone after.
pub async fn tag_purge_in_batches<S: Store + Clone>(
    store: &S,
    test: &str,
    n: usize,
    reports: usize,
) {
    let tag = format!("{test}-many");
    let keys = fill(store, test, &tag, n).await;
    let handle = CacheHandle::new(store.clone()).expect("handle");
    assert_eq!(handle.count_tag(&tag).await.expect("count"), n as u64);
    assert_eq!(
        handle.count_tag(&tag).await.expect("count"),
        n as u64,
        "a count changes nothing"
    );
    assert!(store.get(&keys[0], "").await.expect("get").entry.is_some());

    let seen = Mutex::new(Vec::new());
    let purged = handle
        .purge_tag_progress(&tag, false, &|done| seen.lock().expect("lock").push(done))
        .await
        .expect("purge");
    assert_eq!(purged, n as u64);
    let seen = seen.into_inner().expect("lock");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(seen.len() >= reports, "one report per batch: {seen:?}");
    assert_eq!(seen.last(), Some(&(n as u64)));
    for k in keys.iter().step_by(97) {
        assert!(store.get(k, "").await.expect("get").entry.is_none());
    }
    assert_eq!(handle.count_tag(&tag).await.expect("count"), 0);
    let untagged = key(test, "/untagged");
    assert!(store.get(&untagged, "").await.expect("get").entry.is_some());
}

/// A soft tag purge keeps the entries and marks them.
pub async fn soft_tag_purge_with_progress<S: Store + Clone>(store: &S, test: &str, n: usize) {
    let tag = format!("{test}-soft");
    let keys = fill(store, test, &tag, n).await;
    let handle = CacheHandle::new(store.clone()).expect("handle");
    let last = Mutex::new(0);
    let marked = handle
        .purge_tag_progress(&tag, true, &|done| *last.lock().expect("lock") = done)
        .await
        .expect("soft purge");
    assert_eq!(marked, n as u64);
    assert_eq!(*last.lock().expect("lock"), n as u64);
    let found = store.get(&keys[1], "").await.expect("get");
    assert!(found.entry.is_some() && found.soft_purged_at.is_some());
    assert_eq!(
        handle.count_tag(&tag).await.expect("count"),
        n as u64,
        "a soft purge keeps the index"
    );
}

/// A purge by URL removes the resource a `GET` of that URL is cached
/// under; `count` sees it before and not after.
pub async fn purge_by_url<S: Store + Clone>(store: &S, test: &str) {
    let url = format!("https://{test}.example/t/url?page=2");
    let k = CacheKey::from_url(&url).expect("url");
    assert_eq!(k, key(test, "/t/url?page=2"));
    store.put(&k, "", entry("u", &[]), TTL).await.expect("put");
    let handle = CacheHandle::new(store.clone()).expect("handle");
    assert_eq!(handle.count(&k).await.expect("count"), 1);
    handle.purge(&k).await.expect("purge");
    assert_eq!(handle.count(&k).await.expect("count"), 0);
    assert!(store.get(&k, "").await.expect("get").entry.is_none());
}

/// Stats on a store holding only `test`'s data: `n` tagged resources and
/// one untagged, one tag.
pub async fn stats<S: Store + Clone>(store: &S, test: &str, n: usize) {
    let tag = format!("{test}-stats");
    fill(store, test, &tag, n).await;
    let handle = CacheHandle::new(store.clone()).expect("handle");
    let last = Mutex::new(0);
    let stats = handle
        .stats(&|seen| *last.lock().expect("lock") = seen)
        .await
        .expect("stats");
    assert_eq!(stats.entries, Some(n as u64 + 1), "{stats:?}");
    assert_eq!(stats.resources, Some(n as u64 + 1), "{stats:?}");
    assert_eq!(stats.tags, Some(1), "{stats:?}");
    assert!(*last.lock().expect("lock") > 0);
}
