//! Prometheus collectors (feature `prometheus`).
#![cfg(feature = "prometheus")]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use prometheus::{Encoder, Registry, TextEncoder};
use strata_health::{BuildError, HealthLayer, Registration, Status, check_fn};
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
        .metrics(&registry)
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
fn registering_twice_in_one_registry_fails_at_build() {
    let registry = Registry::new();
    assert!(HealthLayer::builder().metrics(&registry).build().is_ok());
    let second = HealthLayer::builder().metrics(&registry).build();
    assert!(
        matches!(second, Err(BuildError::Metrics { .. })),
        "{second:?}"
    );
}
