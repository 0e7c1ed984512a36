use std::borrow::Cow;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use prometheus::Registry;
use strata_testkit::{body_string, get, request};
use tower::{ServiceBuilder, ServiceExt};

use strata_core::ConfigError;

use crate::{CounterFamily, DbMetrics, MetricsBuilder, MetricsHandle, MetricsLayer};

type Req = Request<Full<Bytes>>;

/// Routes: the path itself for paths under `/r/`, else unmatched.
fn by_path(parts: &http::request::Parts) -> Option<Cow<'static, str>> {
    let path = parts.uri.path();
    path.starts_with("/r/").then(|| Cow::Owned(path.to_owned()))
}

async fn ok(request: Req) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = request
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("status="))
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut response = Response::new(Full::new(Bytes::from_static(b"hello")));
    *response.status_mut() = StatusCode::from_u16(status).expect("valid status");
    Ok(response)
}

/// Sends `request` through a layer built by `builder` and reads the body.
async fn send(layer: &MetricsLayer, request: Req) -> StatusCode {
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(ok);
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status();
    body_string(response.into_body()).await;
    status
}

fn pair(builder: MetricsBuilder) -> (MetricsLayer, MetricsHandle) {
    builder.pair().expect("the layer builds")
}

/// The value of the sample line that starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        rest.parse().ok()
    })
}

const GET_200: &str = r#"http_request_method="GET",http_response_status_code="200",http_route="/r/a",url_scheme="http""#;

#[tokio::test]
async fn exposes_otel_names_labels_and_buckets() {
    let (layer, handle) = pair(MetricsLayer::builder().route_by(by_path));
    let mut upload = request(Method::POST, "/r/a", "12345678");
    *upload.method_mut() = Method::GET;
    assert_eq!(send(&layer, upload).await, 200);

    let text = handle.render();
    assert!(text.contains("# TYPE http_server_request_duration_seconds histogram"));
    assert!(text.contains("# TYPE http_server_request_body_size_bytes histogram"));
    assert!(text.contains("# TYPE http_server_response_body_size_bytes histogram"));
    assert!(text.contains("# TYPE http_server_active_requests gauge"));
    let bounds = [
        "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5",
        "7.5", "10", "+Inf",
    ];
    for le in bounds {
        let series =
            format!("http_server_request_duration_seconds_bucket{{{GET_200},le=\"{le}\"}}");
        assert_eq!(
            sample(&text, &series),
            Some(1.0),
            "missing {series} in\n{text}"
        );
    }
    let buckets = text
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_bucket{"))
        .count();
    assert_eq!(buckets, bounds.len());
    let count = format!("http_server_request_duration_seconds_count{{{GET_200}}}");
    assert_eq!(sample(&text, &count), Some(1.0));
    let request_sum = format!("http_server_request_body_size_bytes_sum{{{GET_200}}}");
    assert_eq!(sample(&text, &request_sum), Some(8.0));
    let response_sum = format!("http_server_response_body_size_bytes_sum{{{GET_200}}}");
    assert_eq!(sample(&text, &response_sum), Some(5.0));
    let size_bucket =
        format!("http_server_response_body_size_bytes_bucket{{{GET_200},le=\"100\"}}");
    assert_eq!(sample(&text, &size_bucket), Some(1.0));
    let active = r#"http_server_active_requests{http_request_method="GET",url_scheme="http"}"#;
    assert_eq!(sample(&text, active), Some(0.0));
    assert!(
        !text.contains("error_type"),
        "no failure, no error_type:\n{text}"
    );
}

#[tokio::test]
async fn unmatched_paths_collapse_into_one_series() {
    let (layer, handle) = pair(MetricsLayer::builder().route_by(by_path));
    for path in ["/wp-admin", "/.env", "/etc/passwd?x=1", "/a/b/c"] {
        send(&layer, get(path)).await;
    }
    let text = handle.render();
    let series = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, series), Some(4.0), "{text}");
    for raw in ["wp-admin", ".env", "passwd", "/a/b/c"] {
        assert!(!text.contains(raw), "raw path {raw} leaked into\n{text}");
    }
}

