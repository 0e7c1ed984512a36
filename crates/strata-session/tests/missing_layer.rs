//! A handler extracting `Session` with no `SessionLayer` in front: a 500
//! problem every time, one warning per process naming the fix. Its own test
//! binary, so no other test has logged the warning before.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use strata_session::Session;
use tower::ServiceExt as _;

#[tokio::test(flavor = "current_thread")]
async fn a_missing_layer_is_a_500_and_one_warning() {
    let (logs, _guard) = strata_testkit::logs::capture(tracing::Level::WARN);
    let app = Router::new()
        .route("/", get(|_: Session| async { "unreachable" }))
        .route(
            "/optional",
            get(|s: Option<Session>| async move { format!("{}", s.is_some()) }),
        );
    for _ in 0..3 {
        let response = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let optional = app
        .oneshot(Request::get("/optional").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        strata_testkit::body_string(optional.into_body()).await,
        "false"
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("SessionLayer"),
        "{}",
        lines[0]
    );
}
