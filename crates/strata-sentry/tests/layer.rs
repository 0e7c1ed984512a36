//! The layer through the offline client: what is captured, named, scrubbed
//! and sampled.

#![cfg(feature = "axum")] // routes named by `MatchedPath`
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use sentry::protocol::Level;
use strata_core::Problem;
use strata_sentry::{Capture, Init, ResponseError, SentryLayer, SentryUser};
use tower::{ServiceBuilder, ServiceExt};

fn capture() -> Capture {
    Init::new().traces_sample_rate(1.0).capture().unwrap()
}

async fn broken() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response
        .extensions_mut()
        .insert(ResponseError::new(std::io::Error::other(
            "the disk is full",
        )));
    response
}

async fn unavailable() -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE)
        .title("Orders paused")
        .detail("the order store is read-only")
}

async fn panics() -> &'static str {
    panic!("the handler gave up")
}

fn app(layer: SentryLayer) -> Router {
    Router::new()
        .route("/orders/{id}", get(broken))
        .route("/stock", get(unavailable))
        .route("/panic", get(panics))
        .route("/ok", get(|| async { "ok" }))
        .route("/health/live", get(|| async { "ok" }))
        .layer(layer)
}

fn get_request(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("host", "shop.example")
        .body(Body::empty())
        .unwrap()
}

