//! The `RateLimit` service and its response future, polled by hand.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_rate_limit::{KeyBy, Policy, Quota, RateLimit, RateLimitLayer, Rule};
use strata_testkit::{from_peer, get};
use tower::{Layer, Service, service_fn};

type Body = Full<Bytes>;

fn layer() -> RateLimitLayer {
    RateLimitLayer::builder(Rule::new(
        KeyBy::client_ip(),
        Policy::new("per-ip", Quota::per_minute(1)),
    ))
    .build()
    .expect("valid")
}

fn request() -> Request<Body> {
    from_peer(get("/"), SocketAddr::from(([192, 0, 2, 1], 1)))
}

/// A service answering at once, so one poll completes the future.
#[derive(Debug, Clone, PartialEq)]
struct Ready(&'static str);

impl Service<Request<Body>> for Ready {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Body>) -> Self::Future {
        std::future::ready(Ok(Response::new(Full::from(self.0))))
    }
}

/// Polls `future` twice: the first poll completes it.
fn poll_twice<F: Future<Output = Result<Response<Body>, Infallible>>>(future: F) -> StatusCode {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = pin!(future);
    let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
        panic!("the first poll did not complete");
    };
    let _ = future.as_mut().poll(&mut cx);
    response.status()
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn an_allowed_response_future_polled_after_completion_panics() {
    let mut service = layer().layer(Ready("ok"));
    poll_twice(service.call(request()));
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn a_refusal_future_polled_after_completion_panics() {
    let mut service = layer().layer(Ready("ok"));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        pin!(service.call(request())).poll(&mut cx),
        Poll::Ready(Ok(_))
    ));
    poll_twice(service.call(request()));
}

#[test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
fn an_unkeyed_response_future_polled_after_completion_panics() {
    let mut service = layer().layer(service_fn(|_: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Full::from("ok")))
    }));
    poll_twice(service.call(get("/")));
}

#[test]
fn the_inner_service_is_reachable() {
    let mut service: RateLimit<Ready> = layer().layer(Ready("a"));
    assert_eq!(service.get_ref(), &Ready("a"));
    *service.get_mut() = Ready("b");
    assert_eq!(service.get_ref(), &Ready("b"));
    assert_eq!(service.into_inner(), Ready("b"));
}
