//! A probe served from cached results versus a bare handler.
//!
//! `cargo bench -p strata-health --bench health`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::Full;
use strata_health::{HealthLayer, Observation, Registration, Status, check_fn};
use tower::{ServiceBuilder, ServiceExt, service_fn};

type Body = Full<Bytes>;

fn get(uri: &'static str) -> Request<Body> {
    Request::get(uri).body(Body::default()).expect("request")
}

async fn bare(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Full::from(r#"{"status":"pass"}"#));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/health+json"),
    );
    Ok(response)
}

fn layer() -> HealthLayer {
    HealthLayer::builder()
        .refresh_every(None)
        .cache_ttl(Duration::from_secs(3600))
        .version("1")
        .release_id("1.0.0")
        .check("db", check_fn(|| async { Status::Pass }))
        .register(
            Registration::new(
                "redis",
                check_fn(|| async { Observation::pass().observed(0.3, "ms") }),
            )
            .critical(false),
        )
        .check(
            "queue",
            check_fn(|| async { Observation::pass().observed(12, "messages") }),
        )
        .build()
        .expect("valid")
}

fn probes(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let health = runtime.block_on(async {
        let service = ServiceBuilder::new().layer(layer()).service_fn(bare);
        // Warm the cache (and the system section) so every probe below is a hit.
        for uri in ["/health", "/health/detailed"] {
            let response = service.clone().oneshot(get(uri)).await.expect("probe");
            assert_eq!(response.status(), 200);
        }
        service
    });
    let handler = service_fn(bare);

    let mut group = c.benchmark_group("health");
    group.bench_function("bare handler", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(handler.oneshot(get("/health")).await) });
    });
    group.bench_function("cached /health", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(health.clone().oneshot(get("/health")).await) });
    });
    group.bench_function("cached /health/ready", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(health.clone().oneshot(get("/health/ready")).await) });
    });
    group.bench_function("cached /health/detailed", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(health.clone().oneshot(get("/health/detailed")).await) });
    });
    group.bench_function("other route through the layer", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(health.clone().oneshot(get("/api/items")).await) });
    });
    group.finish();
}

criterion_group!(benches, probes);
criterion_main!(benches);
