//! The layer in an axum 0.8 router.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use strata_health::{HealthLayer, Status, check_fn};
use strata_testkit::body_string;
use tower::ServiceExt;

#[tokio::test]
async fn answers_probes_in_front_of_an_axum_router() {
    let (health, drain) = HealthLayer::builder()
        .refresh_every(None)
        .check("db", check_fn(|| async { Status::Pass }))
        .pair()
        .expect("valid");
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .layer(health);

    let send = |uri: &str| {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        app.clone().oneshot(request)
    };
    let response = send("/health/ready").await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/health+json"
    );
    assert_eq!(
        body_string(response.into_body()).await,
        r#"{"status":"pass"}"#
    );

    let response = send("/").await.expect("infallible");
    assert_eq!(body_string(response.into_body()).await, "home");
    let response = send("/missing").await.expect("infallible");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    drain.drain();
    let response = send("/health/ready").await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
