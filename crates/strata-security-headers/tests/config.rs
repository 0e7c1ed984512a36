//! Configuration checked once in `build()`, by setting; futures that panic
//! when polled after completion.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use strata_core::ConfigError;
use strata_security_headers::{
    Allowlist, Feature, HttpsRedirectLayer, PermissionsPolicy, Preset, SecurityHeadersLayer,
    TrustedHostLayer,
};
use tower::{Layer, Service, service_fn};

fn assert_invalid<T: std::fmt::Debug>(result: &Result<T, ConfigError>, setting: &str, text: &str) {
    assert!(
        matches!(result, Err(ConfigError::Invalid { setting: s, reason })
            if *s == setting && reason.contains(text)),
        "expected Invalid {{ setting: {setting:?} }} naming {text:?}, got {result:?}"
    );
}

#[test]
fn a_permissions_policy_is_checked_when_the_layer_is_built() {
    // Neither constructor fails mid-chain.
    let bad_feature = PermissionsPolicy::new().deny(Feature::new("Bad Feature"));
    let result = SecurityHeadersLayer::builder(Preset::Strict)
        .permissions_policy(bad_feature)
        .build();
    assert_invalid(&result, "permissions_policy", "Bad Feature");

    let bad_origin = PermissionsPolicy::new().allow(
        Feature::GEOLOCATION,
        Allowlist::same_origin().origin("maps.example.com"),
    );
    let result = SecurityHeadersLayer::builder(Preset::Api)
        .permissions_policy(bad_origin)
        .build();
    assert_invalid(&result, "permissions_policy", "maps.example.com");

    let good = PermissionsPolicy::new().allow(
        Feature::new("x-custom-feature"),
        Allowlist::same_origin().origin("https://maps.example.com"),
    );
    let result = SecurityHeadersLayer::builder(Preset::Development)
        .permissions_policy(good)
        .build();
    let _ = result.expect("valid");
}

#[test]
fn the_first_problem_is_reported() {
    let result = SecurityHeadersLayer::builder(Preset::Strict)
        .reporting_endpoint("Bad", "/x")
        .permissions_policy(PermissionsPolicy::new().deny(Feature::new("")))
        .build();
    assert_invalid(&result, "reporting_endpoint", "Bad");
}

#[test]
fn presets_are_the_layers_of_their_builders() {
    for (layer, preset) in [
        (SecurityHeadersLayer::strict(), Preset::Strict),
        (SecurityHeadersLayer::api(), Preset::Api),
        (SecurityHeadersLayer::development(), Preset::Development),
        (SecurityHeadersLayer::new(), Preset::default()),
    ] {
        let built = SecurityHeadersLayer::builder(preset)
            .build()
            .expect("a preset builds");
        assert_eq!(layer.uses_nonce(), built.uses_nonce(), "{preset:?}");
    }
}

fn ok_service() -> impl Service<
    Request<()>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>>,
> {
    service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(Full::default())) })
}

fn poll_twice<F: Future>(future: F) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(future.as_mut().poll(&mut cx), Poll::Ready(_)));
    let _ = future.as_mut().poll(&mut cx);
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn the_headers_future_panics_when_polled_after_completion() {
    let mut service = SecurityHeadersLayer::strict().layer(ok_service());
    poll_twice(service.call(Request::new(())));
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn a_passed_guard_future_panics_when_polled_after_completion() {
    let layer = TrustedHostLayer::builder(["example.com"])
        .build()
        .expect("valid");
    let mut service = layer.layer(ok_service());
    let request = Request::get("/")
        .header("host", "example.com")
        .body(())
        .expect("request");
    poll_twice(service.call(request));
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn an_answered_guard_future_panics_when_polled_after_completion() {
    let mut service = HttpsRedirectLayer::new().layer(ok_service());
    let request = Request::get("/")
        .header("host", "example.com")
        .body(())
        .expect("request");
    poll_twice(service.call(request));
}
