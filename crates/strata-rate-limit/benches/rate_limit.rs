//! Per-request cost of the in-memory layer beside `tower_governor`, Redis
//! decisions per second beside a raw `INCR` round trip through the same pool,
//! and memory per tracked key.
//!
//! `cargo bench -p strata-rate-limit --all-features --bench rate_limit`
//!
//! A filter argument selects parts: `-- redis` (Redis decisions beside
//! `INCR`, alternating rounds), `-- paired_memory` (the in-memory layers in
//! interleaved rounds), `-- memory_per_key`, or a criterion group name.
//!
//! `STRATA_BENCH_ONLY=<variant> STRATA_BENCH_CALLS=<n>` runs one in-memory
//! variant `n` times and exits, for instruction counts under
//! `valgrind --tool=callgrind` (compare two values of `n` to cancel start-up).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use criterion::{Criterion, Throughput, criterion_group};
use futures_util::future::join_all;
use http::{Request, Response};
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::prelude::*;
use strata_rate_limit::{
    HeaderStyle, Key, KeyBy, MemoryStore, Policy, Quota, RateLimitLayer, RedisStore, Rule, Store,
};
use tower::{ServiceBuilder, ServiceExt};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;

/// Never exhausted during a run: one unit per 3.6 µs, a billion at once.
const COUNT: u32 = 1_000_000_000;
const PERIOD: Duration = Duration::from_secs(3600);
/// Requests in flight per Redis iteration.
const IN_FLIGHT: [usize; 2] = [16, 128];

async fn trivial(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::empty()))
}

fn request(client: u32) -> Request<Body> {
    let mut request = Request::new(Body::empty());
    let ip = std::net::Ipv4Addr::from(0xC000_0200 | (client & 0xff) | ((client >> 8) << 16));
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    request
}

fn strata_layer(headers: HeaderStyle) -> RateLimitLayer {
    let quota = Quota::new(COUNT, PERIOD);
    RateLimitLayer::builder(Rule::new(KeyBy::client_ip(), Policy::new("bench", quota)))
        .headers(headers)
        .build()
        .expect("valid configuration")
}

fn memory_layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let governor = Arc::new(
        GovernorConfigBuilder::default()
            .period(PERIOD / COUNT)
            .burst_size(COUNT)
            .finish()
            .expect("valid configuration"),
    );
    let governor_headers = Arc::new(
        GovernorConfigBuilder::default()
            .period(PERIOD / COUNT)
            .burst_size(COUNT)
            .use_headers()
            .finish()
            .expect("valid configuration"),
    );

    for clients in [1_u32, 1024] {
        let mut group = c.benchmark_group(format!("memory_layer/{clients}_clients"));
        group.throughput(Throughput::Elements(1));
        let _guard = rt.enter();
        macro_rules! bench {
            ($name:expr, $service:expr) => {{
                let service = $service;
                let mut n = 0_u32;
                group.bench_function($name, |b| {
                    b.to_async(&rt).iter(|| {
                        n = n.wrapping_add(1);
                        let service = service.clone();
                        let request = request(n % clients);
                        async move { service.oneshot(request).await.expect("infallible") }
                    });
                });
            }};
        }
        bench!(
            "baseline_no_layer",
            ServiceBuilder::new().service_fn(trivial)
        );
        bench!(
            "strata_no_headers",
            ServiceBuilder::new()
                .layer(strata_layer(HeaderStyle::None))
                .service_fn(trivial)
        );
        bench!(
            "tower_governor_no_headers",
            ServiceBuilder::new()
                .layer(GovernorLayer::new(Arc::clone(&governor)))
                .service_fn(trivial)
        );
        bench!(
            "strata_draft10_headers",
            ServiceBuilder::new()
                .layer(strata_layer(HeaderStyle::Draft10))
                .service_fn(trivial)
        );
        bench!(
            "tower_governor_headers",
            ServiceBuilder::new()
                .layer(GovernorLayer::new(Arc::clone(&governor_headers)))
                .service_fn(trivial)
        );
        group.finish();
    }
}

