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
