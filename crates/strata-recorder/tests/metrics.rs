//! The Prometheus collectors.
#![cfg(feature = "prometheus")]
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use prometheus::Registry;
use strata_core::ConfigError;
use strata_recorder::{MemoryStore, RecorderLayer, RecorderMetrics, Retain};
use strata_testkit::body_bytes;
use tower::ServiceExt as _;

fn value(registry: &Registry, name: &str, label: Option<&str>) -> f64 {
    let families = registry.gather();
    let family = families
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("{name}"));
    family
        .get_metric()
        .iter()
        .find(|m| label.is_none_or(|l| m.get_label().iter().any(|p| p.value() == l)))
        .map(|m| {
            if family.get_field_type() == prometheus::proto::MetricType::GAUGE {
                m.get_gauge().get_value()
            } else {
                m.get_counter().get_value()
            }
        })
        .unwrap_or(0.0)
}

/// A `GET` of each URI through `app`, each body read to its end.
async fn get_each<S, B>(app: &S, uris: &[&str])
where
    S: tower::Service<Request<Body>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    for uri in uris {
        let response = app
            .clone()
            .oneshot(Request::get(*uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        body_bytes(response.into_body()).await;
    }
}

#[tokio::test]
async fn counts_recorded_kept_dropped_bytes_and_evictions() {
    let registry = Registry::new();
    let metrics = RecorderMetrics::register(&registry).unwrap();
    assert!(matches!(
        RecorderMetrics::register(&registry),
        Err(ConfigError::Registry(_))
    ));
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::none().status_class(5))
        .store(MemoryStore::new().max_count(2))
        .metrics(metrics)
        .pair()
        .unwrap();
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::BAD_GATEWAY, "x".repeat(1000)) }),
        )
        .layer(layer);
    get_each(&app, &["/ok", "/fail", "/fail", "/fail", "/ok"]).await;
    handle.flush().await;
    assert_eq!(
        value(&registry, "strata_recorder_exchanges_recorded_total", None),
        5.0
    );
    assert_eq!(
        value(&registry, "strata_recorder_exchanges_kept_total", None),
        3.0
    );
    assert_eq!(
        value(&registry, "strata_recorder_evictions_total", None),
        1.0
    );
    let bytes = value(&registry, "strata_recorder_stored_bytes", None);
    assert_eq!(bytes, handle.usage().await.unwrap().bytes as f64);
    assert!(bytes > 0.0);
    assert_eq!(
        value(
            &registry,
            "strata_recorder_exchanges_dropped_total",
            Some("queue_full")
        ),
        0.0
    );
    assert_eq!(
        value(&registry, "strata_recorder_exchanges_unrouted_total", None),
        0.0,
        "inside the router, every exchange has its route"
    );
}

#[tokio::test]
async fn counts_exchanges_recorded_without_their_route_but_not_not_found() {
    let registry = Registry::new();
    let metrics = RecorderMetrics::register(&registry).unwrap();
    let (layer, handle) = RecorderLayer::builder().metrics(metrics).pair().unwrap();
    let router = Router::new().route("/ok", get(|| async { "ok" }));
    // Around the router from outside: it has not matched yet.
    let app = tower::ServiceBuilder::new().layer(layer).service(router);
    get_each(&app, &["/ok", "/ok", "/missing"]).await;
    handle.flush().await;
    assert_eq!(
        value(&registry, "strata_recorder_exchanges_unrouted_total", None),
        2.0
    );
    assert_eq!(handle.stats().unrouted, 2);
    assert_eq!(handle.stats().recorded, 3);
}
