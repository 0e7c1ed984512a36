//! The conformance suite every `Store` passes (memory, Redis, Redis
//! Cluster). Real time only where a store's own expiry is checked.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use strata_cache::{CacheKey, Entry, Lease, Store};

pub fn key(test: &str, path: &str) -> CacheKey {
    CacheKey::new("https", &format!("{test}.example"), path)
}

pub fn entry(body: &str, tags: &[&str]) -> Entry {
    let mut headers = HeaderMap::new();
    headers.insert("etag", HeaderValue::from_static("\"v1\""));
    headers.append("x-multi", HeaderValue::from_static("a"));
    headers.append("x-multi", HeaderValue::from_static("b"));
    Entry::new(
        StatusCode::OK,
        headers,
        Bytes::from(body.to_owned()),
        Duration::from_secs(60),
        vec![],
        tags.iter().map(|t| (*t).to_owned()).collect(),
    )
}

const TTL: Duration = Duration::from_secs(60);

pub async fn round_trip<S: Store>(store: &S, test: &str) {
    let k = key(test, "/a?x=1");
    assert!(store.get(&k, "").await.expect("get").entry.is_none());
    let e = entry("hello \u{0} bytes", &["t1"]);
    store.put(&k, "", e.clone(), TTL).await.expect("put");
    let found = store.get(&k, "").await.expect("get");
    assert_eq!(found.entry.as_ref(), Some(&e));
    assert_eq!(found.vary.as_deref(), Some(&[][..]));
    assert_eq!(found.soft_purged_at, None);
    // The query is part of the key.
    assert!(
        store
            .get(&key(test, "/a?x=2"), "")
            .await
            .expect("get")
            .entry
            .is_none()
    );
}

pub async fn variants<S: Store>(store: &S, test: &str) {
    let k = key(test, "/v");
    let vary = vec![HeaderName::from_static("accept-language")];
    let mut en = entry("en", &[]);
    let mut fr = entry("fr", &[]);
    en.clone_from(&Entry::new(
        en.status(),
        en.headers().clone(),
        en.body().clone(),
        TTL,
        vary.clone(),
        vec![],
    ));
    fr.clone_from(&Entry::new(
        fr.status(),
        fr.headers().clone(),
        fr.body().clone(),
        TTL,
        vary.clone(),
        vec![],
    ));
    store
        .put(&k, "en-digest", en.clone(), TTL)
        .await
        .expect("put");
    store
        .put(&k, "fr-digest", fr.clone(), TTL)
        .await
        .expect("put");
    let unvaried = store.get(&k, "").await.expect("get");
    assert!(unvaried.entry.is_none());
    assert_eq!(unvaried.vary, Some(vary));
    assert_eq!(
        store.get(&k, "en-digest").await.expect("get").entry,
        Some(en)
    );
    assert_eq!(
        store.get(&k, "fr-digest").await.expect("get").entry,
        Some(fr)
    );
    store.purge(&k).await.expect("purge");
    for v in ["en-digest", "fr-digest", ""] {
        let gone = store.get(&k, v).await.expect("get");
        assert!(gone.entry.is_none(), "variant {v:?} survived the purge");
        assert!(gone.vary.is_none());
    }
}

pub async fn tag_purge<S: Store>(store: &S, test: &str) {
    let tag = format!("{test}-items");
    let (a, b, c) = (
        key(test, "/items/1"),
        key(test, "/items/2"),
        key(test, "/other"),
    );
    store
        .put(&a, "", entry("a", &[&tag, "x"]), TTL)
        .await
        .expect("put");
    store
        .put(&b, "", entry("b", &[&tag]), TTL)
        .await
        .expect("put");
    store
        .put(&c, "", entry("c", &["x"]), TTL)
        .await
        .expect("put");
    assert_eq!(store.purge_tag(&tag).await.expect("purge"), 2);
    assert!(store.get(&a, "").await.expect("get").entry.is_none());
    assert!(store.get(&b, "").await.expect("get").entry.is_none());
    assert!(
        store.get(&c, "").await.expect("get").entry.is_some(),
        "untagged entry purged"
    );
    assert_eq!(
        store.purge_tag(&tag).await.expect("purge"),
        0,
        "the index is gone with the entries"
    );
    // A resource stored again after the purge is indexed again.
    store
        .put(&a, "", entry("a2", &[&tag]), TTL)
        .await
        .expect("put");
    assert_eq!(store.purge_tag(&tag).await.expect("purge"), 1);
}

pub async fn soft_purge<S: Store>(store: &S, test: &str) {
    let tag = format!("{test}-soft");
    let (a, b) = (key(test, "/s/1"), key(test, "/s/2"));
    let e = entry("a", &[&tag]);
    store.put(&a, "", e.clone(), TTL).await.expect("put");
    store.put(&b, "", entry("b", &[]), TTL).await.expect("put");
    assert_eq!(store.soft_purge_tag(&tag).await.expect("soft purge"), 1);
    let found = store.get(&a, "").await.expect("get");
    assert_eq!(
        found.entry.as_ref(),
        Some(&e),
        "a soft purge keeps the entry"
    );
    assert!(
        found
            .soft_purged_at
            .is_some_and(|at| at >= e.response_time())
    );
    assert_eq!(store.get(&b, "").await.expect("get").soft_purged_at, None);
    store.soft_purge(&b).await.expect("soft purge");
    assert!(
        store
            .get(&b, "")
            .await
            .expect("get")
            .soft_purged_at
            .is_some()
    );
    // A response stored after the soft purge supersedes it.
    store.put(&b, "", entry("b2", &[]), TTL).await.expect("put");
    assert_eq!(store.get(&b, "").await.expect("get").soft_purged_at, None);
}

/// Entries expire with their TTL (the store's own clock: real time).
pub async fn expiry<S: Store>(store: &S, test: &str) {
    let k = key(test, "/short");
    store
        .put(&k, "", entry("short", &[]), Duration::from_millis(300))
        .await
        .expect("put");
    assert!(store.get(&k, "").await.expect("get").entry.is_some());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.get(&k, "").await.expect("get").entry.is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "an expired entry was still served 20 s later"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A shared store grants one lease per variant; release and expiry hand
/// it on; `wait` returns when it is released.
pub async fn leases<S: Store + Clone>(store: &S, test: &str) {
    let k = key(test, "/lease");
    let Lease::Acquired(token) = store
        .lease(&k, "", Duration::from_secs(30))
        .await
        .expect("lease")
    else {
        panic!("the first lease is granted");
    };
    assert_eq!(
        store
            .lease(&k, "", Duration::from_secs(30))
            .await
            .expect("lease"),
        Lease::Held
    );
    let waiter = {
        let (store, k) = (store.clone(), k.clone());
        tokio::spawn(async move { store.wait(&k, "", Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    store.release(&k, "", token).await.expect("release");
    tokio::time::timeout(Duration::from_secs(20), waiter)
        .await
        .expect("a release wakes the waiter well before its 60 s bound")
        .expect("waiter");
    assert!(matches!(
        store
            .lease(&k, "", Duration::from_millis(200))
            .await
            .expect("lease"),
        Lease::Acquired(_)
    ));
    // Not released: it expires and the next caller gets it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Lease::Acquired(_) = store
            .lease(&k, "", Duration::from_secs(30))
            .await
            .expect("lease")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "an expired lease was never handed on"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