#[tokio::test]
async fn unmatched_value_is_configurable() {
    let (layer, handle) = pair(MetricsLayer::builder().unmatched_route("none"));
    send(&layer, get("/anything")).await;
    assert!(handle.render().contains(r#"http_route="none""#));
}

#[tokio::test]
async fn unknown_methods_are_labelled_other() {
    let (layer, handle) = pair(MetricsLayer::builder().route_by(by_path));
    let mut propfind = get("/r/a");
    *propfind.method_mut() = Method::from_bytes(b"PROPFIND").expect("valid method");
    send(&layer, propfind).await;
    let mut brew = get("/r/a");
    *brew.method_mut() = Method::from_bytes(b"BREW").expect("valid method");
    send(&layer, brew).await;
    let text = handle.render();
    let series = r#"http_server_request_duration_seconds_count{http_request_method="_OTHER",http_response_status_code="200",http_route="/r/a",url_scheme="http"}"#;
    assert_eq!(sample(&text, series), Some(2.0), "{text}");
    assert!(!text.contains("PROPFIND") && !text.contains("BREW"));
}

#[tokio::test]
async fn series_beyond_the_cap_go_to_the_overflow_series() {
    let builder = MetricsLayer::builder().route_by(by_path).max_series(2);
    let (layer, handle) = pair(builder);
    for route in ["/r/1", "/r/2", "/r/3", "/r/4", "/r/1"] {
        send(&layer, get(route)).await;
    }
    let text = handle.render();
    let counts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_count"))
        .collect();
    assert_eq!(
        counts.len(),
        3,
        "two series and the overflow series:\n{text}"
    );
    let r1 = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/r/1",url_scheme="http"}"#;
    assert_eq!(sample(&text, r1), Some(2.0));
    let overflow = r#"http_server_request_duration_seconds_count{otel_metric_overflow="true"}"#;
    assert_eq!(sample(&text, overflow), Some(2.0), "{text}");
    assert!(!text.contains("/r/3") && !text.contains("/r/4"));
}

#[tokio::test]
async fn no_overflow_series_until_the_cap_is_reached() {
    let (layer, handle) = pair(MetricsLayer::builder());
    send(&layer, get("/")).await;
    assert!(!handle.render().contains("otel_metric_overflow"));
}

#[tokio::test]
async fn label_sets_that_concatenate_alike_stay_two_series() {
    let registry = Registry::new();
    let counter = CounterFamily::register(&registry, "app_calls_total", "Calls.", &["a", "b"], 10)
        .expect("registers");
    counter.inc(&["GET", "/ab"]);
    counter.inc(&["GET/", "ab"]);
    counter.inc(&["GET/", "ab"]);
    let db = DbMetrics::register(&registry, "GET").expect("registers");
    db.observe("/ab", Duration::from_millis(1), None);
    let (_, handle) = pair(MetricsLayer::builder().registry(&registry));
    let text = handle.render();
    assert_eq!(
        sample(&text, r#"app_calls_total{a="GET",b="/ab"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"app_calls_total{a="GET/",b="ab"}"#),
        Some(2.0)
    );

    // The HTTP layer: routes that differ only where another label begins.
    let (layer, handle) = pair(MetricsLayer::builder().route_by(by_path));
    send(&layer, get("/r/a?status=200")).await;
    send(&layer, get("/r/a2?status=200")).await;
    let text = handle.render();
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("http_server_request_duration_seconds_count"))
            .count(),
        2
    );
}

#[tokio::test]
async fn server_errors_carry_error_type_and_client_errors_do_not() {
    let (layer, handle) = pair(MetricsLayer::builder().route_by(by_path));
    send(&layer, get("/r/a?status=503")).await;
    send(&layer, get("/r/a?status=404")).await;
    let text = handle.render();
    let failed = r#"http_server_request_duration_seconds_count{error_type="503",http_request_method="GET",http_response_status_code="503",http_route="/r/a",url_scheme="http"}"#;
    assert_eq!(sample(&text, failed), Some(1.0), "{text}");
    let not_found = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",http_route="/r/a",url_scheme="http"}"#;
    assert_eq!(sample(&text, not_found), Some(1.0), "{text}");
}

#[tokio::test]
async fn a_service_error_is_recorded_without_status() {
    let (layer, handle) = pair(MetricsLayer::builder());
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Req| async { Err::<Response<Full<Bytes>>, _>("boom") });
    assert!(service.oneshot(get("/")).await.is_err());
    let text = handle.render();
    let series = r#"http_server_request_duration_seconds_count{error_type="_OTHER",http_request_method="GET",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, series), Some(1.0), "{text}");
}

/// A body yielding `chunks`, then an error if `fail`, waiting `gap` before
/// each chunk after the first.
struct Chunks {
    chunks: Vec<Bytes>,
    fail: bool,
    gap: Option<Pin<Box<tokio::time::Sleep>>>,
    wait: Duration,
}