/// Redis decisions per second beside a raw `INCR` round trip through the
/// same pool: `in_flight` tasks each loop on their own key for a round's
/// time. The two alternate for `STRATA_BENCH_REDIS_ROUNDS` rounds (default
/// 7) of `STRATA_BENCH_REDIS_ROUND_MS` (default 1000); the medians are
/// printed with the median of the per-round ratios, so interference from
/// other processes hits both sides of a round alike.
fn paired_redis() {
    let rounds: usize = env_or("STRATA_BENCH_REDIS_ROUNDS", 7);
    let round = Duration::from_millis(env_or("STRATA_BENCH_REDIS_ROUND_MS", 1_000));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = strata_testkit::redis::shared();
    let pool = rt.block_on(async {
        let pool = RedisPoolBuilder::from_url(server.url())
            .expect("url")
            .command_timeout(Duration::from_secs(1))
            .fail_fast(true)
            .connect()
            .await
            .expect("redis");
        assert!(
            strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
            "connected"
        );
        pool
    });
    let store = RedisStore::new(pool.clone())
        .prefix("strata-bench:rl:")
        .timeout(Duration::from_secs(1));
    let policies: Arc<[Policy]> = Arc::from([Policy::new("bench", Quota::new(COUNT, PERIOD))]);
    for in_flight in IN_FLIGHT {
        let (mut incr, mut decide, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let pool = pool.clone();
            let raw = rt.block_on(per_second(in_flight, round, move |i| {
                let pool = pool.clone();
                async move {
                    let _: i64 = pool
                        .incr(format!("strata-bench:incr:{i}"))
                        .await
                        .expect("INCR");
                }
            }));
            let (store, policies) = (store.clone(), policies.clone());
            let decisions = rt.block_on(per_second(in_flight, round, move |i| {
                let (store, policies) = (store.clone(), policies.clone());
                async move {
                    let key = Key::new(format!("client-{i}"));
                    let decision = store.check(&key, &policies, 1).await.expect("decision");
                    assert!(decision.is_allowed());
                }
            }));
            incr.push(raw);
            decide.push(decisions);
            ratio.push(decisions / raw);
        }
        eprintln!(
            "redis/{in_flight}_in_flight: raw INCR {:.0} K/s, strata decision {:.0} K/s, \
             ratio {:.2} (medians of {rounds} alternating rounds of {} ms; ratios {:.2}..{:.2})",
            median(&mut incr) / 1e3,
            median(&mut decide) / 1e3,
            median(&mut ratio),
            round.as_millis(),
            ratio.first().copied().unwrap_or_default(),
            ratio.last().copied().unwrap_or_default(),
        );
    }
}

