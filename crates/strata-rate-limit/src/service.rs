//! The [`RateLimit`] service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::config::{Backend, Shared};
use crate::decision::Outcome;
use crate::future::ResponseFuture;
use crate::rejection::OnRejection;
use crate::verdict::Verdict;

/// Rate-limits requests to the inner service; built by
/// [`RateLimitLayer`](crate::RateLimitLayer).
pub struct RateLimit<S, R = crate::DefaultRejection> {
    inner: S,
    shared: Arc<Shared>,
    on_rejection: R,
}

impl<S, R> RateLimit<S, R> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>, on_rejection: R) -> Self {
        Self {
            inner,
            shared,
            on_rejection,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the rate limit, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, R: Clone> Clone for RateLimit<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for RateLimit<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<S, ReqB, ResB, R> Service<Request<ReqB>> for RateLimit<S, R>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqB: Send + 'static,
    ResB: Send + 'static,
    R: OnRejection<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let mut request = request;
        // The request is moved only when a setting needs its parts: it is
        // large, and each move is a copy.
        let plan = if self.shared.needs_parts {
            let (parts, body) = request.into_parts();
            let plan = self.shared.plan(&parts);
            request = Request::from_parts(parts, body);
            plan
        } else {
            self.shared.plan_head(&request)
        };
        let Some((key, index, cost)) = plan else {
            return ResponseFuture::inner(self.inner.call(request), None);
        };
        let Some(rule) = self.shared.rules.get(index) else {
            return ResponseFuture::inner(self.inner.call(request), None);
        };
        match &self.shared.backend {
            Backend::Memory(store) => {
                if let Some(prepared) = &rule.memory
                    && self.shared.quiet()
                    && store.allow_quietly(prepared, &key, cost)
                {
                    // What `verdict` would say for an allowed request with
                    // nothing to record and no headers.
                    return ResponseFuture::inner(self.inner.call(request), None);
                }
                let decision = match &rule.memory {
                    Some(prepared) => store.decide_prepared(prepared, &key, &rule.policies, cost),
                    None => store.decide(&key, &rule.policies, cost),
                };
                match self
                    .shared
                    .verdict(rule, Outcome::Decided(decision), &self.on_rejection)
                {
                    Verdict::Pass(headers) => {
                        ResponseFuture::inner(self.inner.call(request), headers)
                    }
                    Verdict::Refuse(response) => ResponseFuture::ready(response),
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis(store) => {
                // The ready service goes into the future; a fresh clone stays.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let store = Arc::clone(store);
                let shared = Arc::clone(&self.shared);
                let on_rejection = self.on_rejection.clone();
                ResponseFuture::boxed(Box::pin(async move {
                    let Some(rule) = shared.rules.get(index) else {
                        return inner.call(request).await;
                    };
                    let outcome = store.decide(&key, &rule.policies, cost).await;
                    match shared.verdict(rule, outcome, &on_rejection) {
                        Verdict::Pass(headers) => {
                            let mut response = inner.call(request).await?;
                            if let Some(headers) = headers {
                                headers.apply(response.headers_mut());
                            }
                            Ok(response)
                        }
                        Verdict::Refuse(response) => Ok(response),
                    }
                }))
            }
        }
    }
}
