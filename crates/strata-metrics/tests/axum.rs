//! The layer and the exporter inside an axum `Router`.
#![cfg(feature = "axum")]

use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use http::StatusCode;
use strata_core::guard::{AccessGuard, GuardRule};
use strata_core::{ClientIpResolver, ConfigError, ResolveClientIpLayer};
use strata_metrics::{ExporterRejection, MetricsExporter, MetricsHandle, MetricsLayer};
use strata_testkit::{body_string, from_peer, get as get_request};
use tower::ServiceExt;

fn app(exporter: impl FnOnce(MetricsExporter) -> MetricsExporter) -> (Router, MetricsHandle) {
    let (layer, handle) = MetricsLayer::builder().pair().expect("the layer builds");
    let users = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route("/users", post(|| async { StatusCode::CREATED }));
    let app = Router::new()
        .nest("/api/v1", users)
        .route("/", get(|| async { "home" }))
        .route_service("/metrics", exporter(handle.exporter()))
        .layer(layer);
    (app, handle)
}

async fn call(
    app: &Router,
    request: http::Request<http_body_util::Full<bytes::Bytes>>,
) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    (status, body_string(response.into_body()).await)
}

fn allow(list: &str) -> AccessGuard {
    AccessGuard::builder()
        .allow_ips(list.parse().expect("valid list"))
        .build()
        .expect("valid guard")
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn nested_routes_are_labelled_by_their_full_template() {
    let (app, handle) = app(|e| e);
    for id in ["1", "2", "999"] {
        assert_eq!(
            call(&app, get_request(&format!("/api/v1/users/{id}")))
                .await
                .0,
            200
        );
    }
    let text = handle.render();
    let series = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/api/v1/users/{id}",url_scheme="http"}"#;
    assert_eq!(sample(&text, series), Some(3.0), "{text}");
    assert!(!text.contains("/users/999"));
}

#[tokio::test]
async fn the_fallback_collapses_unknown_paths() {
    let (app, handle) = app(|e| e);
    for path in ["/nope", "/api/v1/users/1/x", "/.git/config"] {
        assert_eq!(call(&app, get_request(path)).await.0, 404);
    }
    let text = handle.render();
    let series = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, series), Some(3.0), "{text}");
    assert!(!text.contains(".git"));
}

