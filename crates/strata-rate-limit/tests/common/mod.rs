//! The conformance suite every `Store` must pass, and shared test helpers.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use strata_rate_limit::{Decision, Key, Policy, Quota, Store};

/// How a suite makes time pass: tokio's paused clock (memory) or real time
/// (Redis, whose script reads the server clock).
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    Paused,
    Real,
}

impl Clock {
    pub async fn advance(self, by: Duration) {
        match self {
            Self::Paused => tokio::time::advance(by).await,
            Self::Real => tokio::time::sleep(by).await,
        }
    }
}

pub async fn check<S: Store>(store: &S, key: &Key, policies: &[Policy], cost: u32) -> Decision {
    store
        .check(key, policies, cost)
        .await
        .expect("the store answers")
}

fn remaining(decision: &Decision) -> Vec<u64> {
    decision.policies().iter().map(|s| s.remaining()).collect()
}

impl Clock {
    /// How much longer than on the paused clock a unit takes to refill: on
    /// the real clock (Redis reads the server's), long enough that a slow
    /// or loaded machine never sees a refill in the middle of a burst.
    fn scale(self) -> u32 {
        match self {
            Self::Paused => 1,
            Self::Real => 10,
        }
    }
}

/// Four at once, then one per 200 ms (2 s on the real clock).
pub async fn burst_then_refill<S: Store>(store: &S, clock: Clock) {
    let unit = Duration::from_millis(200) * clock.scale();
    let policies = [Policy::new("burst", Quota::new(4, unit * 4))];
    let key = Key::new("burst-client");
    for expected in [3, 2, 1, 0] {
        let decision = check(store, &key, &policies, 1).await;
        assert!(decision.is_allowed(), "request within the burst refused");
        assert_eq!(remaining(&decision), [expected]);
    }
    let refused = check(store, &key, &policies, 1).await;
    assert!(!refused.is_allowed(), "request past the burst allowed");
    assert_eq!(remaining(&refused), [0]);
    let retry = refused.retry_after();
    assert!(
        retry > Duration::ZERO && retry <= unit,
        "retry after {retry:?}"
    );
    assert!(refused.policies()[0].is_limited());

    clock.advance(unit + unit / 20).await;
    let refilled = check(store, &key, &policies, 1).await;
    assert!(
        refilled.is_allowed(),
        "one unit did not refill after {unit:?}"
    );
    assert_eq!(remaining(&refilled), [0]);
    assert!(!check(store, &key, &policies, 1).await.is_allowed());
}

/// A refusal reports the wait until the next unit, not more and not 0: the
/// unit's 60 s less the time since the first request (none on the paused
/// clock).
pub async fn retry_after_is_the_wait_for_the_next_unit<S: Store>(store: &S) {
    let policies = [Policy::new("slow", Quota::per_minute(1))];
    let key = Key::new("slow-client");
    let started = tokio::time::Instant::now();
    let first = check(store, &key, &policies, 1).await;
    assert!(first.is_allowed());
    assert_eq!(first.policies()[0].reset().as_secs_f64().ceil(), 60.0);
    let refused = check(store, &key, &policies, 1).await;
    let elapsed = started.elapsed();
    assert!(!refused.is_allowed());
    let retry = refused.retry_after();
    assert!(
        retry + elapsed >= Duration::from_secs(60) && retry <= Duration::from_secs(60),
        "{retry:?} after {elapsed:?}"
    );
}

/// Remaining and reset after a first request.
pub async fn reports_remaining_and_reset<S: Store>(store: &S) {
    let policies = [Policy::new("per-minute", Quota::per_minute(60))];
    let decision = check(store, &Key::new("fresh"), &policies, 1).await;
    let state = &decision.policies()[0];
    assert_eq!(state.remaining(), 59);
    assert_eq!(state.reset(), Duration::from_secs(1));
    assert_eq!(state.retry_after(), Duration::ZERO);
    assert_eq!(state.policy().name(), "per-minute");
}

