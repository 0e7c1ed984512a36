//! Error tracking in the application, through the offline client.

use axum::Router;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use strata::sentry::{Capture, Init};
use strata_testkit::{get, request};

use crate::app::app;
use crate::config::Config;
use crate::tests::{json, send};

fn application(env: &str) -> Router {
    let config =
        Config::from_lookup(|name| (name == "APP_ENV").then(|| env.to_owned())).expect("config");
    app(&config, None).expect("app").router
}

fn capture() -> Capture {
    Init::new()
        .traces_sample_rate(1.0)
        .capture()
        .expect("valid settings")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_route_panics_answers_500_problem_and_reports_the_signed_in_user() {
    let app = application("development");
    let capture = capture();
    let mut login = request(Method::POST, "/api/login", r#"{"username":"ada"}"#);
    login
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = capture.run(send(&app, login)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    let cookie = cookie.split(';').next().expect("name=value").to_owned();

    let mut failing = get("/api/error");
    failing
        .headers_mut()
        .insert(COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    let response = capture.run(send(&app, failing)).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(json(response).await["status"], 500);

    let events = capture.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.transaction.as_deref(), Some("GET /api/error"));
    assert_eq!(event.exception.values[0].ty, "panic");
    let user = event.user.as_ref().expect("the signed-in user");
    assert_eq!(user.username.as_deref(), Some("ada"));
    let headers = &event.request.as_ref().expect("the request").headers;
    assert_eq!(headers["cookie"], "[Filtered]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_scrapes_are_not_traced_and_client_errors_not_reported() {
    let app = application("development");
    let capture = capture();
    for path in ["/health/live", "/health/ready", "/metrics"] {
        let response = capture.run(send(&app, get(path))).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(capture.run(send(&app, get("/nowhere"))).await.status(), 404);
    assert!(capture.events().is_empty(), "{:?}", capture.events());
    let names: Vec<_> = capture
        .transactions()
        .into_iter()
        .filter_map(|transaction| transaction.name)
        .collect();
    assert_eq!(names, ["GET unmatched"], "only the 404 is traced");
}

#[tokio::test]
async fn the_error_route_is_not_found_in_production() {
    let app = application("production");
    let response = send(&app, get("/api/error")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[test]
fn without_sentry_dsn_reporting_is_off() {
    let config = Config::from_lookup(|_| None).expect("config");
    if std::env::var_os("SENTRY_DSN").is_none() {
        assert!(
            crate::sentry::init(&config)
                .expect("no DSN is valid")
                .is_none()
        );
    }
}
