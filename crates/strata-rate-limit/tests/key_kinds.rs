//! Keys of different kinds never share a counter, in either store, even when
//! their `Display` forms are equal.

use strata_rate_limit::{Key, MemoryStore, Policy, Quota, Store};

/// Pairs whose text forms are equal but whose kinds differ.
fn colliding_pairs() -> Vec<(Key, Key)> {
    vec![
        (Key::new("global"), Key::global()),
        (
            Key::new("ip:192.0.2.1"),
            Key::ip("192.0.2.1".parse().expect("ip")),
        ),
        (
            Key::new("ip:2001:db8::"),
            Key::ip("2001:db8::".parse().expect("ip")),
        ),
        // Escaping keeps text keys apart from one another too.
        (Key::new("t:a"), Key::new("a")),
        (Key::new("a%7Bb"), Key::new("a{b")),
        (Key::new("a}:p"), Key::new("a")),
    ]
}

/// Exhausts `first` (one request a minute), then checks that `second`
/// still has its own quota.
async fn assert_independent<S: Store>(store: &S, first: &Key, second: &Key) {
    let policies = [Policy::new("p", Quota::per_minute(1))];
    let check = |key: &Key| {
        let key = key.clone();
        let policies = policies.clone();
        async move {
            store
                .check(&key, &policies, 1)
                .await
                .expect("decision")
                .is_allowed()
        }
    };
    assert!(check(first).await, "{first:?} first request");
    assert!(!check(first).await, "{first:?} is over its quota");
    assert!(check(second).await, "{second:?} has its own quota");
    assert!(!check(second).await, "{second:?} is over its quota");
}

#[tokio::test]
async fn memory_store_keeps_kinds_apart() {
    for (first, second) in colliding_pairs() {
        let store = MemoryStore::new();
        assert_independent(&store, &first, &second).await;
        let store = MemoryStore::new();
        assert_independent(&store, &second, &first).await;
    }
}

#[cfg(feature = "redis")]
mod redis {
    use std::time::Duration;

    use strata_core::redis::RedisPoolBuilder;
    use strata_core::redis::fred::clients::Pool;
    use strata_core::redis::fred::prelude::*;
    use strata_rate_limit::{Key, Policy, Quota, RedisStore, Store};
    use strata_testkit::redis::{shared, unique_prefix};

    use super::{assert_independent, colliding_pairs};

    async fn store_and_pool(name: &str) -> (RedisStore, Pool) {
        let pool = RedisPoolBuilder::from_url(shared().url())
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
            .prefix(unique_prefix(name))
            .timeout(Duration::from_secs(2));
        (store, pool)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_keeps_kinds_apart() {
        for (first, second) in colliding_pairs() {
            let (store, _pool) = store_and_pool("kinds").await;
            assert_independent(&store, &first, &second).await;
            let (store, _pool) = store_and_pool("kinds").await;
            assert_independent(&store, &second, &first).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_key_names_the_key_the_store_writes() {
        let (store, pool) = store_and_pool("render").await;
        let policies = [Policy::new("per-ip", Quota::per_minute(5))];
        for key in [
            Key::ip("203.0.113.9".parse().expect("ip")),
            Key::global(),
            Key::new("tenant{7}%"),
        ] {
            let name = store.redis_key(&key, "per-ip");
            let before: Option<String> = pool.get(&name).await.expect("GET");
            assert_eq!(before, None, "{name}");
            assert!(
                store
                    .check(&key, &policies, 1)
                    .await
                    .expect("decision")
                    .is_allowed()
            );
            let after: Option<String> = pool.get(&name).await.expect("GET");
            assert!(after.is_some(), "{name} was written");
            // One hash tag, whole: the braces of the text are escaped.
            assert_eq!(name.matches('{').count(), 1, "{name}");
            assert_eq!(name.matches('}').count(), 1, "{name}");
        }
        let ip = Key::ip("203.0.113.9".parse().expect("ip"));
        let prefix = store.redis_key(&Key::global(), "p");
        let prefix = prefix.strip_suffix("{global}:p").expect("prefix");
        assert_eq!(
            store.redis_key(&ip, "per-ip"),
            format!("{prefix}{{ip:203.0.113.9}}:per-ip")
        );
        assert_eq!(
            store.redis_key(&Key::new("tenant{7}%"), "per-ip"),
            format!("{prefix}{{t:tenant%7B7%7D%25}}:per-ip")
        );
    }
}
