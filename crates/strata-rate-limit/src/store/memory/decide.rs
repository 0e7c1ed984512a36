//! The memory store's decisions: lock-free for one policy, under the
//! key's lock for several.

use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use smallvec::SmallVec;

use super::limiter::Limiter;
use super::{LOCK_SHARDS, MemoryStore, Prepared};
use crate::decision::{Counts, Eval, Evaluation};
use crate::rule::MAX_POLICIES;
use crate::store::{Store, StoreError};
use crate::{Decision, Key, Policy};

impl MemoryStore {
    /// The decision, synchronously.
    pub(crate) fn decide(&self, key: &Key, policies: &[Policy], cost: u32) -> Evaluation {
        let prepared = self.prepare(&policies[..policies.len().min(MAX_POLICIES)]);
        self.decide_prepared(&prepared, key, policies, cost)
    }

    /// The decision with a rule's limiters already looked up (the layer's
    /// path).
    #[inline]
    pub(crate) fn decide_prepared(
        &self,
        prepared: &Prepared,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> Evaluation {
        let limiters = &prepared.limiters[..prepared.limiters.len().min(policies.len())];
        let Some(limiter) = usual(limiters, cost) else {
            return self.decide_general(limiters, key, cost);
        };
        let now = self.now();
        let (cost, gcra) = (u64::from(cost), limiter.gcra);
        let eval = limiter.update(key, |tat| {
            let eval = gcra.eval(tat, now, cost);
            (eval, eval.allowed.then_some(eval.new_tat))
        });
        self.maybe_sweep(now, limiters);
        let mut states = SmallVec::new();
        states.push(counts(eval));
        Evaluation {
            allowed: eval.allowed,
            states,
        }
    }

    /// Whether the request is allowed, when nothing will read the numbers
    /// (no headers, no metrics): the usual case of
    /// [`decide_prepared`](Self::decide_prepared) with nothing but a `bool`
    /// to return. `false` also means "not the usual case": the caller then
    /// decides in full (a refusal consumed nothing, so deciding again is
    /// sound).
    #[inline]
    pub(crate) fn allow_quietly(&self, prepared: &Prepared, key: &Key, cost: u32) -> bool {
        let Some(limiter) = usual(&prepared.limiters, cost) else {
            return false;
        };
        let now = self.now();
        let (cost, gcra) = (u64::from(cost), limiter.gcra);
        let granted = limiter.update(key, |tat| {
            let next = gcra.admit(tat, now, cost);
            (next.is_some(), next)
        });
        self.maybe_sweep(now, &prepared.limiters);
        granted
    }

    /// [`decide_prepared`](Self::decide_prepared) for several policies, a
    /// policy ever checked with others, or a cost of 0 or above the burst:
    /// every policy is evaluated on the stored state, and only when all of
    /// them allow the request (and its cost is not 0) are the new arrival
    /// times written.
    fn decide_general(&self, limiters: &[Arc<Limiter>], key: &Key, cost: u32) -> Evaluation {
        // Checks of a key whose policies are ever checked together run under
        // the key's lock, so reading every policy and then writing them all
        // races with nothing. Other checks never write here (a single
        // policy's writes take the usual path), so they need no lock.
        let locked = limiters
            .iter()
            .any(|limiter| limiter.multi.load(Ordering::Relaxed));
        let guard = locked.then(|| {
            let shard = self.inner.hasher.hash_one(key) as usize % LOCK_SHARDS;
            self.inner.locks[shard]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        });
        let now = self.now();
        let cost = u64::from(cost);
        let mut evals: SmallVec<[(Option<u64>, Eval); 2]> = SmallVec::new();
        for limiter in limiters {
            let tat = limiter.read(key);
            evals.push((tat, limiter.gcra.eval(tat, now, cost)));
        }
        let allowed = evals.iter().all(|(_, eval)| eval.allowed);
        if allowed && cost > 0 {
            for (limiter, (_, eval)) in limiters.iter().zip(&evals) {
                let new_tat = eval.new_tat;
                limiter.update(key, |_| ((), Some(new_tat)));
            }
        }
        drop(guard);
        self.maybe_sweep(now, limiters);
        let states = limiters
            .iter()
            .zip(evals)
            .map(|(limiter, (tat, eval))| {
                if allowed || !eval.allowed {
                    counts(eval)
                } else {
                    // This policy would allow the request but nothing was
                    // consumed: report its unchanged state.
                    counts(limiter.gcra.eval(tat, now, 0))
                }
            })
            .collect();
        Evaluation { allowed, states }
    }
}

/// The usual case: one policy, never checked with another (no lock,
/// nothing to undo), a cost of at least 1 that fits the burst.
#[inline]
fn usual(limiters: &[Arc<Limiter>], cost: u32) -> Option<&Limiter> {
    let [limiter] = limiters else {
        return None;
    };
    let fits = cost > 0 && u64::from(cost) <= limiter.gcra.burst;
    (fits && !limiter.multi.load(Ordering::Relaxed)).then_some(limiter)
}

/// A policy's numbers from an evaluation in nanoseconds.
fn counts(eval: Eval) -> Counts {
    Counts {
        limited: !eval.allowed,
        remaining: eval.remaining,
        reset: Duration::from_nanos(eval.reset),
        retry_after: Duration::from_nanos(eval.retry),
    }
}

impl Store for MemoryStore {
    fn check(
        &self,
        key: &Key,
        policies: &[Policy],
        cost: u32,
    ) -> impl Future<Output = Result<Decision, StoreError>> + Send {
        std::future::ready(if policies.len() > MAX_POLICIES {
            Err(StoreError::TooManyPolicies)
        } else {
            Ok(self.decide(key, policies, cost).into_decision(policies))
        })
    }

    fn reset(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        std::future::ready(Ok(self.forget(key, policy)))
    }

    fn states(
        &self,
        key: &Key,
        policy: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        std::future::ready(Ok(self.held(key, policy)))
    }
}
