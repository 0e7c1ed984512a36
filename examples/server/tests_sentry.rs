//! Error tracking in the application, through the offline client, and the
//! server process reporting to a Sentry-protocol receiver on 127.0.0.1.

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

/// Accepts connections and hands every request (path, body) over.
async fn receive(
    listener: tokio::net::TcpListener,
    envelopes: tokio::sync::mpsc::UnboundedSender<(String, Vec<u8>)>,
) {
    use http_body_util::BodyExt;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let envelopes = envelopes.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: axum::http::Request<hyper::body::Incoming>| {
                    let envelopes = envelopes.clone();
                    async move {
                        let path = request.uri().path().to_owned();
                        let body = request.into_body().collect().await?.to_bytes();
                        let _ = envelopes.send((path, body.to_vec()));
                        Ok::<_, hyper::Error>(axum::http::Response::new(String::from("{}")))
                    }
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The event items of an envelope (a header line, then item header and
/// payload lines).
fn envelope_events(envelope: &[u8]) -> Vec<serde_json::Value> {
    let lines: Vec<serde_json::Value> = envelope
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect();
    lines
        .windows(2)
        .filter(|pair| pair[0]["type"] == "event")
        .map(|pair| pair[1].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_process_reports_a_panic_to_the_sentry_dsn() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let port = listener.local_addr().expect("address").port();
    let (sender, mut envelopes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(receive(listener, sender));
    let dsn = format!("http://public@127.0.0.1:{port}/3");
    let server = tokio::task::spawn_blocking(move || start_development(&dsn))
        .await
        .expect("start the server");
    let addr = server.addr.clone();
    let response =
        tokio::task::spawn_blocking(move || crate::tests_process::http_get(&addr, "/api/error"))
            .await
            .expect("request");
    assert!(response.starts_with("HTTP/1.1 500"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");

    // Generous: it catches a hang, never a slow machine.
    let event = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            let (path, envelope) = envelopes.recv().await.expect("the receiver runs");
            assert_eq!(path, "/api/3/envelope/");
            if let Some(event) = envelope_events(&envelope).into_iter().next() {
                return event;
            }
        }
    })
    .await
    .expect("no event within a minute");
    assert_eq!(event["transaction"], "GET /api/error");
    assert_eq!(event["environment"], "development");
    assert_eq!(event["level"], "fatal");
    assert_eq!(event["exception"]["values"][0]["type"], "panic");
    assert_eq!(event["tags"]["http.response.status_code"], "500");
    drop(server);
}

/// The server process in development (text logs, where `/api/error`
/// exists) reporting to `dsn`; killed when dropped.
fn start_development(dsn: &str) -> crate::tests_process::ServerProcess {
    use std::io::BufRead;
    let mut child = crate::tests_process::server(&[
        ("PORT", "0"),
        ("APP_ENV", "development"),
        ("SENTRY_DSN", dsn),
    ])
    .stdout(std::process::Stdio::piped())
    .spawn()
    .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads every log line, so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let addr = line
                .split_whitespace()
                .find_map(|word| word.strip_prefix("addr="));
            if let (true, Some(addr)) = (line.contains("listening"), addr) {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    let mut server = crate::tests_process::ServerProcess {
        child,
        addr: String::new(),
        // Text logs: no JSON events to hand over.
        events: std::sync::mpsc::channel().1,
    };
    server.addr = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the server did not log that it listens");
    server
}
