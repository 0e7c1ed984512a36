//! The endpoints, aggregation, drain and configuration, through the public API.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use strata_core::ConfigError;
use strata_health::{
    Endpoint, HEALTH_JSON, HealthBuilder, HealthLayer, Observation, Registration, ShowDetails,
    Status, check_fn,
};
use strata_testkit::{body_string, get, request};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn app(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::from("app")))
}

fn service(
    layer: HealthLayer,
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone {
    ServiceBuilder::new().layer(layer).service_fn(app)
}

/// A check that always reports `status`.
fn fixed(status: Status) -> impl strata_health::Check {
    check_fn(move || async move { Observation::new(status).output(status.as_str()) })
}

/// A check counting its runs.
fn counting(runs: &Arc<AtomicUsize>) -> impl strata_health::Check {
    let runs = Arc::clone(runs);
    check_fn(move || {
        runs.fetch_add(1, Ordering::SeqCst);
        async {}
    })
}

fn quiet() -> HealthBuilder {
    HealthLayer::builder().refresh_every(None)
}

async fn send<S>(service: &S, request: Request<Body>) -> (StatusCode, http::HeaderMap, String)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let response = service.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body_string(body).await)
}

async fn probe<S>(service: &S, uri: &str) -> (StatusCode, Value)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let (status, headers, body) = send(service, get(uri)).await;
    assert_eq!(headers["content-type"], HEALTH_JSON, "{uri}");
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}: {body}"));
    (status, json)
}

#[tokio::test]
async fn summary_answers_health_json_with_service_fields_and_no_store() {
    let layer = quiet()
        .version("1")
        .release_id("1.4.2")
        .service_id("orders")
        .description("order service")
        .check("db", fixed(Status::Pass))
        .build()
        .expect("valid");
    let (status, headers, body) = send(&service(layer), get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/health+json");
    assert_eq!(headers["cache-control"], "no-store");
    let json: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "status": "pass",
            "version": "1",
            "releaseId": "1.4.2",
            "serviceId": "orders",
            "description": "order service",
        })
    );
}

#[tokio::test]
async fn aggregation_follows_worst_status_and_criticality() {
    use Status::{Fail, Pass, Warn};
    /// Checks as (status, critical), then the summary and readiness statuses.
    type Row = (&'static [(Status, bool)], Status, Status);
    let table: &[Row] = &[
        (&[], Pass, Pass),
        (&[(Pass, true)], Pass, Pass),
        (&[(Pass, true), (Warn, true)], Warn, Warn),
        (&[(Pass, true), (Fail, true)], Fail, Fail),
        (&[(Warn, true), (Fail, true)], Fail, Fail),
        (&[(Pass, true), (Fail, false)], Warn, Pass),
        (&[(Pass, true), (Warn, false)], Warn, Pass),
        (&[(Fail, false), (Fail, false)], Warn, Pass),
        (&[(Warn, true), (Fail, false)], Warn, Warn),
        (&[(Fail, true), (Pass, false)], Fail, Fail),
    ];
    for (checks, summary, ready) in table {
        let mut builder = quiet();
        for (i, (status, critical)) in checks.iter().enumerate() {
            builder = builder
                .register(Registration::new(format!("c{i}"), fixed(*status)).critical(*critical));
        }
        let service = service(builder.build().expect("valid"));
        let (code, json) = probe(&service, "/health").await;
        assert_eq!(json["status"], summary.as_str(), "summary of {checks:?}");
        assert_eq!(code, summary.http_status(), "summary code of {checks:?}");
        let (code, json) = probe(&service, "/health/ready").await;
        assert_eq!(json["status"], ready.as_str(), "readiness of {checks:?}");
        assert_eq!(code, ready.http_status(), "readiness code of {checks:?}");
        let (code, json) = probe(&service, "/health/live").await;
        assert_eq!(
            (code, &json["status"]),
            (StatusCode::OK, &Value::from("pass"))
        );
    }
}

#[tokio::test]
async fn failing_check_answers_503_with_its_output_in_detailed() {
    let layer = quiet()
        .check("db", fixed(Status::Fail))
        .register(Registration::new("cache", fixed(Status::Fail)).critical(false))
        .build()
        .expect("valid");
    let service = service(layer);
    let (code, json) = probe(&service, "/health/detailed").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json["status"], "fail");
    assert_eq!(json["checks"]["db:responseTime"][0]["status"], "fail");
    assert_eq!(json["checks"]["db:responseTime"][0]["output"], "fail");
    // A non-critical check keeps its own status in its entry.
    assert_eq!(json["checks"]["cache:responseTime"][0]["status"], "fail");
}

