//! [`SecurityHeaders`]: the service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::CspNonce;
use crate::compiled::Compiled;
use crate::future::ResponseFuture;

/// The service built by [`SecurityHeadersLayer`](crate::SecurityHeadersLayer).
#[derive(Debug, Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    config: Arc<Compiled>,
}

impl<S> SecurityHeaders<S> {
    pub(crate) fn new(inner: S, config: Arc<Compiled>) -> Self {
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

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SecurityHeaders<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let https = self.config.has_hsts() && self.config.resolver.scheme(&request).is_https();
        // Drawn only if the handler reads it (see `CspNonce`).
        let nonce = self.config.uses_nonce.then(|| {
            let nonce = CspNonce::lazy();
            request.extensions_mut().insert(nonce.clone());
            nonce
        });
        ResponseFuture::new(
            self.inner.call(request),
            Arc::clone(&self.config),
            https,
            nonce,
        )
    }
}
