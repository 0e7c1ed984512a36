//! Configuration errors name the setting; metrics register all or nothing;
//! a finished future panics when polled again.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use strata_core::ConfigError;
use strata_session::{MemoryStore, SameSite, SessionLayer};

fn builder() -> strata_session::SessionBuilder {
    SessionLayer::builder(MemoryStore::new())
}

#[test]
fn each_bad_setting_is_reported_by_name() {
    let cases: Vec<(&str, strata_session::SessionBuilder)> = vec![
        ("cookie_name", builder().cookie_name("bad name")),
        (
            "cookie_name",
            builder().secure(false).cookie_name("__Host-sid"),
        ),
        ("cookie_name", builder().cookie_domain("example.com")),
        ("cookie_name", builder().cookie_path("/app")),
        (
            "cookie_name",
            builder().secure(false).cookie_name("__Secure-sid"),
        ),
        (
            "cookie_path",
            builder().cookie_name("sid").cookie_path("app"),
        ),
        (
            "cookie_domain",
            builder().cookie_name("sid").cookie_domain("a;b"),
        ),
        (
            "same_site",
            builder().secure(false).same_site(SameSite::None),
        ),
        (
            "idle_timeout",
            builder().idle_timeout(Duration::from_millis(10)),
        ),
        (
            "absolute_lifetime",
            builder().absolute_lifetime(Duration::from_secs(1)),
        ),
        (
            "touch_interval",
            builder()
                .idle_timeout(Duration::from_secs(60))
                .touch_interval(Duration::from_secs(60)),
        ),
        (
            "rotation_grace",
            builder().rotation_grace(Duration::from_secs(61)),
        ),
        ("store_timeout", builder().store_timeout(Duration::ZERO)),
        (
            "allowed_origin",
            builder().allowed_origin("app.example.com"),
        ),
        ("guard_bypass", builder().guard_bypass("webhooks")),
    ];
    for (setting, builder) in cases {
        let result = builder.build();
        assert!(
            matches!(&result, Err(ConfigError::Invalid { setting: s, .. }) if *s == setting),
            "{setting}: {result:?}"
        );
    }
}

#[test]
fn an_insecure_cookie_defaults_to_a_plain_name() {
    builder().secure(false).build().unwrap();
    builder()
        .cookie_name("sid")
        .cookie_domain("example.com")
        .cookie_path("/app")
        .build()
        .unwrap();
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn metrics_register_all_or_nothing_and_count_sessions() {
    use strata_session::SessionMetrics;
    let registry = prometheus::Registry::new();
    let metrics = SessionMetrics::register(&registry).unwrap();
    let families = registry.gather().len();
    assert!(matches!(
        SessionMetrics::register(&registry),
        Err(ConfigError::Registry(_))
    ));
    assert_eq!(registry.gather().len(), families);

    let layer = SessionLayer::builder(MemoryStore::new())
        .metrics(metrics)
        .build()
        .unwrap();
    let service = tower::ServiceBuilder::new().layer(layer).service_fn(
        |request: http::Request<()>| async move {
            let session = request
                .extensions()
                .get::<strata_session::Session>()
                .unwrap();
            session.insert("a", 1).unwrap();
            Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
        },
    );
    use tower::ServiceExt as _;
    service.oneshot(http::Request::new(())).await.unwrap();
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(
        text.contains("strata_session_events_total{event=\"created\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("strata_session_store_duration_seconds_count{op=\"create\"} 1"),
        "{text}"
    );
}

#[tokio::test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
async fn a_finished_future_panics_when_polled_again() {
    use tower::{Service as _, ServiceExt as _};
    let mut service = tower::ServiceBuilder::new()
        .layer(SessionLayer::new())
        .service_fn(|_: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
        });
    let future = service.ready().await.unwrap().call(http::Request::new(()));
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(future.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
    let _ = future.as_mut().poll(&mut cx);
}
