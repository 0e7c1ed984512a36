//! Prometheus collectors (feature `prometheus`).
#![cfg(feature = "prometheus")]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use prometheus::{Encoder, Registry, TextEncoder};
use strata_core::ConfigError;
use strata_health::{HealthLayer, HealthMetrics, Registration, Status, check_fn};
use strata_testkit::get;
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

fn exposition(registry: &Registry) -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .expect("encode");
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test]
async fn records_a_status_gauge_and_a_duration_histogram_per_check() {
    let registry = Registry::new();
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .metrics(HealthMetrics::register(&registry).expect("registers"))
        .check("db", check_fn(|| async { Status::Pass }))
        .register(Registration::new("cache", check_fn(|| async { Status::Fail })).critical(false))
        .build()
        .expect("valid");
    let before = exposition(&registry);
    assert!(
        before.contains(r#"strata_health_check_status{check="db:responseTime",status="pass"} 0"#),
        "{before}"
    );

    ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::default()))
        })
        .oneshot(get("/health"))
        .await
        .expect("infallible");
    let text = exposition(&registry);
    for line in [
        r#"strata_health_check_status{check="db:responseTime",status="pass"} 1"#,
        r#"strata_health_check_status{check="db:responseTime",status="fail"} 0"#,
        r#"strata_health_check_status{check="cache:responseTime",status="fail"} 1"#,
        r#"strata_health_check_status{check="cache:responseTime",status="pass"} 0"#,
        r#"strata_health_check_duration_seconds_count{check="db:responseTime"} 1"#,
        r#"strata_health_check_duration_seconds_count{check="cache:responseTime"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[test]
fn registering_twice_in_one_registry_fails_and_keeps_the_first() {
    let registry = Registry::new();
    let metrics = HealthMetrics::register(&registry).expect("registers");
    HealthLayer::builder()
        .check("db", check_fn(|| async { Status::Pass }))
        .metrics(metrics)
        .build()
        .expect("valid");
    let families = registry.gather().len();
    assert_eq!(families, 2);
    let second = HealthMetrics::register(&registry);
    assert!(
        matches!(second, Err(ConfigError::Registry(_))),
        "{second:?}"
    );
    assert_eq!(registry.gather().len(), families);
}

#[test]
fn a_clash_on_the_second_collector_leaves_nothing_behind() {
    let registry = Registry::new();
    let taken =
        prometheus::IntGauge::new("strata_health_check_duration_seconds", "Someone else's.")
            .expect("valid");
    registry.register(Box::new(taken)).expect("registers");
    let result = HealthMetrics::register(&registry);
    assert!(
        matches!(result, Err(ConfigError::Registry(_))),
        "{result:?}"
    );
    let names: Vec<String> = registry
        .gather()
        .iter()
        .map(|family| family.name().to_owned())
        .collect();
    assert_eq!(names, ["strata_health_check_duration_seconds"]);
}

#[tokio::test]
async fn one_metrics_set_serves_several_layers() {
    let registry = Registry::new();
    let metrics = HealthMetrics::register(&registry).expect("registers");
    let layer = |component: &'static str| {
        HealthLayer::builder()
            .refresh_every(None)
            .check(component, check_fn(|| async { Status::Pass }))
            .metrics(metrics.clone())
            .build()
            .expect("valid")
    };
    for layer in [layer("public"), layer("admin")] {
        ServiceBuilder::new()
            .layer(layer)
            .service_fn(|_: Request<Body>| async {
                Ok::<_, Infallible>(Response::new(Body::default()))
            })
            .oneshot(get("/health"))
            .await
            .expect("infallible");
    }
    let text = exposition(&registry);
    for line in [
        r#"strata_health_check_status{check="public:responseTime",status="pass"} 1"#,
        r#"strata_health_check_status{check="admin:responseTime",status="pass"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}