#[tokio::test]
async fn metrics_are_served_with_the_text_content_type() {
    let (app, _handle) = app(|e| e);
    call(&app, get_request("/")).await;
    let response = app
        .clone()
        .oneshot(get_request("/metrics"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = body_string(response.into_body()).await;
    assert!(text.contains(r#"http_route="/""#), "{text}");
    // The scrape itself is in flight while the text is rendered.
    assert!(
        text.contains(
            r#"http_server_active_requests{http_request_method="GET",url_scheme="http"} 1"#
        ),
        "{text}"
    );

    let head = http::Request::head("/metrics")
        .body(http_body_util::Full::default())
        .expect("valid");
    let (status, body) = call(&app, head).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    let (status, body) = call(
        &app,
        strata_testkit::request(http::Method::POST, "/metrics", ""),
    )
    .await;
    assert_eq!(status, 405);
    assert!(body.contains("\"status\":405"));
}

#[tokio::test]
async fn the_ip_allow_list_refuses_other_clients() {
    let (app, _handle) = app(|e| e.guard(allow("10.0.0.0/8")));
    let inside = from_peer(get_request("/metrics"), ([10, 1, 2, 3], 4000));
    assert_eq!(call(&app, inside).await.0, 200);
    let outside = from_peer(get_request("/metrics"), ([192, 0, 2, 1], 4000));
    let response = app.clone().oneshot(outside).await.expect("infallible");
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.extensions().get::<ExporterRejection>(),
        Some(&ExporterRejection::AddressNotAllowed)
    );
    let body = body_string(response.into_body()).await;
    assert!(body.contains("\"status\":403"), "{body}");
    // No peer address at all: refused, not served.
    assert_eq!(call(&app, get_request("/metrics")).await.0, 403);
}

#[tokio::test]
async fn the_allow_list_believes_the_client_ip_layer() {
    let (layer, handle) = MetricsLayer::builder().pair().expect("builds");
    let resolver = ClientIpResolver::new().trusted_proxies("127.0.0.1".parse().expect("valid"));
    let app = Router::new()
        .route_service("/metrics", handle.exporter().guard(allow("203.0.113.0/24")))
        .layer(layer)
        .layer(ResolveClientIpLayer::new(resolver));
    let proxied = |client: &str| {
        let mut request = get_request("/metrics");
        request
            .headers_mut()
            .insert("x-forwarded-for", client.parse().expect("valid"));
        from_peer(request, SocketAddr::from(([127, 0, 0, 1], 9000)))
    };
    assert_eq!(call(&app, proxied("203.0.113.9")).await.0, 200);
    assert_eq!(call(&app, proxied("198.51.100.9")).await.0, 403);
}

#[tokio::test]
async fn the_allow_list_reads_axum_connect_info() {
    use axum::extract::connect_info::MockConnectInfo;
    let (layer, handle) = MetricsLayer::builder().pair().expect("builds");
    let exporter = handle.exporter().guard(allow("127.0.0.1"));
    let app_from = |peer: [u8; 4]| {
        Router::new()
            .route_service("/metrics", exporter.clone())
            .layer(layer.clone())
            .layer(MockConnectInfo(SocketAddr::from((peer, 5000))))
    };
    assert_eq!(
        call(&app_from([127, 0, 0, 1]), get_request("/metrics"))
            .await
            .0,
        200
    );
    assert_eq!(
        call(&app_from([192, 0, 2, 1]), get_request("/metrics"))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn the_bearer_token_is_required() {
    let guard = AccessGuard::builder()
        .bearer_token("t0ken")
        .build()
        .expect("valid guard");
    let (app, _handle) = app(|e| e.guard(guard));
    let response = app
        .clone()
        .oneshot(get_request("/metrics"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        response.extensions().get::<ExporterRejection>(),
        Some(&ExporterRejection::MissingToken)
    );
    let with = |value: &str| {
        let mut request = get_request("/metrics");
        request
            .headers_mut()
            .insert("authorization", value.parse().expect("valid"));
        request
    };
    assert_eq!(call(&app, with("Bearer t0ken")).await.0, 200);
    assert_eq!(call(&app, with("bearer t0ken")).await.0, 200);
    assert_eq!(call(&app, with("Bearer t0ke")).await.0, 401);
    assert_eq!(call(&app, with("Bearer t0kenX")).await.0, 401);
    assert_eq!(call(&app, with("Basic dDBrZW4=")).await.0, 401);
}

#[test]
fn an_invalid_bearer_token_is_refused_when_the_guard_is_built() {
    for token in ["", "two words"] {
        let result = AccessGuard::builder().bearer_token(token).build();
        assert!(
            matches!(
                result,
                Err(ConfigError::Invalid {
                    setting: "bearer_token",
                    ..
                })
            ),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn with_both_checks_a_request_must_pass_both_unless_any_is_chosen() {
    let guard = |rule| {
        AccessGuard::builder()
            .allow_ips("10.0.0.0/8".parse().expect("valid"))
            .bearer_token("t0ken")
            .rule(rule)
            .build()
            .expect("valid guard")
    };
    let request = |peer: [u8; 4], token: bool| {
        let mut request = from_peer(get_request("/metrics"), (peer, 4000));
        if token {
            request
                .headers_mut()
                .insert("authorization", "Bearer t0ken".parse().expect("valid"));
        }
        request
    };
    let (all, _handle) = app(|e| e.guard(guard(GuardRule::All)));
    assert_eq!(call(&all, request([10, 0, 0, 1], true)).await.0, 200);
    assert_eq!(call(&all, request([10, 0, 0, 1], false)).await.0, 401);
    assert_eq!(call(&all, request([192, 0, 2, 1], true)).await.0, 403);
    let (any, _handle) = app(|e| e.guard(guard(GuardRule::Any)));
    assert_eq!(call(&any, request([10, 0, 0, 1], false)).await.0, 200);
    assert_eq!(call(&any, request([192, 0, 2, 1], true)).await.0, 200);
    assert_eq!(call(&any, request([192, 0, 2, 1], false)).await.0, 401);
}

#[tokio::test]
async fn build_info_is_exposed() {
    let (_layer, handle) = MetricsLayer::builder()
        .build_info("2.0.1", "0123abc")
        .pair()
        .expect("builds");
    assert_eq!(
        sample(
            &handle.render(),
            r#"build_info{commit="0123abc",version="2.0.1"}"#
        ),
        Some(1.0)
    );
}

#[cfg(all(feature = "process", target_os = "linux"))]
#[tokio::test]
async fn process_metrics_are_opt_in() {
    let (_layer, plain) = MetricsLayer::builder().pair().expect("builds");
    assert!(!plain.render().contains("process_resident_memory_bytes"));
    let (_layer, handle) = MetricsLayer::builder()
        .process_metrics()
        .pair()
        .expect("builds");
    let text = handle.render();
    assert!(
        sample(&text, "process_resident_memory_bytes").is_some_and(|v| v > 0.0),
        "{text}"
    );
    assert!(text.contains("process_cpu_seconds_total"));
}
