//! Item reads through the data cache: catalogue reads timed on `/metrics`,
//! and a `PUT` on one instance evicting the item from another instance's
//! memory tier.

use std::time::Duration;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST};
use axum::http::{HeaderValue, Method, StatusCode};
use strata_testkit::{body_string, get, request};

use crate::app::app_on;
use crate::config::Config;
use crate::items::Catalogue;
use crate::tests::send;

/// `GET path` on `app`, past the response cache (`no-cache`: it asks the
/// handler), as text.
async fn read(app: &Router, path: &str) -> String {
    let mut request = get(path);
    let headers = request.headers_mut();
    headers.insert(HOST, HeaderValue::from_static("shop.test"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let response = send(app, request).await;
    let status = response.status();
    let body = body_string(response.into_body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn metrics(app: &Router) -> String {
    body_string(send(app, get("/metrics")).await.into_body()).await
}

/// The value of the sample line starting with `prefix`, 0 when absent.
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

const MEMORY_HITS: &str = r#"strata_cache_data_lookups_total{outcome="hit",tier="memory"}"#;

#[tokio::test]
async fn item_reads_go_to_the_catalogue_once_and_show_on_metrics() {
    let config = Config::from_lookup(|name| (name == "CATALOGUE_DELAY_MS").then(|| "1".to_owned()))
        .expect("config");
    assert_eq!(config.catalogue_delay, Duration::from_millis(1));
    let app = app_on(&config, None, Catalogue::sample())
        .expect("app")
        .router;
    for _ in 0..3 {
        assert!(read(&app, "/api/items/7").await.contains("\"id\":7"));
        assert!(read(&app, "/api/items").await.contains("\"id\":100"));
    }
    let text = metrics(&app).await;
    for operation in ["select_item", "select_items"] {
        let line = format!(
            r#"db_client_operation_duration_seconds_count{{db_operation_name="{operation}",db_system_name="other_sql"}}"#
        );
        assert_eq!(sample(&text, &line), 1.0, "{operation} once:\n{text}");
    }
    assert_eq!(sample(&text, MEMORY_HITS), 4.0, "{text}");
    assert_eq!(
        sample(&text, "strata_cache_data_loads_total"),
        2.0,
        "{text}"
    );
}

#[test]
fn the_catalogue_delay_is_read_from_the_environment() {
    let config = Config::from_lookup(|_| None).expect("config");
    assert_eq!(config.catalogue_delay, Duration::from_millis(20));
    let error =
        Config::from_lookup(|name| (name == "CATALOGUE_DELAY_MS").then(|| "soon".to_owned()))
            .expect_err("not a number");
    assert_eq!(error.var, "CATALOGUE_DELAY_MS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_on_one_instance_is_read_by_the_other_through_its_memory_tier() {
    let server = strata_testkit::redis::RedisServer::start();
    let config = Config::from_lookup(|name| match name {
        "REDIS_URL" => Some(server.url().to_owned()),
        "CATALOGUE_DELAY_MS" => Some("0".to_owned()),
        _ => None,
    })
    .expect("config");
    let builder = config.redis.as_ref().expect("REDIS_URL read");
    let (pool_a, pool_b) = (
        builder.clone().connect().await.expect("pool"),
        builder.clone().connect().await.expect("pool"),
    );
    // One catalogue: the database both instances read.
    let catalogue = Catalogue::sample();
    let first = app_on(&config, Some(&pool_a), catalogue.clone())
        .expect("app")
        .router;
    let second = app_on(&config, Some(&pool_b), catalogue)
        .expect("app")
        .router;
    // The second instance holds item 7 in its memory tier (it fills once its
    // invalidation channel is subscribed).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sample(&metrics(&second).await, MEMORY_HITS) == 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never held in memory"
        );
        assert!(read(&second, "/api/items/7").await.contains("\"id\":7"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut put = request(
        Method::PUT,
        "/api/items/7",
        r#"{"name":"renamed on the first","description":"d","price_cents":100}"#,
    );
    put.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    put.headers_mut()
        .insert(HOST, HeaderValue::from_static("shop.test"));
    assert_eq!(send(&first, put).await.status(), StatusCode::OK);
    // Bounded by the invalidation's arrival; the memory tier's own TTL cap
    // (30 s) is past this ceiling.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let body = read(&second, "/api/items/7").await;
        if body.contains("renamed on the first") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still the old item: {body}"
        );
        // Slow enough to stay within the anonymous rate limit (60 a minute).
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let text = metrics(&second).await;
    assert!(
        sample(
            &text,
            r#"strata_cache_data_invalidations_total{direction="received"}"#
        ) >= 1.0,
        "{text}"
    );
    drop(server);
}
