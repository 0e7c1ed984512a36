//! The catalogue through the shared cache: hits with `Age` and
//! `Cache-Status`, shared across a signed-in user's cookie, stored per
//! coding, purged by `PUT` on every instance, counted on `/metrics`.

use axum::Router;
use axum::http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use strata_testkit::{body_bytes, body_string, get, request};

use crate::app::app;
use crate::config::Config;
use crate::tests::{json, send, two_instances_on_one_redis};

fn memory_app() -> Router {
    app(&Config::from_lookup(|_| None).expect("config"), None)
        .expect("app")
        .router
}

/// A GET read to its end (the cache stores a response once its body has
/// streamed to the client whole).
async fn read(app: &Router, path: &str, headers: &[(axum::http::HeaderName, &str)]) -> Response {
    let mut request = get(path);
    request
        .headers_mut()
        .insert(HOST, HeaderValue::from_static("shop.test"));
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(name.clone(), HeaderValue::from_str(value).expect("ascii"));
    }
    let (parts, body) = send(app, request).await.into_parts();
    Response::from_parts(parts, axum::body::Body::from(body_bytes(body).await))
}

fn cache_status(response: &Response) -> String {
    response.headers()["cache-status"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn catalogue_reads_are_served_from_the_cache_with_age_and_cache_status() {
    let app = memory_app();
    let first = read(&app, "/api/items/3", &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(
        cache_status(&first).contains("fwd=uri-miss"),
        "{}",
        cache_status(&first)
    );
    assert!(
        cache_status(&first).contains("stored"),
        "{}",
        cache_status(&first)
    );
    assert!(
        !first.headers().contains_key("surrogate-key"),
        "the tag header is stripped"
    );
    let body = body_bytes(first.into_body()).await;

    let second = read(&app, "/api/items/3", &[]).await;
    assert!(
        cache_status(&second).contains("hit"),
        "{}",
        cache_status(&second)
    );
    assert!(second.headers().contains_key("age"));
    assert_eq!(body_bytes(second.into_body()).await, body);

    // A conditional request is answered by the cache.
    let etag = read(&app, "/api/items/3", &[]).await.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let not_modified = read(
        &app,
        "/api/items/3",
        &[(axum::http::header::IF_NONE_MATCH, &etag)],
    )
    .await;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert!(cache_status(&not_modified).contains("hit"));
}

#[tokio::test]
async fn a_signed_in_users_cookie_does_not_keep_the_catalogue_from_being_shared() {
    let app = memory_app();
    read(&app, "/api/items", &[]).await;
    let mut login = request(Method::POST, "/api/login", r#"{"username":"ivy"}"#);
    login
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = send(&app, login).await;
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    let cookie = cookie.split(';').next().expect("name=value").to_owned();
    let shared = read(&app, "/api/items", &[(COOKIE, &cookie)]).await;
    assert!(
        cache_status(&shared).contains("hit"),
        "{}",
        cache_status(&shared)
    );
    assert!(!shared.headers().contains_key(SET_COOKIE));
    // The user's own routes do not pass through the cache at all.
    let me = read(&app, "/api/me", &[(COOKIE, &cookie)]).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(!me.headers().contains_key("cache-status"));
}

#[tokio::test]
async fn the_cache_keys_a_resource_by_the_url_clients_request() {
    let crate::app::App { router, admin, .. } =
        app(&Config::from_lookup(|_| None).expect("config"), None).expect("app");
    read(&router, "/api/items/2", &[]).await;
    let count = |url: &str| {
        let key = strata::cache::CacheKey::from_url(url).expect("an absolute URL");
        let cache = admin.cache.clone();
        async move { cache.count(&key).await.expect("the memory store counts") }
    };
    assert_eq!(count("http://shop.test/api/items/2").await, 1);
    assert_eq!(
        count("http://shop.test/items/2").await,
        0,
        "not the path inside `/api`"
    );
}

#[tokio::test]
async fn each_coding_is_stored_once_and_served_without_compressing_again() {
    let app = memory_app();
    let first = read(&app, "/api/items", &[(ACCEPT_ENCODING, "br, gzip")]).await;
    assert_eq!(first.headers()[CONTENT_ENCODING], "br");
    let compressed = body_bytes(first.into_body()).await;
    let hit = read(&app, "/api/items", &[(ACCEPT_ENCODING, "gzip, br")]).await;
    assert!(cache_status(&hit).contains("hit"), "{}", cache_status(&hit));
    assert_eq!(hit.headers()[CONTENT_ENCODING], "br");
    assert_eq!(body_bytes(hit.into_body()).await, compressed);
    let gzip = read(&app, "/api/items", &[(ACCEPT_ENCODING, "gzip")]).await;
    assert!(
        cache_status(&gzip).contains("miss"),
        "another coding, another variant: {}",
        cache_status(&gzip)
    );
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
}

async fn put_name(app: &Router, id: u32, name: &str) -> StatusCode {
    let body = format!(r#"{{"name":"{name}","description":"d","price_cents":100}}"#);
    let mut put = request(Method::PUT, &format!("/api/items/{id}"), body);
    put.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    put.headers_mut()
        .insert(HOST, HeaderValue::from_static("shop.test"));
    send(app, put).await.status()
}

#[tokio::test]
async fn a_put_purges_the_item_and_the_list() {
    let app = memory_app();
    read(&app, "/api/items/5", &[]).await;
    read(&app, "/api/items", &[]).await;
    assert_eq!(put_name(&app, 5, "renamed").await, StatusCode::OK);
    let item = read(&app, "/api/items/5", &[]).await;
    assert!(
        !cache_status(&item).contains("hit"),
        "{}",
        cache_status(&item)
    );
    assert_eq!(json(item).await["name"], "renamed");
    let list = read(&app, "/api/items", &[]).await;
    assert!(
        !cache_status(&list).contains("hit"),
        "{}",
        cache_status(&list)
    );
    assert!(body_string(list.into_body()).await.contains("renamed"));
}

#[tokio::test]
async fn the_hit_ratio_is_on_metrics() {
    let app = memory_app();
    read(&app, "/api/items/1", &[]).await;
    read(&app, "/api/items/1", &[]).await;
    let text = body_string(send(&app, get("/metrics")).await.into_body()).await;
    let hits = text
        .lines()
        .find(|line| {
            line.starts_with("strata_cache_lookups_total") && line.contains("outcome=\"hit\"")
        })
        .unwrap_or_else(|| panic!("no hit counter in\n{text}"));
    assert!(hits.ends_with(" 1"), "{hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_redis_share_stored_responses_and_purges() {
    let (server, first, second, _pool) = two_instances_on_one_redis().await;
    read(&first, "/api/items/7", &[]).await;
    let shared = read(&second, "/api/items/7", &[]).await;
    assert!(
        cache_status(&shared).contains("hit"),
        "filled on the first, hit on the second: {}",
        cache_status(&shared)
    );
    // The catalogue itself is per instance in this demo: the purge is what
    // both share, so the second instance goes to its own catalogue again.
    assert_eq!(
        put_name(&first, 7, "renamed-on-first").await,
        StatusCode::OK
    );
    let after = read(&second, "/api/items/7", &[]).await;
    assert!(
        !cache_status(&after).contains("hit"),
        "purged for every instance: {}",
        cache_status(&after)
    );
    drop(server);
}
