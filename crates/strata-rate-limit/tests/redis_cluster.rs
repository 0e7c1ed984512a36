//! `RedisStore` on a real 3-master Redis Cluster: the conformance suite,
//! slots and batching, and the outage of one master.
#![cfg(feature = "redis")]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::Clock;
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::prelude::*;
use strata_core::redis::fred::types::{ClusterHash, CustomCommand, Value};
use strata_rate_limit::{Key, Policy, Quota, RedisStore, Store};
use strata_testkit::redis::{shared_cluster, unique_prefix};

/// The key the store writes for `key` under the policy named `policy`, as
/// the store itself renders it (`RedisStore::redis_key`).
fn stored_key(prefix: &str, key: &Key, policy: &str) -> String {
    // The store renders its own keys; a pool that never connects will do.
    let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:1")
        .expect("valid url")
        .build()
        .expect("pool");
    RedisStore::new(pool).prefix(prefix).redis_key(key, policy)
}

/// A pool on `url` (a cluster or one node), connected.
async fn pool(url: &str, command_timeout: Duration) -> Pool {
    let pool = RedisPoolBuilder::from_url(url)
        .expect("valid url")
        .command_timeout(command_timeout)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .connect()
        .await
        .expect("pool");
    assert!(
        strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
        "connected within 20 s"
    );
    pool
}

/// A store on the shared cluster with its own prefix; the prefix too.
async fn cluster_store(name: &str) -> (RedisStore, Pool, String) {
    let pool = pool(shared_cluster().url(), Duration::from_secs(2)).await;
    let prefix = unique_prefix(name);
    let store = RedisStore::new(pool.clone())
        .prefix(prefix.clone())
        .timeout(Duration::from_secs(2));
    (store, pool, prefix)
}

async fn store() -> RedisStore {
    cluster_store("cluster-conformance").await.0
}

conformance_suite!(
    store().await,
    Clock::Real,
    flavor = "multi_thread",
    worker_threads = 2
);

/// The slot Redis puts `key` in (`CLUSTER KEYSLOT`, asked of the server).
async fn keyslot(pool: &Pool, key: &str) -> u16 {
    let command = CustomCommand::new_static("CLUSTER", ClusterHash::Random, false);
    let slot: i64 = pool
        .custom(command, vec!["KEYSLOT", key])
        .await
        .expect("CLUSTER KEYSLOT");
    u16::try_from(slot).expect("a slot")
}

/// The cluster's slot ranges and the address of the master serving each
/// (`CLUSTER SLOTS`), so this works on an external cluster too.
async fn slot_ranges(pool: &Pool) -> Vec<(i64, i64, String)> {
    let command = CustomCommand::new_static("CLUSTER", ClusterHash::Random, false);
    let slots: Value = pool
        .custom(command, vec!["SLOTS"])
        .await
        .expect("CLUSTER SLOTS");
    slots
        .into_array()
        .into_iter()
        .map(|range| {
            // [start, end, [host, port, id], replicas...]
            let fields = range.into_array();
            let number = |value: &Value| value.as_i64().expect("a number");
            let master = fields[2].clone().into_array();
            let host = master[0].as_string().expect("a host");
            (
                number(&fields[0]),
                number(&fields[1]),
                format!("{host}:{}", number(&master[1])),
            )
        })
        .collect()
}

