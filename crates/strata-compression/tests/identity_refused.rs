//! A client that refuses identity (`identity;q=0`, `*;q=0`) and accepts no
//! offered coding: the handler always runs, and every response is sent as
//! it is (RFC 9110, section 12.5.3 allows it), never a 406.
// These tests negotiate every coding; `tests/config.rs` covers a coding
// whose feature is off.
#![cfg(all(
    feature = "br",
    feature = "zstd",
    feature = "gzip",
    feature = "deflate"
))]

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use common::{collect, get_with, json, response as canned, send};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use strata_compression::{CompressionLayer, SkipReason};
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// Headers that rule out identity and every offered coding.
const REFUSING: [&str; 3] = ["identity;q=0", "*;q=0", "compress, identity;q=0"];

fn with_status(status: StatusCode, content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = canned(content_type, body);
    *response.status_mut() = status;
    response
}

#[tokio::test]
async fn every_kind_of_response_is_sent_as_it_is() {
    let big = json(16 * 1024);
    let metrics = Bytes::from("# TYPE http_requests_total counter\n".repeat(200));
    // (case, method, the handler's response, status and body length sent).
    type Case = (
        &'static str,
        Method,
        Response<Full<Bytes>>,
        StatusCode,
        usize,
    );
    let cases: Vec<Case> = vec![
        // A compressible 200 that a coding would have been used for.
        (
            "200 json",
            Method::GET,
            canned("application/json", big.clone()),
            StatusCode::OK,
            big.len(),
        ),
        (
            "404",
            Method::GET,
            with_status(
                StatusCode::NOT_FOUND,
                "text/plain",
                Bytes::from("not found"),
            ),
            StatusCode::NOT_FOUND,
            9,
        ),
        (
            "500 json",
            Method::GET,
            with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                big.clone(),
            ),
            StatusCode::INTERNAL_SERVER_ERROR,
            big.len(),
        ),
        (
            "304",
            Method::GET,
            with_status(StatusCode::NOT_MODIFIED, "application/json", Bytes::new()),
            StatusCode::NOT_MODIFIED,
            0,
        ),
        (
            "204",
            Method::DELETE,
            with_status(StatusCode::NO_CONTENT, "text/plain", Bytes::new()),
            StatusCode::NO_CONTENT,
            0,
        ),
        (
            "HEAD",
            Method::HEAD,
            canned("application/json", Bytes::new()),
            StatusCode::OK,
            0,
        ),
        (
            "empty body",
            Method::GET,
            canned("text/plain", Bytes::new()),
            StatusCode::OK,
            0,
        ),
        (
            "tiny body",
            Method::GET,
            canned("text/plain", Bytes::from("ok")),
            StatusCode::OK,
            2,
        ),
        (
            "metrics text",
            Method::GET,
            canned("text/plain; version=0.0.4", metrics.clone()),
            StatusCode::OK,
            metrics.len(),
        ),
        (
            "not compressible",
            Method::GET,
            canned("image/png", big.clone()),
            StatusCode::OK,
            big.len(),
        ),
    ];
    for accept in REFUSING {
        for (name, method, response, status, length) in &cases {
            let mut request = get_with(&[("accept-encoding", accept)]);
            *request.method_mut() = method.clone();
            let response = send(CompressionLayer::new(), request, response.clone()).await;
            assert_eq!(response.status(), *status, "{name} with {accept}");
            assert!(
                !response.headers().contains_key(CONTENT_ENCODING),
                "{name} with {accept}"
            );
            assert_ne!(
                response.headers().get(CONTENT_TYPE).map(|v| v.as_bytes()),
                Some(&b"application/problem+json"[..]),
                "{name} with {accept}"
            );
            let (body, _) = collect(response.into_body()).await;
            assert_eq!(body.len(), *length, "{name} with {accept}");
        }
    }
}

#[tokio::test]
async fn a_compressible_response_is_marked_not_accepted_and_varies() {
    let body = json(16 * 1024);
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "identity;q=0")]),
        canned("application/json", body.clone()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.extensions().get::<SkipReason>(),
        Some(&SkipReason::NotAccepted)
    );
    assert_eq!(response.headers()[VARY], "accept-encoding");
    let (sent, _) = collect(response.into_body()).await;
    assert_eq!(sent, body);

    // identity;q=0 with an acceptable coding still compresses.
    let response = send(
        CompressionLayer::new(),
        get_with(&[("accept-encoding", "identity;q=0, gzip")]),
        canned("application/json", body),
    )
    .await;
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn a_put_is_applied_exactly_once() {
    for accept in REFUSING {
        let applied = Arc::new(AtomicU32::new(0));
        let counter = applied.clone();
        let service = ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .service(service_fn(move |_: Request<Full<Bytes>>| {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    Ok::<_, Infallible>(with_status(StatusCode::OK, "application/json", json(4096)))
                }
            }));
        let mut request = get_with(&[("accept-encoding", accept)]);
        *request.method_mut() = Method::PUT;
        let response = service.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(applied.load(Ordering::SeqCst), 1, "{accept}");
        assert!(!response.headers().contains_key(CONTENT_ENCODING));
        let length = response.headers().get(CONTENT_LENGTH).cloned();
        let (body, _) = collect(response.into_body()).await;
        assert_eq!(body.len(), 4096);
        if let Some(length) = length {
            assert_eq!(length, "4096");
        }
    }
}
