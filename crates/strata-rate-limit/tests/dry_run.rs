//! Dry run never refuses: not over the quota (429), not during a store
//! outage under `FailClosed` (503).

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_rate_limit::{KeyBy, Policy, Quota, RateLimitLayer, Rule};
use strata_testkit::{from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn ok(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

fn from(ip: [u8; 4]) -> Request<Body> {
    from_peer(get("/"), SocketAddr::from((ip, 40_000)))
}

async fn status(layer: &RateLimitLayer, request: Request<Body>) -> Response<Body> {
    ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(ok)
        .oneshot(request)
        .await
        .expect("infallible")
}

fn rule() -> Rule {
    Rule::new(
        KeyBy::client_ip(),
        Policy::new("per-ip", Quota::per_minute(2)),
    )
}

#[tokio::test(start_paused = true)]
async fn memory_store_over_its_quota_still_passes() {
    let layer = RateLimitLayer::builder(rule())
        .dry_run(true)
        .build()
        .expect("valid");
    for n in 0..5 {
        let response = status(&layer, from([192, 0, 2, 1])).await;
        assert_eq!(response.status(), StatusCode::OK, "request {n}");
        // The headers still tell what would have happened.
        let remaining = &response.headers()["ratelimit"];
        let expected = if n < 2 { 1 - n } else { 0 };
        assert!(
            remaining
                .to_str()
                .expect("ascii")
                .contains(&format!("r={expected}")),
            "request {n}: {remaining:?}"
        );
    }
    // Without dry run, the same traffic is refused.
    let layer = RateLimitLayer::builder(rule()).build().expect("valid");
    let statuses: Vec<StatusCode> = {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(status(&layer, from([192, 0, 2, 1])).await.status());
        }
        statuses
    };
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_under_fail_closed_still_passes() {
    use std::time::{Duration, Instant};

    use strata_core::redis::RedisPoolBuilder;
    use strata_core::redis::fred::prelude::*;
    use strata_rate_limit::{OnStoreError, RedisStore};
    use strata_testkit::redis::RedisServer;

    let server = RedisServer::start();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(Duration::from_millis(200))
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .connect()
        .await
        .expect("pool");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.ping::<String>(None).await.is_err() {
        assert!(Instant::now() < deadline, "Redis did not answer PING");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = RedisStore::new(pool)
        .timeout(Duration::from_millis(200))
        .on_error(OnStoreError::FailClosed);
    let dry = RateLimitLayer::builder(rule())
        .redis(store.clone())
        .dry_run(true)
        .build()
        .expect("valid");
    let enforcing = RateLimitLayer::builder(rule())
        .redis(store)
        .build()
        .expect("valid");

    // Over the quota in Redis: passes.
    for n in 0..4 {
        let response = status(&dry, from([192, 0, 2, 1])).await;
        assert_eq!(response.status(), StatusCode::OK, "request {n}");
    }
    // Redis down, fail-closed: the enforcing layer answers 503, the dry
    // run lets every request through.
    server.stop();
    assert_eq!(
        status(&enforcing, from([192, 0, 2, 2])).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    for n in 0..4 {
        let response = status(&dry, from([192, 0, 2, 3 + n])).await;
        assert_eq!(response.status(), StatusCode::OK, "request {n}");
    }
    // The client that was over its quota, now answered from the deny
    // cache or the outage policy: still passes.
    assert_eq!(
        status(&dry, from([192, 0, 2, 1])).await.status(),
        StatusCode::OK
    );
}
