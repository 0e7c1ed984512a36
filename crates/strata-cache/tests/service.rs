//! The service wrapper and its future.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{Origin, req};
use http::Method;
use strata_cache::CacheLayer;
use tower::{Layer, Service};

#[tokio::test]
async fn the_service_gives_access_to_its_inner_service() {
    let origin = Origin::with_headers(&[]);
    let mut svc = CacheLayer::new().layer(origin);
    assert_eq!(svc.get_ref().calls(), 0);
    assert_eq!(svc.get_mut().calls(), 0);
    assert_eq!(svc.into_inner().calls(), 0);
}

#[tokio::test]
#[should_panic(expected = "`ResponseFuture` polled after completion")]
async fn a_finished_future_polled_again_panics() {
    let mut svc = CacheLayer::new().layer(Origin::with_headers(&[]));
    std::future::poll_fn(|cx| svc.poll_ready(cx))
        .await
        .expect("ready");
    let mut future = svc.call(req(Method::GET, "http://example.com/", &[]));
    let mut future = Pin::new(&mut future);
    let _ = std::future::poll_fn(|cx| future.as_mut().poll(cx).map(|r| r.map(|_| ()))).await;
    let waker = std::task::Waker::noop();
    let _: Poll<_> = future.as_mut().poll(&mut Context::from_waker(waker));
}

/// A layer outside the cache that answers with a body of its own (as the
/// rate-limit and health layers do) needs the cache's body to be buildable
/// from bytes: the recommended order then composes in one `ServiceBuilder`.
#[tokio::test]
async fn a_layer_outside_can_answer_with_a_body_of_bytes() {
    use bytes::Bytes;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    fn refusal<B: From<Bytes>>() -> http::Response<B> {
        http::Response::new(B::from(Bytes::from_static(b"refused")))
    }
    let response = refusal::<strata_cache::CacheBody<http_body_util::Empty<Bytes>>>();
    let body = response.into_body();
    assert_eq!(body.size_hint().exact(), Some(7));
    let bytes = body.collect().await.expect("complete").to_bytes();
    assert_eq!(&bytes[..], b"refused");
}