#[tokio::test]
async fn liveness_never_runs_a_check() {
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = quiet()
        .check("db", counting(&runs))
        .check("down", fixed(Status::Fail))
        .build()
        .expect("valid");
    let service = service(layer);
    for _ in 0..3 {
        let (code, json) = probe(&service, "/health/live").await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(json["status"], "pass");
        assert!(json.get("checks").is_none());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn readiness_runs_only_critical_checks() {
    let critical = Arc::new(AtomicUsize::new(0));
    let optional = Arc::new(AtomicUsize::new(0));
    let layer = quiet()
        .check("db", counting(&critical))
        .register(Registration::new("cache", counting(&optional)).critical(false))
        .build()
        .expect("valid");
    let (code, _) = probe(&service(layer), "/health/ready").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(critical.load(Ordering::SeqCst), 1);
    assert_eq!(optional.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn drain_flips_readiness_to_fail_and_resume_restores_it() {
    let (layer, drain) = quiet()
        .check("db", fixed(Status::Pass))
        .pair()
        .expect("valid");
    let service = service(layer);
    assert_eq!(probe(&service, "/health/ready").await.0, StatusCode::OK);

    drain.clone().drain();
    assert!(drain.is_draining());
    let (code, json) = probe(&service, "/health/ready").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json["status"], "fail");
    assert_eq!(json["output"], "draining");
    // Liveness and the summary are about the process and its checks.
    assert_eq!(probe(&service, "/health/live").await.0, StatusCode::OK);
    assert_eq!(probe(&service, "/health").await.0, StatusCode::OK);

    drain.resume();
    let (code, json) = probe(&service, "/health/ready").await;
    assert_eq!(code, StatusCode::OK);
    assert!(json.get("output").is_none());
}

#[tokio::test]
async fn drain_handle_from_the_layer_shares_the_flag() {
    let layer = quiet().build().expect("valid");
    let service = service(layer.clone());
    layer.drain_handle().drain();
    assert_eq!(
        probe(&service, "/health/ready").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn other_requests_reach_the_inner_service() {
    let service = service(quiet().build().expect("valid"));
    for uri in ["/", "/healthy", "/health/other", "/api/health"] {
        let (code, _, body) = send(&service, get(uri)).await;
        assert_eq!((code, body.as_str()), (StatusCode::OK, "app"), "{uri}");
    }
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let service = service(quiet().build().expect("valid"));
    let (code, headers, body) = send(&service, request(Method::POST, "/health", "x")).await;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, HEAD");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(body.contains("\"status\":405"), "{body}");
}

#[tokio::test]
async fn head_answers_the_status_without_a_body() {
    let layer = quiet()
        .check("db", fixed(Status::Fail))
        .build()
        .expect("valid");
    let (code, headers, body) = send(&service(layer), request(Method::HEAD, "/health", "")).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], HEALTH_JSON);
    assert_eq!(body, "");
}

#[tokio::test]
async fn paths_are_configurable_and_aliases_available() {
    let layer = quiet()
        .base_path("/_status")
        .aliases()
        .check("db", fixed(Status::Fail))
        .build()
        .expect("valid");
    let service = service(layer);
    assert_eq!(probe(&service, "/_status/live").await.0, StatusCode::OK);
    assert_eq!(probe(&service, "/livez").await.0, StatusCode::OK);
    assert_eq!(
        probe(&service, "/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        probe(&service, "/healthz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (_, checks) = probe(&service, "/_status/detailed").await;
    assert!(checks["checks"]["db:responseTime"].is_array());
    // The old paths are no longer served.
    assert_eq!(send(&service, get("/health")).await.2, "app");
}

#[tokio::test]
async fn groups_run_the_checks_with_their_tags() {
    let db = Arc::new(AtomicUsize::new(0));
    let search = Arc::new(AtomicUsize::new(0));
    let layer = quiet()
        .register(Registration::new("db", counting(&db)).tags(["storage"]))
        .register(Registration::new("search", counting(&search)).tag("external"))
        .register(Registration::new("queue", fixed(Status::Warn)).tags(["storage", "queue"]))
        .group("storage", ["storage"])
        .route("/health/storage", Endpoint::group("storage"))
        .build()
        .expect("valid");
    let (code, json) = probe(&service(layer), "/health/storage").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(json["status"], "warn");
    let keys: Vec<&String> = json["checks"].as_object().expect("checks").keys().collect();
    assert_eq!(keys, ["db:responseTime", "queue:responseTime"]);
    assert_eq!(db.load(Ordering::SeqCst), 1);
    assert_eq!(search.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn details_can_be_hidden_or_shown_on_condition() {
    let hidden = quiet()
        .check("db", fixed(Status::Fail))
        .show_details(ShowDetails::Never)
        .build()
        .expect("valid");
    let (code, json) = probe(&service(hidden), "/health/detailed").await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json, serde_json::json!({ "status": "fail" }));

    let token = quiet()
        .check("db", fixed(Status::Fail))
        .show_details_when(|parts| {
            parts
                .headers
                .get("x-health-token")
                .is_some_and(|t| t == "s3cret")
        })
        .build()
        .expect("valid");
    let service = service(token);
    let (_, json) = probe(&service, "/health/detailed").await;
    assert!(json.get("checks").is_none(), "{json}");
    assert!(json.get("system").is_none(), "{json}");
    let request = Request::get("/health/detailed")
        .header("x-health-token", "s3cret")
        .body(Body::default())
        .expect("request");
    let (_, _, body) = send(&service, request).await;
    let json: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["checks"]["db:responseTime"][0]["output"], "fail");
}

#[tokio::test]
async fn a_panicking_check_fails_without_breaking_the_probe() {
    let layer = quiet()
        .check(
            "bug",
            check_fn(|| async {
                if true {
                    panic!("bug in a check");
                }
            }),
        )
        .build()
        .expect("valid");
    let service = service(layer);
    for _ in 0..2 {
        let (code, json) = probe(&service, "/health/detailed").await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            json["checks"]["bug:responseTime"][0]["output"],
            "the check panicked"
        );
    }
}

/// The setting `builder` is refused for.
fn refused(builder: HealthBuilder) -> &'static str {
    match builder.build() {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

#[test]
fn invalid_configuration_fails_at_build_by_setting() {
    let duplicate = HealthLayer::builder()
        .check("db", fixed(Status::Pass))
        .check("db", fixed(Status::Pass))
        .build();
    assert!(
        matches!(&duplicate, Err(ConfigError::Duplicate { what: "check", name }) if name == "db:responseTime"),
        "{duplicate:?}"
    );
    let b = HealthLayer::builder;
    assert_eq!(refused(b().timeout(Duration::ZERO)), "timeout");
    assert_eq!(
        refused(b().register(Registration::new("db", fixed(Status::Pass)).timeout(Duration::ZERO))),
        "Registration::timeout"
    );
    assert_eq!(
        refused(b().refresh_every(Some(Duration::ZERO))),
        "refresh_every"
    );
    assert_eq!(refused(b().route("health", Endpoint::Live)), "route");
    assert_eq!(refused(b().base_path("health")), "base_path");
    assert_eq!(
        refused(b().route("/health/db", Endpoint::group("db"))),
        "route"
    );
    // The first problem is reported.
    assert_eq!(
        refused(
            b().refresh_every(Some(Duration::ZERO))
                .timeout(Duration::ZERO)
        ),
        "timeout"
    );
    // Built outside a runtime: valid, the background refresh waits for a probe.
    let valid = b().check("db", fixed(Status::Pass)).build();
    assert!(valid.is_ok(), "{valid:?}");
}

#[test]
fn the_inner_service_is_reachable() {
    let layer = quiet().build().expect("valid");
    let mut service = layer.layer(7_u8);
    assert_eq!(*service.get_ref(), 7);
    *service.get_mut() = 8;
    assert_eq!(service.into_inner(), 8);
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn a_finished_response_future_panics_when_polled_again() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let layer = quiet().build().expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(app);
    let mut future = std::pin::pin!(Service::call(&mut service, get("/health/live")));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
    let _ = future.as_mut().poll(&mut cx);
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn a_finished_inner_response_future_panics_when_polled_again() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let layer = quiet().build().expect("valid");
    let inner = tower::service_fn(|_: Request<Body>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(Body::default())))
    });
    let mut service = layer.layer(inner);
    let mut future = std::pin::pin!(Service::call(&mut service, get("/app")));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
    let _ = future.as_mut().poll(&mut cx);
}

#[tokio::test]
async fn a_removed_route_reaches_the_inner_service() {
    let service = service(
        quiet()
            .remove_route("/health/detailed")
            .build()
            .expect("valid"),
    );
    assert_eq!(send(&service, get("/health/detailed")).await.2, "app");
    assert_eq!(probe(&service, "/health").await.0, StatusCode::OK);
}

#[test]
fn layer_service_and_future_are_shareable_across_threads() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync_clone::<HealthLayer>();
    assert_send_sync_clone::<strata_health::Drain>();
    assert_send_sync_clone::<
        strata_health::Health<
            tower::util::BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>,
        >,
    >();
    assert_send::<
        strata_health::ResponseFuture<std::future::Ready<Result<Response<Body>, Infallible>>>,
    >();
}