impl Chunks {
    fn new(chunks: &[&'static str], wait: Duration, fail: bool) -> Self {
        Self {
            chunks: chunks
                .iter()
                .rev()
                .map(|c| Bytes::from_static(c.as_bytes()))
                .collect(),
            fail,
            gap: None,
            wait,
        }
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(gap) = &mut self.gap {
            std::task::ready!(gap.as_mut().poll(cx));
        }
        self.gap = Some(Box::pin(tokio::time::sleep(self.wait)));
        match self.chunks.pop() {
            Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            None if self.fail => Poll::Ready(Some(Err(std::io::Error::other("upstream reset")))),
            None => Poll::Ready(None),
        }
    }
}

use std::future::Future as _;

#[tokio::test]
async fn a_streamed_body_is_timed_and_sized_until_it_ends() {
    let (layer, handle) = pair(MetricsLayer::builder());
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Req| async {
            let body = Chunks::new(&["aaaa", "bbbb", "cc"], Duration::from_millis(60), false);
            Ok::<_, Infallible>(Response::new(body))
        });
    let response = service.oneshot(get("/")).await.expect("infallible");
    // The handler returned, the body is still to be sent: not recorded yet.
    let text = handle.render();
    assert!(
        !text.contains("http_server_request_duration_seconds_count"),
        "{text}"
    );
    let active = r#"http_server_active_requests{http_request_method="GET",url_scheme="http"}"#;
    assert_eq!(sample(&text, active), Some(1.0));

    let body = response
        .into_body()
        .collect()
        .await
        .expect("no error")
        .to_bytes();
    assert_eq!(body.len(), 10);
    let text = handle.render();
    let labels = r#"{http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(
        sample(
            &text,
            &format!("http_server_request_duration_seconds_count{labels}")
        ),
        Some(1.0)
    );
    let seconds = sample(
        &text,
        &format!("http_server_request_duration_seconds_sum{labels}"),
    )
    .expect("a duration");
    assert!(seconds >= 0.12, "two 60 ms gaps, got {seconds}");
    assert_eq!(
        sample(
            &text,
            &format!("http_server_response_body_size_bytes_sum{labels}")
        ),
        Some(10.0)
    );
    assert_eq!(sample(&text, active), Some(0.0));
}

#[tokio::test]
async fn a_body_that_fails_midway_is_an_error() {
    let (layer, handle) = pair(MetricsLayer::builder());
    let service = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Req| async {
            Ok::<_, Infallible>(Response::new(Chunks::new(&["abc"], Duration::ZERO, true)))
        });
    let response = service.oneshot(get("/")).await.expect("infallible");
    assert!(response.into_body().collect().await.is_err());
    let text = handle.render();
    let series = r#"http_server_response_body_size_bytes_sum{error_type="_OTHER",http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, series), Some(3.0), "{text}");
}

#[tokio::test]
async fn a_client_that_hangs_up_is_not_a_server_error() {
    let (layer, handle) = pair(MetricsLayer::builder());
    let service = ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(|_: Req| async {
            let body = Chunks::new(&["aaaa", "bbbb", "cc"], Duration::ZERO, false);
            Ok::<_, Infallible>(Response::new(body))
        });
    // Hangs up after the first chunk.
    let mut body = service
        .oneshot(get("/"))
        .await
        .expect("infallible")
        .into_body();
    let first = body.frame().await.expect("a frame").expect("no error");
    assert_eq!(first.into_data().expect("data").len(), 4);
    drop(body);
    // Hangs up while the handler runs.
    let pending = ServiceBuilder::new()
        .layer(layer)
        .service_fn(|_: Req| std::future::pending::<Result<Response<Full<Bytes>>, Infallible>>());
    let future = pending.oneshot(get("/"));
    assert!(
        tokio::time::timeout(Duration::from_millis(1), future)
            .await
            .is_err()
    );

    let text = handle.render();
    assert!(!text.contains("error_type"), "{text}");
    let sent = r#"http_server_response_body_size_bytes_sum{http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, sent), Some(4.0), "{text}");
    let cancelled = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, cancelled), Some(1.0), "{text}");
    let active = r#"http_server_active_requests{http_request_method="GET",url_scheme="http"}"#;
    assert_eq!(sample(&text, active), Some(0.0));
}

#[tokio::test]
async fn two_registries_in_one_process_stay_apart() {
    let (first, first_handle) = pair(MetricsLayer::builder());
    let (second, second_handle) = pair(MetricsLayer::builder());
    send(&first, get("/")).await;
    send(&first, get("/")).await;
    send(&second, get("/")).await;
    let count = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&first_handle.render(), count), Some(2.0));
    assert_eq!(sample(&second_handle.render(), count), Some(1.0));
}

