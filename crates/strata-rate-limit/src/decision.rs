//! What a store decided, per policy.

use std::time::Duration;

use smallvec::SmallVec;

use crate::Policy;

/// The outcome of one policy for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyState {
    pub(crate) policy: Policy,
    pub(crate) limited: bool,
    pub(crate) remaining: u64,
    pub(crate) reset: Duration,
    pub(crate) retry_after: Duration,
}

impl PolicyState {
    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Whether this policy refused the request.
    pub fn is_limited(&self) -> bool {
        self.limited
    }

    /// Requests of cost 1 still allowed right now, after this one.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Time until the quota is fully replenished.
    pub fn reset(&self) -> Duration {
        self.reset
    }

    /// When limited, the time until the request would be allowed; zero
    /// otherwise.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

/// Per-policy states, inline for the usual one or two policies.
pub(crate) type States = SmallVec<[PolicyState; 2]>;

/// The outcome of all policies of a rule for one request: allowed (every
/// policy consumed) or limited (none did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub(crate) allowed: bool,
    pub(crate) states: States,
}

impl Decision {
    /// Whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        self.allowed
    }

    /// Each policy's state, in the rule's order.
    pub fn policies(&self) -> &[PolicyState] {
        &self.states
    }

    /// The policies that refused the request.
    pub fn violated(&self) -> impl Iterator<Item = &PolicyState> {
        self.states.iter().filter(|state| state.limited)
    }

    /// The time until every violated policy would allow the request; zero
    /// when allowed.
    pub fn retry_after(&self) -> Duration {
        self.violated()
            .map(|state| state.retry_after)
            .max()
            .unwrap_or_default()
    }

    /// The policy state with the fewest remaining requests (the one legacy
    /// `X-RateLimit-*` headers describe).
    pub fn tightest(&self) -> Option<&PolicyState> {
        self.states
            .iter()
            .min_by_key(|state| (!state.limited, state.remaining))
    }
}

/// One policy's numbers, without the policy (the layer's hot path names
/// the policy by its position in the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) limited: bool,
    pub(crate) remaining: u64,
    pub(crate) reset: Duration,
    pub(crate) retry_after: Duration,
}

/// A [`Decision`] whose per-policy numbers are in the rule's order, without
/// a copy of each policy: what the stores compute, turned into a public
/// `Decision` only when one is handed out (a refusal, [`Store::check`](crate::Store::check)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Evaluation {
    pub(crate) allowed: bool,
    pub(crate) states: SmallVec<[Counts; 2]>,
}

impl Evaluation {
    /// See [`Decision::retry_after`].
    pub(crate) fn retry_after(&self) -> Duration {
        self.states
            .iter()
            .filter(|state| state.limited)
            .map(|state| state.retry_after)
            .max()
            .unwrap_or_default()
    }

    /// See [`Decision::tightest`]: the index and numbers of the policy with
    /// the fewest remaining requests.
    pub(crate) fn tightest(&self) -> Option<(usize, &Counts)> {
        self.states
            .iter()
            .enumerate()
            .min_by_key(|(_, state)| (!state.limited, state.remaining))
    }

    /// The public form, naming each policy of the rule.
    pub(crate) fn into_decision(self, policies: &[Policy]) -> Decision {
        Decision {
            allowed: self.allowed,
            states: policies
                .iter()
                .zip(self.states)
                .map(|(policy, counts)| PolicyState {
                    policy: policy.clone(),
                    limited: counts.limited,
                    remaining: counts.remaining,
                    reset: counts.reset,
                    retry_after: counts.retry_after,
                })
                .collect(),
        }
    }
}

/// What the backend said about a request, its outage policy applied.
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

/// GCRA in integer time units (nanoseconds in memory, microseconds in the
/// Redis script, which mirrors this arithmetic line by line). This is the
/// crate's only implementation of the algorithm: the memory store decides
/// with it, and the Redis store derives its numbers with it from what the
/// script returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    /// Emission interval.
    pub(crate) t: u64,
    /// Burst size.
    pub(crate) burst: u64,
}

/// The result of [`Gcra::eval`], in the same units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Eval {
    pub(crate) allowed: bool,
    pub(crate) new_tat: u64,
    pub(crate) remaining: u64,
    pub(crate) reset: u64,
    pub(crate) retry: u64,
}

impl Gcra {
    /// The tolerance: how far ahead of `now` the arrival time may be.
    #[inline]
    fn tau(self) -> u64 {
        self.t.saturating_mul(self.burst)
    }

    /// The arrival time a request starts from (`None`, or a time already
    /// past: the key has its whole burst), the one it would leave, and
    /// whether that fits.
    #[inline]
    fn step(self, tat: Option<u64>, now: u64, cost: u64) -> (u64, u64, bool) {
        let tat = tat.unwrap_or(now).max(now);
        let new_tat = tat.saturating_add(cost.saturating_mul(self.t));
        (tat, new_tat, new_tat - now <= self.tau())
    }

    /// [`eval`](Self::eval) without the numbers: the new arrival time to
    /// store when the request fits, `None` when it is refused.
    #[inline]
    pub(crate) fn admit(self, tat: Option<u64>, now: u64, cost: u64) -> Option<u64> {
        let (_, new_tat, allowed) = self.step(tat, now, cost);
        allowed.then_some(new_tat)
    }

    /// Evaluates a request of `cost` at `now` against the stored theoretical
    /// arrival time `tat` (`None`: a fresh key).
    #[inline]
    pub(crate) fn eval(self, tat: Option<u64>, now: u64, cost: u64) -> Eval {
        let tau = self.tau();
        let t = self.t.max(1);
        let (tat, new_tat, allowed) = self.step(tat, now, cost);
        if allowed {
            Eval {
                allowed: true,
                new_tat,
                remaining: (tau - (new_tat - now)) / t,
                reset: new_tat - now,
                retry: 0,
            }
        } else {
            Eval {
                allowed: false,
                new_tat: tat,
                remaining: tau.saturating_sub(tat - now) / t,
                reset: tat - now,
                retry: new_tat - now - tau,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_per_interval() {
        let gcra = Gcra { t: 10, burst: 3 };
        let mut tat = None;
        for remaining in [2, 1, 0] {
            let eval = gcra.eval(tat, 100, 1);
            assert!(eval.allowed);
            assert_eq!(eval.remaining, remaining);
            tat = Some(eval.new_tat);
        }
        let denied = gcra.eval(tat, 100, 1);
        assert!(!denied.allowed);
        assert_eq!(denied.retry, 10);
        assert_eq!(denied.reset, 30);
        assert_eq!(denied.new_tat, 130);
        assert!(gcra.eval(tat, 110, 1).allowed);
        assert_eq!(gcra.admit(tat, 100, 1), None);
        assert_eq!(gcra.admit(tat, 110, 1), Some(140));
    }

    #[test]
    fn cost_above_burst_is_never_allowed() {
        let gcra = Gcra { t: 10, burst: 3 };
        let eval = gcra.eval(None, 0, 4);
        assert!(!eval.allowed);
        assert_eq!(eval.retry, 10);
        assert_eq!(eval.remaining, 3);
    }
}