/// Either every policy consumes or none does.
pub async fn multi_policy_is_atomic<S: Store>(store: &S) {
    let wide = Policy::new("wide", Quota::per_minute(5));
    let narrow = Policy::new("narrow", Quota::per_minute(2));
    let both = [wide.clone(), narrow.clone()];
    let key = Key::new("multi-client");
    assert_eq!(remaining(&check(store, &key, &both, 1).await), [4, 1]);
    assert_eq!(remaining(&check(store, &key, &both, 1).await), [3, 0]);
    for _ in 0..3 {
        let refused = check(store, &key, &both, 1).await;
        assert!(!refused.is_allowed());
        let states = refused.policies();
        assert!(!states[0].is_limited(), "the wide policy did not refuse");
        assert!(states[1].is_limited(), "the narrow policy refused");
        // The wide policy was not charged for refused requests.
        assert_eq!(states[0].remaining(), 3);
    }
    let wide_only = check(store, &key, std::slice::from_ref(&wide), 0).await;
    assert_eq!(
        remaining(&wide_only),
        [3],
        "refused requests consumed the wide policy"
    );
    // The first policy refusing leaves the second untouched too.
    let first_refuses = [narrow, Policy::new("other", Quota::per_minute(10))];
    let refused = check(store, &key, &first_refuses, 1).await;
    assert!(!refused.is_allowed());
    assert_eq!(
        remaining(&check(store, &key, &first_refuses[1..], 0).await),
        [10]
    );
}

/// A request of cost n consumes n units; more than the burst never passes.
pub async fn cost_consumes_units<S: Store>(store: &S) {
    let policies = [Policy::new("weighted", Quota::per_minute(5))];
    let key = Key::new("weighted-client");
    let started = tokio::time::Instant::now();
    let first = check(store, &key, &policies, 3).await;
    assert!(first.is_allowed());
    assert_eq!(remaining(&first), [2]);
    let refused = check(store, &key, &policies, 3).await;
    assert!(!refused.is_allowed());
    assert_eq!(remaining(&refused), [2], "a refused request consumed units");
    // One unit missing, 12 s each, less the time since the first request.
    let retry = refused.retry_after();
    assert!(
        retry + started.elapsed() >= Duration::from_secs(12) - Duration::from_millis(1)
            && retry <= Duration::from_secs(12),
        "{retry:?}"
    );
    assert!(check(store, &key, &policies, 2).await.is_allowed());
    assert!(
        !check(store, &Key::new("huge"), &policies, 6)
            .await
            .is_allowed()
    );
    let peek = check(store, &key, &policies, 0).await;
    assert!(peek.is_allowed());
    assert_eq!(remaining(&peek), [0]);
}

/// Keys and policies do not share state.
pub async fn keys_are_independent<S: Store>(store: &S) {
    let policies = [Policy::new("single", Quota::per_minute(1))];
    assert!(
        check(store, &Key::new("a"), &policies, 1)
            .await
            .is_allowed()
    );
    assert!(
        !check(store, &Key::new("a"), &policies, 1)
            .await
            .is_allowed()
    );
    assert!(
        check(store, &Key::new("b"), &policies, 1)
            .await
            .is_allowed()
    );
    assert!(
        check(
            store,
            &Key::ip("192.0.2.1".parse().expect("ip")),
            &policies,
            1
        )
        .await
        .is_allowed()
    );
    let other = [Policy::new("other-single", Quota::per_minute(1))];
    assert!(check(store, &Key::new("a"), &other, 1).await.is_allowed());
}

/// Runs the conformance suite: `$store` is an async block building a fresh
/// store, `$clock` a [`Clock`], `$($attr)*` the arguments of `tokio::test`.
#[macro_export]
macro_rules! conformance_suite {
    ($store:expr, $clock:expr, $($attr:tt)*) => {
        mod conformance {
            use super::*;

            #[tokio::test($($attr)*)]
            async fn burst_then_refill() {
                common::burst_then_refill(&$store, $clock).await;
            }

            #[tokio::test($($attr)*)]
            async fn retry_after_is_the_wait_for_the_next_unit() {
                common::retry_after_is_the_wait_for_the_next_unit(&$store).await;
            }

            #[tokio::test($($attr)*)]
            async fn reports_remaining_and_reset() {
                common::reports_remaining_and_reset(&$store).await;
            }

            #[tokio::test($($attr)*)]
            async fn multi_policy_is_atomic() {
                common::multi_policy_is_atomic(&$store).await;
            }

            #[tokio::test($($attr)*)]
            async fn cost_consumes_units() {
                common::cost_consumes_units(&$store).await;
            }

            #[tokio::test($($attr)*)]
            async fn keys_are_independent() {
                common::keys_are_independent(&$store).await;
            }
        }
    };
}
