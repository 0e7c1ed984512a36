//! The conformance suite against `RedisStore` on a real `redis-server`.
#![cfg(feature = "redis")]

mod common;

use common::Clock;
use strata_core::redis::RedisPoolBuilder;
use strata_rate_limit::RedisStore;
use strata_testkit::redis::{shared, unique_prefix};

fn store() -> RedisStore {
    let pool = RedisPoolBuilder::from_url(shared().url())
        .expect("valid url")
        .command_timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("pool");
    drop(pool.connect_pool());
    RedisStore::new(pool)
        .prefix(unique_prefix("conformance"))
        .timeout(std::time::Duration::from_secs(2))
}

conformance_suite!(
    store(),
    Clock::Real,
    flavor = "multi_thread",
    worker_threads = 2
);

/// Concurrent decisions are sent together (many per script call): they
/// must come out exactly as if sent one by one.
mod batched {
    use std::sync::Arc;
    use std::time::Duration;

    use strata_core::redis::RedisPoolBuilder;
    use strata_core::redis::fred::clients::Pool;
    use strata_core::redis::fred::prelude::*;
    use strata_rate_limit::{Key, Policy, Quota, RedisStore, Store};
    use strata_testkit::redis::{RedisServer, shared, unique_prefix};

    async fn store_on(url: &str, prefix: String) -> (RedisStore, Pool) {
        let pool = RedisPoolBuilder::from_url(url)
            .expect("valid url")
            .command_timeout(Duration::from_secs(2))
            .connect()
            .await
            .expect("pool");
        assert!(
            strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
            "connected"
        );
        let store = RedisStore::new(pool.clone())
            .prefix(prefix)
            .timeout(Duration::from_secs(2));
        (store, pool)
    }