/// Whether `keys` (under the policy `policy`) are spread over every master.
async fn on_every_master(pool: &Pool, prefix: &str, keys: &[Key], policy: &str) -> bool {
    let ranges = slot_ranges(pool).await;
    let mut masters = BTreeSet::new();
    for key in keys {
        let slot = i64::from(keyslot(pool, &stored_key(prefix, key, policy)).await);
        let (.., master) = ranges
            .iter()
            .find(|(start, end, _)| (*start..=*end).contains(&slot))
            .expect("every slot is served");
        masters.insert(master);
    }
    let all: BTreeSet<_> = ranges.iter().map(|(.., master)| master).collect();
    assert!(all.len() >= 3, "a cluster of {} masters", all.len());
    masters == all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rules_policies_share_one_slot_and_clients_spread_over_every_master() {
    let (store, pool, prefix) = cluster_store("cluster-slots").await;
    let policies = [
        Policy::new("minute", Quota::per_minute(5)),
        Policy::new("hour", Quota::per_hour(50)),
        Policy::new("burst", Quota::new(10, Duration::from_secs(10))),
    ];
    let keys: Vec<Key> = (0..12).map(|i| Key::new(format!("client-{i}"))).collect();
    for key in &keys {
        let decision = store.check(key, &policies, 1).await.expect("decision");
        assert!(decision.is_allowed(), "{key}");
        let mut slots = BTreeSet::new();
        for (policy, state) in policies.iter().zip(decision.policies()) {
            assert_eq!(
                state.remaining(),
                u64::from(policy.quota().burst_size()) - 1
            );
            let name = stored_key(&prefix, key, policy.name());
            let stored: Option<String> = pool.get(&name).await.expect("GET");
            assert!(stored.is_some(), "{name} was not written");
            slots.insert(keyslot(&pool, &name).await);
        }
        assert_eq!(slots.len(), 1, "{key}: its policies span slots {slots:?}");
    }
    assert!(on_every_master(&pool, &prefix, &keys, "minute").await);
}

/// Decisions pending together, on keys of every master and with rules of
/// different quotas, go out in one call per slot: each is answered for its
/// own key and rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_pending_together_across_slots_are_each_answered_for_their_key() {
    let (store, pool, prefix) = cluster_store("cluster-batch").await;
    let keys: Vec<Key> = (0..48).map(|i| Key::new(format!("client-{i}"))).collect();
    let quota = |i: usize| 2 + u32::try_from(i % 4).expect("small");
    let rules: Vec<[Policy; 1]> = (0..keys.len())
        .map(|i| [Policy::new("p", Quota::per_hour(quota(i)))])
        .collect();
    // Round after round over every key, all polled in one task: all are
    // pending before any call leaves.
    let order: Vec<usize> = (0..6).flat_map(|_| 0..keys.len()).collect();
    let decisions =
        futures_util::future::join_all(order.iter().map(|&i| store.check(&keys[i], &rules[i], 1)))
            .await;
    let mut remaining = vec![Vec::new(); keys.len()];
    for (&i, decision) in order.iter().zip(decisions) {
        let decision = decision.expect("decision");
        let left = decision.policies()[0].remaining();
        if decision.is_allowed() {
            remaining[i].push(left);
        } else {
            assert_eq!(left, 0, "{}: refused with room left", keys[i]);
        }
    }
    for (i, mut left) in remaining.into_iter().enumerate() {
        left.sort_unstable();
        let expected: Vec<u64> = (0..u64::from(quota(i))).collect();
        assert_eq!(left, expected, "{}", keys[i]);
        let state = store.check(&keys[i], &rules[i], 0).await.expect("read");
        assert_eq!(state.policies()[0].remaining(), 0, "{}", keys[i]);
    }
    assert!(on_every_master(&pool, &prefix, &keys, "p").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_across_slots_never_over_grant() {
    let (store, _pool, _prefix) = cluster_store("cluster-concurrent").await;
    let store = Arc::new(store);
    let policies = [Policy::new("p", Quota::per_hour(5))];
    let keys: Vec<Key> = (0..40).map(|i| Key::new(format!("client-{i}"))).collect();
    let tasks: Vec<_> = (0..8)
        .flat_map(|_| 0..keys.len())
        .map(|i| {
            let (store, key, policies) = (Arc::clone(&store), keys[i].clone(), policies.clone());
            tokio::spawn(async move {
                let decision = store.check(&key, &policies, 1).await.expect("decision");
                (i, decision.is_allowed())
            })
        })
        .collect();
    let mut allowed = vec![0; keys.len()];
    for task in tasks {
        let (i, yes) = task.await.expect("task");
        allowed[i] += usize::from(yes);
    }
    assert_eq!(allowed, vec![5; keys.len()]);
}

#[path = "redis_cluster/outage.rs"]
mod outage;
