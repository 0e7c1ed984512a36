//! [`Compression`]: the service the [`CompressionLayer`](crate::CompressionLayer) builds.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::BoxError;
use crate::body::CompressionBody;
use crate::config::Config;
use crate::future::{RequestInfo, ResponseFuture};
use crate::headers::strip_variant_validators;
use crate::negotiate::{Accepted, Negotiated};

/// Compresses the responses of `S` (see the [crate docs](crate)).
#[derive(Debug, Clone)]
pub struct Compression<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> Compression<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Compression<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<CompressionBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let negotiated = if self.config.offered.is_empty() {
            Negotiated::Identity
        } else {
            Accepted::from_headers(request.headers()).negotiate(&self.config.offered)
        };
        let holds_variant = match negotiated {
            Negotiated::Encode(encoding) => {
                strip_variant_validators(request.headers_mut(), encoding)
            }
            _ => false,
        };
        let info = RequestInfo {
            negotiated,
            head: request.method() == Method::HEAD,
            holds_variant,
        };
        // Always called: Accept-Encoding only shapes the response, it never
        // skips the handler (and its side effects).
        let inner = self.inner.call(request);
        ResponseFuture::new(inner, info, Arc::clone(&self.config))
    }
}
