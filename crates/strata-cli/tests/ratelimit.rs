//! `strata ratelimit` end to end on Redis and a Redis Cluster: a service's
//! store counts requests, the CLI shows and resets, the store sees the
//! quota back. Quotas are per hour, so counts do not depend on speed.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{audit, strata};
use strata_core::redis::RedisPoolBuilder;
use strata_rate_limit::{Key, Policy, Quota, RedisStore, Store};
use strata_testkit::redis::{shared, shared_cluster, unique_prefix};

async fn show_and_reset(url: &str) {
    let prefix = unique_prefix("cli-rl");
    let stream = format!("{prefix}audit");
    let pool = RedisPoolBuilder::from_url(url)
        .unwrap()
        .command_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    drop(pool.connect_pool());
    let store = RedisStore::new(pool.clone())
        .prefix(prefix.as_str())
        .timeout(Duration::from_secs(2));
    let policy = [Policy::new("per-ip", Quota::per_hour(10))];
    let key = Key::ip("192.0.2.1".parse().unwrap());
    for _ in 0..10 {
        assert!(store.check(&key, &policy, 1).await.unwrap().is_allowed());
    }
    assert!(!store.check(&key, &policy, 1).await.unwrap().is_allowed());
    let env = [
        ("STRATA_RATE_LIMIT_PREFIX", prefix.as_str()),
        ("STRATA_AUDIT_STREAM", stream.as_str()),
    ];

    let args = [
        "ratelimit",
        "show",
        "ip:192.0.2.1",
        "--policy",
        "per-ip",
        "--quota",
        "10/h",
        "--json",
    ];
    let shown = strata(url, &args, &env).await;
    assert_eq!(shown.code, 0, "{shown:?}");
    let json = shown.json();
    assert_eq!(
        (json["limit"].as_u64(), json["remaining"].as_u64()),
        (Some(10), Some(0)),
        "{json}"
    );
    let retry = json["retry_after_s"].as_u64().unwrap();
    assert!(
        (300..=360).contains(&retry),
        "one request back every 6 minutes: {json}"
    );
    assert!(json["full_in_ms"].as_u64().unwrap() > 3_500_000, "{json}");

    let dry = strata(
        url,
        &["ratelimit", "reset", "ip:192.0.2.1", "--dry-run"],
        &env,
    )
    .await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        !store.check(&key, &policy, 1).await.unwrap().is_allowed(),
        "a dry run changes nothing"
    );

    let reset = strata(
        url,
        &[
            "ratelimit",
            "reset",
            "ip:192.0.2.1",
            "--policy",
            "per-ip",
            "--yes",
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(
        (reset.code, reset.json()["count"].as_u64()),
        (0, Some(1)),
        "{reset:?}"
    );
    assert!(
        store.check(&key, &policy, 1).await.unwrap().is_allowed(),
        "the quota is back"
    );
    let shown = strata(url, &args, &env).await;
    assert_eq!(shown.json()["remaining"].as_u64(), Some(9));
    let all = strata(
        url,
        &["ratelimit", "reset", "ip:192.0.2.1", "-y", "--json"],
        &env,
    )
    .await;
    assert_eq!(all.json()["count"].as_u64(), Some(1), "{all:?}");
    assert_eq!(audit(&common::pool(url).await, &stream).await.len(), 3);

    let no_quota = strata(
        url,
        &["ratelimit", "show", "ip:192.0.2.1", "--policy", "per-ip"],
        &env,
    )
    .await;
    assert_eq!(no_quota.code, 64, "{no_quota:?}");
    let bad_quota = strata(
        url,
        &["ratelimit", "show", "k", "--policy", "p", "--quota", "ten"],
        &env,
    )
    .await;
    assert_eq!(bad_quota.code, 64, "{bad_quota:?}");
    assert!(
        bad_quota.stderr.starts_with("strata: bad quota \"ten\""),
        "{bad_quota:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_reset_on_redis() {
    show_and_reset(shared().url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_reset_on_a_cluster() {
    show_and_reset(shared_cluster().url()).await;
}
