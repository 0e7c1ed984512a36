//! Per-request cost of the session layer beside `tower-sessions`, in memory
//! and on one Redis (both on a `fred` pool of the same size), and Redis
//! session reads per second beside raw `GET`s through the same pool.
//!
//! `cargo bench -p strata-session --features redis --bench session -- --warm-up-time 1 --measurement-time 3`
//!
//! Every variant is the same axum `Router` with one trivial handler behind
//! the session layer, called through `oneshot` on a clone. A session cookie
//! is created once in setup, through the same layer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::{MethodRouter, get};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, measurement::WallTime};
use futures_util::future::join_all;
use http::{HeaderValue, Request, StatusCode, header};
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::prelude::{ClientLike, Config, Pool};
use strata_session::SessionLayer;
use tower::ServiceExt;
use tower_sessions::SessionManagerLayer;

/// Connections per pool, strata's and the peer's alike (strata's default).
const POOL_SIZE: usize = 4;
/// The value every session holds under `k` (and every handler that reads, reads).
const VALUE: &str = "a small preference value, about as long as a theme, locale and cart id";

/// Store and command timeout: generous, so a descheduled run on a shared
/// machine is not an outage.
const TIMEOUT: Duration = Duration::from_secs(1);

type Counter = Arc<AtomicU64>;

/// The request each handler answers: the session untouched, one key read,
/// one key written.
#[derive(Clone, Copy)]
enum Handler {
    Untouched,
    Read,
    Write,
}

impl Handler {
    fn group(self) -> &'static str {
        match self {
            Self::Untouched => "no_cookie",
            Self::Read => "read",
            Self::Write => "write_one_key",
        }
    }
}

/// The strata layer with its defaults, but for the store timeout.
fn strata_layer(store: impl strata_session::Store) -> SessionLayer {
    SessionLayer::builder(store)
        .store_timeout(TIMEOUT)
        .build()
        .expect("valid configuration")
}

async fn untouched() -> StatusCode {
    StatusCode::OK
}

