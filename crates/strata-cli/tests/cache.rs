//! `strata cache` end to end on Redis and a Redis Cluster: a service's
//! store holds the responses, the CLI acts, the store shows the result.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{audit, pool, strata};
use http::{HeaderMap, StatusCode};
use strata_cache::{CacheKey, Entry, RedisStore, Store};
use strata_testkit::redis::{shared, shared_cluster, unique_prefix};

fn entry(tags: &[&str]) -> Entry {
    Entry::new(
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::from_static(b"body"),
        Duration::from_secs(300),
        vec![],
        tags.iter().map(|t| (*t).to_owned()).collect(),
    )
}

fn key(i: usize) -> CacheKey {
    CacheKey::new("https", "shop.example", &format!("/items/{i}"))
}

async fn purge_by_tag_and_url(url: &str) {
    let prefix = unique_prefix("cli-cache");
    let stream = format!("{prefix}audit");
    let pool = pool(url).await;
    let store = RedisStore::new(pool.clone()).prefix(prefix.as_str());
    for i in 0..30 {
        store
            .put(&key(i), "", entry(&["items"]), Duration::from_secs(300))
            .await
            .unwrap();
    }
    store
        .put(&key(99), "", entry(&[]), Duration::from_secs(300))
        .await
        .unwrap();
    let env = [
        ("STRATA_CACHE_PREFIX", prefix.as_str()),
        ("STRATA_AUDIT_STREAM", stream.as_str()),
    ];

    let dry = strata(
        url,
        &["cache", "purge", "--tag", "items", "--dry-run", "--json"],
        &env,
    )
    .await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert_eq!(dry.json()["count"], 30);
    assert_eq!(dry.json()["dry_run"], true);
    assert!(
        store.get(&key(3), "").await.unwrap().entry.is_some(),
        "a dry run changes nothing"
    );

    let refused = strata(url, &["cache", "purge", "--tag", "items"], &env).await;
    assert_eq!(refused.code, 64, "{refused:?}");
    assert_eq!(
        refused.stderr.lines().last().unwrap(),
        "strata: refusing to change anything without --yes (stdin is not a terminal)"
    );
    assert!(store.get(&key(3), "").await.unwrap().entry.is_some());

    let stats = strata(url, &["cache", "stats", "--json"], &env).await;
    assert_eq!(stats.code, 0, "{stats:?}");
    assert_eq!(
        (
            stats.json()["resources"].as_u64(),
            stats.json()["tags"].as_u64()
        ),
        (Some(31), Some(1))
    );

    let purged = strata(
        url,
        &["cache", "purge", "--tag", "items", "--yes", "--json"],
        &env,
    )
    .await;
    assert_eq!(purged.code, 0, "{purged:?}");
    assert_eq!(purged.json()["count"], 30);
    for i in 0..30 {
        assert!(
            store.get(&key(i), "").await.unwrap().entry.is_none(),
            "{i} purged"
        );
    }
    assert!(
        store.get(&key(99), "").await.unwrap().entry.is_some(),
        "untagged kept"
    );

    let gone = strata(url, &["cache", "purge", "--tag", "items", "--yes"], &env).await;
    assert_eq!(gone.code, 2, "{gone:?}");
    assert!(gone.stderr.contains("unknown tag \"items\""), "{gone:?}");

    let by_url = strata(
        url,
        &[
            "cache",
            "purge",
            "--url",
            "https://shop.example/items/99",
            "--yes",
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(by_url.code, 0, "{by_url:?}");
    assert_eq!(by_url.json()["count"], 1);
    assert!(
        store.get(&key(99), "").await.unwrap().entry.is_none(),
        "purged by URL"
    );

    let entries = audit(&pool, &stream).await;
    assert_eq!(
        entries.len(),
        3,
        "dry run, tag purge, URL purge: {entries:?}"
    );
    assert_eq!(entries[0]["dry_run"], "true");
    assert_eq!(entries[1]["dry_run"], "false");
    assert_eq!(entries[1]["count"], "30");
    assert_eq!(entries[1]["target"], "tag items");
    assert_eq!(entries[1]["user"], "ops-test");
    assert!(entries[1]["command"].contains("cache purge --tag items --yes"));
    assert!(!entries[1]["host"].is_empty() && !entries[1]["time"].is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_by_tag_and_url_on_redis() {
    purge_by_tag_and_url(shared().url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_by_tag_and_url_on_a_cluster() {
    purge_by_tag_and_url(shared_cluster().url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_purge_keeps_entries_marked_stale() {
    let prefix = unique_prefix("cli-soft");
    let store = RedisStore::new(pool(shared().url()).await).prefix(prefix.as_str());
    store
        .put(&key(1), "", entry(&["t"]), Duration::from_secs(300))
        .await
        .unwrap();
    let env = [("STRATA_CACHE_PREFIX", prefix.as_str())];
    let run = strata(
        shared().url(),
        &["cache", "purge", "--tag", "t", "--soft", "-y"],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let found = store.get(&key(1), "").await.unwrap();
    assert!(found.entry.is_some() && found.soft_purged_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_and_unreachable_redis_give_one_line_errors() {
    let url = shared().url();
    let bad_url = strata(url, &["cache", "purge", "--url", "/items/1", "--yes"], &[]).await;
    assert_eq!(bad_url.code, 64, "{bad_url:?}");
    assert!(
        bad_url.stderr.starts_with("strata: bad URL \"/items/1\""),
        "{bad_url:?}"
    );
    assert_eq!(bad_url.stderr.lines().count(), 1);

    let both = strata(
        url,
        &["cache", "purge", "--tag", "a", "--url", "https://x/"],
        &[],
    )
    .await;
    assert_eq!(both.code, 64, "clap usage errors exit 64: {both:?}");
    let neither = strata(url, &["cache", "purge"], &[]).await;
    assert_eq!(neither.code, 64, "{neither:?}");
    let duration = strata(url, &["cache", "stats", "--connect-timeout", "soon"], &[]).await;
    assert_eq!(duration.code, 64, "{duration:?}");
    assert!(
        duration.stderr.contains("bad duration \"soon\""),
        "{duration:?}"
    );

    let down = format!("redis://127.0.0.1:{}", common::closed_port());
    let unreachable = strata(&down, &["cache", "stats", "--connect-timeout", "1s"], &[]).await;
    assert_eq!(unreachable.code, 2, "{unreachable:?}");
    assert_eq!(
        unreachable.stderr.trim(),
        format!("strata: Redis unreachable at {down} (no connection within 1s)")
    );
    let garbage = strata("not a url", &["cache", "stats"], &[]).await;
    assert_eq!(garbage.code, 64, "{garbage:?}");
    assert!(
        garbage.stderr.starts_with("strata: bad Redis URL"),
        "{garbage:?}"
    );
}
