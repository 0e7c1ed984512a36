//! Shared test support: exchanges made up from JSON, and the conformance
//! suite every store passes.
#![allow(dead_code, unreachable_pub)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use strata_recorder::store::{Store, encode};
use strata_recorder::{Exchange, Summary};

pub fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// An exchange started `ms` (Unix ms), number `n` within that millisecond.
pub fn exchange(
    ms: u64,
    n: u64,
    status: u16,
    route: &str,
    user: Option<&str>,
    body: &[u8],
) -> Exchange {
    use base64::Engine as _;
    let prefix = base64::engine::general_purpose::STANDARD.encode(body);
    serde_json::from_value(json!({
        "id": format!("{:016x}{:016x}", ms * 1000, n),
        "started_ms": ms,
        "method": "GET",
        "route": route,
        "uri": format!("{route}?n={n}"),
        "host": "example.test",
        "status": status,
        "ttfb_us": 1000,
        "duration_us": 1000 * (n + 1),
        "client_ip": "192.0.2.1",
        "session": user.map(|u| format!("s-{u}")),
        "user": user,
        "trace_id": null,
        "outcome": "complete",
        "request_headers": [["accept", "*/*"]],
        "response_headers": [["content-type", "application/octet-stream"]],
        "request_body": { "prefix": "", "total_len": 0, "xxh3_128": "", "truncated": false },
        "response_body": { "prefix": prefix, "total_len": body.len(), "xxh3_128": "x", "truncated": false },
        "http_version": "HTTP/1.1",
    }))
    .unwrap()
}

/// Inserts `exchange` the way the recorder does; returns whether it was stored.
pub async fn put(store: &dyn Store, exchange: &Exchange) -> strata_recorder::store::Inserted {
    let blob = encode(exchange);
    let mut summary: Summary = exchange.summary.clone();
    let size = serde_json::to_vec(&summary).unwrap().len() + blob.len();
    summary.stored_bytes = size as u64;
    store.insert(summary, blob).await.unwrap()
}

/// Asserts the layer's build refuses `store` with `ConfigError::Invalid`
/// naming `setting`.
pub fn assert_refused(store: impl Store, setting: &str) {
    match strata_recorder::RecorderLayer::builder()
        .store(store)
        .pair()
    {
        Err(strata_core::ConfigError::Invalid { setting: named, .. }) => {
            assert_eq!(named, setting);
        }
        Err(other) => panic!("{setting}: {other:?}"),
        Ok(_) => panic!("{setting}: accepted"),
    }
}

