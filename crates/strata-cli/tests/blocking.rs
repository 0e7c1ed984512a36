//! A tag purge of 100 000 resources never blocks Redis for long: a probe
//! PINGing in a loop during the purge sees its worst latency stay under
//! 250 ms (each batch script touches about 500 resources; the one script
//! over the whole tag this replaced blocked Redis for the whole purge,
//! seconds at this size: see docs/cli.md).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{pool, strata};
use futures_util::StreamExt as _;
use http::{HeaderMap, StatusCode};
use strata_cache::{CacheKey, Entry, RedisStore, Store};
use strata_core::redis::fred::interfaces::ClientLike as _;
use strata_testkit::redis::{shared, unique_prefix};

const RESOURCES: usize = 100_000;
const BOUND: Duration = Duration::from_millis(250);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_a_tag_of_100_000_resources_never_blocks_redis_for_long() {
    let url = shared().url();
    let prefix = unique_prefix("cli-block");
    let store = RedisStore::new(pool(url).await).prefix(prefix.as_str());
    let entry = Entry::new(
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::from_static(b"x"),
        Duration::from_secs(600),
        vec![],
        vec!["bulk".to_owned()],
    );
    let filled = Instant::now();
    let mut puts = futures_util::stream::iter(0..RESOURCES)
        .map(|i| {
            let (store, entry) = (&store, entry.clone());
            async move {
                let key = CacheKey::new("https", "bulk.example", &format!("/{i}"));
                store.put(&key, "", entry, Duration::from_secs(600)).await
            }
        })
        .buffer_unordered(512);
    while let Some(put) = puts.next().await {
        put.unwrap();
    }
    eprintln!("filled {RESOURCES} in {:?}", filled.elapsed());

    let probe_pool = pool(url).await;
    let done = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn({
        let done = done.clone();
        async move {
            let (mut worst, mut pings) = (Duration::ZERO, 0u64);
            while !done.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let _: () = probe_pool.next().ping(None).await.unwrap();
                worst = worst.max(sent.elapsed());
                pings += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (worst, pings)
        }
    });
    let env = [("STRATA_CACHE_PREFIX", prefix.as_str())];
    let started = Instant::now();
    let run = strata(
        url,
        &["cache", "purge", "--tag", "bulk", "--yes", "--json"],
        &env,
    )
    .await;
    let took = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let (worst, pings) = probe.await.unwrap();
    eprintln!("purged in {took:?}; worst PING {worst:?} over {pings} pings");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["count"], RESOURCES as u64);
    assert!(pings > 10, "the probe ran during the purge ({pings} pings)");
    assert!(
        worst < BOUND,
        "Redis blocked for {worst:?} during the purge"
    );
    let key = CacheKey::new("https", "bulk.example", "/12345");
    assert!(store.get(&key, "").await.unwrap().entry.is_none());
}
