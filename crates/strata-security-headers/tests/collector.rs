//! The CSP report collector, driven through its public API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::Value;
use strata_core::ConfigError;
#[cfg(feature = "prometheus")]
use strata_security_headers::CspReportMetrics;
use strata_security_headers::{
    CspReportCollector, CspReportCollectorBuilder, CspViolation, Disposition, ReportRejection,
};
use strata_testkit::{body_string, request};
use tower::ServiceExt;

const LEGACY: &str = r#"{"csp-report":{
    "document-uri":"https://example.com/page",
    "referrer":"",
    "violated-directive":"script-src-elem",
    "effective-directive":"script-src-elem",
    "original-policy":"default-src 'self'; report-uri /csp-report",
    "disposition":"enforce",
    "blocked-uri":"https://evil.example/x.js",
    "line-number":10,
    "column-number":4,
    "source-file":"https://example.com/app.js",
    "status-code":200,
    "script-sample":""
}}"#;

const BATCH: &str = r#"[
  {"type":"csp-violation","age":10,"url":"https://example.com/","user_agent":"Browser/1.0",
   "body":{"documentURL":"https://example.com/","blockedURL":"inline","effectiveDirective":"script-src-elem",
           "originalPolicy":"default-src 'self'","disposition":"report","sample":"alert(1)","statusCode":200,
           "lineNumber":3,"columnNumber":7,"sourceFile":"https://example.com/"}},
  {"type":"deprecation","age":1,"url":"https://example.com/","body":{"id":"x"}},
  {"type":"csp-violation","age":10,"url":"https://example.com/b",
   "body":{"documentURL":"https://example.com/b","blockedURL":"eval","effectiveDirective":"script-src",
           "originalPolicy":"default-src 'self'","disposition":"enforce"}}
]"#;

fn post(content_type: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let mut request = request(Method::POST, "/csp-report", body);
    request
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type.parse().expect("valid"));
    request
}

fn recording() -> (CspReportCollector, Arc<Mutex<Vec<CspViolation>>>) {
    recording_with(|builder| builder)
}

/// A collector recording what it accepts, with more settings.
fn recording_with(
    adjust: impl FnOnce(CspReportCollectorBuilder) -> CspReportCollectorBuilder,
) -> (CspReportCollector, Arc<Mutex<Vec<CspViolation>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let builder = CspReportCollector::builder().on_report(move |violation| {
        sink.lock().expect("not poisoned").push(violation.clone());
    });
    let collector = adjust(builder).build().expect("valid");
    (collector, seen)
}

/// Asserts `result` is `ConfigError::Invalid` for `setting`.
fn invalid<T: std::fmt::Debug>(result: &Result<T, ConfigError>, setting: &str) {
    assert!(
        matches!(result, Err(ConfigError::Invalid { setting: s, .. }) if *s == setting),
        "expected Invalid {{ setting: {setting:?} }}, got {result:?}"
    );
}

async fn problem(response: Response<Full<Bytes>>, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let kind = match status.as_u16() {
        400 => ReportRejection::Malformed,
        405 => ReportRejection::Method,
        413 => ReportRejection::TooLarge,
        415 => ReportRejection::MediaType,
        429 => ReportRejection::RateLimited,
        other => panic!("unexpected status {other}"),
    };
    assert_eq!(response.extensions().get::<ReportRejection>(), Some(&kind));
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let body = body_string(response.into_body()).await;
    let doc: Value = serde_json::from_str(&body).expect("problem JSON");
    assert_eq!(doc["status"], status.as_u16());
    doc
}

#[tokio::test]
async fn accepts_a_legacy_csp_report_and_normalises_it() {
    let (collector, seen) = recording();
    let mut request = post("application/csp-report", LEGACY);
    request
        .headers_mut()
        .insert(header::USER_AGENT, "Legacy/2.0".parse().expect("valid"));
    let response = collector.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(seen.len(), 1);
    let v = &seen[0];
    assert_eq!(v.document_url, "https://example.com/page");
    assert_eq!(v.blocked_url, "https://evil.example/x.js");
    assert_eq!(v.effective_directive, "script-src-elem");
    assert_eq!(v.disposition, Some(Disposition::Enforce));
    assert_eq!(v.referrer, None);
    assert_eq!(v.sample, None);
    assert_eq!(
        (v.line, v.column, v.status_code),
        (Some(10), Some(4), Some(200))
    );
    assert_eq!(v.source_file.as_deref(), Some("https://example.com/app.js"));
    assert_eq!(v.user_agent.as_deref(), Some("Legacy/2.0"));
}

