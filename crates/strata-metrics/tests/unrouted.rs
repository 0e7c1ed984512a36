//! A request without a route template is labelled unmatched, counted, and
//! the first one in the process logs a warning naming the fix. Its own test
//! binary: the warning is once per process.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use strata_metrics::MetricsLayer;
use strata_testkit::{body_string, get};
use tower::{ServiceBuilder, ServiceExt};

#[tokio::test(flavor = "current_thread")]
async fn an_unrouted_request_warns_once_and_is_counted_every_time() {
    let (logs, _default) = strata_testkit::logs::capture(tracing::Level::INFO);

    let (layer, handle) = MetricsLayer::builder().pair().expect("builds");
    for path in ["/a", "/b", "/c"] {
        let service = ServiceBuilder::new().layer(layer.clone()).service_fn(
            |_: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            },
        );
        let response = service.oneshot(get(path)).await.expect("infallible");
        body_string(response.into_body()).await;
    }

    let text = logs.text();
    assert_eq!(text.matches("WARN").count(), 1, "{text}");
    for fix in ["`axum` feature", "route_by", "Router::layer"] {
        assert!(text.contains(fix), "the warning names {fix}: {text}");
    }
    let metrics = handle.render();
    assert!(
        metrics.contains("strata_metrics_requests_without_route_total 3"),
        "{metrics}"
    );
    assert!(metrics.contains(r#"http_route="_UNMATCHED""#), "{metrics}");
}
