//! End to end with sentry's real transport: a DSN pointing at a receiver
//! this test runs on 127.0.0.1, the layer in front of an axum router, the
//! envelope read back from the wire.

#![cfg(feature = "axum")] // routes named by `MatchedPath`
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use strata_core::Problem;
use strata_sentry::{Init, SentryLayer, SentryUser};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// Accepts connections and hands every request body (an envelope) over.
async fn receive(
    listener: tokio::net::TcpListener,
    envelopes: mpsc::UnboundedSender<(String, Vec<u8>)>,
) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let envelopes = envelopes.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let envelopes = envelopes.clone();
                async move {
                    let path = request.uri().path().to_owned();
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    envelopes.send((path, body.to_vec())).unwrap();
                    Ok::<_, Infallible>(Response::new(String::from("{}")))
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The JSON lines of an envelope: its header, then item headers and payloads.
fn items(envelope: &[u8]) -> Vec<serde_json::Value> {
    envelope
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

#[test]
fn the_real_transport_sends_the_event_of_a_server_error() {
    // The documented order: the client first, then the runtime.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let _guard = Init::new()
        .dsn(format!("http://public@127.0.0.1:{port}/7"))
        .environment("test")
        .init()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut envelopes) = mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio::spawn(receive(listener, sender));

        let app: Router = Router::new()
            .route(
                "/orders/{id}",
                get(|| async {
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE).detail("the order store is down")
                }),
            )
            .layer(SentryLayer::new());
        let mut request = Request::get("/orders/7")
            .header("host", "shop.example")
            .header("authorization", "Bearer secret")
            .header("cookie", "sid=secret")
            .header("x-forwarded-for", "203.0.113.9")
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(SentryUser::id("42"));
        // Served from a spawned task, as a server does.
        let response = tokio::spawn(app.oneshot(request)).await.unwrap().unwrap();
        assert_eq!(response.status(), 503);

        // Generous: it catches a hang, never a slow machine.
        let (path, envelope) = tokio::time::timeout(Duration::from_secs(60), envelopes.recv())
            .await
            .expect("no envelope within a minute")
            .unwrap();
        assert_eq!(path, "/api/7/envelope/");
        let items = items(&envelope);
        let at = items
            .iter()
            .position(|item| item["type"] == "event")
            .expect("an event item");
        let event = &items[at + 1];
        assert_eq!(event["transaction"], "GET /orders/{id}");
        assert_eq!(event["environment"], "test");
        assert_eq!(event["tags"]["http.route"], "/orders/{id}");
        assert_eq!(event["tags"]["http.response.status_code"], "503");
        assert_eq!(event["user"]["id"], "42");
        assert_eq!(
            event["exception"]["values"][0]["value"],
            "the order store is down"
        );
        let headers = &event["request"]["headers"];
        assert_eq!(headers["authorization"], "[Filtered]");
        assert_eq!(headers["cookie"], "[Filtered]");
        assert_eq!(headers["x-forwarded-for"], "[Filtered]");
        assert_eq!(headers["host"], "shop.example");
        let raw = String::from_utf8_lossy(&envelope);
        assert!(!raw.contains("secret"), "a secret left the process: {raw}");
    });
}