    /// Runs `n` concurrent checks of `key` against `policies`; how many
    /// were allowed.
    async fn allowed(store: &Arc<RedisStore>, key: &Key, policies: &[Policy], n: usize) -> usize {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (store, key, policies) = (Arc::clone(store), key.clone(), policies.to_vec());
                tokio::spawn(async move {
                    store
                        .check(&key, &policies, 1)
                        .await
                        .expect("decision")
                        .is_allowed()
                })
            })
            .collect();
        let mut allowed = 0;
        for task in tasks {
            allowed += usize::from(task.await.expect("task"));
        }
        allowed
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_decisions_on_one_key_never_over_grant() {
        let (store, _pool) = store_on(shared().url(), unique_prefix("batch-one-key")).await;
        let store = Arc::new(store);
        let policies = [Policy::new("p", Quota::per_hour(50))];
        let key = Key::new("hot");
        assert_eq!(allowed(&store, &key, &policies, 400).await, 50);
        assert!(
            !store
                .check(&key, &policies, 1)
                .await
                .expect("decision")
                .is_allowed()
        );
    }

    /// Polls `future` once.
    async fn poll_once<F: Future + Unpin>(future: &mut F) {
        tokio::select! {
            biased;
            _ = future => panic!("finished on its first poll"),
            () = std::future::ready(()) => {}
        }
    }

    /// The decision that leads a batch is cancelled (its request dropped)
    /// before it sends, and again while its call is in flight: the decision
    /// that queued behind it is still answered, and counted once.
    #[tokio::test(flavor = "current_thread")]
    async fn a_cancelled_leader_leaves_no_decision_waiting() {
        let (store, _pool) = store_on(shared().url(), unique_prefix("batch-cancel")).await;
        let policies = [Policy::new("p", Quota::per_hour(10))];
        for (round, in_flight) in [(0, false), (1, true)] {
            let (first, second) = (
                Key::new(format!("lead-{round}")),
                Key::new(format!("wait-{round}")),
            );
            let mut leader = Box::pin(store.check(&first, &policies, 1));
            let mut waiting = Box::pin(store.check(&second, &policies, 1));
            poll_once(&mut leader).await; // queued; yields before taking
            poll_once(&mut waiting).await; // queued behind it
            if in_flight {
                poll_once(&mut leader).await; // took both; the call is out
            }
            drop(leader);
            let decision = tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("answered")
                .expect("decision");
            assert!(decision.is_allowed(), "round {round}");
            assert_eq!(decision.policies()[0].remaining(), 9, "round {round}");
            // The cancelled leader's own decision was sent at most once.
            let state = store.check(&first, &policies, 0).await.expect("read");
            let remaining = state.policies()[0].remaining();
            if in_flight {
                assert_eq!(remaining, 9, "sent with the batch");
            } else {
                assert!(remaining >= 9, "round {round}: {remaining}");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_weighted_decisions_spend_exactly_the_quota() {
        let (store, _pool) = store_on(shared().url(), unique_prefix("batch-costs")).await;
        let store = Arc::new(store);
        let policies = [Policy::new("p", Quota::per_hour(50))];
        let key = Key::new("weighted");
        // Batches of one cost take the specialised loop; mixed ones the
        // general one. Either way the units granted add up to the quota.
        let tasks: Vec<_> = (0..120_u32)
            .map(|i| {
                let store = Arc::clone(&store);
                let key = key.clone();
                let policies = policies.clone();
                let cost = if i < 60 { 3 } else { 1 + i % 2 };
                tokio::spawn(async move {
                    let decision = store.check(&key, &policies, cost).await.expect("decision");
                    if decision.is_allowed() { cost } else { 0 }
                })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            granted += task.await.expect("task");
        }
        let state = store.check(&key, &policies, 0).await.expect("read");
        let remaining = state.policies()[0].remaining();
        assert_eq!(u64::from(granted) + remaining, 50, "granted {granted}");
        assert!(
            remaining < 3,
            "a cost-1 or cost-2 request still fits: {remaining}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mixed_keys_and_rules_in_one_batch_keep_each_quota() {
        let (store, _pool) = store_on(shared().url(), unique_prefix("batch-mixed")).await;
        let store = Arc::new(store);
        let single = [Policy::new("a", Quota::per_hour(6))];
        let both = [
            Policy::new("a", Quota::per_hour(6)),
            Policy::new("b", Quota::per_hour(3)),
        ];
        let keys: Vec<Key> = (0..4).map(|i| Key::new(format!("client-{i}"))).collect();
        // Every key gets single-policy and two-policy decisions at once.
        let tasks: Vec<_> = (0..160)
            .map(|i| {
                let store = Arc::clone(&store);
                let index = (i / 2) % keys.len();
                let key = keys[index].clone();
                let policies = if i % 2 == 0 {
                    single.to_vec()
                } else {
                    both.to_vec()
                };
                tokio::spawn(async move {
                    let decision = store.check(&key, &policies, 1).await.expect("decision");
                    (index, policies.len(), decision.is_allowed())
                })
            })
            .collect();
        let mut per_key = vec![(0, 0); keys.len()];
        for task in tasks {
            let (key, n, allowed) = task.await.expect("task");
            if allowed {
                if n == 1 {
                    per_key[key].0 += 1;
                } else {
                    per_key[key].1 += 1;
                }
            }
        }
        for (key, (single_allowed, both_allowed)) in keys.iter().zip(per_key) {
            // `a` is shared by both rules; `b` only counts two-policy ones.
            assert_eq!(single_allowed + both_allowed, 6, "{key}");
            assert!(both_allowed <= 3, "{key}: {both_allowed}");
            let state = store.check(key, &both, 0).await.expect("read");
            assert_eq!(state.policies()[0].remaining(), 0, "{key}");
            assert_eq!(
                state.policies()[1].remaining(),
                3 - both_allowed as u64,
                "{key}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_reloads_the_script_after_a_flush() {
        let server = RedisServer::start();
        let (store, pool) = store_on(server.url(), "batch-flush:".to_owned()).await;
        let store = Arc::new(store);
        let policies = [Policy::new("p", Quota::per_hour(30))];
        let key = Key::new("flushed");
        assert_eq!(allowed(&store, &key, &policies, 10).await, 10);
        let () = pool.script_flush(false).await.expect("SCRIPT FLUSH");
        // The batch's EVALSHA fails with NOSCRIPT; the EVAL retry decides
        // each decision once.
        assert_eq!(allowed(&store, &key, &policies, 40).await, 20);
        let state = store.check(&key, &policies, 0).await.expect("read");
        assert_eq!(state.policies()[0].remaining(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn decisions_pending_together_share_script_calls() {
        use strata_core::redis::fred::types::{ClusterHash, CustomCommand};

        let server = RedisServer::start();
        let (store, pool) = store_on(server.url(), "batch-calls:".to_owned()).await;
        let policies = [Policy::new("p", Quota::per_hour(1000))];
        // Loads the script, then counts from zero.
        assert!(
            store
                .check(&Key::new("warm"), &policies, 1)
                .await
                .expect("decision")
                .is_allowed()
        );
        let info = CustomCommand::new_static("CONFIG", ClusterHash::Random, false);
        let () = pool
            .custom(info, vec!["RESETSTAT"])
            .await
            .expect("CONFIG RESETSTAT");
        let keys: Vec<Key> = (0..64).map(|i| Key::new(format!("client-{i}"))).collect();
        // Polled together in one task: all pending before any call leaves.
        let decisions =
            futures_util::future::join_all(keys.iter().map(|key| store.check(key, &policies, 1)))
                .await;
        assert!(
            decisions
                .into_iter()
                .all(|d| d.expect("decision").is_allowed())
        );
        let info = CustomCommand::new_static("INFO", ClusterHash::Random, false);
        let stats: String = pool.custom(info, vec!["commandstats"]).await.expect("INFO");
        let calls: usize = stats
            .lines()
            .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
            .and_then(|rest| rest.split(',').next())
            .and_then(|calls| calls.parse().ok())
            .expect("EVALSHA counted");
        assert!(calls < 8, "{calls} script calls for 64 decisions");
    }
}
