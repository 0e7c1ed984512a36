//! The [`RateLimit`] service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use tower_service::Service;

use crate::decision::Evaluation;
use crate::future::ResponseFuture;
use crate::headers::{Headers, RuleHeaders};
use crate::layer::MissingKey;
use crate::rejection::{OnRejection, Rejection};
use crate::{HeaderStyle, Key, MemoryStore, Policy, Tiers};

type PartsFn<T> = Arc<dyn Fn(&Parts) -> T + Send + Sync>;

/// Where the layer keeps its state.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Memory(MemoryStore),
    #[cfg(feature = "redis")]
    Redis(Arc<crate::RedisStore>),
}

/// A rule with what can be computed before the first request.
#[derive(Debug)]
pub(crate) struct PreparedRule {
    pub(crate) policies: Arc<[Policy]>,
    pub(crate) headers: RuleHeaders,
    pub(crate) memory: Option<crate::store::memory::Prepared>,
}

/// The layer's settings, shared by every clone of the service.
pub(crate) struct Shared {
    pub(crate) tiers: Tiers,
    pub(crate) rules: Vec<PreparedRule>,
    pub(crate) backend: Backend,
    pub(crate) headers: HeaderStyle,
    pub(crate) dry_run: bool,
    pub(crate) skip: Option<PartsFn<bool>>,
    pub(crate) cost: Option<PartsFn<u32>>,
    pub(crate) missing_key: MissingKey,
    /// Some setting takes the request's [`Parts`] (see [`Shared::plan_head`]).
    pub(crate) needs_parts: bool,
    #[cfg(feature = "prometheus")]
    pub(crate) metrics: Option<crate::RateLimitMetrics>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("tiers", &self.tiers)
            .field("backend", &self.backend)
            .field("headers", &self.headers)
            .field("dry_run", &self.dry_run)
            .field("missing_key", &self.missing_key)
            .finish_non_exhaustive()
    }
}

/// What the backend said about a request.
#[derive(Debug)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Outcome {
    /// A decision (from the store or the deny cache).
    Decided(Evaluation),
    /// The store failed; the memory fallback decided.
    Fallback(Evaluation),
    /// The store failed and the policy is to let requests through.
    FailOpen,
    /// The store failed and the policy is to refuse with 503.
    FailClosed,
}

/// What to do with the request, decided before the inner service runs.
pub(crate) enum Verdict<B> {
    /// Call the inner service, then add these headers.
    Pass(Option<Headers>),
    /// Answer with this response.
    Refuse(Response<B>),
}

impl Shared {
    /// Turns an outcome into a verdict, recording metrics.
    pub(crate) fn verdict<B, R: OnRejection<B>>(
        &self,
        rule: &PreparedRule,
        outcome: Outcome,
        on_rejection: &R,
    ) -> Verdict<B> {
        if !matches!(outcome, Outcome::Decided(_)) {
            self.record_store_error(matches!(outcome, Outcome::Fallback(_)));
        }
        match outcome {
            Outcome::Decided(decision) | Outcome::Fallback(decision) => {
                self.record(&rule.policies, &decision);
                if decision.allowed || self.dry_run {
                    if !decision.allowed {
                        tracing::debug!(
                            retry_after = ?decision.retry_after(),
                            "rate limit exceeded (dry run: request allowed)"
                        );
                    }
                    Verdict::Pass(if self.headers == HeaderStyle::None {
                        None
                    } else {
                        Headers::new(
                            self.headers,
                            &rule.headers,
                            &rule.policies,
                            &decision,
                            false,
                        )
                    })
                } else {
                    tracing::debug!(retry_after = ?decision.retry_after(), "rate limit exceeded");
                    let headers =
                        Headers::new(self.headers, &rule.headers, &rule.policies, &decision, true);
                    let rejection =
                        Rejection::Limited(Box::new(decision.into_decision(&rule.policies)));
                    let mut response = on_rejection.on_rejection(&rejection);
                    if let Some(headers) = headers {
                        headers.apply(response.headers_mut());
                    }
                    response.extensions_mut().insert(rejection);
                    Verdict::Refuse(response)
                }
            }
            Outcome::FailOpen => Verdict::Pass(None),
            Outcome::FailClosed if self.dry_run => {
                // Dry run never refuses, not even when the store is down.
                tracing::debug!("rate limit store unavailable (dry run: request allowed)");
                Verdict::Pass(None)
            }
            Outcome::FailClosed => {
                let rejection = Rejection::StoreUnavailable;
                let mut response = on_rejection.on_rejection(&rejection);
                response
                    .headers_mut()
                    .entry(http::header::RETRY_AFTER)
                    .or_insert(crate::headers::retry_after(rejection.retry_after()));
                response.extensions_mut().insert(rejection);
                Verdict::Refuse(response)
            }
        }
    }

    /// Whether an allowed request is passed on as is: no headers to add,
    /// no metrics to record.
    #[inline]
    fn quiet(&self) -> bool {
        #[cfg(feature = "prometheus")]
        if self.metrics.is_some() {
            return false;
        }
        self.headers == HeaderStyle::None
    }

    fn record_store_error(&self, fallback: bool) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.store_error(fallback);
        }
        #[cfg(not(feature = "prometheus"))]
        let _ = fallback;
    }

    fn record(&self, policies: &[Policy], decision: &Evaluation) {
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.record(policies, decision, self.dry_run);
        }
        #[cfg(not(feature = "prometheus"))]
        let _ = (policies, decision);
    }

    /// The key, rule index and cost of a request; `None`: let it through.
    fn plan(&self, parts: &Parts) -> Option<(Key, usize, u32)> {
        if self.skip.as_ref().is_some_and(|skip| skip(parts)) {
            return None;
        }
        let (key, rule) = self.tiers.resolve(parts);
        let key = self.key_or_missing(key, &parts.uri)?;
        let cost = self.cost.as_ref().map_or(1, |cost| cost(parts));
        Some((key, rule, cost))
    }

    /// [`plan`](Self::plan) without splitting the request, when no setting
    /// needs its [`Parts`] (no skip, cost or selector closure, no key
    /// closure): the default rule at cost 1.
    fn plan_head<B>(&self, request: &Request<B>) -> Option<(Key, usize, u32)> {
        let key = self
            .tiers
            .resolve_head(request.headers(), request.extensions());
        let key = self.key_or_missing(key, request.uri())?;
        Some((key, 0, 1))
    }

    #[inline]
    fn key_or_missing(&self, key: Option<Key>, uri: &http::Uri) -> Option<Key> {
        match (key, self.missing_key) {
            (Some(key), _) => Some(key),
            (None, MissingKey::Shared) => Some(Key::new("missing")),
            (None, MissingKey::Allow) => {
                tracing::debug!(uri = %uri, "no rate-limit key for this request");
                #[cfg(feature = "prometheus")]
                if let Some(metrics) = &self.metrics {
                    metrics.unkeyed();
                }
                None
            }
        }
    }
}

/// Rate-limits requests to the inner service; built by
/// [`RateLimitLayer`](crate::RateLimitLayer).
pub struct RateLimit<S, R = crate::DefaultRejection> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
    pub(crate) on_rejection: R,
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
    type Future = ResponseFuture<S::Future, ResB, S::Error>;

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
