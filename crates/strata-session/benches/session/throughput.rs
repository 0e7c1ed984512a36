//! `session/redis/throughput`: `IN_FLIGHT` concurrent session reads through
//! the strata layer beside as many raw `GET`s, through the same pool, of a
//! value as long as what one session read fetches (the record's fields and
//! values). Also: raw `HGETALL`s of the session records themselves (what
//! one load sends), `Store::load` of those records on its own (the read
//! without the layer and router), a raw `GET` from a handler behind the
//! same axum router without the layer (what any read of one value through
//! HTTP costs here), and the same reads through
//! tower-sessions on its own pool of the same size.
//!
//! After the criterion group, the variants run again in interleaved rounds
//! and the fastest round of each is kept (interference on a shared machine
//! only ever adds time); the throughput ratio is printed from those.

use std::collections::HashMap;
use std::time::Instant;

use http_body_util::BodyExt;
use strata_core::redis::fred::prelude::{HashesInterface, KeysInterface};
use strata_session::RecordId;
use strata_session::store::Store as _;

use super::*;

/// Session reads (or raw commands) in flight per iteration.
const IN_FLIGHT: usize = 64;
/// Interleaved rounds, and iterations per round, of the paired measurement.
const ROUNDS: usize = 30;
const CALLS: usize = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    RawGet,
    RawHgetall,
    StoreLoad,
    RouterRawGet,
    StrataRead,
    TowerSessionsRead,
}

const VARIANTS: [(&str, Variant); 6] = [
    ("raw_get", Variant::RawGet),
    ("strata_read", Variant::StrataRead),
    ("tower_sessions_read", Variant::TowerSessionsRead),
    ("raw_hgetall", Variant::RawHgetall),
    ("store_load", Variant::StoreLoad),
    ("router_raw_get", Variant::RouterRawGet),
];

struct Fixture {
    pool: Pool,
    raw_keys: Vec<String>,
    record_keys: Vec<String>,
    store: strata_session::RedisStore,
    record_ids: Vec<RecordId>,
    router_get: Router,
    strata: (Router, Vec<HeaderValue>),
    peer: (Router, Vec<HeaderValue>),
}

impl Fixture {
    /// One iteration: `IN_FLIGHT` operations of `variant`, concurrently.
    async fn once(&self, variant: Variant) {
        let pool = &self.pool;
        match variant {
            Variant::RawGet => {
                join_all(self.raw_keys.iter().map(|key| async move {
                    let value: String = pool.get(key).await.expect("GET");
                    assert!(!value.is_empty());
                }))
                .await;
            }
            Variant::RawHgetall => {
                join_all(self.record_keys.iter().map(|key| async move {
                    let fields: HashMap<String, String> = pool.hgetall(key).await.expect("HGETALL");
                    assert!(!fields.is_empty());
                }))
                .await;
            }
            Variant::StoreLoad => {
                join_all(self.record_ids.iter().map(|id| async move {
                    let record = self.store.load(id).await.expect("load");
                    assert!(record.is_some_and(|r| !r.data.is_empty()));
                }))
                .await;
            }
            Variant::RouterRawGet => {
                join_all((0..IN_FLIGHT).map(|_| {
                    let app = self.router_get.clone();
                    async move {
                        let response = app.oneshot(request(None)).await.expect("infallible");
                        assert_eq!(response.status(), StatusCode::OK);
                    }
                }))
                .await;
            }
            Variant::StrataRead => reads(&self.strata).await,
            Variant::TowerSessionsRead => reads(&self.peer).await,
        }
    }
}

async fn reads((app, cookies): &(Router, Vec<HeaderValue>)) {
    join_all(cookies.iter().map(|cookie| {
        let app = app.clone();
        let request = request(Some(cookie));
        async move {
            let response = app.oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::OK);
        }
    }))
    .await;
}

/// A handler reading one value with a raw `GET`, no session layer.
async fn raw_get(State((pool, key)): State<(Pool, Arc<str>)>) -> StatusCode {
    let value: Option<String> = pool.get(&*key).await.ok().flatten();
    status(value.is_some_and(|v| !v.is_empty()))
}

async fn seed_many(app: &Router) -> Vec<HeaderValue> {
    let mut cookies = Vec::with_capacity(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        cookies.push(seed(app.clone()).await);
    }
    cookies
}