async fn body_json(response: Response) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_is_captured_with_route_name_user_and_error() {
    let capture = capture();
    let mut request = get_request("/orders/7?token=secret");
    request
        .extensions_mut()
        .insert(SentryUser::id("42").username("ada"));
    let response = capture
        .run(app(SentryLayer::new()).oneshot(request))
        .await
        .unwrap();
    assert_eq!(response.status(), 500);

    let events = capture.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.level, Level::Error);
    assert_eq!(event.transaction.as_deref(), Some("GET /orders/{id}"));
    assert_eq!(event.tags["http.route"], "/orders/{id}");
    assert_eq!(event.tags["http.request.method"], "GET");
    assert_eq!(event.tags["http.response.status_code"], "500");
    let user = event.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(user.username.as_deref(), Some("ada"));
    assert_eq!(
        event.exception.values[0].value.as_deref(),
        Some("the disk is full")
    );
    let request = event.request.as_ref().unwrap();
    assert_eq!(
        request.url.as_ref().unwrap().as_str(),
        "http://shop.example/orders/7",
        "no raw query string without PII"
    );
    assert_eq!(request.query_string, None);

    let transactions = capture.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].name.as_deref(), Some("GET /orders/{id}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_title_and_detail_are_captured_and_the_body_still_sent() {
    let capture = capture();
    let response = capture
        .run(app(SentryLayer::new()).oneshot(get_request("/stock")))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        body_json(response).await["detail"],
        "the order store is read-only"
    );

    let events = capture.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let exception = &events[0].exception.values[0];
    assert_eq!(exception.ty, "Orders paused");
    assert_eq!(
        exception.value.as_deref(),
        Some("the order store is read-only")
    );
    assert_eq!(events[0].transaction.as_deref(), Some("GET /stock"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_and_client_errors_are_dropped() {
    let capture = capture();
    // Even asked to capture 4xx, the default before_send drops them.
    let layer = SentryLayer::builder()
        .capture_status(400..=599)
        .build()
        .unwrap();
    let response = capture
        .run(app(layer).oneshot(get_request("/nowhere")))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(capture.events().is_empty());
    let ok = capture
        .run(app(SentryLayer::new()).oneshot(get_request("/ok")))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(capture.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_before_send_keeps_client_errors() {
    let capture = Init::new().before_send(Some).capture().unwrap();
    let layer = SentryLayer::builder()
        .capture_status(400..=599)
        .build()
        .unwrap();
    let response = capture
        .run(app(layer).oneshot(get_request("/nowhere")))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let events = capture.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["http.response.status_code"], "404");
    assert_eq!(events[0].transaction.as_deref(), Some("GET unmatched"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_probes_are_never_sampled() {
    let capture = capture();
    let app = app(SentryLayer::new());
    let probe = capture
        .run(app.clone().oneshot(get_request("/health/live")))
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    assert!(capture.transactions().is_empty(), "a probe was sampled");
    capture.run(app.oneshot(get_request("/ok"))).await.unwrap();
    let transactions = capture.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].name.as_deref(), Some("GET /ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_sentry_trace_continues_the_trace() {
    let capture = capture();
    let request = Request::get("/ok")
        .header(
            "sentry-trace",
            "09e04486820349518ac7b5d2adbf6ba5-9cf635fa5b870b3a-1",
        )
        .body(Body::empty())
        .unwrap();
    capture
        .run(app(SentryLayer::new()).oneshot(request))
        .await
        .unwrap();
    let transactions = capture.transactions();
    let trace = match transactions[0].contexts.get("trace") {
        Some(sentry::protocol::Context::Trace(trace)) => trace.clone(),
        other => panic!("no trace context: {other:?}"),
    };
    assert_eq!(
        trace.trace_id.to_string(),
        "09e04486820349518ac7b5d2adbf6ba5"
    );
    assert_eq!(
        trace.parent_span_id.map(|id| id.to_string()).as_deref(),
        Some("9cf635fa5b870b3a")
    );
}

fn with_secrets(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("host", "shop.example")
        .header("authorization", "Bearer abc")
        .header("proxy-authorization", "Basic abc")
        .header("cookie", "sid=abc")
        .header("x-forwarded-for", "203.0.113.9")
        .header("forwarded", "for=203.0.113.9")
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_headers_are_scrubbed() {
    let capture = capture();
    capture
        .run(app(SentryLayer::new()).oneshot(with_secrets("/orders/1")))
        .await
        .unwrap();
    let events = capture.events();
    let headers = &events[0].request.as_ref().unwrap().headers;
    for name in [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-forwarded-for",
        "forwarded",
    ] {
        assert_eq!(headers[name], "[Filtered]", "{name}");
    }
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(events[0].request.as_ref().unwrap().cookies, None);
    let transactions = capture.transactions();
    let request = transactions[0].request.as_ref().unwrap();
    assert_eq!(request.headers["authorization"], "[Filtered]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_pii_headers_and_query_are_sent() {
    let capture = Init::new().send_default_pii(true).capture().unwrap();
    capture
        .run(app(SentryLayer::new()).oneshot(with_secrets("/orders/1?page=2")))
        .await
        .unwrap();
    let events = capture.events();
    let request = events[0].request.as_ref().unwrap();
    assert_eq!(request.headers["authorization"], "Bearer abc");
    assert_eq!(request.cookies.as_deref(), Some("sid=abc"));
    assert_eq!(request.query_string.as_deref(), Some("page=2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_captured_and_answered_500_problem() {
    let capture = capture();
    let response = capture
        .run(app(SentryLayer::new()).oneshot(get_request("/panic")))
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(body_json(response).await["status"], 500);

    let events = capture.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].level, Level::Fatal);
    let exception = &events[0].exception.values[0];
    assert_eq!(exception.ty, "panic");
    assert_eq!(exception.value.as_deref(), Some("the handler gave up"));
    assert_eq!(exception.mechanism.as_ref().unwrap().handled, Some(false));
    assert_eq!(events[0].transaction.as_deref(), Some("GET /panic"));
    assert_eq!(capture.transactions().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_a_panic_is_still_answered_500_problem() {
    let response = app(SentryLayer::new())
        .oneshot(get_request("/panic"))
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hyper_service_is_named_by_the_classifier() {
    let capture = capture();
    let layer = SentryLayer::builder()
        .route_by(|parts: &http::request::Parts| {
            parts
                .uri
                .path()
                .starts_with("/files/")
                .then_some(std::borrow::Cow::Borrowed("/files/{*path}"))
        })
        .build()
        .unwrap();
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::builder().status(502).body(Body::empty()).unwrap())
        });
    service
        .oneshot(get_request("/files/a/b.txt"))
        .bind_to(&capture)
        .await
        .unwrap();
    let events = capture.events();
    assert_eq!(events[0].transaction.as_deref(), Some("GET /files/{*path}"));
    assert_eq!(events[0].exception.values[0].ty, "Bad Gateway");
}

trait BindTo: Future + Sized {
    fn bind_to(self, capture: &Capture) -> sentry::SentryFuture<Self> {
        sentry::SentryFutureExt::bind_hub(self, capture.hub())
    }
}

impl<F: Future> BindTo for F {}
