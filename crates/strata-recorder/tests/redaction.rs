//! Redaction: no secret in any byte a store holds, in memory and in Redis.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

use std::io::Read as _;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use base64::Engine as _;
use http::{Request, Response};
use serde_json::Value;
use strata_recorder::{MemoryStore, Query, RecorderHandle, RecorderLayer, Retain, Store};
use strata_testkit::body_bytes;
use tower::ServiceExt as _;

/// Every secret the exchanges below carry.
const SECRETS: &[&str] = &[
    "QTOKEN1",
    "QPASS2",
    "HDRAUTH3",
    "HDRCOOKIE4",
    "HDRKEY5",
    "BODYPASS6",
    "BODYSEC7",
    "BODYTOK8",
    "RESPCOOKIE9",
    "RESPTOK10",
    "RESPREF11",
    "FORMPASS12",
    "FORMKEY13",
    "CUTPASS",
    "NUMSECRET",
];

fn app(layer: RecorderLayer) -> Router {
    Router::new()
        .route(
            "/login",
            post(|_: String| async {
                Response::builder()
                    .header("set-cookie", "sid=RESPCOOKIE9; HttpOnly")
                    .header("content-type", "application/json")
                    .body(Body::from(
                        r#"{"ok":true,"access_token":"RESPTOK10","data":{"Refresh_Token":"RESPREF11"}}"#,
                    ))
                    .unwrap()
            }),
        )
        .route("/form", post(|_: String| async { "ok" }))
        .layer(layer)
}

