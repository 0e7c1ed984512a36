//! [`Recorder`], the service.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::body::{RecordBody, Tap};
use crate::capture::Pending;
use crate::future::ResponseFuture;
use crate::shared::Shared;

/// The service [`RecorderLayer`](crate::RecorderLayer) makes: tees the
/// request and response bodies and hands each finished exchange to the
/// recorder. Never waits for the store.
#[derive(Debug, Clone)]
pub struct Recorder<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Recorder<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Recorder<S>
where
    S: Service<Request<RecordBody<ReqB>>, Response = Response<ResB>>,
    ReqB: http_body::Body,
{
    type Response = Response<RecordBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        if !self.shared.records(request.uri().path()) {
            let request = request.map(RecordBody::off);
            return ResponseFuture::off(self.inner.call(request));
        }
        // A request without a body (most GETs) needs no tap.
        let tap = (!request.body().is_end_stream())
            .then(|| Arc::new(Mutex::new(Tap::new(self.shared.body_cap))));
        let pending = Pending::start(self.shared.clone(), &request, tap.clone());
        let request = request.map(|body| match tap {
            Some(tap) => RecordBody::request(body, tap),
            None => RecordBody::off(body),
        });
        ResponseFuture::new(self.inner.call(request), pending, self.shared.body_cap)
    }
}
