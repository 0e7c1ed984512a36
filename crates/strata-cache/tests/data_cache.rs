//! `DataCache` in memory: the API, coalesced loads, loader errors,
//! negative caching, stale on error and refresh ahead (paused time).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use strata_cache::{DataCache, DataKey, LoadError, MemoryStore, Ttl};
use strata_core::ConfigError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    id: u32,
    name: String,
}

fn item(id: u32, name: &str) -> Item {
    Item {
        id,
        name: name.to_owned(),
    }
}

#[derive(Debug, PartialEq)]
struct Down(usize);

#[tokio::test(start_paused = true)]
async fn insert_get_remove_and_purge_by_tag() {
    let cache = DataCache::new();
    let one = DataKey::<Item>::new("item", 1);
    let two = DataKey::<Item>::new("item", 2);
    assert_eq!(cache.get(&one).await.expect("get"), None);
    cache
        .insert(&one, &item(1, "one"), Ttl::secs(60).tag("items"))
        .await
        .expect("insert");
    cache
        .insert(
            &two,
            &item(2, "two"),
            Ttl::secs(60).tags(["items", "item:2"]),
        )
        .await
        .expect("insert");
    assert_eq!(cache.get(&one).await.expect("get"), Some(item(1, "one")));
    cache.remove(&one).await.expect("remove");
    assert_eq!(cache.get(&one).await.expect("get"), None);
    assert_eq!(cache.purge_tag("item:2").await.expect("purge"), 1);
    assert_eq!(cache.get(&two).await.expect("get"), None);
}

#[tokio::test(start_paused = true)]
async fn values_expire_on_their_ttl() {
    let cache = DataCache::new();
    let key = DataKey::<String>::new("s", "k");
    cache
        .insert(&key, &"v".to_owned(), Duration::from_secs(10))
        .await
        .expect("insert");
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(cache.get(&key).await.expect("get").as_deref(), Some("v"));
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(cache.get(&key).await.expect("get"), None);
}

#[tokio::test(start_paused = true)]
async fn namespaces_and_value_types_do_not_collide() {
    let cache = DataCache::new();
    cache
        .insert(&DataKey::<u32>::new("a:b", "c"), &1, Ttl::secs(60))
        .await
        .expect("insert");
    assert_eq!(
        cache
            .get(&DataKey::<u32>::new("a", "b:c"))
            .await
            .expect("get"),
        None
    );
    // A value of another type under the same key is a miss, not garbage.
    let as_item = DataKey::<Item>::new("a:b", "c");
    assert_eq!(cache.get(&as_item).await.expect("get"), None);
}

