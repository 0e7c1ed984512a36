//! The CSP report collector's logs, per-client rate limit and body limit
//! behind other layers.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::Value;
use strata_core::{ClientIpResolver, ConfigError, ResolveClientIpLayer};
use strata_security_headers::{CspReportCollector, ReportRejection};
use strata_testkit::{body_string, from_peer, request};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::limit::RequestBodyLimitLayer;

fn post(content_type: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let mut request = request(Method::POST, "/csp-report", body);
    request
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type.parse().expect("valid"));
    request
}

fn legacy(document_uri: &str) -> String {
    let report = serde_json::json!({"csp-report": {
        "document-uri": document_uri,
        "violated-directive": "script-src-elem",
        "blocked-uri": "inline",
    }});
    report.to_string()
}

fn from(ip: [u8; 4], request: Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    from_peer(request, SocketAddr::from((ip, 4000)))
}

/// Runs `collector` on `request` with a text log subscriber; returns the
/// status and the log output.
async fn logged(
    collector: CspReportCollector,
    request: Request<Full<Bytes>>,
) -> (StatusCode, String) {
    let (buffer, _guard) = strata_testkit::logs::capture(tracing::Level::INFO);
    let response = collector.oneshot(request).await.expect("infallible");
    (response.status(), buffer.text())
}

#[tokio::test]
async fn control_characters_in_a_report_are_logged_escaped() {
    let uri = "https://example.com/\n2024-01-01T00:00:00Z  WARN forged: admin logged in \x1b[2J";
    let (status, logs) = logged(
        CspReportCollector::new(),
        post("application/csp-report", legacy(uri)),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(logs.lines().count(), 1, "one line, no forged one:\n{logs}");
    assert!(!logs.contains('\x1b'), "raw ESC in {logs:?}");
    assert!(
        logs.contains(
            r"https://example.com/\n2024-01-01T00:00:00Z  WARN forged: admin logged in \u{1b}[2J"
        ),
        "{logs}"
    );
}

#[tokio::test]
async fn a_batch_is_logged_as_one_event_with_a_count() {
    let entry = |i: usize| {
        serde_json::json!({"type": "csp-violation", "body": {
            "documentURL": format!("https://example.com/{i}\r\nforged"),
            "blockedURL": "eval",
            "effectiveDirective": "script-src",
            "disposition": "enforce",
        }})
    };
    let batch = Value::Array((0..100).map(entry).collect()).to_string();
    assert!(batch.len() < 64 * 1024);
    let (status, logs) = logged(
        CspReportCollector::new(),
        post("application/reports+json", batch),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(logs.lines().count(), 1, "{logs}");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("count=100"), "{logs}");
    assert!(logs.contains(r"https://example.com/0\r\nforged"), "{logs}");
    assert!(logs.contains("and 97 more"), "{logs}");
    assert!(
        !logs.contains("example.com/3"),
        "only three samples: {logs}"
    );
}

async fn status(service: &mut CspReportCollector, request: Request<Full<Bytes>>) -> StatusCode {
    let response: Response<Full<Bytes>> = ServiceExt::<Request<Full<Bytes>>>::ready(service)
        .await
        .expect("infallible")
        .call(request)
        .await
        .expect("infallible");
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        assert_eq!(
            response.extensions().get::<ReportRejection>(),
            Some(&ReportRejection::RateLimited)
        );
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }
    response.status()
}

#[tokio::test(start_paused = true)]
async fn one_client_over_its_budget_does_not_block_another() {
    let mut collector = CspReportCollector::builder()
        .rate_limit(2, Duration::from_secs(60))
        .build()
        .expect("valid");
    let report = || post("application/csp-report", legacy("https://example.com/"));
    for _ in 0..2 {
        assert_eq!(
            status(&mut collector, from([203, 0, 113, 1], report())).await,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 1], report())).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 2], report())).await,
        StatusCode::NO_CONTENT,
        "another client keeps its budget"
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 1], report())).await,
        StatusCode::NO_CONTENT,
        "one request back every 30 s"
    );
}

#[tokio::test(start_paused = true)]
async fn the_budget_follows_the_client_ip_layer() {
    let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse().expect("valid"));
    let collector = CspReportCollector::builder()
        .rate_limit(1, Duration::from_secs(60))
        .build()
        .expect("valid");
    let service = ServiceBuilder::new()
        .layer(ResolveClientIpLayer::new(resolver))
        .service(collector);
    let report = |client: &str| {
        let mut request = from(
            [10, 0, 0, 1],
            post("application/csp-report", legacy("https://example.com/")),
        );
        request
            .headers_mut()
            .insert("x-forwarded-for", client.parse().expect("valid"));
        request
    };
    let status_of = |request| {
        let service = service.clone();
        async move { service.oneshot(request).await.expect("infallible").status() }
    };
    assert_eq!(
        status_of(report("198.51.100.1")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_of(report("198.51.100.1")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Same proxy, another client.
    assert_eq!(
        status_of(report("198.51.100.2")).await,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test(start_paused = true)]
async fn tracked_clients_are_bounded_and_idle_ones_forgotten() {
    let mut collector = CspReportCollector::builder()
        .rate_limit(1, Duration::from_secs(10))
        .rate_limit_clients(2)
        .build()
        .expect("valid");
    let report = || post("application/csp-report", legacy("https://example.com/"));
    for ip in [[203, 0, 113, 1], [203, 0, 113, 2]] {
        assert_eq!(
            status(&mut collector, from(ip, report())).await,
            StatusCode::NO_CONTENT
        );
    }
    // Two clients mid-budget: new clients share one more budget.
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 3], report())).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 4], report())).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Known clients keep their own budget.
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 1], report())).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Once their budgets have been full again for one refill interval, the
    // old clients are forgotten.
    tokio::time::advance(Duration::from_secs(20)).await;
    for ip in [[203, 0, 113, 4], [203, 0, 113, 5]] {
        assert_eq!(
            status(&mut collector, from(ip, report())).await,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        status(&mut collector, from([203, 0, 113, 4], report())).await,
        StatusCode::TOO_MANY_REQUESTS,
        "203.0.113.4 is tracked now"
    );
    let result = CspReportCollector::builder().rate_limit_clients(0).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "rate_limit_clients",
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_streamed_body_cut_by_an_outer_limit_is_a_413_problem() {
    // As in an axum app with tower-http's RequestBodyLimitLayer: no
    // Content-Length (chunked), 70 KB, the outer limit hits first.
    let app = axum::Router::new()
        .route_service("/csp-report", CspReportCollector::new())
        .layer(RequestBodyLimitLayer::new(64 * 1024));
    let body = format!("[{}]", " ".repeat(70 * 1024));
    let response = app
        .oneshot(post("application/reports+json", body))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.extensions().get::<ReportRejection>(),
        Some(&ReportRejection::TooLarge)
    );
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let doc: Value =
        serde_json::from_str(&body_string(response.into_body()).await).expect("problem JSON");
    assert_eq!(doc["status"], 413);
}
