//! The Redis check against a real `redis-server`: running, stopped, restarted.
#![cfg(feature = "redis")]

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use strata_core::redis::RedisPoolBuilder;
use strata_health::checks::RedisCheck;
use strata_health::{Check, HealthLayer, Registration, Status};
use strata_testkit::redis::{RedisServer, shared};
use strata_testkit::{body_string, get};
use tower::{Service, ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

const CHECK_TIMEOUT: Duration = Duration::from_millis(500);
/// A ceiling that catches a probe waiting for Redis (the check's timeout not
/// applied), not a slow machine: ten times the check's timeout.
const HANG: Duration = Duration::from_secs(5);

async fn probe<S>(service: &S, uri: &str) -> (StatusCode, Value)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let response = service.clone().oneshot(get(uri)).await.expect("infallible");
    let status = response.status();
    let body = body_string(response.into_body()).await;
    (status, serde_json::from_str(&body).expect("json"))
}

async fn pool(url: &str) -> strata_core::redis::fred::clients::Pool {
    RedisPoolBuilder::from_url(url)
        .expect("valid url")
        .command_timeout(Duration::from_millis(100))
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect()
        .await
        .expect("pool")
}

/// Probes until `/health` reports `status`, or `within` passes.
async fn wait_for<S>(service: &S, status: &str, within: Duration) -> Value
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let deadline = Instant::now() + within;
    loop {
        let (_, json) = probe(service, "/health/detailed").await;
        if json["status"] == status || Instant::now() >= deadline {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn pings_a_running_server_with_its_latency() {
    let check = RedisCheck::new(pool(shared().url()).await);
    let deadline = Instant::now() + Duration::from_secs(5);
    let observation = loop {
        let observation = check.check().await;
        if observation.status() == Status::Pass || Instant::now() >= deadline {
            break observation;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(observation.status(), Status::Pass, "{observation:?}");
    assert_eq!(observation.observed_unit(), Some("ms"));
    assert!(
        observation
            .observed_value()
            .and_then(Value::as_f64)
            .is_some()
    );
    assert_eq!(check.component_type(), Some("datastore"));

    let slow = RedisCheck::new(pool(shared().url()).await).warn_above(Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(5);
    let observation = loop {
        let observation = slow.check().await;
        if observation.status() != Status::Fail || Instant::now() >= deadline {
            break observation;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(observation.status(), Status::Warn, "{observation:?}");
}

#[tokio::test]
async fn an_outage_warns_within_the_timeout_and_recovery_passes_again() {
    let server = RedisServer::start();
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .cache_ttl(Duration::from_millis(100))
        .register(
            Registration::new("redis", RedisCheck::new(pool(server.url()).await))
                .critical(false)
                .timeout(CHECK_TIMEOUT),
        )
        .build()
        .expect("valid");
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::default()))
        });

    let json = wait_for(&service, "pass", Duration::from_secs(5)).await;
    assert_eq!(json["status"], "pass", "{json}");
    let entry = &json["checks"]["redis:responseTime"][0];
    assert_eq!(entry["componentType"], "datastore");
    assert_eq!(entry["observedUnit"], "ms");

    server.stop();
    tokio::time::sleep(Duration::from_millis(150)).await; // past the TTL
    let started = Instant::now();
    let (code, json) = probe(&service, "/health/detailed").await;
    let elapsed = started.elapsed();
    assert!(elapsed <= HANG, "the probe took {elapsed:?}");
    assert_eq!(code, StatusCode::OK, "non-critical: warn is 200");
    assert_eq!(json["status"], "warn", "{json}");
    let entry = &json["checks"]["redis:responseTime"][0];
    assert_eq!(entry["status"], "fail", "{json}");
    assert!(
        entry["output"].as_str().is_some_and(|o| !o.is_empty()),
        "{json}"
    );
    // Readiness and liveness do not depend on a non-critical check.
    assert_eq!(probe(&service, "/health/ready").await.0, StatusCode::OK);
    assert_eq!(probe(&service, "/health/live").await.0, StatusCode::OK);

    server.restart();
    let json = wait_for(&service, "pass", Duration::from_secs(10)).await;
    assert_eq!(json["status"], "pass", "never recovered: {json}");
    assert_eq!(json["checks"]["redis:responseTime"][0]["status"], "pass");
}

#[tokio::test]
async fn a_critical_redis_outage_fails_readiness() {
    let server = RedisServer::start();
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .cache_ttl(Duration::ZERO)
        .register(
            Registration::new("redis", RedisCheck::new(pool(server.url()).await))
                .timeout(CHECK_TIMEOUT),
        )
        .build()
        .expect("valid");
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::default()))
        });
    wait_for(&service, "pass", Duration::from_secs(5)).await;
    assert_eq!(probe(&service, "/health/ready").await.0, StatusCode::OK);
    server.stop();
    let started = Instant::now();
    let (code, json) = probe(&service, "/health/ready").await;
    assert!(started.elapsed() <= HANG, "{:?}", started.elapsed());
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{json}");
}
