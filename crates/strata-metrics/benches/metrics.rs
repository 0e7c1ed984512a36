//! What the metrics layer adds to a request, side by side with
//! `axum-prometheus` on the same router in the same run.
//!
//! `cargo bench -p strata-metrics --features axum --bench metrics`
//!
//! Each variant sends `GET /users/{id}` through an axum `Router` and reads
//! the response body to its end (where strata-metrics stops the clock). The
//! added cost of a layer is its time minus `bare`.

use std::hint::black_box;
use std::time::Duration;

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

fn per_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    let bare = router();
    let (layer, strata_handle) = strata_metrics::MetricsLayer::pair().expect("builds");
    let strata = router().layer(layer);
    // axum-prometheus installs a process-global recorder (and spawns its
    // upkeep task): once per bench process, inside the runtime.
    let (peer_layer, peer_handle) =
        runtime.block_on(async { axum_prometheus::PrometheusMetricLayer::pair() });
    let peer = router().layer(peer_layer);

    let mut group = c.benchmark_group("per_request");
    // A long window: the figures are compared across variants.
    group.measurement_time(Duration::from_secs(10));
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
