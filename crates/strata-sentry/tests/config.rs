//! Settings checked at build time, the sampler and filter defaults, the
//! future's contract, the once-per-process warnings.

#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

use axum::body::Body;
use http::{Request, Response};
use sentry::TransactionContext;
use sentry::protocol::Event;
use strata_core::ConfigError;
use strata_sentry::{Init, SentryLayer, drop_client_errors, traces_sampler};
use tower::{Service, ServiceBuilder, ServiceExt};

#[test]
fn capture_status_outside_http_statuses_is_refused() {
    let (high, low) = (599, 500);
    for range in [600..=650, 99..=500, high..=low] {
        let result = SentryLayer::builder().capture_status(range).build();
        assert!(
            matches!(
                result,
                Err(ConfigError::Invalid {
                    setting: "capture_status",
                    ..
                })
            ),
            "{result:?}"
        );
    }
}

#[test]
fn max_problem_size_over_a_mebibyte_is_refused() {
    let result = SentryLayer::builder().max_problem_size(2 << 20).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "max_problem_size",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn a_malformed_dsn_is_refused() {
    let result = Init::new().dsn("not a dsn").client_options();
    assert!(
        matches!(result, Err(ConfigError::Invalid { setting: "dsn", .. })),
        "{result:?}"
    );
}

#[test]
fn a_sample_rate_outside_zero_to_one_is_refused() {
    let result = Init::new().traces_sample_rate(1.5).client_options();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "traces_sample_rate",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn an_empty_dsn_turns_reporting_off() {
    let options = Init::new().dsn("").client_options().unwrap();
    assert!(options.dsn.is_none());
}

fn context(path: &str, sampled: Option<bool>) -> TransactionContext {
    let mut context = TransactionContext::new("GET /x", "http.server");
    context.custom_insert("url.path".to_owned(), path.into());
    context.set_sampled(sampled);
    context
}

#[test]
fn the_sampler_skips_probes_and_follows_the_incoming_decision() {
    let sampler = traces_sampler(0.25);
    for path in [
        "/metrics",
        "/health",
        "/health/ready",
        "/healthz",
        "/livez",
        "/readyz",
    ] {
        assert_eq!(sampler(&context(path, Some(true))), 0.0, "{path}");
    }
    assert_eq!(sampler(&context("/orders", None)), 0.25);
    assert_eq!(sampler(&context("/orders", Some(true))), 1.0);
    assert_eq!(sampler(&context("/orders", Some(false))), 0.0);
    assert_eq!(sampler(&context("/healthy", None)), 0.25);
}

#[test]
fn the_default_filter_drops_client_errors_only() {
    let event = |status: &str| {
        let mut event = Event::default();
        event
            .tags
            .insert("http.response.status_code".to_owned(), status.to_owned());
        event
    };
    assert!(drop_client_errors(event("404")).is_none());
    assert!(drop_client_errors(event("422")).is_none());
    assert!(drop_client_errors(event("500")).is_some());
    assert!(drop_client_errors(Event::default()).is_some());
}

#[tokio::test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
async fn polling_a_finished_future_panics() {
    let mut service =
        ServiceBuilder::new()
            .layer(SentryLayer::new())
            .service_fn(|_: Request<Body>| async {
                Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
            });
    let service = service.ready().await.unwrap();
    let mut future = Box::pin(service.call(Request::new(Body::empty())));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
    let _ = Pin::new(&mut future).poll(&mut cx);
}

/// A `tracing` subscriber that keeps the warnings.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_request_without_a_route_warns_once() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .finish();
    let capture = Init::new().capture().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(capture.run(async {
            for _ in 0..3 {
                ServiceBuilder::new()
                    .layer(SentryLayer::new())
                    .service_fn(|_: Request<Body>| async {
                        Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
                    })
                    .oneshot(Request::new(Body::empty()))
                    .await
                    .unwrap();
            }
        }));
    });
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.matches("carried no route template").count(),
        1,
        "{text}"
    );
    assert!(text.contains("SentryBuilder::route_by"), "{text}");
}
