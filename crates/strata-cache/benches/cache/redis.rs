//! `cache/redis/throughput`: `IN_FLIGHT` concurrent hits through
//! `RedisStore` (one pipelined `HMGET` and `GET` each, then the response
//! built from the entry) beside as many raw `GET`s, through the same pool, of the
//! very entries those hits read (so the values are the same size).
//!
//! After the criterion group the two run again in alternating rounds; the
//! median round of each gives the printed ratio.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::join_all;
use strata_cache::RedisStore;
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::{ClientLike, KeysInterface};
use strata_core::redis::fred::types::InfoKind;

use super::*;

/// Hits (or raw `GET`s) in flight per iteration.
const IN_FLIGHT: usize = 64;
/// Alternating rounds, and iterations per round, of the paired measurement.
const ROUNDS: usize = 21;
const CALLS: usize = 10;

fn path(i: usize) -> String {
    format!("/r/{i}")
}

/// The entry keys under `prefix`, found with `SCAN`.
async fn entry_keys(pool: &Pool, prefix: &str) -> Vec<String> {
    let client = pool.next_connected().clone();
    let mut scan = client
        .scan_buffered(format!("{prefix}e:*"), Some(500), None)
        .boxed();
    let mut keys = Vec::new();
    while let Some(key) = scan.next().await {
        keys.extend(key.expect("SCAN").as_str().map(str::to_owned));
    }
    keys
}

async fn hits<S, B>(service: &S)
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    join_all((0..IN_FLIGHT).map(|i| async move {
        let (head, body) = send(service, request(&path(i))).await;
        assert!(strata_hit(&head));
        assert_eq!(body.len(), BODY_BYTES);
    }))
    .await;
}

async fn raw_gets(pool: &Pool, keys: &[String]) {
    join_all(keys.iter().map(|key| async move {
        let value: Bytes = pool.get(key).await.expect("GET");
        assert!(value.len() > BODY_BYTES);
    }))
    .await;
}

/// `(command, calls, microseconds)` from the server's `INFO commandstats`.
async fn command_stats(pool: &Pool) -> Vec<(String, u64, u64)> {
    let info: String = pool.info(Some(InfoKind::CommandStats)).await.expect("INFO");
    let field = |fields: &str, name: &str| {
        fields
            .split(',')
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('=')?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    info.lines()
        .filter_map(|line| line.trim().strip_prefix("cmdstat_")?.split_once(':'))
        .map(|(name, fields)| {
            (
                name.to_owned(),
                field(fields, "calls"),
                field(fields, "usec"),
            )
        })
        .collect()
}

/// Prints the Redis commands one hit sends, and their time on the server.
async fn commands_per_hit<S, B>(pool: &Pool, service: &S)
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let before = command_stats(pool).await;
    hits(service).await;
    let after = command_stats(pool).await;
    let mut line = String::new();
    for (name, calls, usec) in after {
        let (calls_0, usec_0) = before
            .iter()
            .find(|(n, ..)| *n == name)
            .map_or((0, 0), |(_, c, u)| (*c, *u));
        let (calls, usec) = (calls - calls_0, usec - usec_0);
        if name != "info" && calls > 0 {
            let per_hit = calls as f64 / IN_FLIGHT as f64;
            let each = usec as f64 / calls as f64;
            line.push_str(&format!(
                " {name} {per_hit:.2} ({each:.1} us on the server each);"
            ));
        }
    }
    eprintln!("cache/redis/throughput: commands per hit:{line}");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub(super) fn run(c: &mut Criterion) {
    let rt = runtime();
    let server = strata_testkit::redis::RedisServer::start();
    let prefix = "strata:cache:";
    let (pool, service) = rt.block_on(async {
        let pool = RedisPoolBuilder::from_url(server.url())
            .expect("url")
            // 64 commands in flight on a shared 2-core machine: no bypass.
            .command_timeout(Duration::from_secs(2))
            .connect()
            .await
            .expect("pool");
        assert!(
            strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
            "connected"
        );
        let layer = CacheLayer::builder(RedisStore::new(pool.clone()))
            .store_timeout(Duration::from_secs(2))
            .build()
            .expect("layer");
        let service = layer.layer(service_fn(|_: Request<Full<Bytes>>| handler(true)));
        for i in 0..IN_FLIGHT {
            warm(&service, || request(&path(i)), strata_hit).await;
        }
        (pool, service)
    });
    let keys = rt.block_on(entry_keys(&pool, prefix));
    assert_eq!(keys.len(), IN_FLIGHT, "one entry per resource");
    let size = rt.block_on(async { pool.get::<Bytes, _>(&keys[0]).await.expect("GET").len() });
    eprintln!("cache/redis/throughput: a stored entry is {size} bytes (16 KB body and its head)");
    rt.block_on(commands_per_hit(&pool, &service));

    let mut group = c.benchmark_group("cache/redis/throughput");
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    group.bench_function("raw_get", |b| {
        b.to_async(&rt).iter(|| raw_gets(&pool, &keys));
    });
    group.bench_function("strata_hit", |b| b.to_async(&rt).iter(|| hits(&service)));
    group.finish();

    let (mut raw, mut strata) = (Vec::new(), Vec::new());
    let per_op =
        |started: Instant| started.elapsed().as_nanos() as f64 / (CALLS * IN_FLIGHT) as f64;
    for round in 0..ROUNDS {
        for first in [round % 2 == 0, round % 2 != 0] {
            let started = Instant::now();
            if first {
                rt.block_on(async {
                    for _ in 0..CALLS {
                        raw_gets(&pool, &keys).await;
                    }
                });
                raw.push(per_op(started));
            } else {
                rt.block_on(async {
                    for _ in 0..CALLS {
                        hits(&service).await;
                    }
                });
                strata.push(per_op(started));
            }
        }
    }
    let (raw, strata) = (median(raw), median(strata));
    eprintln!(
        "paired/cache/redis/throughput: raw_get {raw:.0} ns, strata_hit {strata:.0} ns per request \
         ({IN_FLIGHT} in flight, median of {ROUNDS} alternating rounds); strata_hit / raw_get = {:.2}",
        raw / strata
    );
}