async fn fixture(
    [pool, peer_pool]: [&Pool; 2],
    store: &strata_session::RedisStore,
    prefix: &str,
) -> Fixture {
    let layer = strata_layer(store.clone());
    let (app, seed_app) = apps!(strata, layer.clone(), Handler::Read);
    let id_app = Router::new()
        .route("/", get(strata::record_id))
        .layer(layer);
    let cookies = seed_many(&seed_app).await;
    let mut record_keys = Vec::with_capacity(IN_FLIGHT);
    let mut record_ids = Vec::with_capacity(IN_FLIGHT);
    for cookie in &cookies {
        let response = id_app.clone().oneshot(request(Some(cookie))).await;
        let body = response.expect("infallible").into_body();
        let text = body.collect().await.expect("body").to_bytes();
        let text = std::str::from_utf8(&text).expect("UTF-8");
        let id = RecordId::parse(text).expect("a record id");
        record_keys.push(store.record_key(&id));
        record_ids.push(id);
    }
    let fields: HashMap<String, String> = pool.hgetall(&record_keys[0]).await.expect("HGETALL");
    let size: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
    eprintln!(
        "session/redis/throughput: a session record is {} fields, {size} bytes of fields and values; raw GET values are {size} bytes",
        fields.len()
    );
    let value = "x".repeat(size);
    let mut raw_keys = Vec::with_capacity(IN_FLIGHT);
    for i in 0..IN_FLIGHT {
        let key = format!("{prefix}raw:{i}");
        let _: () = pool
            .set(&key, value.as_str(), None, None, false)
            .await
            .expect("SET");
        raw_keys.push(key);
    }
    let router_get = Router::new()
        .route("/", get(raw_get))
        .with_state((pool.clone(), Arc::from(raw_keys[0].as_str())));
    let peer_layer = SessionManagerLayer::new(tower_sessions_redis_store::RedisStore::new(
        peer_pool.clone(),
    ));
    let (peer_app, peer_seed) = apps!(peer, peer_layer, Handler::Read);
    let peer_cookies = seed_many(&peer_seed).await;
    Fixture {
        pool: pool.clone(),
        raw_keys,
        record_keys,
        store: store.clone(),
        record_ids,
        router_get,
        strata: (app, cookies),
        peer: (peer_app, peer_cookies),
    }
}

pub(super) fn run(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    pools: [&Pool; 2],
    store: &strata_session::RedisStore,
    prefix: &str,
) {
    let fixture = rt.block_on(fixture(pools, store, prefix));
    let fixture = &fixture;
    let mut group = c.benchmark_group("session/redis/throughput");
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    for (name, variant) in VARIANTS {
        group.bench_function(name, |b| b.to_async(rt).iter(|| fixture.once(variant)));
    }
    group.finish();

    let mut best = [f64::MAX; VARIANTS.len()];
    for _ in 0..ROUNDS {
        for ((_, variant), best) in VARIANTS.iter().zip(best.iter_mut()) {
            let started = Instant::now();
            rt.block_on(async {
                for _ in 0..CALLS {
                    fixture.once(*variant).await;
                }
            });
            let per_read = started.elapsed().as_nanos() as f64 / (CALLS * IN_FLIGHT) as f64;
            *best = best.min(per_read);
        }
    }
    for ((name, _), best) in VARIANTS.iter().zip(best) {
        eprintln!(
            "paired/session/redis/throughput/{name}: {best:.0} ns per read, {:.0} reads/s ({IN_FLIGHT} in flight, fastest of {ROUNDS} rounds)",
            1e9 / best
        );
    }
    let [raw_get, strata, peer, hgetall, load, router_get] = best;
    eprintln!(
        "paired/session/redis/throughput: strata_read / raw_get = {:.2} (strata_read / raw_hgetall = {:.2}, store_load / raw_get = {:.2}, router_raw_get / raw_get = {:.2}, strata_read / router_raw_get = {:.2}, tower_sessions_read / raw_get = {:.2})",
        raw_get / strata,
        hgetall / strata,
        raw_get / load,
        raw_get / router_get,
        router_get / strata,
        raw_get / peer
    );
}
