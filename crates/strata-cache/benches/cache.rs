//! The cost of a cache hit, in one run:
//!
//! - `cache/hit/{bare,strata,http-cache-tower-server}`: a 16 KB response
//!   with `Cache-Control: public, max-age=3600` from the handler alone, from
//!   the strata memory store, and from http-cache-tower-server with its moka
//!   manager; `cache/miss/strata`: a lookup and an uncacheable response
//!   passed through (`stack.rs`: the full stack with compression; `redis.rs`,
//!   feature `redis`: hits through `RedisStore` beside raw `GET`s).
//!
//! Every stack is driven in process with `oneshot` on a current-thread
//! runtime (no sockets).
//!
//! `cargo bench -p strata-cache --all-features --bench cache -- --warm-up-time 1 --measurement-time 3`

#[cfg(feature = "redis")]
#[path = "cache/redis.rs"]
mod redis;
#[path = "cache/stack.rs"]
mod stack;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use strata_cache::CacheLayer;
use tower::{Layer, Service, ServiceExt, service_fn};

/// The body of every benchmarked response.
const BODY_BYTES: usize = 16 * 1024;

fn body() -> Bytes {
    Bytes::from("x".repeat(BODY_BYTES))
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

/// Sends `request` through a clone of `service` and reads the whole body.
async fn send<S, B>(service: &S, request: Request<Full<Bytes>>) -> (Response<()>, Bytes)
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let response = service.clone().oneshot(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (Response::from_parts(parts, ()), bytes)
}

/// Sends `request()` until `hit` says the cache answered (some stores write
/// in a task after the response).
async fn warm<S, B>(
    service: &S,
    request: impl Fn() -> Request<Full<Bytes>>,
    hit: impl Fn(&Response<()>) -> bool,
) where
    S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    for _ in 0..1000 {
        if hit(&send(service, request()).await.0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("the cache never answered");
}

fn strata_hit(head: &Response<()>) -> bool {
    head.headers()
        .get("cache-status")
        .is_some_and(|v| v.as_bytes().starts_with(b"strata; hit"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn hit(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("cache/hit");
    group.throughput(Throughput::Elements(1));

    let bare = service_fn(|_: Request<Full<Bytes>>| handler(true));
    group.bench_function("bare", |b| {
        b.to_async(&rt).iter(|| send(&bare, request("/hot")));
    });

    let strata = CacheLayer::new().layer(service_fn(|_: Request<Full<Bytes>>| handler(true)));
    rt.block_on(warm(&strata, || request("/hot"), strata_hit));
    group.bench_function("strata", |b| {
        b.to_async(&rt).iter(|| async {
            let (head, body) = send(&strata, request("/hot")).await;
            assert!(strata_hit(&head));
            body
        });
    });

    let manager = http_cache::MokaManager::default();
    let peer = http_cache_tower_server::ServerCacheLayer::new(manager)
        .layer(service_fn(|_: Request<Full<Bytes>>| handler(true)));
    let peer_hit = |head: &Response<()>| head.headers().get("x-cache").is_some_and(|v| v == "HIT");
    rt.block_on(warm(&peer, || request("/hot"), peer_hit));
    group.bench_function("http-cache-tower-server", |b| {
        b.to_async(&rt).iter(|| async {
            let (head, body) = send(&peer, request("/hot")).await;
            assert!(peer_hit(&head));
            body
        });
    });
    group.finish();

    let mut group = c.benchmark_group("cache/miss");
    group.throughput(Throughput::Elements(1));
    let miss = CacheLayer::new().layer(service_fn(|_: Request<Full<Bytes>>| handler(false)));
    let n = AtomicU64::new(0);
    group.bench_function("strata", |b| {
        b.to_async(&rt).iter(|| async {
            let path = format!("/cold/{}", n.fetch_add(1, Ordering::Relaxed) % 1024);
            send(&miss, request(&path)).await.1
        });
    });
    group.finish();
}

#[cfg(feature = "redis")]
criterion_group!(benches, hit, stack::run, redis::run);
#[cfg(not(feature = "redis"))]
criterion_group!(benches, hit, stack::run);
criterion_main!(benches);