#[tokio::test]
async fn accepts_a_reports_json_batch_and_keeps_csp_violations() {
    let (collector, seen) = recording();
    let response = collector
        .oneshot(post("application/reports+json", BATCH))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(seen.len(), 2, "the deprecation report is skipped");
    assert_eq!(seen[0].blocked_url, "inline");
    assert_eq!(seen[0].disposition, Some(Disposition::Report));
    assert_eq!(seen[0].sample.as_deref(), Some("alert(1)"));
    assert_eq!(seen[0].user_agent.as_deref(), Some("Browser/1.0"));
    assert_eq!((seen[0].line, seen[0].column), (Some(3), Some(7)));
    assert_eq!(seen[1].effective_directive, "script-src");
    assert_eq!(seen[1].disposition, Some(Disposition::Enforce));
}

#[tokio::test]
async fn plain_json_is_read_by_shape() {
    let (collector, seen) = recording();
    let response = collector
        .clone()
        .oneshot(post("application/json", LEGACY))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = collector
        .oneshot(post("application/json; charset=utf-8", BATCH))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(seen.lock().expect("not poisoned").len(), 3);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let (collector, seen) = recording();
    let response = collector
        .clone()
        .oneshot(post("application/csp-report", "{\"csp-report\": {"))
        .await
        .expect("infallible");
    let doc = problem(response, StatusCode::BAD_REQUEST).await;
    assert!(
        doc["detail"]
            .as_str()
            .expect("detail")
            .contains("csp-report")
    );
    for (media_type, body) in [
        ("application/reports+json", LEGACY),
        ("application/csp-report", BATCH),
        ("application/reports+json", "[{\"type\": 5}]"),
        ("application/csp-report", "\u{0}\u{1}"),
    ] {
        let response = collector
            .clone()
            .oneshot(post(media_type, body))
            .await
            .expect("infallible");
        problem(response, StatusCode::BAD_REQUEST).await;
    }
    assert!(seen.lock().expect("not poisoned").is_empty());
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_a_415_problem() {
    let (collector, seen) = recording();
    let response = collector
        .clone()
        .oneshot(post("text/plain", LEGACY))
        .await
        .expect("infallible");
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let response = collector
        .oneshot(request(Method::POST, "/csp-report", LEGACY))
        .await
        .expect("infallible");
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(seen.lock().expect("not poisoned").is_empty());
}

#[tokio::test]
async fn oversize_body_is_a_413_problem() {
    let (collector, seen) = recording_with(|b| b.max_body_bytes(2048));
    // Streamed, no Content-Length: cut while reading.
    let big = format!(
        "[{}]",
        vec![r#"{"type":"csp-violation","body":{}}"#; 100].join(",")
    );
    assert!(big.len() > 2048);
    let response = collector
        .clone()
        .oneshot(post("application/reports+json", big))
        .await
        .expect("infallible");
    let doc = problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(doc["max_bytes"], 2048);
    // Declared too large: refused before reading.
    let mut declared = post("application/csp-report", LEGACY);
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, "1000000".parse().expect("valid"));
    let response = collector
        .clone()
        .oneshot(declared)
        .await
        .expect("infallible");
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    // A small report still goes through.
    let response = collector
        .oneshot(post("application/csp-report", LEGACY))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(seen.lock().expect("not poisoned").len(), 1);
}

#[tokio::test]
async fn answers_the_cors_preflight() {
    let mut preflight = request(Method::OPTIONS, "/csp-report", Bytes::new());
    let headers = preflight.headers_mut();
    headers.insert(
        header::ORIGIN,
        "https://app.example.com".parse().expect("valid"),
    );
    headers.insert(
        "access-control-request-method",
        "POST".parse().expect("valid"),
    );
    headers.insert(
        "access-control-request-headers",
        "content-type".parse().expect("valid"),
    );
    let response = CspReportCollector::new()
        .oneshot(preflight)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-allow-methods"], "POST, OPTIONS");
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    assert_eq!(headers["access-control-max-age"], "86400");
    assert!(!headers.contains_key("access-control-allow-credentials"));
}

#[tokio::test]
async fn allowed_origins_narrow_cors() {
    let collector = CspReportCollector::builder()
        .allowed_origins(["https://app.example.com"])
        .build()
        .expect("valid origins");
    let preflight = |origin: &str| {
        let mut request = request(Method::OPTIONS, "/csp-report", Bytes::new());
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().expect("valid"));
        request
    };
    let response = collector
        .clone()
        .oneshot(preflight("https://app.example.com"))
        .await
        .expect("infallible");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(response.headers()[header::VARY], "origin");
    let response = collector
        .oneshot(preflight("https://evil.example"))
        .await
        .expect("infallible");
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    for bad in [["*"], ["example.com"]] {
        let result = CspReportCollector::builder().allowed_origins(bad).build();
        invalid(&result, "allowed_origins");
    }
}