#[tokio::test]
async fn a_second_layer_on_one_registry_is_refused_and_leaves_the_first() {
    let registry = Registry::new();
    let (layer, _) = pair(
        MetricsLayer::builder()
            .registry(&registry)
            .build_info("1", "a"),
    );
    send(&layer, get("/")).await;
    let families = registry.gather().len();
    let second = MetricsLayer::builder()
        .registry(&registry)
        .build_info("1", "a")
        .build();
    assert!(
        matches!(second, Err(ConfigError::Registry(_))),
        "{second:?}"
    );
    assert_eq!(registry.gather().len(), families);
    let text = MetricsHandle::new(registry).render();
    let count = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED",url_scheme="http"}"#;
    assert_eq!(sample(&text, count), Some(1.0), "{text}");
}

#[tokio::test]
async fn a_refused_layer_leaves_nothing_in_the_registry() {
    let registry = Registry::new();
    let taken = prometheus::IntGauge::new("build_info", "Someone else's.").expect("valid");
    registry.register(Box::new(taken)).expect("registers");
    let refused = MetricsLayer::builder()
        .registry(&registry)
        .build_info("1", "a")
        .pair();
    assert!(
        matches!(refused, Err(ConfigError::Registry(_))),
        "{refused:?}"
    );
    assert_eq!(registry.gather().len(), 1, "only the gauge that was there");
    // Nothing of the refused layer stayed: a layer without build_info fits.
    let layer = MetricsLayer::builder()
        .registry(&registry)
        .build()
        .expect("builds");
    send(&layer, get("/")).await;
    assert!(
        MetricsHandle::new(registry)
            .render()
            .contains("http_server_request_duration_seconds_count")
    );
}

#[tokio::test]
async fn custom_buckets_are_used() {
    let builder = MetricsLayer::builder().duration_buckets(vec![0.5, 1.0]);
    let (layer, handle) = pair(builder);
    send(&layer, get("/")).await;
    let text = handle.render();
    let buckets: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_bucket"))
        .collect();
    assert_eq!(buckets.len(), 3, "{text}");
    assert!(buckets[0].contains(r#"le="0.5""#));
}

#[tokio::test]
async fn the_scheme_comes_from_the_connection_never_the_request_target() {
    let (layer, handle) = pair(MetricsLayer::builder());
    let mut secure = get("/");
    secure.extensions_mut().insert(strata_core::Scheme::Https);
    send(&layer, secure).await;
    // An absolute-form target on a plain connection: the client chose it.
    send(&layer, get("https://example.com/")).await;
    let text = handle.render();
    let labels =
        r#"http_request_method="GET",http_response_status_code="200",http_route="_UNMATCHED""#;
    let count = "http_server_request_duration_seconds_count";
    let https = format!("{count}{{{labels},url_scheme=\"https\"}}");
    let http = format!("{count}{{{labels},url_scheme=\"http\"}}");
    assert_eq!(sample(&text, &https), Some(1.0), "{text}");
    assert_eq!(sample(&text, &http), Some(1.0), "{text}");
}

#[tokio::test]
async fn requests_without_a_route_template_are_counted() {
    let unrouted = "strata_metrics_requests_without_route_total";
    let (layer, handle) = pair(MetricsLayer::builder());
    send(&layer, get("/a")).await;
    send(&layer, get("/b")).await;
    let text = handle.render();
    assert_eq!(sample(&text, unrouted), Some(2.0), "{text}");
    // A classifier decides, even when it answers None: nothing counted.
    let (layer, handle) = pair(MetricsLayer::builder().route_by(by_path));
    send(&layer, get("/r/a")).await;
    send(&layer, get("/elsewhere")).await;
    let text = handle.render();
    assert_eq!(sample(&text, unrouted), Some(0.0), "{text}");
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn a_finished_response_future_panics_when_polled_again() {
    use std::task::Waker;
    let (layer, _handle) = pair(MetricsLayer::builder());
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    let mut future = std::pin::pin!(tower::Service::call(&mut service, get("/")));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
    let _ = future.as_mut().poll(&mut cx);
}

#[tokio::test]
async fn slow_requests_are_logged_with_their_labels() {
    let (logs, _guard) = strata_testkit::logs::capture(tracing::Level::INFO);
    let builder = MetricsLayer::builder()
        .route_by(by_path)
        .slow_requests(Duration::from_nanos(1), Duration::from_secs(3600));
    let (layer, _handle) = pair(builder);
    send(&layer, get("/r/slow?status=201")).await;
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("slow request"), "{text}");
    assert!(
        text.contains("method=\"GET\"") || text.contains("method=GET"),
        "{text}"
    );
    assert!(text.contains("/r/slow") && text.contains("201"), "{text}");

    let logs_before = logs.text().len();
    let (quiet, _handle) = pair(MetricsLayer::builder().no_slow_requests());
    send(&quiet, get("/")).await;
    assert_eq!(logs.text().len(), logs_before);
}
