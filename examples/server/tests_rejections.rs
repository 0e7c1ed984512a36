//! Refusals are problem+json without the client's input; bodies, fields,
//! ids and detailed health are bounded.

use std::io::Write;
use std::net::SocketAddr;

use axum::Router;
use axum::http::header::{ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::Full;
use strata_testkit::{body_string, from_peer, get, request};
use tower::ServiceExt;

use crate::app::{MAX_BODY, app};
use crate::config::Config;
use crate::tests::{json, send};

fn app_in(env: &'static str) -> Router {
    let config =
        Config::from_lookup(|name| (name == "APP_ENV").then(|| env.to_owned())).expect("config");
    app(&config, None).expect("app").router
}

fn put_json(uri: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let mut request = request(Method::PUT, uri, body.into());
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request
}

/// A problem+json response of `status` whose text does not contain `input`.
async fn assert_problem(response: Response, status: StatusCode, input: &str) -> serde_json::Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let text = body_string(response.into_body()).await;
    assert!(!text.contains(input), "echoes {input:?}: {text}");
    let problem: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(problem["status"], status.as_u16());
    problem
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_by_its_decoded_size_and_not_stored() {
    let app = app_in("development");
    let tags = vec!["a"; 400_000].join("\",\"");
    let body = format!(r#"{{"name":"bomb","description":"d","price_cents":1,"tags":["{tags}"]}}"#);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body.as_bytes()).expect("gzip");
    let gzip = encoder.finish().expect("gzip");
    assert!(
        gzip.len() < MAX_BODY && body.len() > 20 * MAX_BODY,
        "{}",
        gzip.len()
    );

    let mut bomb = put_json("/api/items/40", gzip);
    bomb.headers_mut()
        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    assert_problem(
        send(&app, bomb).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "bomb",
    )
    .await;
    let item = json(send(&app, get("/api/items/40")).await).await;
    assert_eq!(item["version"], 1, "{item}");
}

#[tokio::test]
async fn fields_outside_their_bounds_are_422_naming_the_field() {
    let app = app_in("development");
    let long = |n: usize| "x".repeat(n);
    let tags = |n: usize, each: usize| serde_json::json!(vec![long(each); n]);
    let cases = [
        (
            "name",
            serde_json::json!({"name": long(201), "description": "", "price_cents": 1}),
        ),
        (
            "description",
            serde_json::json!({"name": "n", "description": long(2001), "price_cents": 1}),
        ),
        (
            "tags",
            serde_json::json!({"name": "n", "description": "", "price_cents": 1, "tags": tags(21, 3)}),
        ),
        (
            "tags",
            serde_json::json!({"name": "n", "description": "", "price_cents": 1, "tags": tags(2, 33)}),
        ),
        (
            "tags",
            serde_json::json!({"name": "n", "description": "", "price_cents": 1, "tags": [""]}),
        ),
    ];
    for (field, body) in cases {
        let response = send(&app, put_json("/api/items/2", body.to_string())).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "xxxx").await;
        assert_eq!(problem["field"], field, "{problem}");
    }
    let fits = serde_json::json!({
        "name": long(200), "description": long(2000), "price_cents": 1, "tags": tags(20, 32)
    });
    let response = send(&app, put_json("/api/items/2", fits.to_string())).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_rejection_is_a_problem_that_does_not_echo_input() {
    let app = app_in("development");
    // Over the body limit by Content-Length: refused before it is read.
    let mut big = put_json("/api/items/1", "x".repeat(MAX_BODY + 1));
    big.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(MAX_BODY + 1));
    assert_problem(
        send(&app, big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "length limit",
    )
    .await;
    // Over it without Content-Length (streamed): refused while read.
    let mut streamed = Request::put("/api/items/1")
        .header(CONTENT_TYPE, "application/json")
        .body(axum::body::Body::new(Chunks(MAX_BODY + 1)))
        .expect("request");
    streamed
        .extensions_mut()
        .insert(SocketAddr::from(([127, 0, 0, 1], 1)));
    let response = app.clone().oneshot(streamed).await.expect("infallible");
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "xxxx").await;

    for path in [
        "/api/items/%00",
        "/api/items/%3Cscript%3E",
        "/nope/%3Cscript%3E",
    ] {
        assert_problem(send(&app, get(path)).await, StatusCode::NOT_FOUND, "script").await;
    }
    let response = send(&app, request(Method::DELETE, "/api/items/1", "")).await;
    assert_eq!(response.headers()[ALLOW], "GET,HEAD,PUT");
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "DELETE").await;

    let bad = put_json("/api/items/1", r#"{"name": "SECRET-INPUT" "#);
    assert_problem(
        send(&app, bad).await,
        StatusCode::BAD_REQUEST,
        "SECRET-INPUT",
    )
    .await;
    let unknown = put_json("/api/items/1", r#"{"SECRET-FIELD": 1}"#);
    assert_problem(
        send(&app, unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SECRET-FIELD",
    )
    .await;
    assert_problem(
        send(&app, get("/nope")).await,
        StatusCode::NOT_FOUND,
        "nope",
    )
    .await;
}

/// A body of this many bytes in 1 KiB frames, its length unknown in advance.
struct Chunks(usize);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let n = self.0.min(1024);
        self.0 -= n;
        std::task::Poll::Ready(
            (n > 0).then(|| Ok(hyper::body::Frame::data(Bytes::from(vec![b'x'; n])))),
        )
    }
}

#[tokio::test]
async fn item_ids_have_one_spelling() {
    let app = app_in("development");
    assert_eq!(
        send(&app, get("/api/items/1")).await.status(),
        StatusCode::OK
    );
    for alias in ["+1", "01", "%31", "1%20", "-1", "4294967297", "0x1"] {
        let uri = format!("/api/items/{alias}");
        assert_problem(send(&app, get(&uri)).await, StatusCode::NOT_FOUND, alias).await;
        let put = put_json(&uri, r#"{"name":"n","description":"","price_cents":1}"#);
        assert_problem(send(&app, put).await, StatusCode::NOT_FOUND, alias).await;
    }
}

#[tokio::test]
async fn detailed_health_is_private_in_production_only() {
    let public = SocketAddr::from(([203, 0, 113, 7], 1));
    let private = SocketAddr::from(([10, 0, 0, 7], 1));
    let production = app_in("production");
    let response = production
        .clone()
        .oneshot(from_peer(get("/health/detailed"), public))
        .await
        .expect("infallible");
    assert_problem(response, StatusCode::FORBIDDEN, "cpu").await;
    for (path, peer) in [
        ("/health/detailed", private),
        ("/health", public),
        ("/health/live", public),
        ("/health/ready", public),
    ] {
        let response = production.clone().oneshot(from_peer(get(path), peer)).await;
        assert_eq!(
            response.expect("infallible").status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let development = app_in("development");
    let response = development
        .oneshot(from_peer(get("/health/detailed"), public))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
}
