//! The data cache: memory hits beside moka and the `cached` crate used
//! directly, and a Redis-backed hit beside a raw `GET` through the same
//! pool (a `redis-server` the test kit starts, or `REDIS_URL`).

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use cached::{Cached, SizedCache};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use strata_cache::{DataCache, DataKey, MemoryStore, RedisStore, TieredStore, Ttl};
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::interfaces::KeysInterface;
use strata_core::redis::fred::types::Expiration;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Item {
    id: u32,
    name: String,
    price_cents: u32,
    tags: Vec<String>,
}

fn item() -> Item {
    Item {
        id: 7,
        name: "sturdy compact widget #7".to_owned(),
        price_cents: 758,
        tags: vec!["quiet".to_owned(), "portable".to_owned()],
    }
}

fn memory_hits(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("data/memory-hit");
    let key = DataKey::<Item>::new("item", 7);
    let data = DataCache::new();
    rt.block_on(data.insert(&key, &item(), Ttl::secs(3600)))
        .expect("insert");
    group.bench_function("DataCache (MemoryStore)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(data.get(&key).await.expect("get")) });
    });
    let tiered = DataCache::builder(TieredStore::new(MemoryStore::new()))
        .build()
        .expect("valid");
    rt.block_on(tiered.insert(&key, &item(), Ttl::secs(3600)))
        .expect("insert");
    group.bench_function("DataCache (TieredStore memory tier)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(tiered.get(&key).await.expect("get")) });
    });
    let moka: moka::sync::Cache<String, Item> = moka::sync::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(Duration::from_secs(3600))
        .build();
    moka.insert("item:7".to_owned(), item());
    group.bench_function("moka::sync::Cache", |b| {
        b.iter(|| black_box(moka.get("item:7")));
    });
    let sized = Mutex::new(SizedCache::<String, Item>::with_size(10_000));
    sized
        .lock()
        .expect("lock")
        .cache_set("item:7".to_owned(), item());
    group.bench_function("cached::SizedCache (Mutex)", |b| {
        b.iter(|| black_box(sized.lock().expect("lock").cache_get("item:7").cloned()));
    });
    group.finish();
}

fn redis_hits(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = strata_testkit::redis::shared();
    let pool = rt.block_on(async {
        let pool = RedisPoolBuilder::from_url(server.url())
            .expect("url")
            .connect()
            .await
            .expect("pool");
        assert!(
            strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
            "connected"
        );
        pool
    });
    let mut group = c.benchmark_group("data/redis-hit");
    let key = DataKey::<Item>::new("item", 7);
    let data = DataCache::builder(RedisStore::new(pool.clone()).prefix("bench:data:"))
        .store_timeout(Duration::from_secs(1))
        .build()
        .expect("valid");
    rt.block_on(data.insert(&key, &item(), Ttl::secs(3600)))
        .expect("insert");
    group.bench_function("DataCache (RedisStore, no memory tier)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(data.get(&key).await.expect("get")) });
    });
    let bytes = rmp_serde::to_vec(&item()).expect("encode");
    rt.block_on(pool.set::<(), _, _>(
        "bench:raw:item:7",
        bytes.as_slice(),
        Some(Expiration::EX(3600)),
        None,
        false,
    ))
    .expect("set");
    group.bench_function("raw GET + decode (same pool)", |b| {
        b.to_async(&rt).iter(|| async {
            let raw: Vec<u8> = pool.get("bench:raw:item:7").await.expect("get");
            black_box(rmp_serde::from_slice::<Item>(&raw).expect("decode"))
        });
    });
    group.finish();
}

criterion_group!(benches, memory_hits, redis_hits);
criterion_main!(benches);
