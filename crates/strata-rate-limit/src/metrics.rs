//! Prometheus counters (feature `prometheus`).

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
use strata_core::ConfigError;
use strata_core::metrics::register_all;

use crate::Policy;
use crate::decision::Evaluation;

/// Counters of rate-limit layers, registered into a `prometheus::Registry`
/// you supply:
///
/// - `strata_rate_limit_decisions_total{policy, outcome}`: `outcome` is
///   `allowed`, `limited` or `shadow_limited` (dry run). Label cardinality
///   is the number of policies.
/// - `strata_rate_limit_missing_key_total{rule}`: requests whose rule found
///   no key (let through uncounted, or counted in the shared `missing`
///   bucket, as [`MissingKey`](crate::MissingKey) says). `rule` is the
///   rule's policy names joined with `+` (`per-ip`, `burst+hourly`).
/// - `strata_rate_limit_store_errors_total`: failed or timed-out store calls.
/// - `strata_rate_limit_fallbacks_total`: decisions taken by the in-memory
///   fallback while the store was failing.
///
/// Register once and hand clones to every layer that should count into the
/// same series ([`RateLimitBuilder::metrics`](crate::RateLimitBuilder::metrics)).
/// Registering twice into one registry fails with
/// [`ConfigError::Registry`], and leaves nothing of the second attempt
/// registered.
///
/// ```
/// use strata_core::ConfigError;
/// use strata_rate_limit::RateLimitMetrics;
///
/// let registry = prometheus::Registry::new();
/// let metrics = RateLimitMetrics::register(&registry)?;
/// assert!(matches!(
///     RateLimitMetrics::register(&registry),
///     Err(ConfigError::Registry(_))
/// ));
/// # let _ = metrics;
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitMetrics {
    decisions: IntCounterVec,
    missing_key: IntCounterVec,
    store_errors: IntCounter,
    fallbacks: IntCounter,
}

impl RateLimitMetrics {
    /// Creates the counters and registers them into `registry`: all of
    /// them, or none (a name already registered is
    /// [`ConfigError::Registry`]).
    pub fn register(registry: &Registry) -> Result<Self, ConfigError> {
        register_all(registry, |r| {
            Ok(Self {
                decisions: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_rate_limit_decisions_total",
                        "Rate-limit decisions by policy and outcome.",
                    ),
                    &["policy", "outcome"],
                )?)?,
                missing_key: r.register(IntCounterVec::new(
                    Opts::new(
                        "strata_rate_limit_missing_key_total",
                        "Requests whose rate-limit rule found no key.",
                    ),
                    &["rule"],
                )?)?,
                store_errors: r.register(IntCounter::new(
                    "strata_rate_limit_store_errors_total",
                    "Rate-limit store calls that failed or timed out.",
                )?)?,
                fallbacks: r.register(IntCounter::new(
                    "strata_rate_limit_fallbacks_total",
                    "Decisions taken by the in-memory fallback while the store was failing.",
                )?)?,
            })
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

    pub(crate) fn missing_key(&self, rule: &str) {
        self.missing_key.with_label_values(&[rule]).inc();
    }

    pub(crate) fn store_error(&self, fallback: bool) {
        self.store_errors.inc();
        if fallback {
            self.fallbacks.inc();
        }
    }
}
