//! Request decompression through the public API.
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
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use common::{collect, encode, json};
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use strata_compression::{DecompressionBody, RequestDecompressionLayer};
use tower::{ServiceBuilder, ServiceExt};

/// A handler that reads the whole body and echoes it, with the request's
/// `Content-Encoding` (if any) in `x-saw-encoding`.
async fn echo<B>(
    request: Request<DecompressionBody<B>>,
) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: Body + Send,
    B::Error: Into<strata_compression::BoxError>,
{
    let saw = request.headers().get(CONTENT_ENCODING).cloned();
    match request.into_body().collect().await {
        Ok(body) => {
            let mut response = Response::new(Full::new(body.to_bytes()));
            if let Some(saw) = saw {
                response.headers_mut().insert("x-saw-encoding", saw);
            }
            Ok(response)
        }
        // What a framework does with a body error: a generic 400.
        Err(_) => Ok(Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Full::new(Bytes::from_static(b"body error")))
            .expect("response")),
    }
}

fn post(coding: Option<&str>, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let mut request = strata_testkit::request(Method::POST, "/upload", body);
    if let Some(coding) = coding {
        request.headers_mut().insert(
            CONTENT_ENCODING,
            http::HeaderValue::from_str(coding).expect("value"),
        );
    }
    request
}

fn capped(max_size: u64) -> RequestDecompressionLayer {
    RequestDecompressionLayer::builder()
        .max_size(max_size)
        .build()
        .expect("valid cap")
}

#[tokio::test]
async fn decodes_every_codec() {
    let original = json(100 * 1024);
    for coding in ["br", "zstd", "gzip", "deflate", "x-gzip", "GZIP"] {
        let wire = coding.to_ascii_lowercase().replace("x-", "");
        let encoded = encode(&wire, &original).await;
        let response = ServiceBuilder::new()
            .layer(RequestDecompressionLayer::new())
            .service_fn(echo)
            .oneshot(post(Some(coding), encoded))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{coding}");
        assert!(
            !response.headers().contains_key("x-saw-encoding"),
            "{coding}"
        );
        let (body, _) = collect(response.into_body()).await;
        assert_eq!(body, original, "{coding}");
    }
}

#[tokio::test]
async fn identity_and_unencoded_bodies_pass_through() {
    for coding in [None, Some("identity")] {
        let response = ServiceBuilder::new()
            .layer(RequestDecompressionLayer::new())
            .service_fn(echo)
            .oneshot(post(coding, "plain"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let (body, _) = collect(response.into_body()).await;
        assert_eq!(body, "plain");
    }
}

#[tokio::test]
async fn concatenated_gzip_members_decode_in_order() {
    let mut wire = encode("gzip", b"hello ").await;
    wire.extend(encode("gzip", b"world").await);
    let response = ServiceBuilder::new()
        .layer(RequestDecompressionLayer::new())
        .service_fn(echo)
        .oneshot(post(Some("gzip"), wire))
        .await
        .expect("infallible");
    let (body, _) = collect(response.into_body()).await;
    assert_eq!(body, "hello world");
}

#[tokio::test]
async fn unknown_or_stacked_codings_are_415_with_accept_encoding() {
    for coding in ["compress", "gzip, br", "bzip2", "\u{7f}"] {
        let mut request = post(None, "data");
        request.headers_mut().insert(
            CONTENT_ENCODING,
            http::HeaderValue::from_bytes(coding.as_bytes())
                .unwrap_or(http::HeaderValue::from_static("x")),
        );
        let response = ServiceBuilder::new()
            .layer(RequestDecompressionLayer::new())
            .service_fn(echo)
            .oneshot(request)
            .await
            .expect("infallible");
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{coding}"
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            response.headers()[ACCEPT_ENCODING],
            "br, zstd, gzip, deflate"
        );
        let (body, _) = collect(response.into_body()).await;
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(doc["status"], 415);
    }

    let response = ServiceBuilder::new()
        .layer(
            RequestDecompressionLayer::builder()
                .no_br()
                .no_zstd()
                .build()
                .expect("valid"),
        )
        .service_fn(echo)
        .oneshot(post(Some("br"), encode("br", b"x").await))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.headers()[ACCEPT_ENCODING], "gzip, deflate");
}

#[tokio::test]
async fn corrupt_bodies_are_400_problem() {
    let mut wire = encode("gzip", &json(10_000)).await;
    wire.truncate(wire.len() / 2);
    for (coding, body) in [("gzip", wire), ("zstd", b"not zstd at all".to_vec())] {
        let response = ServiceBuilder::new()
            .layer(RequestDecompressionLayer::new())
            .service_fn(echo)
            .oneshot(post(Some(coding), body))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{coding}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    }
}

#[tokio::test]
async fn the_cap_is_exact() {
    let original = json(10_000);
    for (cap, status) in [
        (10_000, StatusCode::OK),
        (9_999, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let response = ServiceBuilder::new()
            .layer(capped(cap))
            .service_fn(echo)
            .oneshot(post(Some("gzip"), encode("gzip", &original).await))
            .await
            .expect("infallible");
        assert_eq!(response.status(), status, "cap {cap}");
    }
}

/// A request body that replays `member` `count` times and counts the bytes
/// it handed out.
struct Repeating {
    member: Bytes,
    left: usize,
    served: Arc<AtomicU64>,
}

impl Body for Repeating {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        self.served
            .fetch_add(self.member.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(self.member.clone()))))
    }
}

