//! The layer on a real `redis-server`: shared quotas, concurrency, outages.
#![cfg(feature = "redis")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::prelude::*;
use strata_core::redis::fred::types::{ClusterHash, CustomCommand};
use strata_rate_limit::{
    KeyBy, OnStoreError, Policy, Quota, RateLimitLayer, RedisStore, Rule, Store, StoreError,
};
use strata_testkit::redis::{RedisServer, shared, unique_prefix};
use strata_testkit::{body_string, from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

const TIMEOUT: Duration = Duration::from_millis(100);
/// A ceiling that catches a request waiting for Redis (a hang), not a slow
/// machine: thirty times the store's timeout.
const HANG: Duration = Duration::from_secs(3);

async fn ok(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

async fn pool(url: &str) -> Pool {
    let pool = RedisPoolBuilder::from_url(url)
        .expect("valid url")
        .command_timeout(Duration::from_millis(500))
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .connect()
        .await
        .expect("pool");
    wait_for_ping(&pool).await;
    pool
}

async fn wait_for_ping(pool: &Pool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.ping::<String>(None).await.is_err() {
        assert!(Instant::now() < deadline, "Redis did not answer PING");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn from(ip: [u8; 4]) -> Request<Body> {
    from_peer(get("/"), SocketAddr::from((ip, 40_000)))
}

fn layer(store: RedisStore, quota: Quota) -> RateLimitLayer {
    RateLimitLayer::builder(Rule::new(KeyBy::client_ip(), Policy::new("per-ip", quota)))
        .redis(store)
        .build()
        .expect("valid")
}

async fn status_of(layer: &RateLimitLayer, request: Request<Body>) -> StatusCode {
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(ok);
    service.oneshot(request).await.expect("infallible").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_one_key_never_over_grant() {
    let prefix = unique_prefix("concurrent");
    let store = RedisStore::new(pool(shared().url()).await)
        .prefix(prefix)
        .timeout(Duration::from_secs(2))
        .deny_cache(0);
    let layer = layer(store, Quota::per_hour(50));
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let layer = layer.clone();
            tokio::spawn(async move { status_of(&layer, from([192, 0, 2, 1])).await })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        match task.await.expect("task") {
            StatusCode::OK => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(allowed, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_enforce_one_quota() {
    let prefix = unique_prefix("two-instances");
    let a = layer(
        RedisStore::new(pool(shared().url()).await)
            .prefix(prefix.clone())
            .timeout(Duration::from_secs(2)),
        Quota::per_hour(10),
    );
    let b = layer(
        RedisStore::new(pool(shared().url()).await)
            .prefix(prefix)
            .timeout(Duration::from_secs(2)),
        Quota::per_hour(10),
    );
    let mut allowed = 0;
    for i in 0..20 {
        let instance = if i % 2 == 0 { &a } else { &b };
        if status_of(instance, from([192, 0, 2, 1])).await == StatusCode::OK {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_write_nothing_and_keys_expire() {
    let prefix = unique_prefix("ttl");
    let pool = pool(shared().url()).await;
    let store = RedisStore::new(pool.clone())
        .prefix(prefix.clone())
        .timeout(Duration::from_secs(2));
    let policies = [Policy::new("per-ip", Quota::per_minute(2))];
    let key = strata_rate_limit::Key::ip("192.0.2.1".parse().expect("ip"));
    let redis_key = format!("{prefix}{{ip:192.0.2.1}}:per-ip");
    for _ in 0..2 {
        assert!(
            store
                .check(&key, &policies, 1)
                .await
                .expect("check")
                .is_allowed()
        );
    }
    let before: String = pool.get(&redis_key).await.expect("GET");
    let ttl: i64 = pool.pttl(&redis_key).await.expect("PTTL");
    assert!(ttl > 59_000 && ttl <= 60_000, "PTTL {ttl}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !store
            .check(&key, &policies, 1)
            .await
            .expect("check")
            .is_allowed()
    );
    let after: String = pool.get(&redis_key).await.expect("GET");
    assert_eq!(before, after, "a refusal changed the stored state");
    let ttl_after: i64 = pool.pttl(&redis_key).await.expect("PTTL");
    assert!(ttl_after < ttl, "a refusal refreshed the TTL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_is_reloaded_after_the_cache_is_flushed() {
    let server = RedisServer::start();
    let pool = pool(server.url()).await;
    let store = RedisStore::new(pool.clone()).timeout(Duration::from_secs(2));
    let policies = [Policy::new("p", Quota::per_minute(3))];
    let key = strata_rate_limit::Key::new("flush");
    assert!(
        store
            .check(&key, &policies, 1)
            .await
            .expect("check")
            .is_allowed()
    );
    let () = pool.script_flush(false).await.expect("SCRIPT FLUSH");
    let decision = store
        .check(&key, &policies, 1)
        .await
        .expect("check after flush");
    assert_eq!(decision.policies()[0].remaining(), 1);
    // The script is cached again: EVALSHA works on its own.
    assert!(
        store
            .check(&key, &policies, 1)
            .await
            .expect("check")
            .is_allowed()
    );
}

/// Loads the script, so the first request under test is one round trip
/// (on a loaded machine, two could exceed the short timeout).
async fn warm_up(store: &RedisStore) {
    let policies = [Policy::new("warm-up", Quota::per_minute(1))];
    for _ in 0..50 {
        if store
            .check(&strata_rate_limit::Key::new("warm-up"), &policies, 0)
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the store never answered");
}

/// A private server, a pool and a store with a short timeout.
async fn outage_setup(on_error: OnStoreError) -> (RedisServer, RateLimitLayer) {
    let server = RedisServer::start();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(TIMEOUT)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .connect()
        .await
        .expect("pool");
    wait_for_ping(&pool).await;
    let store = RedisStore::new(pool).timeout(TIMEOUT).on_error(on_error);
    warm_up(&store).await;
    (server, layer(store, Quota::per_minute(3)))
}

async fn timed(layer: &RateLimitLayer, request: Request<Body>) -> Response<Body> {
    let started = Instant::now();
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(ok);
    let response = service.oneshot(request).await.expect("infallible");
    let elapsed = started.elapsed();
    assert!(
        elapsed <= HANG,
        "a request took {elapsed:?} during the outage"
    );
    response
}

/// After a restart, requests are counted in Redis again.
async fn assert_recovers(server: &RedisServer, layer: &RateLimitLayer) {
    server.restart();
    assert_counted_in_redis(&pool(server.url()).await, layer).await;
}

/// Requests are counted in Redis (within 15 s).
async fn assert_counted_in_redis(check: &Pool, layer: &RateLimitLayer) {
    let deadline = Instant::now() + Duration::from_secs(15);
    for n in 1_u8.. {
        // A fresh client each time, so fallback counts never refuse it.
        let response = ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(ok)
            .oneshot(from([203, 0, 113, n]))
            .await
            .expect("infallible");
        // Until the pool has reconnected, a fail-closed store still refuses.
        let stored: Option<String> = check
            .get(format!("strata:rl:{{ip:203.0.113.{n}}}:per-ip"))
            .await
            .expect("GET");
        if stored.is_some() {
            assert_eq!(response.status(), StatusCode::OK, "counted in Redis");
            return;
        }
        assert!(Instant::now() < deadline, "the store did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store did not recover");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_falls_back_to_memory_within_the_timeout() {
    let (server, layer) = outage_setup(OnStoreError::Fallback).await;
    server.stop();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = timed(&layer, from([192, 0, 2, 1])).await;
        assert!(response.headers().contains_key("ratelimit"));
        statuses.push(response.status());
    }
    // The in-memory fallback still enforces 3 per minute.
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_recovers(&server, &layer).await;
}

/// Once the pool knows the connection is down, decisions do not wait for a
/// timeout at all: the store says it is disconnected at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_outage_is_answered_without_waiting() {
    let server = RedisServer::start();
    let pool = pool(server.url()).await;
    let store = RedisStore::new(pool).timeout(TIMEOUT);
    warm_up(&store).await;
    server.stop();
    let policies = [Policy::new("p", Quota::per_minute(3))];
    let key = strata_rate_limit::Key::new("down");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let result = store.check(&key, &policies, 1).await;
        // Only the known-outage path answers `Disconnected`, and it sends
        // nothing: the variant shows that no timeout was waited for.
        if matches!(result, Err(StoreError::Disconnected)) {
            break;
        }
        assert!(
            matches!(
                result,
                Err(StoreError::Timeout(_) | StoreError::Redis { .. })
            ),
            "Redis is down: {result:?}"
        );
        assert!(
            Instant::now() < deadline,
            "the pool never noticed the outage"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while store.check(&key, &policies, 1).await.is_err() {
        assert!(Instant::now() < deadline, "the store did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// While the pool is still making its first connection (here `fred`'s own
/// `connect_pool()`, which waits 600 ms before its first attempt), every
/// decision is sent and waits up to the store's timeout: none is skipped as
/// a known outage, and once connected Redis decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_connection_in_progress_is_waited_for_not_skipped() {
    let server = RedisServer::start();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(TIMEOUT)
        .connection_timeout(Duration::from_secs(5))
        .reconnect_backoff(Duration::from_millis(600), Duration::from_secs(1))
        .build()
        .expect("pool");
    drop(pool.connect_pool());
    let store = RedisStore::new(pool).timeout(TIMEOUT);
    let policies = [Policy::new("p", Quota::per_minute(100))];
    let key = strata_rate_limit::Key::new("starting");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut timeouts = 0;
    loop {
        match store.check(&key, &policies, 1).await {
            Ok(decision) => {
                assert!(decision.is_allowed());
                break;
            }
            // The store's deadline or the pool's command timeout.
            Err(StoreError::Timeout(_)) => timeouts += 1,
            Err(StoreError::Redis { source }) if *source.kind() == ErrorKind::Timeout => {
                timeouts += 1;
            }
            Err(other) => panic!("decision {timeouts} while connecting: {other:?}"),
        }
        assert!(Instant::now() < deadline, "the pool never connected");
    }
    assert!(timeouts > 0, "the first attempt was not delayed");
}

/// When the first connection fails (Redis down at start), the store treats
/// it as a known outage once the connection's grace is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_connection_becomes_a_known_outage() {
    let server = RedisServer::start();
    server.stop();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(TIMEOUT)
        .connection_timeout(TIMEOUT)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .connect()
        .await
        .expect("pool");
    let store = RedisStore::new(pool).timeout(TIMEOUT);
    let policies = [Policy::new("p", Quota::per_minute(3))];
    let key = strata_rate_limit::Key::new("never-up");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !matches!(
        store.check(&key, &policies, 1).await,
        Err(StoreError::Disconnected)
    ) {
        assert!(Instant::now() < deadline, "never treated as an outage");
    }
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while store.check(&key, &policies, 1).await.is_err() {
        assert!(Instant::now() < deadline, "the store did not connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_fails_open_within_the_timeout() {
    let (server, layer) = outage_setup(OnStoreError::FailOpen).await;
    server.stop();
    for _ in 0..5 {
        let response = timed(&layer, from([192, 0, 2, 1])).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.headers().contains_key("ratelimit"));
    }
    assert_recovers(&server, &layer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_fails_closed_with_503_within_the_timeout() {
    let (server, layer) = outage_setup(OnStoreError::FailClosed).await;
    server.stop();
    for _ in 0..3 {
        let response = timed(&layer, from([192, 0, 2, 1])).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(response.headers()["retry-after"], "1");
        let body = body_string(response.into_body()).await;
        assert!(body.contains(r#""status":503"#), "{body}");
    }
    assert_recovers(&server, &layer).await;
}

/// Redis accepts commands and does not answer (`CLIENT PAUSE`), and the
/// pool's own timeout is long: the store's deadline alone answers every
/// request, queued ones included (far more than one batch's worth). Fail
/// closed tells the two apart whatever the machine's speed: a request
/// answered by its deadline is a 503, one that waited for Redis would be
/// allowed once the pause ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_costs_no_request_more_than_the_timeout() {
    let server = RedisServer::start();
    let slow_pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("pool");
    wait_for_ping(&slow_pool).await;
    let store = RedisStore::new(slow_pool).timeout(TIMEOUT);
    warm_up(&store).await;
    let store = store.on_error(OnStoreError::FailClosed);
    let layer = layer(store, Quota::per_minute(3));
    let admin = pool(server.url()).await;
    let pause = Duration::from_secs(5);
    let paused_at = Instant::now();
    let () = admin
        .custom(
            CustomCommand::new_static("CLIENT", ClusterHash::FirstKey, false),
            vec![
                "PAUSE".to_owned(),
                pause.as_millis().to_string(),
                "ALL".to_owned(),
            ],
        )
        .await
        .expect("CLIENT PAUSE");
    let requests = (0..600_u32).map(|n| {
        let layer = layer.clone();
        tokio::spawn(async move {
            let [_, _, c, d] = n.to_be_bytes();
            let response = timed(&layer, from([198, 51, c, d])).await;
            // Each a fresh client: only the deadline refuses it.
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        })
    });
    for request in requests.collect::<Vec<_>>() {
        request.await.expect("request within the timeout");
    }
    // Once the pause ends, requests are counted in Redis again.
    tokio::time::sleep(pause.saturating_sub(paused_at.elapsed())).await;
    assert_counted_in_redis(&admin, &layer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_keys_are_answered_locally_until_their_retry_time() {
    let (server, layer) = outage_setup(OnStoreError::FailClosed).await;
    for _ in 0..3 {
        assert_eq!(
            status_of(&layer, from([192, 0, 2, 1])).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        status_of(&layer, from([192, 0, 2, 1])).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // With Redis gone, the known-refused key still gets 429 (no round
    // trip), while another key hits the outage policy.
    server.stop();
    let response = timed(&layer, from([192, 0, 2, 1])).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("int");
    assert!((19..=20).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        status_of(&layer, from([192, 0, 2, 2])).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[cfg(feature = "prometheus")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_decisions_errors_and_fallbacks() {
    let registry = prometheus::Registry::new();
    let metrics = strata_rate_limit::RateLimitMetrics::register(&registry).expect("register");
    let server = RedisServer::start();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(TIMEOUT)
        .connect()
        .await
        .expect("pool");
    wait_for_ping(&pool).await;
    let store = RedisStore::new(pool).timeout(TIMEOUT);
    warm_up(&store).await;
    let layer = RateLimitLayer::builder(Rule::new(
        KeyBy::client_ip(),
        Policy::new("per-ip", Quota::per_minute(1)),
    ))
    .redis(store)
    .metrics(metrics)
    .build()
    .expect("valid");
    status_of(&layer, from([192, 0, 2, 1])).await;
    status_of(&layer, from([192, 0, 2, 1])).await;
    server.stop();
    status_of(&layer, from([192, 0, 2, 3])).await;
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encode");
    for line in [
        r#"strata_rate_limit_decisions_total{outcome="allowed",policy="per-ip"} 2"#,
        r#"strata_rate_limit_decisions_total{outcome="limited",policy="per-ip"} 1"#,
        "strata_rate_limit_store_errors_total 1",
        "strata_rate_limit_fallbacks_total 1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_decisions_carry_the_same_headers_and_problem_as_memory() {
    let store = RedisStore::new(pool(shared().url()).await)
        .prefix(unique_prefix("headers"))
        .timeout(Duration::from_secs(2));
    let layer = layer(store, Quota::per_minute(3));
    let send = || {
        ServiceBuilder::new()
            .layer(layer.clone())
            .service_fn(ok)
            .oneshot(from([192, 0, 2, 1]))
    };
    let first = send().await.expect("infallible");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["ratelimit-policy"], r#""per-ip";q=3;w=60"#);
    assert_eq!(first.headers()["ratelimit"], r#""per-ip";r=2;t=20"#);
    send().await.expect("infallible");
    send().await.expect("infallible");
    let refused = send().await.expect("infallible");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["ratelimit"], r#""per-ip";r=0;t=60"#);
    assert_eq!(refused.headers()["retry-after"], "20");
    let body = body_string(refused.into_body()).await;
    assert!(body.contains(r#""violated-policies":["per-ip"]"#), "{body}");
    assert!(body.contains("quota-exceeded"), "{body}");
}
