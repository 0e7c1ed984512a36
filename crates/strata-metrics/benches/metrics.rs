//! What the metrics layer adds to a request, side by side with
//! `axum-prometheus` on the same router in the same run.
//!
//! `cargo bench -p strata-metrics --features axum --bench metrics`
//!
//! Each variant sends `GET /users/{id}` through an axum `Router` and reads
//! the response body to its end (where strata-metrics stops the clock).
//! `per_request/*` times each router; `added_per_request/*` times a layer's
//! added cost directly, alternating batches with and without it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn router() -> Router {
    Router::new()
        .route("/users/{id}", get(|| async { "a user" }))
        .route("/health", get(|| async { "ok" }))
}

async fn send(app: &Router, uri: &'static str) {
    let request = Request::get(uri)
        .body(Body::empty())
        .expect("valid request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let body = response.into_body().collect().await.expect("a body");
    black_box(body);
}

/// The added cost of `iters` requests: batches through `layered` alternate
/// with batches through `bare`, and the median per-request difference over
/// the batches is kept, so a batch the scheduler preempted does not count.
async fn added(layered: &Router, bare: &Router, iters: u64) -> Duration {
    const BATCH: u64 = 32;
    let mut differences = Vec::with_capacity((iters / BATCH + 1) as usize);
    let mut done = 0;
    while done < iters {
        let n = BATCH.min(iters - done);
        let start = Instant::now();
        for _ in 0..n {
            send(layered, "/users/42").await;
        }
        let with = start.elapsed().as_secs_f64();
        let start = Instant::now();
        for _ in 0..n {
            send(bare, "/users/42").await;
        }
        let without = start.elapsed().as_secs_f64();
        differences.push((with - without) / n as f64);
        done += n;
    }
    differences.sort_by(f64::total_cmp);
    let median = differences[differences.len() / 2];
    // Criterion refuses a zero; a layer cannot cost less than nothing.
    Duration::from_secs_f64(median.max(1e-9) * iters as f64)
}

fn per_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    let bare = router();
    let (layer, strata_handle) = strata_metrics::MetricsLayer::builder()
        .pair()
        .expect("builds");
    let strata = router().layer(layer);
    // axum-prometheus installs a process-global recorder (and spawns its
    // upkeep task): once per bench process, inside the runtime.
    let (peer_layer, peer_handle) =
        runtime.block_on(async { axum_prometheus::PrometheusMetricLayer::pair() });
    let peer = router().layer(peer_layer);

    let mut group = c.benchmark_group("per_request");
    group.measurement_time(Duration::from_secs(5));
    for (name, app) in [
        ("bare", &bare),
        ("strata-metrics", &strata),
        ("axum-prometheus", &peer),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| send(app, "/users/42"));
        });
    }
    group.finish();

    // The added cost measured directly (see `added`): load that comes and
    // goes on the machine weighs on both sides of the difference alike.
    let mut group = c.benchmark_group("added_per_request");
    group.measurement_time(Duration::from_secs(10));
    for (name, app) in [("strata-metrics", &strata), ("axum-prometheus", &peer)] {
        group.bench_function(name, |b| {
            b.to_async(&runtime)
                .iter_custom(|iters| added(app, &bare, iters));
        });
    }
    group.finish();

    // Both layers recorded what they were sent.
    assert!(
        strata_handle
            .render()
            .contains(r#"http_route="/users/{id}""#)
    );
    assert!(peer_handle.render().contains("/users/{id}"));
}

criterion_group!(benches, per_request);
criterion_main!(benches);
