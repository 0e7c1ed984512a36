//! The axum extractors and `IntoResponse` for `Problem`.
#![cfg(feature = "axum")]

use std::net::SocketAddr;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use axum::routing::get;
use http::StatusCode;
use strata_core::{ClientIp, ClientIpResolver, Problem, ResolveClientIpLayer, Scheme};
use strata_testkit::{body_string, get as get_request};
use tower::ServiceExt;

async fn whoami(client: ClientIp, scheme: Scheme) -> String {
    format!("{client} {scheme}")
}

#[tokio::test]
async fn extracts_the_resolved_client_behind_a_trusted_proxy() {
    let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse().expect("cidr"));
    let app = Router::new()
        .route("/", get(whoami))
        .layer(ResolveClientIpLayer::new(resolver))
        .layer(MockConnectInfo(SocketAddr::from(([10, 0, 0, 1], 1234))));
    let mut request = get_request("/");
    request.headers_mut().insert(
        "x-forwarded-for",
        "1.1.1.1, 203.0.113.5".parse().expect("value"),
    );
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("value"));
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_string(response.into_body()).await, "203.0.113.5 https");
}

#[tokio::test]
async fn without_the_layer_headers_are_not_believed() {
    let app = Router::new()
        .route("/", get(whoami))
        .layer(MockConnectInfo(SocketAddr::from(([10, 0, 0, 1], 1234))));
    let mut request = get_request("/");
    request
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.5".parse().expect("value"));
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("value"));
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(body_string(response.into_body()).await, "10.0.0.1 http");
}

#[tokio::test]
async fn missing_peer_address_is_a_problem_response() {
    let app = Router::new().route("/", get(whoami));
    let response = app.oneshot(get_request("/")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value =
        serde_json::from_str(&body_string(response.into_body()).await).expect("json");
    assert_eq!(body["status"], 500);
}

#[tokio::test]
async fn problem_is_an_axum_response() {
    let app = Router::new().route(
        "/",
        get(|| async { Problem::new(StatusCode::CONFLICT).detail("version mismatch") }),
    );
    let response = app.oneshot(get_request("/")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = body_string(response.into_body()).await;
    assert!(body.contains(r#""detail":"version mismatch""#), "{body}");
}