/// Bytes no compressor can shrink.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The conformance suite: `$make(max_bytes, max_count)` builds a fresh,
/// empty store.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        use std::time::Duration;

        use strata_recorder::Query;
        use strata_recorder::store::Store as _;

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn stores_and_returns_an_exchange() {
            let store = $make(1 << 20, 100).await;
            let exchange = common::exchange(common::now_ms(), 1, 200, "/a", Some("ada"), b"hello");
            assert!(common::put(&store, &exchange).await.stored);
            let got = store.get(&exchange.summary.id).await.unwrap().unwrap();
            assert_eq!(got.response_body.prefix, b"hello");
            assert_eq!(got.summary.uri, exchange.summary.uri);
            assert!(got.summary.stored_bytes > 0);
            assert!(
                store
                    .get("0000000000000000ffffffffffffffff")
                    .await
                    .unwrap()
                    .is_none()
            );
            let usage = store.usage().await.unwrap();
            assert_eq!(usage.count, 1);
            assert_eq!(usage.bytes, got.summary.stored_bytes);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn lists_newest_first_in_pages() {
            let store = $make(1 << 20, 100).await;
            let t = common::now_ms() - 10_000;
            for n in 0..7 {
                common::put(&store, &common::exchange(t + n, n, 200, "/a", None, b"")).await;
            }
            let first = store.query(&Query::new().limit(3)).await.unwrap();
            let ids: Vec<u64> = first.items.iter().map(|s| s.started_ms - t).collect();
            assert_eq!(ids, [6, 5, 4]);
            let second = store
                .query(&Query::new().limit(3).before(first.next.clone().unwrap()))
                .await
                .unwrap();
            let ids: Vec<u64> = second.items.iter().map(|s| s.started_ms - t).collect();
            assert_eq!(ids, [3, 2, 1]);
            let last = store
                .query(&Query::new().limit(3).before(second.next.unwrap()))
                .await
                .unwrap();
            assert_eq!(last.items.len(), 1);
            assert_eq!(last.next, None);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn filters_by_time_route_status_duration_session_and_user() {
            let store = $make(1 << 20, 100).await;
            let t = common::now_ms() - 10_000;
            let cases = [
                (0, 200, "/a", Some("ada")),
                (1, 500, "/a", None),
                (2, 503, "/b", Some("bob")),
                (3, 404, "/b", Some("ada")),
                (4, 201, "/c", None),
            ];
            for (n, status, route, user) in cases {
                common::put(
                    &store,
                    &common::exchange(t + n, n, status, route, user, b""),
                )
                .await;
            }
            let count = |q: Query| {
                let store = &store;
                async move {
                    let page = store.query(&q).await.unwrap();
                    page.items
                        .iter()
                        .map(|s| s.started_ms - t)
                        .collect::<Vec<_>>()
                }
            };
            assert_eq!(count(Query::new().status_class(5)).await, [2, 1]);
            assert_eq!(count(Query::new().route("/b")).await, [3, 2]);
            assert_eq!(count(Query::new().user("ada")).await, [3, 0]);
            assert_eq!(count(Query::new().session("s-bob")).await, [2]);
            // duration_us is 1000 * (n + 1).
            assert_eq!(
                count(Query::new().min_duration(Duration::from_millis(4))).await,
                [4, 3]
            );
            assert_eq!(
                count(Query::new().from_ms(t + 1).to_ms(t + 3)).await,
                [2, 1]
            );
            assert_eq!(count(Query::new().route("/a").status_class(2)).await, [0]);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_count_cap_evicts_the_oldest() {
            let store = $make(1 << 20, 3).await;
            let t = common::now_ms() - 10_000;
            let mut evicted = 0;
            for n in 0..5 {
                evicted += common::put(&store, &common::exchange(t + n, n, 200, "/a", None, b""))
                    .await
                    .evicted;
            }
            assert_eq!(evicted, 2);
            let page = store.query(&Query::new()).await.unwrap();
            let ids: Vec<u64> = page.items.iter().map(|s| s.started_ms - t).collect();
            assert_eq!(ids, [4, 3, 2]);
            assert_eq!(store.usage().await.unwrap().count, 3);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_byte_budget_holds_under_a_flood_of_large_bodies() {
            let budget = 200_000;
            let store = $make(budget, 10_000).await;
            let t = common::now_ms() - 10_000;
            for n in 0..60 {
                let body = common::noise(16 * 1024, n);
                let inserted =
                    common::put(&store, &common::exchange(t + n, n, 200, "/a", None, &body)).await;
                assert!(inserted.stored);
                assert!(inserted.bytes <= budget, "{} > {budget}", inserted.bytes);
                let usage = store.usage().await.unwrap();
                assert!(usage.bytes <= budget, "{} > {budget}", usage.bytes);
            }
            let page = store.query(&Query::new().limit(500)).await.unwrap();
            assert!(
                page.items.len() >= 8 && page.items.len() < 15,
                "{}",
                page.items.len()
            );
            assert_eq!(page.items[0].started_ms, t + 59);
            let total: u64 = page.items.iter().map(|s| s.stored_bytes).sum();
            assert_eq!(total, store.usage().await.unwrap().bytes);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_exchange_larger_than_the_budget_is_refused() {
            let store = $make(10_000, 100).await;
            let body = common::noise(20_000, 1);
            let exchange = common::exchange(common::now_ms(), 1, 200, "/a", None, &body);
            let inserted = common::put(&store, &exchange).await;
            assert!(!inserted.stored);
            assert!(store.get(&exchange.summary.id).await.unwrap().is_none());
            assert_eq!(store.usage().await.unwrap().count, 0);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn exchanges_past_the_ttl_are_neither_kept_nor_listed() {
            // The stores in this suite keep exchanges one hour.
            let store = $make(1 << 20, 100).await;
            let old = common::exchange(common::now_ms() - 2 * 3_600_000, 1, 500, "/a", None, b"");
            let fresh = common::exchange(common::now_ms(), 2, 500, "/a", None, b"");
            assert!(!common::put(&store, &old).await.stored);
            assert!(common::put(&store, &fresh).await.stored);
            assert!(store.get(&old.summary.id).await.unwrap().is_none());
            let page = store.query(&Query::new()).await.unwrap();
            assert_eq!(page.items.len(), 1);
            assert_eq!(page.items[0].id, fresh.summary.id);
        }
    };
}
