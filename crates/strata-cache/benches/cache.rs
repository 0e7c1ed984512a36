//! Per-request cost of the cache layer on the memory store: a hit (a 16 KB
//! stored response with `Age` and `Cache-Status`) and a miss (lookup, an
//! uncacheable origin response passed through), beside the bare handler.
//!
//! `cargo bench -p strata-cache --bench cache`

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use strata_cache::CacheLayer;
use tower::{Layer, ServiceExt, service_fn};

fn body() -> Bytes {
    Bytes::from("x".repeat(16 * 1024))
}

async fn handler(cacheable: bool) -> Result<Response<Full<Bytes>>, Infallible> {
    let cc = if cacheable {
        "public, max-age=3600"
    } else {
        "no-store"
    };
    Ok(Response::builder()
        .header("cache-control", cc)
        .body(Full::new(body()))
        .expect("response"))
}

fn request(path: &str) -> Request<Full<Bytes>> {
    Request::get(format!("http://example.com{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request")
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("cache");
    group.throughput(Throughput::Elements(1));

    let bare = service_fn(|_: Request<Full<Bytes>>| handler(true));
    group.bench_function("bare handler", |b| {
        b.to_async(&rt).iter(|| async {
            let response = bare.oneshot(request("/hot")).await.expect("response");
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
        });
    });

    let hit = CacheLayer::new().layer(service_fn(|_: Request<Full<Bytes>>| handler(true)));
    rt.block_on(async {
        let first = hit
            .clone()
            .oneshot(request("/hot"))
            .await
            .expect("response");
        first.into_body().collect().await.expect("body");
    });
    group.bench_function("memory hit", |b| {
        b.to_async(&rt).iter(|| async {
            let response = hit
                .clone()
                .oneshot(request("/hot"))
                .await
                .expect("response");
            assert!(response.headers().contains_key("age"));
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
        });
    });

    let miss = CacheLayer::new().layer(service_fn(|_: Request<Full<Bytes>>| handler(false)));
    let n = AtomicU64::new(0);
    group.bench_function("memory miss (uncacheable)", |b| {
        b.to_async(&rt).iter(|| async {
            let path = format!("/cold/{}", n.fetch_add(1, Ordering::Relaxed) % 1024);
            let response = miss
                .clone()
                .oneshot(request(&path))
                .await
                .expect("response");
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
        });
    });
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
