//! Timeouts, caching and the background refresh, on Tokio's paused clock.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use strata_health::{HealthLayer, Observation, Registration, Status, check_fn};
use strata_testkit::{body_string, get};
use tokio::time::Instant;
use tower::{Service, ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

fn service(
    layer: HealthLayer,
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future: Send>
+ Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async { Ok(Response::new(Full::from("app"))) })
}

async fn probe<S>(service: S, uri: &'static str) -> (StatusCode, Value)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    let response = service.oneshot(get(uri)).await.expect("infallible");
    let status = response.status();
    let body = body_string(response.into_body()).await;
    (status, serde_json::from_str(&body).expect("json"))
}

/// A check counting its runs, each taking `takes`.
fn counting(runs: &Arc<AtomicUsize>, takes: Duration) -> impl strata_health::Check {
    let runs = Arc::clone(runs);
    check_fn(move || {
        runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(takes)
    })
}

fn hanging() -> impl strata_health::Check {
    check_fn(std::future::pending::<Observation>)
}

#[tokio::test(start_paused = true)]
async fn a_hanging_check_fails_at_its_timeout_and_the_probe_still_answers() {
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .register(Registration::new("stuck", hanging()).timeout(Duration::from_millis(200)))
        .check("db", check_fn(|| async { Status::Pass }))
        .build()
        .expect("valid");
    let started = Instant::now();
    let (code, json) = probe(service(layer), "/health/detailed").await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(250),
        "answered after {elapsed:?}"
    );
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    let stuck = &json["checks"]["stuck:responseTime"][0];
    assert_eq!(stuck["status"], "fail");
    assert_eq!(stuck["output"], "timed out after 200 ms");
    assert_eq!(json["checks"]["db:responseTime"][0]["status"], "pass");
}

#[tokio::test(start_paused = true)]
async fn checks_run_concurrently() {
    let runs = Arc::new(AtomicUsize::new(0));
    let mut builder = HealthLayer::builder().refresh_every(None);
    for name in ["a", "b", "c", "d"] {
        builder = builder.check(name, counting(&runs, Duration::from_millis(100)));
    }
    let started = Instant::now();
    let (code, _) = probe(service(builder.build().expect("valid")), "/health").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(100),
        "checks ran one after another"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_non_critical_check_only_warns() {
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .timeout(Duration::from_millis(300))
        .register(Registration::new("stuck", hanging()).critical(false))
        .build()
        .expect("valid");
    let service = service(layer);
    let started = Instant::now();
    let (code, json) = probe(service.clone(), "/health").await;
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    assert_eq!(
        (code, &json["status"]),
        (StatusCode::OK, &Value::from("warn"))
    );
    let (code, _) = probe(service, "/health/ready").await;
    assert_eq!(code, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn a_thousand_concurrent_probes_run_each_check_once_per_ttl() {
    let db = Arc::new(AtomicUsize::new(0));
    let cache = Arc::new(AtomicUsize::new(0));
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .cache_ttl(Duration::from_secs(10))
        .check("db", counting(&db, Duration::from_millis(50)))
        .register(
            Registration::new("cache", counting(&cache, Duration::from_millis(80))).critical(false),
        )
        .build()
        .expect("valid");
    let service = service(layer);

    let storm = |uri: &'static str| {
        let handles: Vec<_> = (0..1000)
            .map(|_| tokio::spawn(probe(service.clone(), uri)))
            .collect();
        async move {
            for handle in handles {
                let (code, json) = handle.await.expect("probe task");
                assert_eq!(
                    (code, &json["status"]),
                    (StatusCode::OK, &Value::from("pass"))
                );
            }
        }
    };

    storm("/health").await;
    assert_eq!(db.load(Ordering::SeqCst), 1);
    assert_eq!(cache.load(Ordering::SeqCst), 1);

    // Within the TTL, every endpoint is served from the cache.
    tokio::time::advance(Duration::from_secs(5)).await;
    storm("/health/detailed").await;
    storm("/health/ready").await;
    assert_eq!(db.load(Ordering::SeqCst), 1);
    assert_eq!(cache.load(Ordering::SeqCst), 1);

    // Past it, one more run for the next storm.
    tokio::time::advance(Duration::from_secs(6)).await;
    storm("/health").await;
    assert_eq!(db.load(Ordering::SeqCst), 2);
    assert_eq!(cache.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_stale_result_is_replaced_by_the_next_run() {
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = Arc::clone(&failing);
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .cache_ttl(Duration::from_secs(2))
        .check(
            "db",
            check_fn(move || {
                let fail = flag.load(Ordering::SeqCst);
                async move { if fail { Status::Fail } else { Status::Pass } }
            }),
        )
        .build()
        .expect("valid");
    let service = service(layer);
    assert_eq!(
        probe(service.clone(), "/health").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    failing.store(false, Ordering::SeqCst);
    // Cached: still failing.
    assert_eq!(
        probe(service.clone(), "/health").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(probe(service, "/health").await.0, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn background_refresh_runs_checks_without_probes_and_stops_with_the_layer() {
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = HealthLayer::builder()
        .refresh_every(Some(Duration::from_secs(30)))
        .cache_ttl(Duration::from_secs(60))
        .check("db", counting(&runs, Duration::from_millis(10)))
        .build()
        .expect("valid");
    // The first round one interval after start, then every interval.
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // Probes are served from the refreshed results.
    let service = service(layer.clone());
    let (code, _) = probe(service.clone(), "/health").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    drop((layer, service));
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2, "refresh outlived the layer");
}

#[tokio::test(start_paused = true)]
async fn background_refresh_starts_with_the_first_probe_when_built_outside_a_runtime() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let layer = std::thread::spawn(move || {
        HealthLayer::builder()
            .refresh_every(Some(Duration::from_secs(30)))
            .cache_ttl(Duration::from_secs(60))
            .check("db", counting(&counter, Duration::ZERO))
            .build()
            .expect("valid")
    })
    .join()
    .expect("builder thread");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    let (code, _) = probe(service(layer.clone()), "/health").await;
    assert_eq!(code, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// A failing result is served for the failure TTL (1 s) only, not the cache
/// TTL (5 s): a dependency back after a short outage shows as passing
/// within a second; a passing result keeps the full TTL.
#[tokio::test(start_paused = true)]
async fn a_failed_check_is_retried_after_the_failure_ttl() {
    let runs = Arc::new(AtomicUsize::new(0));
    let check = {
        let runs = Arc::clone(&runs);
        check_fn(move || {
            // Fails on its first run only (a client still connecting).
            let first = runs.fetch_add(1, Ordering::SeqCst) == 0;
            async move { if first { Status::Fail } else { Status::Pass } }
        })
    };
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .check("redis", check)
        .build()
        .expect("valid");
    let service = service(layer);
    let (code, _) = probe(service.clone(), "/health/ready").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::advance(Duration::from_millis(500)).await;
    let (code, _) = probe(service.clone(), "/health/ready").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "served from cache");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    tokio::time::advance(Duration::from_millis(600)).await;
    let (code, _) = probe(service.clone(), "/health/ready").await;
    assert_eq!(
        code,
        StatusCode::OK,
        "the failure was not retried after 1 s"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // The pass is cached for the whole 5 s TTL.
    tokio::time::advance(Duration::from_secs(4)).await;
    probe(service.clone(), "/health/ready").await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    tokio::time::advance(Duration::from_millis(1100)).await;
    probe(service, "/health/ready").await;
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}
