//! The example server's wiring: tiers per identity, a login limit per IP,
//! `/metrics` and `/health/*` never limited, headers on every API response.
#![cfg(feature = "axum")]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::connect_info::MockConnectInfo;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use http::request::Parts;
use strata_core::ConfigError;
use strata_rate_limit::{
    KeyBy, MemoryClock, MemoryStore, Policy, Quota, RateLimitLayer, Rule, Tiers,
};
use tower::ServiceExt;

/// The signed-in user, as a session layer would put it in the extensions.
#[derive(Debug, Clone)]
struct UserId(String);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn never_limited(parts: &Parts) -> bool {
    let path = parts.uri.path();
    path == "/metrics" || path == "/health" || path.starts_with("/health/")
}

fn rate_limits() -> Result<(RateLimitLayer, RateLimitLayer), ConfigError> {
    let by_user = || KeyBy::extension::<UserId>();
    let tiers = Tiers::new(Rule::new(
        KeyBy::client_ip(),
        Policy::new("anonymous", Quota::per_minute(60)),
    ))
    .tier(
        "user",
        Rule::new(by_user(), Policy::new("user", Quota::per_minute(300))),
    )
    .tier(
        "admin",
        Rule::new(by_user(), Policy::new("admin", Quota::per_minute(1000))),
    )
    .select(|parts: &Parts| {
        let user = parts.extensions.get::<UserId>()?;
        Some(if user.0 == "admin" { "admin" } else { "user" })
    });
    // The tests pause tokio's clock: the stores must read it.
    let paused = || MemoryStore::new().clock(MemoryClock::Tokio);
    let api = RateLimitLayer::builder(tiers)
        .memory(paused())
        .skip_when(never_limited)
        .build()?;
    let login = RateLimitLayer::builder(Rule::new(
        KeyBy::client_ip(),
        Policy::new("login", Quota::per_minute(5)),
    ))
    .memory(paused())
    .build()?;
    Ok((api, login))
}

/// Stands in for the session layer: `x-test-user` becomes a `UserId`.
async fn identity(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("x-test-user")
        .and_then(|v| v.to_str().ok())
        .map(|v| UserId(v.to_owned()));
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

fn app() -> Router {
    let (api, login) = rate_limits().expect("valid configuration");
    Router::new()
        .route("/api/items", get(|| async { "items" }))
        .route(
            "/api/login",
            post(|| async { "welcome" }).route_layer(login),
        )
        .route("/metrics", get(|| async { "# metrics" }))
        .route("/health/live", get(|| async { "ok" }))
        .layer(api)
        .layer(from_fn(identity))
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 1], 1))))
}

fn request(method: &str, uri: &str, user: Option<&str>) -> Request {
    let mut builder = http::Request::builder().method(method).uri(uri);
    if let Some(user) = user {
        builder = builder.header("x-test-user", user);
    }
    builder.body(Body::empty()).expect("request")
}

async fn count_allowed(
    app: &Router,
    method: &str,
    uri: &str,
    user: Option<&str>,
    n: usize,
) -> usize {
    let mut allowed = 0;
    for _ in 0..n {
        let response = app
            .clone()
            .oneshot(request(method, uri, user))
            .await
            .expect("infallible");
        if response.status() == StatusCode::OK {
            allowed += 1;
        }
    }
    allowed
}

#[tokio::test(start_paused = true)]
async fn tiers_of_the_example_server() {
    let app = app();
    assert_eq!(count_allowed(&app, "GET", "/api/items", None, 70).await, 60);
    assert_eq!(
        count_allowed(&app, "GET", "/api/items", Some("alice"), 310).await,
        300
    );
    assert_eq!(
        count_allowed(&app, "GET", "/api/items", Some("admin"), 1010).await,
        1000
    );
}

#[tokio::test(start_paused = true)]
async fn login_is_limited_to_five_per_minute_per_ip() {
    let app = app();
    assert_eq!(count_allowed(&app, "POST", "/api/login", None, 8).await, 5);
    let response = app
        .clone()
        .oneshot(request("POST", "/api/login", None))
        .await
        .expect("infallible");
    let items: Vec<&str> = response
        .headers()
        .get_all("ratelimit")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(items, [r#""login";r=0;t=60"#, r#""anonymous";r=51;t=9"#]);
}

#[tokio::test(start_paused = true)]
async fn metrics_and_health_are_never_limited_nor_annotated() {
    let app = app();
    for uri in ["/metrics", "/health/live"] {
        assert_eq!(count_allowed(&app, "GET", uri, None, 100).await, 100);
        let response = app
            .clone()
            .oneshot(request("GET", uri, None))
            .await
            .expect("infallible");
        assert!(!response.headers().contains_key("ratelimit"));
    }
    let response = app
        .oneshot(request("GET", "/api/items", None))
        .await
        .expect("infallible");
    assert_eq!(response.headers()["ratelimit"], r#""anonymous";r=59;t=1"#);
    assert_eq!(
        response.headers()["ratelimit-policy"],
        r#""anonymous";q=60;w=60"#
    );
}
