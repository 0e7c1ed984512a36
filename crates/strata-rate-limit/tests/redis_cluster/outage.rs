//! One master of a private cluster stops: every decision still returns,
//! from the fallback, well within a hang's ceiling; after it rejoins,
//! decisions are counted in Redis again.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_core::redis::fred::util::redis_keyslot;
use strata_rate_limit::{KeyBy, OnStoreError, RateLimitLayer, Rule, StoreError};
use strata_testkit::redis::RedisCluster;
use strata_testkit::{from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

use super::*;

type Body = Full<Bytes>;

const PREFIX: &str = "outage:";
const POLICY: &str = "per-ip";
const TIMEOUT: Duration = Duration::from_millis(100);
/// Catches a hang, not a slow machine: 30 times the store timeout.
const CEILING: Duration = Duration::from_secs(3);

async fn ok(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// Fresh client addresses whose keys live on a given master's slots.
struct Clients<'a> {
    cluster: &'a RedisCluster,
    next: u16,
}

impl Clients<'_> {
    fn on(&mut self, master: usize) -> [u8; 4] {
        loop {
            self.next += 1;
            let [high, low] = self.next.to_be_bytes();
            let ip = [10, 0, high, low];
            let key = stored_key(PREFIX, &Key::ip(ip.into()), POLICY);
            if self.cluster.master_of(redis_keyslot(key.as_bytes())) == master {
                return ip;
            }
        }
    }
}

/// One request from `ip`, which must return within [`CEILING`].
async fn request(layer: &RateLimitLayer, ip: [u8; 4]) -> Response<Body> {
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(ok);
    let started = Instant::now();
    let response = service
        .oneshot(from_peer(get("/"), SocketAddr::from((ip, 40_000))))
        .await
        .expect("infallible");
    let elapsed = started.elapsed();
    assert!(elapsed <= CEILING, "a request from {ip:?} took {elapsed:?}");
    response
}

/// Whether the state of `ip` is in Redis, read from the master that
/// serves its slot.
async fn in_redis(cluster: &RedisCluster, master: usize, ip: [u8; 4]) -> bool {
    let node = format!("redis://127.0.0.1:{}", cluster.ports()[master]);
    let reader = pool(&node, Duration::from_secs(2)).await;
    let stored: Option<String> = reader
        .get(stored_key(PREFIX, &Key::ip(ip.into()), POLICY))
        .await
        .expect("the master serving the slot answers GET");
    stored.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_master_down_sends_decisions_to_the_fallback_until_it_rejoins() {
    let cluster = RedisCluster::start();
    let store = RedisStore::new(pool(cluster.url(), TIMEOUT).await)
        .prefix(PREFIX)
        .timeout(TIMEOUT)
        .on_error(OnStoreError::Fallback);
    let layer = RateLimitLayer::builder(Rule::new(
        KeyBy::client_ip(),
        Policy::new(POLICY, Quota::per_minute(3)),
    ))
    .redis(store.clone())
    .build()
    .expect("valid");
    let mut clients = Clients {
        cluster: &cluster,
        next: 0,
    };
    // Counted in Redis on every master while all are up.
    for master in 0..3 {
        let ip = clients.on(master);
        assert_eq!(request(&layer, ip).await.status(), StatusCode::OK);
        assert!(in_redis(&cluster, master, ip).await, "master {master}");
    }

    cluster.stop_master(0);
    // A client of the stopped master's slots first, then clients of the
    // surviving masters, which still serve their slots.
    for master in [0, 1, 2] {
        let ip = clients.on(master);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let response = request(&layer, ip).await;
            assert!(response.headers().contains_key("ratelimit"));
            statuses.push(response.status());
        }
        // The in-memory fallback enforces 3 per minute.
        assert_eq!(
            statuses,
            [
                StatusCode::OK,
                StatusCode::OK,
                StatusCode::OK,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "a client of master {master}"
        );
        if master != 0 {
            // docs/rate-limit.md, "Outages": with one node down, every
            // decision of the instance goes to the outage policy.
            assert!(
                !in_redis(&cluster, master, ip).await,
                "a decision on master {master}'s slots reached Redis"
            );
        }
    }

    // Once the store knows, it does not even try (no timeout to pay),
    // for a key of a surviving master's slots too.
    let key = Key::ip(clients.on(1).into());
    let policies = [Policy::new(POLICY, Quota::per_minute(3))];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.check(&key, &policies, 1).await {
            Err(StoreError::Disconnected) => break,
            Err(_) if Instant::now() < deadline => {}
            other => panic!("a decision while master 0 is down: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    cluster.restart_master(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    for master in [0, 1, 2] {
        loop {
            // A fresh client each time, so fallback counts never refuse it.
            let ip = clients.on(master);
            let status = request(&layer, ip).await.status();
            if in_redis(&cluster, master, ip).await {
                assert_eq!(status, StatusCode::OK);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "decisions on master {master}'s slots not counted in Redis 20 s after the restart"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
