//! The layers in an axum 0.8 router, with the `CspNonce` extractor.
#![cfg(feature = "axum")]

use axum::Router;
use axum::body::Body;
use axum::response::Html;
use axum::routing::get;
use http::{Request, StatusCode, header};
use strata_security_headers::{
    CspNonce, CspReportCollector, HttpsRedirectLayer, SecurityHeadersLayer, TrustedHostLayer,
};
use strata_testkit::body_string;
use tower::ServiceExt;

async fn page(nonce: CspNonce) -> Html<String> {
    Html(format!("<script nonce=\"{nonce}\">go()</script>"))
}

fn app(layer: SecurityHeadersLayer) -> Router {
    Router::new()
        .route("/", get(page))
        .route_service("/csp-report", CspReportCollector::new())
        .layer(layer)
        .layer(
            HttpsRedirectLayer::builder()
                .exempt("/csp-report")
                .build()
                .expect("valid"),
        )
        .layer(
            TrustedHostLayer::builder(["example.com"])
                .build()
                .expect("valid"),
        )
}

fn request(method: &str, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "example.com")
        .body(body)
        .expect("valid request")
}

#[tokio::test]
async fn extractor_gives_the_nonce_in_the_header() {
    let mut get_page = request("GET", "/", Body::empty());
    get_page.extensions_mut().insert(strata_core::Scheme::Https);
    let response = app(SecurityHeadersLayer::strict())
        .oneshot(get_page)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(response.headers().contains_key("strict-transport-security"));
    let body = body_string(response.into_body()).await;
    let nonce = body.split('"').nth(1).expect("nonce attribute");
    assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp} / {body}");
}

#[tokio::test]
async fn extractor_answers_500_without_a_nonce_policy() {
    let mut get_page = request("GET", "/", Body::empty());
    get_page.extensions_mut().insert(strata_core::Scheme::Https);
    let response = app(SecurityHeadersLayer::api())
        .oneshot(get_page)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
}

#[tokio::test]
async fn collector_route_and_guards_work_in_a_router() {
    let report = r#"{"csp-report":{"document-uri":"https://example.com/","effective-directive":"img-src","blocked-uri":"data"}}"#;
    let mut post = request("POST", "/csp-report", Body::from(report));
    post.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/csp-report".parse().expect("valid"),
    );
    let response = app(SecurityHeadersLayer::strict())
        .oneshot(post)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");

    let plain = request("GET", "/", Body::empty());
    let response = app(SecurityHeadersLayer::strict())
        .oneshot(plain)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.headers()[header::LOCATION], "https://example.com/");

    let mut evil = request("GET", "/", Body::empty());
    evil.headers_mut()
        .insert(header::HOST, "evil.example".parse().expect("valid"));
    let response = app(SecurityHeadersLayer::strict())
        .oneshot(evil)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