#[tokio::test]
async fn other_methods_are_a_405_problem_with_allow() {
    let response = CspReportCollector::new()
        .oneshot(request(Method::GET, "/csp-report", Bytes::new()))
        .await
        .expect("infallible");
    assert_eq!(response.headers()[header::ALLOW], "POST, OPTIONS");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn rate_limit_answers_429_then_refills() {
    tokio::time::pause();
    let (collector, seen) = recording_with(|b| b.rate_limit(2, Duration::from_secs(10)));
    for _ in 0..2 {
        let response = collector
            .clone()
            .oneshot(post("application/csp-report", LEGACY))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let response = collector
        .clone()
        .oneshot(post("application/csp-report", LEGACY))
        .await
        .expect("infallible");
    assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    tokio::time::advance(Duration::from_secs(5)).await;
    let response = collector
        .oneshot(post("application/csp-report", LEGACY))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(seen.lock().expect("not poisoned").len(), 3);
}

#[tokio::test]
async fn limits_are_checked_when_built() {
    let builder = CspReportCollector::builder;
    invalid(&builder().max_body_bytes(10).build(), "max_body_bytes");
    invalid(
        &builder().max_body_bytes(usize::MAX).build(),
        "max_body_bytes",
    );
    invalid(
        &builder().rate_limit(0, Duration::from_secs(1)).build(),
        "rate_limit",
    );
    invalid(
        &builder().rate_limit(1, Duration::ZERO).build(),
        "rate_limit",
    );
    // Setters never fail mid-chain: the first problem is reported by build().
    invalid(
        &builder()
            .max_body_bytes(10)
            .rate_limit(0, Duration::ZERO)
            .build(),
        "max_body_bytes",
    );
    // Without a rate limit, its settings are not needed.
    let result = builder().no_rate_limit().build();
    let _ = result.expect("valid");
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn counts_reports_and_rejections() {
    let registry = prometheus::Registry::new();
    let metrics = CspReportMetrics::register(&registry).expect("registers");
    let collector = CspReportCollector::builder()
        .metrics(metrics)
        .build()
        .expect("valid");
    let weird = LEGACY.replace(
        "\"effective-directive\":\"script-src-elem\"",
        "\"effective-directive\":\"x-made-up\"",
    );
    for (media_type, body) in [
        ("application/reports+json", BATCH),
        ("application/csp-report", weird.as_str()),
        ("application/csp-report", "junk"),
        ("text/plain", "junk"),
    ] {
        let _ = collector
            .clone()
            .oneshot(post(media_type, body.to_owned()))
            .await
            .expect("infallible");
    }
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .expect("encodes");
    for line in [
        r#"strata_security_headers_csp_reports_total{directive="script-src-elem",disposition="report"} 1"#,
        r#"strata_security_headers_csp_reports_total{directive="script-src",disposition="enforce"} 1"#,
        r#"strata_security_headers_csp_reports_total{directive="other",disposition="enforce"} 1"#,
        r#"strata_security_headers_csp_reports_rejected_total{reason="malformed"} 1"#,
        r#"strata_security_headers_csp_reports_rejected_total{reason="media_type"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn metrics_register_all_or_nothing() {
    let registry = prometheus::Registry::new();
    let first = CspReportMetrics::register(&registry).expect("registers");
    let again = CspReportMetrics::register(&registry);
    assert!(matches!(again, Err(ConfigError::Registry(_))), "{again:?}");
    // Shared by two collectors, counted once each.
    for metrics in [first.clone(), first] {
        let collector = CspReportCollector::builder()
            .metrics(metrics)
            .build()
            .expect("valid");
        let response = collector
            .oneshot(post("text/plain", "junk".to_owned()))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let families = registry.gather();
    assert_eq!(
        families.len(),
        1,
        "only the first set, and only what counted"
    );
    let rejected = &families[0];
    assert_eq!(
        rejected.name(),
        "strata_security_headers_csp_reports_rejected_total"
    );
    assert_eq!(rejected.get_metric()[0].get_counter().get_value(), 2.0);

    // A clash on the second collector takes the first out again: once the
    // clashing collector is gone, a new registration succeeds.
    let registry = prometheus::Registry::new();
    let taken = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "strata_security_headers_csp_reports_rejected_total",
            "CSP report requests refused, by reason.",
        ),
        &["reason"],
    )
    .expect("counter");
    registry
        .register(Box::new(taken.clone()))
        .expect("registers");
    let result = CspReportMetrics::register(&registry);
    assert!(
        matches!(result, Err(ConfigError::Registry(_))),
        "{result:?}"
    );
    registry.unregister(Box::new(taken)).expect("unregisters");
    let result = CspReportMetrics::register(&registry);
    let _ = result.expect("valid");
}
