//! The shape of `application/health+json` documents.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use strata_health::checks::TcpCheck;
use strata_health::{HealthLayer, Observation, Registration, Status, check_fn};
use strata_testkit::{body_string, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn detailed(layer: HealthLayer) -> (StatusCode, Value) {
    let response = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::default()))
        })
        .oneshot(get("/health/detailed"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = body_string(response.into_body()).await;
    (status, serde_json::from_str(&body).expect("json"))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_rfc3339_millis(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[tokio::test]
async fn detailed_report_follows_the_health_check_draft() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr").to_string();
    let layer = HealthLayer::builder()
        .refresh_every(None)
        .version("2")
        .release_id("2.0.1")
        .service_id("7f3c")
        .description("catalog")
        .environment("staging")
        .check("upstream", TcpCheck::new(address))
        .register(
            Registration::new(
                "queue",
                check_fn(|| async { Observation::warn("backlog").observed(1200, "messages") }),
            )
            .measurement("depth")
            .component_type("component"),
        )
        .register(
            Registration::new("mailer", check_fn(|| async { Err::<(), _>("refused") }))
                .measurement("")
                .critical(false),
        )
        .build()
        .expect("valid");
    let (code, json) = detailed(layer).await;
    assert_eq!(code, StatusCode::OK);

    let top = json.as_object().expect("object");
    assert_eq!(json["status"], "warn");
    assert_eq!(json["version"], "2");
    assert_eq!(json["releaseId"], "2.0.1");
    assert_eq!(json["serviceId"], "7f3c");
    assert_eq!(json["description"], "catalog");
    for key in top.keys() {
        assert!(
            [
                "status",
                "version",
                "releaseId",
                "serviceId",
                "description",
                "checks",
                "system"
            ]
            .contains(&key.as_str()),
            "unexpected member {key}"
        );
    }

    let checks = json["checks"].as_object().expect("checks object");
    let keys: Vec<&str> = checks.keys().map(String::as_str).collect();
    // (serde_json sorts keys when parsing.)
    assert_eq!(keys, ["mailer", "queue:depth", "upstream:responseTime"]);
    for (key, entries) in checks {
        let entries = entries.as_array().expect("each key holds an array");
        assert_eq!(entries.len(), 1, "{key}");
        let entry = entries[0].as_object().expect("entry object");
        let status: Status = serde_json::from_value(entry["status"].clone()).expect("status");
        assert!(
            is_rfc3339_millis(entry["time"].as_str().expect("time")),
            "{key}: {entry:?}"
        );
        for member in entry.keys() {
            assert!(
                [
                    "componentType",
                    "observedValue",
                    "observedUnit",
                    "status",
                    "time",
                    "output"
                ]
                .contains(&member.as_str()),
                "{key}: unexpected member {member}"
            );
        }
        assert_eq!(
            entry.contains_key("output"),
            status != Status::Pass,
            "{key}"
        );
    }

    let upstream = &checks["upstream:responseTime"][0];
    assert_eq!(upstream["componentType"], "component");
    assert_eq!(upstream["observedUnit"], "ms");
    assert!(upstream["observedValue"].as_f64().expect("number") >= 0.0);
    assert_eq!(upstream["status"], "pass");

    let queue = &checks["queue:depth"][0];
    assert_eq!(queue["observedValue"], 1200);
    assert_eq!(queue["observedUnit"], "messages");
    assert_eq!(queue["status"], "warn");
    assert_eq!(queue["output"], "backlog");

    let mailer = &checks["mailer"][0];
    assert_eq!(mailer["status"], "fail");
    assert_eq!(mailer["output"], "refused");
    assert!(mailer.get("componentType").is_none());

    let system = &json["system"];
    assert!(system["uptimeSeconds"].is_u64(), "{system}");
    assert_eq!(system["version"], "2");
    assert_eq!(system["environment"], "staging");
    if cfg!(feature = "system") {
        let memory = &system["memory"];
        assert!(
            memory["totalBytes"].as_u64().expect("total") > 0,
            "{system}"
        );
        assert!(memory["usedBytes"].as_u64().expect("used") > 0, "{system}");
        let usage = memory["usagePercent"].as_f64().expect("percent");
        assert!((0.0..=100.0).contains(&usage), "{system}");
        assert!(
            system["cpu"]["cores"].as_u64().expect("cores") >= 1,
            "{system}"
        );
        let cpu = system["cpu"]["usagePercent"].as_f64().expect("cpu percent");
        assert!((0.0..=100.0).contains(&cpu), "{system}");
        assert_eq!(system["disk"]["path"], "/");
        assert!(
            system["disk"]["totalBytes"].as_u64().expect("disk") > 0,
            "{system}"
        );
    }
}

#[tokio::test]
async fn summary_and_readiness_carry_no_checks() {
    for uri in ["/health", "/health/ready", "/health/live"] {
        let layer = HealthLayer::builder()
            .refresh_every(None)
            .check("db", check_fn(|| async { Status::Fail }))
            .build()
            .expect("valid");
        let response = ServiceBuilder::new()
            .layer(layer)
            .service_fn(|_: Request<Body>| async {
                Ok::<_, Infallible>(Response::new(Body::default()))
            })
            .oneshot(get(uri))
            .await
            .expect("infallible");
        let json: Value =
            serde_json::from_str(&body_string(response.into_body()).await).expect("json");
        let keys: Vec<&String> = json.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["status"], "{uri}: {json}");
    }
}