#[tokio::test]
async fn a_zip_bomb_is_413_and_never_allocates_its_output() {
    // One gzip member of 16 MiB of zeros (about 16 KiB on the wire),
    // repeated 256 times: a 4 MiB request that expands to 4 GiB.
    let member = Bytes::from(encode("gzip", &vec![0_u8; 16 << 20]).await);
    let count = 256;
    let served = Arc::new(AtomicU64::new(0));
    let request = Request::builder()
        .method(Method::POST)
        .header(CONTENT_ENCODING, "gzip")
        .header(CONTENT_LENGTH, (member.len() * count).to_string())
        .body(Repeating {
            member: member.clone(),
            left: count,
            served: served.clone(),
        })
        .expect("request");
    let largest_frame = Arc::new(AtomicU64::new(0));
    let decoded = Arc::new(AtomicU64::new(0));
    let (largest, total) = (largest_frame.clone(), decoded.clone());
    let response = ServiceBuilder::new()
        .layer(RequestDecompressionLayer::new())
        .service_fn(move |request: Request<DecompressionBody<Repeating>>| {
            let (largest, total) = (largest.clone(), total.clone());
            async move {
                // Stream the body frame by frame, as a careful handler would.
                let mut body = request.into_body();
                while let Some(frame) = body.frame().await {
                    let Ok(frame) = frame else { break };
                    if let Some(data) = frame.data_ref() {
                        largest.fetch_max(data.len() as u64, Ordering::Relaxed);
                        total.fetch_add(data.len() as u64, Ordering::Relaxed);
                    }
                }
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"stored"))))
            }
        })
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let (body, _) = collect(response.into_body()).await;
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        doc["max_size"],
        strata_compression::DEFAULT_MAX_DECOMPRESSED_SIZE
    );

    // Decoding stopped at the cap: output frames stayed small, the handler
    // saw no more than the cap, and most of the bomb was never even read.
    assert!(largest_frame.load(Ordering::Relaxed) <= 32 * 1024);
    assert!(decoded.load(Ordering::Relaxed) <= strata_compression::DEFAULT_MAX_DECOMPRESSED_SIZE);
    assert!(served.load(Ordering::Relaxed) < (member.len() * 2) as u64);
}

#[tokio::test]
async fn a_handler_that_ignores_the_body_error_still_answers_413() {
    let response = ServiceBuilder::new()
        .layer(capped(1000))
        .service_fn(
            |request: Request<DecompressionBody<Full<Bytes>>>| async move {
                let _ = request.into_body().collect().await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            },
        )
        .oneshot(post(Some("zstd"), encode("zstd", &json(5000)).await))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn works_inside_an_axum_router_in_both_directions() {
    use axum::Router;
    use axum::routing::post;
    use strata_compression::CompressionLayer;

    let app: Router = Router::new()
        .route(
            "/echo",
            post(|body: Bytes| async move { ([(CONTENT_TYPE, "application/json")], body) }),
        )
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new());
    let original = json(20_000);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/echo")
        .header(CONTENT_ENCODING, "gzip")
        .header(ACCEPT_ENCODING, "br;q=0.9, zstd")
        .body(axum::body::Body::from(encode("gzip", &original).await))
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_ENCODING], "zstd");
    let (body, _) = collect(response.into_body()).await;
    assert_eq!(common::decode("zstd", &body).await, original);
}

#[test]
fn a_zero_cap_is_refused_at_build() {
    let error = RequestDecompressionLayer::builder()
        .max_size(0)
        .build()
        .expect_err("a zero cap");
    assert!(
        matches!(
            error,
            strata_core::ConfigError::Invalid {
                setting: "max_size",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(capped(1).max_size(), 1);
    assert_eq!(
        RequestDecompressionLayer::new().max_size(),
        strata_compression::DEFAULT_MAX_DECOMPRESSED_SIZE
    );
}

#[tokio::test]
async fn the_cap_bounds_decoded_bytes_behind_an_encoded_body_limit() {
    use axum::Router;
    use axum::routing::post;
    use tower_http::limit::RequestBodyLimitLayer;

    // The application's wiring: a 64 KiB body limit outside decompression
    // counts encoded bytes; the decompression cap, set to the same limit,
    // counts the decoded ones.
    const LIMIT: usize = 64 * 1024;
    let stored = Arc::new(AtomicU64::new(0));
    let counter = stored.clone();
    let app = Router::new().route(
        "/upload",
        post(move |body: Bytes| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(body.len() as u64, Ordering::Relaxed);
                "stored"
            }
        }),
    );
    let service = ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(LIMIT))
        .layer(capped(LIMIT as u64))
        .service(app);

    // 4 MiB of JSON in a few KiB of gzip: under the body limit on the wire.
    let repeated = r#"{"id":1,"name":"item"},"#.repeat((4 << 20) / 23);
    let encoded = encode("gzip", repeated.as_bytes()).await;
    assert!(encoded.len() < LIMIT, "{} encoded bytes", encoded.len());
    let request = Request::builder()
        .method(Method::POST)
        .uri("/upload")
        .header(CONTENT_ENCODING, "gzip")
        .header(CONTENT_LENGTH, encoded.len().to_string())
        .body(axum::body::Body::from(encoded))
        .expect("request");
    let response = service.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let (body, _) = collect(response.into_body()).await;
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(doc["max_size"], LIMIT as u64);
    assert_eq!(
        stored.load(Ordering::Relaxed),
        0,
        "the handler stored nothing"
    );

    // A body that decodes within the cap is stored.
    let original = json(LIMIT);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/upload")
        .header(CONTENT_ENCODING, "gzip")
        .body(axum::body::Body::from(encode("gzip", &original).await))
        .expect("request");
    let response = service.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(stored.load(Ordering::Relaxed), LIMIT as u64);
}
