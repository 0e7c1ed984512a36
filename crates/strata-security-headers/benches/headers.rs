//! Cost per request of the security headers layer: no layer, the strict
//! preset (nonce policy) for a handler that does not use the nonce and for
//! one that puts it in the page, the strict headers with a fixed CSP, and the
//! same fixed headers set by tower-http `SetResponseHeaderLayer`s.
//!
//! `cargo bench -p strata-security-headers --bench headers`

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderName, HeaderValue, Request, Response, header};
use http_body_util::Full;
use strata_security_headers::{CspBuilder, CspNonce, Preset, SecurityHeadersLayer};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::set_header::SetResponseHeaderLayer;

type Body = Full<Bytes>;

async fn handler(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::new(Bytes::from_static(
        b"<!doctype html><p>hello</p>",
    )));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(response)
}

async fn nonce_handler(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let nonce = request
        .extensions()
        .get::<CspNonce>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut response = Response::new(Body::new(Bytes::from(format!(
        "<!doctype html><script nonce=\"{nonce}\">start()</script>"
    ))));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(response)
}

fn request() -> Request<Body> {
    Request::builder()
        .uri("/")
        .header(header::HOST, "example.com")
        .body(Body::default())
        .expect("valid request")
}

async fn run<S>(service: &S)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let response = service
        .clone()
        .oneshot(request())
        .await
        .expect("infallible");
    black_box(response);
}

/// The headers the strict preset sends on an HTML response over plain HTTP,
/// with the CSP of `fixed_csp()`.
fn strict_headers() -> Vec<(HeaderName, HeaderValue)> {
    let csp = CspBuilder::strict()
        .script_src(["'self'"])
        .style_src(["'self'"])
        .build()
        .expect("valid")
        .header_value(None);
    let mut headers = vec![(header::CONTENT_SECURITY_POLICY, csp)];
    let fixed = [
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("origin-agent-cluster", "?1"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-dns-prefetch-control", "off"),
        ("x-permitted-cross-domain-policies", "none"),
        ("x-xss-protection", "0"),
        ("x-frame-options", "DENY"),
    ];
    for (name, value) in fixed {
        headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    headers.push((
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "accelerometer=(), bluetooth=(), browsing-topics=(), camera=(), display-capture=(), \
             geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), \
             microphone=(), midi=(), payment=(), screen-wake-lock=(), serial=(), usb=(), \
             xr-spatial-tracking=(), sync-xhr=self",
        ),
    ));
    headers
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("security_headers");

    let bare = ServiceBuilder::new().service_fn(handler);
    group.bench_function("no_layer", |b| {
        b.to_async(&runtime).iter(|| run(&bare));
    });

    let strict = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(handler);
    group.bench_function("strata_strict_nonce", |b| {
        b.to_async(&runtime).iter(|| run(&strict));
    });

    let strict_used = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(nonce_handler);
    group.bench_function("strata_strict_nonce_used", |b| {
        b.to_async(&runtime).iter(|| run(&strict_used));
    });

    let fixed_csp = CspBuilder::strict()
        .script_src(["'self'"])
        .style_src(["'self'"])
        .build()
        .expect("valid");
    let fixed = ServiceBuilder::new()
        .layer(
            SecurityHeadersLayer::builder(Preset::Strict)
                .csp(fixed_csp)
                .build()
                .expect("valid"),
        )
        .service_fn(handler);
    group.bench_function("strata_strict_fixed_csp", |b| {
        b.to_async(&runtime).iter(|| run(&fixed));
    });

    // The same eleven headers, one `SetResponseHeaderLayer::if_not_present`
    // each, stacked statically (no boxing).
    let h = strict_headers();
    let set = |i: usize| SetResponseHeaderLayer::if_not_present(h[i].0.clone(), h[i].1.clone());
    let tower_http = ServiceBuilder::new()
        .layer(set(0))
        .layer(set(1))
        .layer(set(2))
        .layer(set(3))
        .layer(set(4))
        .layer(set(5))
        .layer(set(6))
        .layer(set(7))
        .layer(set(8))
        .layer(set(9))
        .layer(set(10))
        .service_fn(handler);
    assert_eq!(h.len(), 11);
    group.bench_function("tower_http_set_response_header", |b| {
        b.to_async(&runtime).iter(|| run(&tower_http));
    });

    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