fn status(ok: bool) -> StatusCode {
    if ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

mod strata {
    use super::*;
    use strata_session::Session;

    pub(super) async fn seed(session: Session) -> StatusCode {
        status(session.insert("k", VALUE).is_ok())
    }

    pub(super) async fn read(session: Session) -> StatusCode {
        status(session.get::<String>("k").is_ok_and(|v| v.is_some()))
    }

    pub(super) async fn write(State(counter): State<Counter>, session: Session) -> StatusCode {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        status(session.insert("n", n).is_ok())
    }

    pub(super) async fn record_id(session: Session) -> String {
        session
            .record_id()
            .map(|id| id.to_string())
            .unwrap_or_default()
    }

    pub(super) fn route(handler: Handler) -> MethodRouter<Counter> {
        match handler {
            Handler::Untouched => get(untouched),
            Handler::Read => get(read),
            Handler::Write => get(write),
        }
    }
}

mod peer {
    use super::*;
    use tower_sessions::Session;

    pub(super) async fn seed(session: Session) -> StatusCode {
        status(session.insert("k", VALUE).await.is_ok())
    }

    pub(super) async fn read(session: Session) -> StatusCode {
        status(session.get::<String>("k").await.is_ok_and(|v| v.is_some()))
    }

    pub(super) async fn write(State(counter): State<Counter>, session: Session) -> StatusCode {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        status(session.insert("n", n).await.is_ok())
    }

    pub(super) fn route(handler: Handler) -> MethodRouter<Counter> {
        match handler {
            Handler::Untouched => get(untouched),
            Handler::Read => get(read),
            Handler::Write => get(write),
        }
    }
}

/// The router of one variant, with its seeding router (same layer, same
/// store) when the handler needs a session cookie.
macro_rules! apps {
    ($side:ident, $layer:expr, $handler:expr) => {{
        let layer = $layer;
        let app = Router::new()
            .route("/", $side::route($handler))
            .with_state(Counter::default())
            .layer(layer.clone());
        let seed = Router::new().route("/", get($side::seed)).layer(layer);
        (app, seed)
    }};
}

fn request(cookie: Option<&HeaderValue>) -> Request<Body> {
    let mut request = Request::get("/").body(Body::empty()).expect("request");
    if let Some(cookie) = cookie {
        request.headers_mut().insert(header::COOKIE, cookie.clone());
    }
    request
}

/// A new session holding `k`: its cookie (`name=value`).
async fn seed(app: Router) -> HeaderValue {
    let response = app.oneshot(request(None)).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ASCII");
    let pair = set_cookie.split(';').next().expect("a cookie");
    HeaderValue::from_str(pair).expect("a header value")
}

fn bench(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    app: &Router,
    cookie: Option<&HeaderValue>,
) {
    group.bench_function(name, |b| {
        b.to_async(rt).iter(|| {
            let app = app.clone();
            let request = request(cookie);
            async move {
                let response = app.oneshot(request).await.expect("infallible");
                assert_eq!(response.status(), StatusCode::OK);
                response
            }
        });
    });
}

/// One group: strata and tower-sessions side by side.
fn pair(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    backend: &str,
    handler: Handler,
    (strata_app, strata_seed): (Router, Router),
    (peer_app, peer_seed): (Router, Router),
) {
    let (strata_cookie, peer_cookie) = match handler {
        Handler::Untouched => (None, None),
        Handler::Read | Handler::Write => {
            rt.block_on(async { (Some(seed(strata_seed).await), Some(seed(peer_seed).await)) })
        }
    };
    let mut group = c.benchmark_group(format!("session/{backend}/{}", handler.group()));
    group.throughput(Throughput::Elements(1));
    bench(
        &mut group,
        rt,
        "strata",
        &strata_app,
        strata_cookie.as_ref(),
    );
    bench(
        &mut group,
        rt,
        "tower_sessions",
        &peer_app,
        peer_cookie.as_ref(),
    );
    group.finish();
}

const HANDLERS: [Handler; 3] = [Handler::Untouched, Handler::Read, Handler::Write];

fn memory(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    for handler in HANDLERS {
        let strata_layer = strata_layer(strata_session::MemoryStore::new());
        let peer_layer = SessionManagerLayer::new(tower_sessions::MemoryStore::default());
        let strata = apps!(strata, strata_layer, handler);
        let peer = apps!(peer, peer_layer, handler);
        pair(c, &rt, "memory", handler, strata, peer);
    }
}

fn redis(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let server = strata_testkit::redis::shared();
    let (pool, peer_pool) = rt.block_on(async {
        let pool = RedisPoolBuilder::from_url(server.url())
            .expect("url")
            .pool_size(POOL_SIZE)
            .command_timeout(TIMEOUT)
            .connect()
            .await
            .expect("redis");
        assert!(
            strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await,
            "connected"
        );
        // As tower-sessions-redis-store's docs build it.
        let config = Config::from_url(server.url()).expect("url");
        let peer_pool = Pool::new(config, None, None, None, POOL_SIZE).expect("pool");
        let _connection = peer_pool.connect();
        assert!(
            strata_core::redis::wait_connected(&peer_pool, Duration::from_secs(20)).await,
            "connected"
        );
        (pool, peer_pool)
    });
    let prefix = strata_testkit::redis::unique_prefix("bench-session");
    let store = strata_session::RedisStore::new(pool.clone()).prefix(prefix.clone());
    for handler in HANDLERS {
        let strata_layer = strata_layer(store.clone());
        let peer_layer = SessionManagerLayer::new(tower_sessions_redis_store::RedisStore::new(
            peer_pool.clone(),
        ));
        let strata = apps!(strata, strata_layer, handler);
        let peer = apps!(peer, peer_layer, handler);
        pair(c, &rt, "redis", handler, strata, peer);
    }
    throughput::run(c, &rt, [&pool, &peer_pool], &store, &prefix);
}

#[path = "session/throughput.rs"]
mod throughput;

criterion_group!(benches, memory, redis);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
