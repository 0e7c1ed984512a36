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
use http::{HeaderMap, StatusCode};
use strata_cache::{CacheKey, Entry, RedisStore, Store};
use strata_core::redis::fred::interfaces::{
    ClientLike as _, KeysInterface as _, LuaInterface as _, SetsInterface as _,
};
use strata_testkit::redis::{shared, unique_prefix};

const RESOURCES: usize = 100_000;
const BOUND: Duration = Duration::from_millis(250);

/// Copies the entry `KEYS[1]` to resources `bulk<i>` for `i` in
/// `ARGV[2]..=ARGV[3]`, each with its meta hash and variants set, tagged in
/// the tag set `KEYS[2]` (prefix `ARGV[1]`).
const BULK_FILL: &str = r"
local bytes, p = redis.call('GET', KEYS[1]), ARGV[1]
for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
  local d = 'bulk' .. i
  redis.call('SET', p .. 'e:{' .. d .. '}:', bytes, 'EX', 600)
  redis.call('HSET', p .. 'm:{' .. d .. '}', 'vary', '')
  redis.call('EXPIRE', p .. 'm:{' .. d .. '}', 600)
  redis.call('SADD', p .. 'v:{' .. d .. '}', '')
  redis.call('EXPIRE', p .. 'v:{' .. d .. '}', 600)
  redis.call('SADD', KEYS[2], d)
end
return 1
";

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
    // One resource through the store (as the layer stores it), then the
    // rest copied from it server-side in chunks, in the layout the store
    // documents (`RedisStore`'s "Keys"): no 100 000 round trips.
    let sample = CacheKey::new("https", "bulk.example", "/sample");
    store
        .put(&sample, "", entry, Duration::from_secs(600))
        .await
        .unwrap();
    let filled = Instant::now();
    let fill_pool = pool(url).await;
    let source = format!("{prefix}e:{{{}}}:", sample.digest());
    let tag = format!("{prefix}t:{{bulk}}");
    for chunk in 0..RESOURCES / 10_000 {
        let first = chunk * 10_000;
        let args = vec![
            prefix.clone(),
            first.to_string(),
            (first + 9_999).to_string(),
        ];
        let _: i64 = fill_pool
            .next()
            .eval(BULK_FILL, vec![source.clone(), tag.clone()], args)
            .await
            .unwrap();
    }
    eprintln!("filled {RESOURCES} in {:?}", filled.elapsed());
    let tagged: u64 = fill_pool.next().scard(&tag).await.unwrap();
    assert_eq!(tagged, RESOURCES as u64 + 1);

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
    assert_eq!(run.json()["count"], RESOURCES as u64 + 1);
    assert!(pings > 10, "the probe ran during the purge ({pings} pings)");
    assert!(
        worst < BOUND,
        "Redis blocked for {worst:?} during the purge"
    );
    assert!(store.get(&sample, "").await.unwrap().entry.is_none());
    let left: u64 = fill_pool
        .next()
        .exists(format!("{prefix}e:{{bulk54321}}:"))
        .await
        .unwrap();
    assert_eq!(left, 0, "a copied resource is purged too");
}
