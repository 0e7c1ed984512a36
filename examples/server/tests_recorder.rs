//! The recorder on `/api`: exchanges kept in memory or in Redis, with the
//! route, the signed-in user and redacted credentials; the viewer on the
//! admin router.

use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{Method, StatusCode};
use strata::recorder::Query;
use strata_testkit::{body_bytes, get, request};
use tower::ServiceExt as _;

use crate::app::{App, app};
use crate::config::Config;
use crate::tests::send;

async fn records_an_exchange(
    config: &Config,
    redis: Option<&strata::core::redis::fred::clients::Pool>,
) {
    let App {
        router, recorder, ..
    } = app(config, redis).expect("app");
    let mut login = request(
        Method::POST,
        "/api/login?token=hunter2",
        r#"{"username":"ada"}"#,
    );
    login
        .headers_mut()
        .insert(CONTENT_TYPE, "application/json".parse().expect("ascii"));
    let response = send(&router, login).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    let cookie = cookie.split(';').next().expect("a cookie").to_owned();
    body_bytes(response.into_body()).await;
    let mut me = get("/api/me");
    me.headers_mut()
        .insert(COOKIE, cookie.parse().expect("ascii"));
    let response = send(&router, me).await;
    assert_eq!(response.status(), StatusCode::OK);
    body_bytes(response.into_body()).await;
    // Outside /api: not recorded.
    body_bytes(send(&router, get("/health/live")).await.into_body()).await;
    recorder.flush().await;

    let page = recorder.query(&Query::new()).await.expect("query");
    let routes: Vec<_> = page
        .items
        .iter()
        .map(|s| s.route.clone().unwrap_or_default())
        .collect();
    assert_eq!(routes, ["/api/me", "/api/login"]);
    assert_eq!(page.items[0].user.as_deref(), Some("ada"));
    assert_eq!(page.items[0].status, Some(200));
    let me = recorder
        .get(&page.items[0].id)
        .await
        .expect("get")
        .expect("kept");
    let sent = me
        .request_headers
        .iter()
        .find(|(n, _)| n == "cookie")
        .expect("cookie");
    assert!(sent.1.starts_with("redacted:"), "{}", sent.1);
    let login = recorder
        .get(&page.items[1].id)
        .await
        .expect("get")
        .expect("kept");
    let body = String::from_utf8(login.request_body.prefix.clone()).expect("utf-8");
    assert_eq!(body, r#"{"username":"ada"}"#);
    assert!(
        login.summary.uri.starts_with("/api/login?token=redacted:"),
        "{}",
        login.summary.uri
    );
}

#[tokio::test]
async fn development_records_api_exchanges_in_memory() {
    records_an_exchange(&Config::from_lookup(|_| None).expect("config"), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_records_api_exchanges_in_redis() {
    let server = strata_testkit::redis::RedisServer::start();
    let config = Config::from_lookup(|name| (name == "REDIS_URL").then(|| server.url().to_owned()))
        .expect("config");
    let pool = config
        .redis
        .clone()
        .expect("REDIS_URL read")
        .connect()
        .await
        .expect("pool");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while strata::core::redis::fred::interfaces::ClientLike::ping::<String>(&pool, None)
        .await
        .is_err()
    {
        assert!(tokio::time::Instant::now() < deadline, "Redis unreachable");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    records_an_exchange(&config, Some(&pool)).await;
}

#[tokio::test]
async fn production_keeps_errors_not_fast_successes() {
    let config = Config::from_lookup(|name| (name == "APP_ENV").then(|| "production".to_owned()))
        .expect("config");
    let App {
        router, recorder, ..
    } = app(&config, None).expect("app");
    for _ in 0..5 {
        let mut request = get("/api/items/1");
        request
            .headers_mut()
            .insert("host", "localhost".parse().expect("ascii"));
        body_bytes(send(&router, request).await.into_body()).await;
    }
    recorder.flush().await;
    let stats = recorder.stats();
    assert_eq!(stats.recorded, 5);
    // Fast successes are kept only by the 1 % sample.
    let kept = recorder
        .query(&Query::new())
        .await
        .expect("query")
        .items
        .len();
    assert_eq!(kept as u64, stats.kept);
    let errors = recorder
        .query(&Query::new().status_class(5))
        .await
        .expect("query");
    assert!(errors.items.is_empty());
}

#[tokio::test]
async fn the_admin_router_serves_the_viewer() {
    let App {
        router,
        recorder,
        admin,
        ..
    } = app(&Config::from_lookup(|_| None).expect("config"), None).expect("app");
    body_bytes(send(&router, get("/api/items")).await.into_body()).await;
    recorder.flush().await;
    let admin = crate::admin::router(admin, recorder.viewer());
    let page = admin
        .clone()
        .oneshot(get("/recorder/"))
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        String::from_utf8_lossy(&body_bytes(page.into_body()).await).contains("strata recorder")
    );
    let list = admin
        .oneshot(get("/recorder/api/exchanges"))
        .await
        .expect("list");
    let list: serde_json::Value =
        serde_json::from_slice(&body_bytes(list.into_body()).await).expect("json");
    assert_eq!(list["items"][0]["route"], "/api/items");
}
