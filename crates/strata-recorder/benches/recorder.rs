//! Per-request cost of the recorder: the bare service, the recorder
//! installed but off for the path (`path_prefix` elsewhere), installed
//! keeping 0 % (every exchange captured, hashed and dropped at the end) and
//! keeping 100 % (every exchange queued, redacted, compressed and stored in
//! memory by the background task).
//!
//! `cargo bench -p strata-recorder --bench recorder -- --warm-up-time 1 --measurement-time 3`
//!
//! Every variant is the same axum `Router` with one handler that reads a
//! 1 KiB JSON request body and answers 4 KiB of JSON, called through
//! `oneshot` on a clone, on a 2-worker runtime (the background task stores
//! on the other worker).

use std::hint::black_box;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::BodyExt as _;
use strata_recorder::{MemoryStore, RecorderHandle, RecorderLayer, Retain};
use tower::ServiceExt as _;

fn router() -> Router {
    let answer = Bytes::from(format!(r#"{{"items":"{}"}}"#, "y".repeat(4096)));
    Router::new().route(
        "/api/items",
        post(move |body: Bytes| {
            let answer = answer.clone();
            async move {
                black_box(body.len());
                ([("content-type", "application/json")], answer)
            }
        }),
    )
}

fn request() -> Request<Body> {
    let body = format!(
        r#"{{"user":"ada","password":"hunter2","note":"{}"}}"#,
        "x".repeat(1000)
    );
    Request::post("/api/items")
        .header("content-type", "application/json")
        .header("authorization", "Bearer abc")
        .body(Body::from(body))
        .expect("request")
}

fn recorded(builder: strata_recorder::RecorderBuilder) -> (Router, RecorderHandle) {
    let (layer, handle) = builder
        .store(MemoryStore::new().max_count(2_000))
        .queue_capacity(4096)
        .pair()
        .expect("layer");
    (router().layer(layer), handle)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    let (off, _) = recorded(
        RecorderLayer::builder()
            .retain(Retain::all())
            .path_prefix("/other"),
    );
    let (none, _) = recorded(RecorderLayer::builder().retain(Retain::none()));
    let (all, all_handle) = recorded(RecorderLayer::builder().retain(Retain::all()));
    let variants = [
        ("bare", router()),
        ("installed_off_for_path", off),
        ("keep_0_percent", none),
        ("keep_100_percent", all),
    ];
    let mut group = c.benchmark_group("recorder_per_request");
    for (name, app) in variants {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let app = app.clone();
                async move {
                    let response = app.oneshot(request()).await.expect("infallible");
                    black_box(
                        response
                            .into_body()
                            .collect()
                            .await
                            .expect("body")
                            .to_bytes(),
                    )
                }
            });
        });
    }
    group.finish();
    runtime.block_on(all_handle.flush());
    let stats = all_handle.stats();
    eprintln!(
        "keep_100_percent: kept {}, dropped (queue full) {}, evicted {}, stored bytes {}",
        stats.kept, stats.dropped_queue_full, stats.evictions, stats.stored_bytes
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
