//! What the layer captures, through an axum router.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use http::{Request, StatusCode};
use strata_core::ClientIp;
use strata_recorder::{Outcome, Query, RecordTags, RecorderHandle, RecorderLayer, Retain};
use strata_testkit::body_bytes;
use tower::ServiceExt as _;
use xxhash_rust::xxh3::xxh3_128;

fn app(layer: RecorderLayer) -> Router {
    Router::new()
        .route(
            "/items/{id}",
            post(|body: String| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mut response = axum::response::Response::new(Body::from(format!("got {body}")));
                response
                    .extensions_mut()
                    .insert(RecordTags::new().user("ada").session("s-1"));
                response
            }),
        )
        .route("/big", get(|| async { "x".repeat(100_000) }))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(layer)
}

fn all() -> (RecorderLayer, RecorderHandle) {
    RecorderLayer::builder()
        .retain(Retain::all())
        .pair()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn records_route_uri_status_headers_bodies_timings_client_and_tags() {
    let (layer, handle) = all();
    let mut request = Request::post("/items/7?x=1")
        .header("content-type", "text/plain")
        .header("x-trace", "abc")
        .body(Body::from("hello"))
        .unwrap();
    request
        .extensions_mut()
        .insert(ClientIp::from_peer(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9))));
    request
        .extensions_mut()
        .insert(RecordTags::new().trace_id("trace-1"));
    let response = app(layer).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_bytes(response.into_body()).await, "got hello");
    handle.flush().await;

    let page = handle.query(&Query::new()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let e = handle.get(&page.items[0].id).await.unwrap().unwrap();
    let s = &e.summary;
    assert_eq!(s.method, "POST");
    assert_eq!(s.route.as_deref(), Some("/items/{id}"));
    assert_eq!(s.uri, "/items/7?x=1");
    assert_eq!(s.status, Some(200));
    assert_eq!(s.client_ip.as_deref(), Some("192.0.2.9"));
    assert_eq!(s.user.as_deref(), Some("ada"));
    assert_eq!(s.session.as_deref(), Some("s-1"));
    assert_eq!(s.trace_id.as_deref(), Some("trace-1"));
    assert_eq!(s.outcome, Outcome::Complete);
    assert!(s.duration_us >= 300_000, "{}", s.duration_us);
    assert!(s.ttfb_us.unwrap() >= 300_000);
    assert!(
        e.request_headers
            .contains(&("x-trace".into(), "abc".into()))
    );
    assert_eq!(e.request_body.prefix, b"hello");
    assert_eq!(e.request_body.total_len, 5);
    assert_eq!(
        e.request_body.xxh3_128,
        format!("{:032x}", xxh3_128(b"hello"))
    );
    assert_eq!(e.response_body.prefix, b"got hello");
    assert!(!e.response_body.truncated);
}

#[tokio::test]
async fn keeps_a_capped_prefix_with_the_whole_length_and_hash() {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::all())
        .body_cap(1000)
        .pair()
        .unwrap();
    let response = app(layer)
        .oneshot(Request::get("/big").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(body_bytes(response.into_body()).await.len(), 100_000);
    handle.flush().await;
    let id = handle.query(&Query::new()).await.unwrap().items[0]
        .id
        .clone();
    let body = handle.get(&id).await.unwrap().unwrap().response_body;
    assert_eq!(body.prefix.len(), 1000);
    assert!(body.truncated);
    assert_eq!(body.total_len, 100_000);
    // Over every byte, not the prefix: a body streamed in frames hashes as
    // the whole.
    let whole = format!("{:032x}", xxh3_128("x".repeat(100_000).as_bytes()));
    assert_eq!(body.xxh3_128, whole);
    assert_ne!(
        whole,
        format!("{:032x}", xxh3_128("x".repeat(1000).as_bytes()))
    );
}

#[tokio::test]
async fn a_response_body_dropped_before_its_end_is_recorded_as_aborted() {
    let (layer, handle) = all();
    let response = app(layer)
        .oneshot(Request::get("/big").body(Body::empty()).unwrap())
        .await
        .unwrap();
    drop(response);
    handle.flush().await;
    let page = handle.query(&Query::new()).await.unwrap();
    assert_eq!(page.items[0].outcome, Outcome::Aborted);
    assert_eq!(handle.stats().kept, 1);
}

#[tokio::test]
async fn the_default_keeps_errors_and_drops_fast_successes() {
    let layer = RecorderLayer::new();
    let _ = layer;
    let (layer, handle) = RecorderLayer::builder().pair().unwrap();
    let app = app(layer);
    for uri in ["/big", "/fail", "/big"] {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        body_bytes(response.into_body()).await;
    }
    handle.flush().await;
    let page = handle.query(&Query::new()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, Some(500));
    let stats = handle.stats();
    assert_eq!((stats.recorded, stats.kept), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn the_default_keeps_slow_exchanges() {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::none().slower_than(Duration::from_millis(200)))
        .pair()
        .unwrap();
    let response = app(layer)
        .oneshot(Request::post("/items/1").body(Body::from("a")).unwrap())
        .await
        .unwrap();
    body_bytes(response.into_body()).await;
    handle.flush().await;
    assert_eq!(handle.query(&Query::new()).await.unwrap().items.len(), 1);
}

#[test]
fn builds_outside_a_runtime_and_stores_once_one_runs() {
    let (layer, handle) = all();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let response = app(layer)
            .oneshot(Request::get("/fail").body(Body::empty()).unwrap())
            .await
            .unwrap();
        body_bytes(response.into_body()).await;
        handle.flush().await;
        assert_eq!(handle.query(&Query::new()).await.unwrap().items.len(), 1);
    });
}

#[tokio::test]
async fn bad_settings_fail_at_build_naming_the_setting() {
    use strata_core::ConfigError;
    let cases = [
        (RecorderLayer::builder().body_cap(2 << 20), "body_cap"),
        (RecorderLayer::builder().queue_capacity(0), "queue_capacity"),
        (
            RecorderLayer::builder().redaction_key(b"short"),
            "redaction_key",
        ),
        (
            RecorderLayer::builder().redact_header("bad header"),
            "redact_header",
        ),
        (
            RecorderLayer::builder().retain(Retain::none().sample(1.5)),
            "retain",
        ),
        (
            RecorderLayer::builder().retain(Retain::none().status_class(7)),
            "retain",
        ),
        (
            RecorderLayer::builder().store_timeout(Duration::ZERO),
            "store_timeout",
        ),
    ];
    for (builder, name) in cases {
        match builder.build() {
            Err(ConfigError::Invalid { setting, .. }) => assert_eq!(setting, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn only_paths_under_a_prefix_are_recorded() {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::all())
        .path_prefix("/items")
        .pair()
        .unwrap();
    let app = app(layer);
    for request in [
        Request::get("/big").body(Body::empty()).unwrap(),
        Request::post("/items/3").body(Body::from("a")).unwrap(),
    ] {
        let response = app.clone().oneshot(request).await.unwrap();
        body_bytes(response.into_body()).await;
    }
    handle.flush().await;
    let page = handle.query(&Query::new()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].uri, "/items/3");
    assert_eq!(handle.stats().recorded, 1);
}