#[tokio::test(start_paused = true)]
async fn a_hundred_concurrent_misses_run_the_loader_once() {
    let cache = DataCache::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let key = DataKey::<Item>::new("item", 7);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (cache, calls, key) = (cache.clone(), Arc::clone(&calls), key.clone());
            tokio::spawn(async move {
                cache
                    .get_or_insert_with(&key, Ttl::secs(60), move || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok::<_, Down>(item(7, "seven"))
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("loaded"), item(7, "seven"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// A loader that counts its calls and answers `answer(call)`.
fn loader<V: Send + 'static>(
    calls: &Arc<AtomicUsize>,
    answer: impl Fn(usize) -> Result<V, Down> + Send + 'static,
) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Result<V, Down>> + Send>> + Send + 'static
{
    let calls = Arc::clone(calls);
    move || {
        Box::pin(async move {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            answer(n)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_loader_error_reaches_every_waiter_and_is_not_cached() {
    let cache = DataCache::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let key = DataKey::<u32>::new("n", 1);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (cache, key) = (cache.clone(), key.clone());
            let load = loader(&calls, |n| Err(Down(n)));
            tokio::spawn(async move { cache.get_or_insert_with(&key, Ttl::secs(60), load).await })
        })
        .collect();
    for task in tasks {
        match task.await.expect("task") {
            Err(LoadError::Loader(error)) => assert_eq!(*error, Down(1)),
            other => panic!("every waiter gets the one error: {other:?}"),
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Not cached: the next call loads again, and its value is stored.
    let got = cache
        .get_or_insert_with(&key, Ttl::secs(60), loader(&calls, |n| Ok(n as u32)))
        .await;
    assert_eq!(got.expect("loaded"), 2);
    assert_eq!(cache.get(&key).await.expect("get"), Some(2));
}

#[tokio::test(start_paused = true)]
async fn negative_caching_remembers_an_error_for_its_window() {
    let cache = DataCache::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let key = DataKey::<u32>::new("n", 2);
    let ttl = Ttl::secs(60).negative(Duration::from_secs(5));
    for _ in 0..3 {
        let got = cache
            .get_or_insert_with(&key, ttl.clone(), loader(&calls, |n| Err(Down(n))))
            .await;
        assert!(
            matches!(got, Err(LoadError::Loader(ref e)) if **e == Down(1)),
            "{got:?}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the error was remembered");
    tokio::time::advance(Duration::from_secs(6)).await;
    let got = cache
        .get_or_insert_with(&key, ttl, loader(&calls, |n| Ok(n as u32)))
        .await;
    assert_eq!(got.expect("loaded after the window"), 2);
}

#[tokio::test(start_paused = true)]
async fn stale_on_error_serves_the_last_value_when_the_loader_fails() {
    let cache = DataCache::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let key = DataKey::<u32>::new("n", 3);
    let ttl = Ttl::secs(10).stale_on_error(Duration::from_secs(60));
    let first = cache
        .get_or_insert_with(&key, ttl.clone(), loader(&calls, |n| Ok(n as u32)))
        .await;
    assert_eq!(first.expect("loaded"), 1);
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(
        cache.get(&key).await.expect("get"),
        None,
        "stale is not fresh"
    );
    let got = cache
        .get_or_insert_with(&key, ttl.clone(), loader(&calls, |n| Err(Down(n))))
        .await;
    assert_eq!(got.expect("served stale"), 1);
    // Without stale_on_error the same failure is an error.
    let got = cache
        .get_or_insert_with(&key, Ttl::secs(10), loader(&calls, |n| Err(Down(n))))
        .await;
    assert!(matches!(got, Err(LoadError::Loader(_))), "{got:?}");
    // Past the stale window, nothing is left to serve.
    tokio::time::advance(Duration::from_secs(61)).await;
    let got = cache
        .get_or_insert_with(&key, ttl, loader(&calls, |n| Err(Down(n))))
        .await;
    assert!(matches!(got, Err(LoadError::Loader(_))), "{got:?}");
}

#[tokio::test(start_paused = true)]
async fn refresh_ahead_reloads_a_hot_key_once_in_the_background() {
    let cache = DataCache::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let key = DataKey::<u32>::new("n", 4);
    let ttl = Ttl::secs(10).refresh_ahead(0.5);
    let load = || loader(&calls, |n| Ok(n as u32));
    assert_eq!(
        cache
            .get_or_insert_with(&key, ttl.clone(), load())
            .await
            .expect("v"),
        1
    );
    tokio::time::advance(Duration::from_secs(4)).await;
    assert_eq!(
        cache
            .get_or_insert_with(&key, ttl.clone(), load())
            .await
            .expect("v"),
        1
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "not yet due");
    tokio::time::advance(Duration::from_secs(2)).await;
    // Due: these hits are answered at once with the current value, and
    // start one refresh between them.
    for _ in 0..5 {
        assert_eq!(
            cache
                .get_or_insert_with(&key, ttl.clone(), load())
                .await
                .expect("v"),
            1
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one background refresh");
    assert_eq!(cache.get(&key).await.expect("get"), Some(2));
    // The refreshed value has a new lifetime: 9 s later it is still fresh.
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(cache.get(&key).await.expect("get"), Some(2));
}

#[tokio::test(start_paused = true)]
async fn a_slow_loader_times_out_for_every_waiter() {
    let cache = DataCache::builder(MemoryStore::new())
        .load_timeout(Duration::from_secs(1))
        .build()
        .expect("valid");
    let key = DataKey::<u32>::new("n", 5);
    let got = cache
        .get_or_insert_with(&key, Ttl::secs(10), || async {
            std::future::pending::<Result<u32, Down>>().await
        })
        .await;
    assert!(
        matches!(got, Err(LoadError::Timeout(d)) if d == Duration::from_secs(1)),
        "{got:?}"
    );
}

#[test]
fn invalid_settings_are_refused_by_name() {
    let cases: [(&str, strata_cache::DataCacheBuilder); 4] = [
        (
            "store_timeout",
            DataCache::builder(MemoryStore::new()).store_timeout(Duration::ZERO),
        ),
        (
            "load_timeout",
            DataCache::builder(MemoryStore::new()).load_timeout(Duration::from_secs(601)),
        ),
        (
            "ttl_jitter",
            DataCache::builder(MemoryStore::new()).ttl_jitter(0.6),
        ),
        (
            "MemoryStore::max_bytes",
            DataCache::builder(MemoryStore::new().max_bytes(1)),
        ),
    ];
    for (name, builder) in cases {
        let result = builder.build();
        assert!(
            matches!(&result, Err(ConfigError::Invalid { setting, .. }) if *setting == name),
            "{name}: {result:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn jittered_ttls_stay_within_their_bound() {
    let cache = DataCache::builder(MemoryStore::new())
        .ttl_jitter(0.5)
        .build()
        .expect("valid");
    let keys: Vec<_> = (0..50).map(|i| DataKey::<u32>::new("j", i)).collect();
    for k in &keys {
        cache
            .insert(k, &1, Duration::from_secs(100))
            .await
            .expect("insert");
    }
    tokio::time::advance(Duration::from_millis(49_900)).await;
    for k in &keys {
        assert_eq!(
            cache.get(k).await.expect("get"),
            Some(1),
            "at least half the TTL"
        );
    }
    tokio::time::advance(Duration::from_secs(50)).await;
    let mut live = 0;
    for k in &keys {
        live += usize::from(cache.get(k).await.expect("get").is_some());
    }
    assert!(
        live < 50,
        "TTLs are spread: {live} of 50 still live at 99.9 s"
    );
}