/// Operations per second of `in_flight` tasks, each running `op(i)` one
/// after the other until `round` has passed.
async fn per_second<F, Fut>(in_flight: usize, round: Duration, op: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = std::time::Instant::now();
    let end = started + round;
    let loops: Vec<_> = (0..in_flight)
        .map(|i| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut done = 0_u64;
                while std::time::Instant::now() < end {
                    op(i).await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for finished in join_all(loops).await {
        done += finished.expect("loop");
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// Sorts `values` and returns the middle one.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of `MemoryStore` per tracked key (IPv4 keys, one policy).
fn memory_per_key() {
    const KEYS: u32 = 1_000_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = MemoryStore::new().max_keys(KEYS as usize);
        let policies = [Policy::new("bench", Quota::per_hour(100))];
        // Create the limiter before measuring.
        let _ = store.check(&Key::global(), &policies, 1).await;
        let before = resident_bytes();
        for i in 0..KEYS {
            let key = Key::ip(std::net::Ipv4Addr::from(0x0A00_0000 + i).into());
            let _ = store.check(&key, &policies, 1).await;
        }
        let after = resident_bytes();
        if let (Some(before), Some(after)) = (before, after) {
            let per_key = after.saturating_sub(before) as f64 / f64::from(KEYS);
            eprintln!(
                "memory_per_key: {per_key:.0} bytes resident per tracked IPv4 key ({} keys)",
                store.len()
            );
        }
    });
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The layers side by side on a noisy machine: interleaved rounds, the
/// fastest round of each kept (interference only ever adds time).
fn paired_memory_layers() {
    use std::time::Instant;

    const ROUNDS: usize = 40;
    const CALLS: u32 = 20_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let governor = GovernorConfigBuilder::default()
        .period(PERIOD / COUNT)
        .burst_size(COUNT)
        .finish()
        .expect("valid configuration");
    let governor_headers = GovernorConfigBuilder::default()
        .period(PERIOD / COUNT)
        .burst_size(COUNT)
        .use_headers()
        .finish()
        .expect("valid configuration");
    type Boxed = tower::util::BoxCloneService<Request<Body>, Response<Body>, Infallible>;
    let variants: Vec<(&str, Boxed)> = vec![
        (
            "baseline_no_layer",
            Boxed::new(ServiceBuilder::new().service_fn(trivial)),
        ),
        (
            "strata_no_headers",
            Boxed::new(
                ServiceBuilder::new()
                    .layer(strata_layer(HeaderStyle::None))
                    .service_fn(trivial),
            ),
        ),
        (
            "tower_governor_no_headers",
            Boxed::new(
                ServiceBuilder::new()
                    .layer(GovernorLayer::new(governor))
                    .service_fn(trivial),
            ),
        ),
        (
            "strata_draft10_headers",
            Boxed::new(
                ServiceBuilder::new()
                    .layer(strata_layer(HeaderStyle::Draft10))
                    .service_fn(trivial),
            ),
        ),
        (
            "tower_governor_headers",
            Boxed::new(
                ServiceBuilder::new()
                    .layer(GovernorLayer::new(governor_headers))
                    .service_fn(trivial),
            ),
        ),
    ];
    if let Ok(only) = std::env::var("STRATA_BENCH_ONLY") {
        let calls: u32 = std::env::var("STRATA_BENCH_CALLS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let (_, service) = variants.iter().find(|(n, _)| *n == only).expect("variant");
        rt.block_on(async {
            for n in 0..calls {
                let response = service.clone().oneshot(request(n % 1024)).await;
                assert!(response.is_ok_and(|r| r.status().is_success()));
            }
        });
        std::process::exit(0);
    }
    for clients in [1_u32, 1024] {
        let mut best = vec![f64::MAX; variants.len()];
        for _ in 0..ROUNDS {
            for ((_, service), best) in variants.iter().zip(best.iter_mut()) {
                let started = Instant::now();
                rt.block_on(async {
                    for n in 0..CALLS {
                        let response = service.clone().oneshot(request(n % clients)).await;
                        assert!(response.is_ok_and(|r| r.status().is_success()));
                    }
                });
                let per_call = started.elapsed().as_nanos() as f64 / f64::from(CALLS);
                *best = best.min(per_call);
            }
        }
        for ((name, _), best) in variants.iter().zip(best) {
            eprintln!(
                "paired/{clients}_clients/{name}: {best:.0} ns per request (fastest of {ROUNDS} rounds)"
            );
        }
    }
}

criterion_group!(benches, memory_layer);

fn main() {
    if std::env::var("STRATA_BENCH_ONLY").is_err() && wants("memory_per_key") {
        memory_per_key();
    }
    if wants("paired_memory") {
        paired_memory_layers();
    }
    if wants("redis") {
        paired_redis();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

/// Whether the command line's filter (criterion's positional argument)
/// selects `name`: no filter selects everything.
fn wants(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters
            .iter()
            .any(|f| name.contains(f.as_str()) || f.contains(name))
}
