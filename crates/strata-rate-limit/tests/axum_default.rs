//! The usual axum setup works with the crate's default features: `axum` is
//! one of them, so the `ConnectInfo` that
//! `into_make_service_with_connect_info` records is the peer address.

#[test]
fn axum_is_a_default_feature() {
    let manifest = include_str!("../Cargo.toml");
    let default = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("default ="))
        .expect("a default feature list");
    assert!(default.contains("\"axum\""), "{default}");
}

#[cfg(feature = "axum")]
#[tokio::test(start_paused = true)]
async fn works_as_axum_middleware_with_connect_info() {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::extract::connect_info::MockConnectInfo;
    use axum::routing::get as route;
    use http::StatusCode;
    use strata_rate_limit::{KeyBy, MemoryClock, MemoryStore, Policy, Quota, RateLimitLayer, Rule};
    use strata_testkit::{body_string, get};
    use tower::ServiceExt;

    let layer = RateLimitLayer::builder(Rule::new(
        KeyBy::client_ip(),
        Policy::new("per-ip", Quota::per_minute(1)),
    ))
    .memory(MemoryStore::new().clock(MemoryClock::Tokio))
    .build()
    .expect("valid");
    // What `into_make_service_with_connect_info::<SocketAddr>()` inserts.
    let app = Router::new()
        .route("/", route(|| async { "hi" }))
        .layer(layer)
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 1], 1))));
    let response = app.clone().oneshot(get("/")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["ratelimit"], r#""per-ip";r=0;t=60"#);
    let response = app.oneshot(get("/")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = body_string(response.into_body()).await;
    assert!(body.contains("quota-exceeded"), "{body}");
}
