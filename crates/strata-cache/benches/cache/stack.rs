//! `stack/16k-json/*`: a 16 KB compressible JSON response through the
//! server stack. `bare`: the handler alone, uncompressed; `strata-cached/br`
//! and `/gzip`: a hit of `CacheLayer` outside strata's `CompressionLayer`
//! (the stored, already compressed variant); `tower-http/br` and `/gzip`:
//! tower-http's `CompressionLayer` compressing every response on the fly
//! (its default levels).

use std::fmt::Write as _;

use super::*;

/// A JSON list of `BODY_BYTES` or a little more, built per request as a
/// handler would.
fn json() -> Bytes {
    let mut out = String::with_capacity(BODY_BYTES + 128);
    out.push('[');
    let mut i = 0;
    while out.len() < BODY_BYTES {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"id":{i},"name":"item {i}","price_cents":{},"in_stock":true}}"#,
            100 + i * 7
        );
        i += 1;
    }
    out.push(']');
    Bytes::from(out)
}

async fn json_handler(_: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::builder()
        .header("content-type", "application/json")
        .header("cache-control", "public, max-age=3600")
        .body(Full::new(json()))
        .expect("response"))
}

fn accepting(coding: &str) -> Request<Full<Bytes>> {
    let mut request = request("/api/items");
    let value = http::HeaderValue::from_str(coding).expect("coding");
    request
        .headers_mut()
        .insert(http::header::ACCEPT_ENCODING, value);
    request
}

/// Checks the response is `coding` (and, when `cached`, a hit), returns the body.
fn check(head: &Response<()>, body: Bytes, coding: &str, cached: bool) -> Bytes {
    assert_eq!(head.headers()["content-encoding"], coding);
    assert!(!cached || strata_hit(head));
    assert!(
        body.len() < BODY_BYTES / 4,
        "{} bytes: not compressed",
        body.len()
    );
    body
}

pub(super) fn run(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("stack/16k-json");
    group.throughput(Throughput::Elements(1));

    let bare = service_fn(json_handler);
    group.bench_function("bare", |b| {
        b.to_async(&rt).iter(|| async {
            let (_, body) = send(&bare, accepting("identity")).await;
            assert!(body.len() >= BODY_BYTES);
            body
        });
    });

    let cached = tower::ServiceBuilder::new()
        .layer(CacheLayer::new())
        .layer(strata_compression::CompressionLayer::new())
        .service_fn(json_handler);
    let on_the_fly =
        tower_http::compression::CompressionLayer::new().layer(service_fn(json_handler));
    for coding in ["br", "gzip"] {
        rt.block_on(warm(&cached, || accepting(coding), strata_hit));
        group.bench_function(format!("strata-cached/{coding}"), |b| {
            b.to_async(&rt).iter(|| async {
                let (head, body) = send(&cached, accepting(coding)).await;
                check(&head, body, coding, true)
            });
        });
        group.bench_function(format!("tower-http/{coding}"), |b| {
            b.to_async(&rt).iter(|| async {
                let (head, body) = send(&on_the_fly, accepting(coding)).await;
                check(&head, body, coding, false)
            });
        });
    }
    group.finish();
}