async fn record(store: impl Store) -> RecorderHandle {
    let (layer, handle) = RecorderLayer::builder()
        .retain(Retain::all())
        .store(store)
        .body_cap(200)
        .redaction_key(b"a per-deployment key of 32 bytes")
        .pair()
        .unwrap();
    let app = app(layer);
    let requests = [
        Request::post("/login?token=QTOKEN1&next=%2Fhome&PassWord=QPASS2")
            .header("authorization", "Bearer HDRAUTH3")
            .header("cookie", "sid=HDRCOOKIE4")
            .header("x-api-key", "HDRKEY5")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"user":"ada","password":"BODYPASS6","nested":{"Client_Secret":"BODYSEC7","list":[{"token":"BODYTOK8"}]},"api_key":12345}"#,
            ))
            .unwrap(),
        Request::post("/form")
            .header("authorization", "Bearer HDRAUTH3")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("username=ada&password=FORMPASS12&api_key=FORMKEY13"))
            .unwrap(),
        // Cut by the 200-byte cap inside the secret.
        Request::post("/form")
            .header("content-type", "application/json")
            .body(Body::from(format!(
                r#"{{"pad":"{}","password":"CUTPASS14CUTPASS14CUTPASS14"}}"#,
                "p".repeat(170)
            )))
            .unwrap(),
        // Cut inside a number.
        Request::post("/form")
            .header("content-type", "application/json")
            .body(Body::from(format!(r#"{{"pad":"{}","secret":NUMSECRET1234567890}}"#, "q".repeat(170))))
            .unwrap(),
    ];
    for request in requests {
        let response = app.clone().oneshot(request).await.unwrap();
        body_bytes(response.into_body()).await;
    }
    handle.flush().await;
    assert_eq!(handle.stats().kept, 4);
    // Every body was captured, and every secret in it replaced.
    let page = handle.query(&Query::new()).await.unwrap();
    for summary in &page.items {
        let exchange = handle.get(&summary.id).await.unwrap().unwrap();
        let body = String::from_utf8_lossy(&exchange.request_body.prefix).into_owned();
        assert!(body.contains("redacted:"), "{body}");
    }
    handle
}

/// Deflate-inflated when it inflates, then every base64 string inside any
/// JSON decoded too: what a reader of the raw bytes could recover.
fn readable(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![raw.to_vec()];
    let mut inflated = Vec::new();
    if flate2::read::DeflateDecoder::new(raw)
        .read_to_end(&mut inflated)
        .is_ok()
        && !inflated.is_empty()
    {
        out.push(inflated.clone());
    }
    for text in out.clone() {
        if let Ok(json) = serde_json::from_slice::<Value>(&text) {
            strings(&json, &mut out);
        }
    }
    out
}

fn strings(value: &Value, out: &mut Vec<Vec<u8>>) {
    match value {
        Value::String(s) => {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) {
                out.push(bytes);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn assert_no_secret(raw: &[Vec<u8>]) {
    assert!(!raw.is_empty());
    for item in raw {
        for view in readable(item) {
            let text = String::from_utf8_lossy(&view);
            for secret in SECRETS {
                assert!(!text.contains(secret), "{secret} stored in {text}");
            }
        }
    }
}

#[tokio::test]
async fn no_secret_in_any_byte_of_the_memory_store() {
    let store = std::sync::Arc::new(MemoryStore::new());
    let handle = record(Shared(store.clone())).await;
    assert_no_secret(&store.raw_contents());
    // What is stored is still useful: the names, the other fields, and
    // equal secrets redact to equal marks.
    let page = handle.query(&Query::new()).await.unwrap();
    let mut exchanges = Vec::new();
    for s in &page.items {
        exchanges.push(handle.get(&s.id).await.unwrap().unwrap());
    }
    let login = exchanges
        .iter()
        .find(|e| e.summary.route.as_deref() == Some("/login"))
        .unwrap();
    assert!(
        login.summary.uri.starts_with("/login?token=redacted:"),
        "{}",
        login.summary.uri
    );
    assert!(
        login
            .summary
            .uri
            .contains("&next=%2Fhome&PassWord=redacted:")
    );
    let body = String::from_utf8(login.request_body.prefix.clone()).unwrap();
    assert!(body.contains(r#""user":"ada""#), "{body}");
    let auth = |e: &strata_recorder::Exchange| {
        e.request_headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone())
    };
    let form = exchanges
        .iter()
        .find(|e| e.request_body.prefix.starts_with(b"username"))
        .unwrap();
    let mark = auth(login).unwrap();
    assert_eq!(mark.len(), "redacted:".len() + 24);
    assert_eq!(auth(form).unwrap(), mark);
    let form_body = String::from_utf8(form.request_body.prefix.clone()).unwrap();
    assert!(
        form_body.starts_with("username=ada&password=redacted:"),
        "{form_body}"
    );
}

/// Lets the test keep its own handle on the memory store.
#[derive(Debug)]
struct Shared(std::sync::Arc<MemoryStore>);

impl Store for Shared {
    fn insert(
        &self,
        summary: strata_recorder::Summary,
        blob: Vec<u8>,
    ) -> strata_recorder::store::StoreFuture<'_, strata_recorder::store::Inserted> {
        self.0.insert(summary, blob)
    }
    fn get<'a>(
        &'a self,
        id: &'a str,
    ) -> strata_recorder::store::StoreFuture<'a, Option<strata_recorder::Exchange>> {
        self.0.get(id)
    }
    fn query<'a>(
        &'a self,
        query: &'a Query,
    ) -> strata_recorder::store::StoreFuture<'a, strata_recorder::Page> {
        self.0.query(query)
    }
    fn usage(&self) -> strata_recorder::store::StoreFuture<'_, strata_recorder::store::Usage> {
        self.0.usage()
    }
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_value_of_the_redis_store() {
    use std::time::Duration;

    use strata_core::redis::RedisPoolBuilder;
    use strata_core::redis::fred::interfaces::{
        ClientLike as _, HashesInterface as _, KeysInterface as _, SortedSetsInterface as _,
    };
    use strata_core::redis::fred::types::{ClusterHash, CustomCommand, Value as RValue};
    use strata_recorder::RedisStore;
    use strata_testkit::redis::{shared, unique_prefix};

    let pool = RedisPoolBuilder::from_url(shared().url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert!(strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await);
    let prefix = unique_prefix("recorder");
    record(RedisStore::new(pool.clone()).prefix(prefix.clone())).await;

    let mut raw = Vec::new();
    let mut cursor = "0".to_owned();
    let mut keys = Vec::new();
    loop {
        let reply: RValue = pool
            .next()
            .custom(
                CustomCommand::new_static("SCAN", ClusterHash::Random, false),
                vec![
                    cursor.clone(),
                    "MATCH".into(),
                    format!("{prefix}*"),
                    "COUNT".into(),
                    "1000".into(),
                ],
            )
            .await
            .unwrap();
        let RValue::Array(parts) = reply else {
            panic!("SCAN reply")
        };
        cursor = parts[0].as_string().unwrap();
        if let RValue::Array(found) = &parts[1] {
            keys.extend(found.iter().filter_map(RValue::as_string));
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(keys.len(), 5, "{keys:?}");
    for key in keys {
        let kind: String = pool
            .custom(
                CustomCommand::new_static("TYPE", ClusterHash::FirstKey, false),
                vec![key.clone()],
            )
            .await
            .unwrap();
        match kind.as_str() {
            "hash" => {
                let map: std::collections::HashMap<String, RValue> =
                    pool.hgetall(&key).await.unwrap();
                for (field, value) in map {
                    raw.push(field.into_bytes());
                    raw.push(value.as_bytes().unwrap().to_vec());
                }
            }
            "zset" => {
                let members: Vec<String> = pool
                    .zrange(&key, 0, -1, None, false, None, false)
                    .await
                    .unwrap();
                raw.extend(members.into_iter().map(String::into_bytes));
            }
            "string" => {
                let value: RValue = pool.get(&key).await.unwrap();
                raw.push(value.as_bytes().unwrap().to_vec());
            }
            other => panic!("unexpected key type {other}"),
        }
    }
    assert_no_secret(&raw);
}
