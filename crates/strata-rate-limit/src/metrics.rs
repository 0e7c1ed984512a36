//! Prometheus counters (feature `prometheus`).

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::Policy;
use crate::decision::Evaluation;

/// Counters of a rate-limit layer, registered into a `prometheus::Registry`
/// you supply:
///
/// - `strata_rate_limit_decisions_total{policy, outcome}`: `outcome` is
///   `allowed`, `limited` or `shadow_limited` (dry run). Label cardinality
///   is the number of policies.
/// - `strata_rate_limit_unkeyed_total`: requests without a key, let through.
/// - `strata_rate_limit_store_errors_total`: failed or timed-out store calls.
/// - `strata_rate_limit_fallbacks_total`: decisions taken by the in-memory
///   fallback while the store was failing.
///
/// Register once and hand clones to every layer that should count into the
/// same series (registering twice into one registry is an error).
///
/// ```
/// use strata_rate_limit::RateLimitMetrics;
///
/// let registry = prometheus::Registry::new();
/// let metrics = RateLimitMetrics::register(&registry)?;
/// # let _ = metrics;
/// # Ok::<(), prometheus::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitMetrics {
    decisions: IntCounterVec,
    unkeyed: IntCounter,
    store_errors: IntCounter,
    fallbacks: IntCounter,
}

impl RateLimitMetrics {
    /// Creates the counters and registers them into `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let decisions = IntCounterVec::new(
            Opts::new(
                "strata_rate_limit_decisions_total",
                "Rate-limit decisions by policy and outcome.",
            ),
            &["policy", "outcome"],
        )?;
        let unkeyed = IntCounter::new(
            "strata_rate_limit_unkeyed_total",
            "Requests without a rate-limit key, let through.",
        )?;
        let store_errors = IntCounter::new(
            "strata_rate_limit_store_errors_total",
            "Rate-limit store calls that failed or timed out.",
        )?;
        let fallbacks = IntCounter::new(
            "strata_rate_limit_fallbacks_total",
            "Decisions taken by the in-memory fallback while the store was failing.",
        )?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(unkeyed.clone()))?;
        registry.register(Box::new(store_errors.clone()))?;
        registry.register(Box::new(fallbacks.clone()))?;
        Ok(Self {
            decisions,
            unkeyed,
            store_errors,
            fallbacks,
        })
    }

    pub(crate) fn record(&self, policies: &[Policy], decision: &Evaluation, dry_run: bool) {
        for (policy, state) in policies.iter().zip(&decision.states) {
            let outcome = match (state.limited, dry_run) {
                (false, _) => "allowed",
                (true, false) => "limited",
                (true, true) => "shadow_limited",
            };
            self.decisions
                .with_label_values(&[policy.name(), outcome])
                .inc();
        }
    }

    pub(crate) fn unkeyed(&self) {
        self.unkeyed.inc();
    }

    pub(crate) fn store_error(&self, fallback: bool) {
        self.store_errors.inc();
        if fallback {
            self.fallbacks.inc();
        }
    }
}
