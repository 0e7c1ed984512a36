//! What the layer does with a request, before and after the store decides:
//! its key, rule and cost, then pass (with headers) or refuse.

use std::sync::atomic::{AtomicBool, Ordering};

use http::request::Parts;
use http::{Request, Response};

use crate::config::{MissingKey, PreparedRule, Shared};
use crate::decision::{Evaluation, Outcome};
use crate::headers::Headers;
use crate::rejection::{OnRejection, Rejection};
use crate::{HeaderStyle, Key, Policy};

/// What to do with the request, decided before the inner service runs.
pub(crate) enum Verdict<B> {
    /// Call the inner service, then add these headers.
    Pass(Option<Headers>),
    /// Answer with this response.
    Refuse(Response<B>),
}

/// The missing client address has been logged (once per process).
static WARNED_NO_ADDRESS: AtomicBool = AtomicBool::new(false);

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
    pub(crate) fn quiet(&self) -> bool {
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
    pub(crate) fn plan(&self, parts: &Parts) -> Option<(Key, usize, u32)> {
        if self.skip.as_ref().is_some_and(|skip| skip(parts)) {
            return None;
        }
        let (key, rule) = self.tiers.resolve(parts);
        let key = self.key_or_missing(key, rule, &parts.uri)?;
        let cost = self.cost.as_ref().map_or(1, |cost| cost(parts));
        Some((key, rule, cost))
    }

    /// [`plan`](Self::plan) without splitting the request, when no setting
    /// needs its [`Parts`] (no skip, cost or selector closure, no key
    /// closure): the default rule at cost 1.
    #[inline]
    pub(crate) fn plan_head<B>(&self, request: &Request<B>) -> Option<(Key, usize, u32)> {
        let key = self
            .tiers
            .resolve_head(request.headers(), request.extensions());
        let key = self.key_or_missing(key, 0, request.uri())?;
        Some((key, 0, 1))
    }

    #[inline]
    fn key_or_missing(&self, key: Option<Key>, rule: usize, uri: &http::Uri) -> Option<Key> {
        match key {
            Some(key) => Some(key),
            None => self.missing(rule, uri),
        }
    }

    /// A request whose rule found no key: counted, logged, then
    /// [`MissingKey`] decides.
    #[cold]
    fn missing(&self, rule: usize, uri: &http::Uri) -> Option<Key> {
        let rule = self.rules.get(rule);
        #[cfg(feature = "prometheus")]
        if let (Some(metrics), Some(rule)) = (&self.metrics, rule) {
            metrics.missing_key(&rule.label);
        }
        let by_client_ip = rule.is_some_and(|rule| rule.by_client_ip);
        if by_client_ip && !WARNED_NO_ADDRESS.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                missing_key = ?self.missing_key,
                "rate limit: no client address on this request, so `KeyBy::client_ip()` \
                 found no key ({}). Record the peer address: serve axum with \
                 `into_make_service_with_connect_info::<SocketAddr>()` and keep the \
                 `axum` feature of strata-rate-limit (on by default), insert the peer \
                 `SocketAddr` into the request extensions (hyper), or put \
                 `strata_core::ResolveClientIpLayer` outside the rate limit. Logged once \
                 per process; every such request is counted in \
                 `strata_rate_limit_missing_key_total`.",
                match self.missing_key {
                    MissingKey::Allow => "requests pass without a limit",
                    MissingKey::Shared => "requests share the `missing` bucket",
                },
            );
        } else {
            tracing::debug!(uri = %uri, "no rate-limit key for this request");
        }
        match self.missing_key {
            MissingKey::Shared => Some(Key::new("missing")),
            MissingKey::Allow => None,
        }
    }
}
