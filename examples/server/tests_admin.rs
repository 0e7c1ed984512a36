//! The admin listener's operators' endpoints on the memory stores: a
//! cached item purged by tag (dry run first), a user's sessions listed
//! and revoked, a client's rate limit shown and reset.

use axum::Router;
use axum::http::header::{CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};
use strata_testkit::{body_bytes, from_peer, get, request};

use crate::app::{App, app};
use crate::config::Config;
use crate::tests::{json as body_json, send};

fn instance() -> (Router, Router) {
    let App {
        router,
        admin,
        recorder,
        ..
    } = app(&Config::from_lookup(|_| None).expect("config"), None).expect("app");
    (router, crate::admin::router(admin, recorder.viewer()))
}

async fn call(
    admin: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = request(method, uri, body.map(|b| b.to_string()).unwrap_or_default());
    req.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = send(admin, req).await;
    (response.status(), body_json(response).await)
}

/// The `Cache-Status` of a GET of `path` on `shop.test`.
pub(crate) async fn cached(app: &Router, path: &str) -> String {
    let mut req = get(path);
    req.headers_mut()
        .insert(HOST, HeaderValue::from_static("shop.test"));
    let (parts, body) = send(app, req).await.into_parts();
    body_bytes(body).await;
    parts.headers["cache-status"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn purges_a_tag_with_a_dry_run_first() {
    let (app, admin) = instance();
    cached(&app, "/api/items/3").await;
    assert!(cached(&app, "/api/items/3").await.contains("hit"));
    let (status, stats) = call(&admin, Method::GET, "/admin/cache/stats", None).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert!(stats["entries"].as_u64() >= Some(1), "{stats}");

    let dry = json!({"tag": "item-3", "dry_run": true});
    let (status, counted) = call(&admin, Method::POST, "/admin/cache/purge", Some(dry)).await;
    assert_eq!(
        (status, counted["count"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{counted}"
    );
    assert!(
        cached(&app, "/api/items/3").await.contains("hit"),
        "a dry run changes nothing"
    );
    let (status, purged) = call(
        &admin,
        Method::POST,
        "/admin/cache/purge",
        Some(json!({"tag": "item-3"})),
    )
    .await;
    assert_eq!(
        (status, purged["count"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{purged}"
    );
    assert!(
        !cached(&app, "/api/items/3").await.contains("hit"),
        "purged"
    );

    let (status, _) = call(
        &admin,
        Method::POST,
        "/admin/cache/purge",
        Some(json!({"tag": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &admin,
        Method::POST,
        "/admin/cache/purge",
        Some(json!({"url": "/items"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn login(app: &Router, user: &str) -> String {
    let mut req = request(
        Method::POST,
        "/api/login",
        format!(r#"{{"username":"{user}"}}"#),
    );
    req.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let req = from_peer(req, ([192, 0, 2, 44], 4000));
    let response = send(app, req).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    cookie.split(';').next().expect("name=value").to_owned()
}

#[tokio::test]
async fn lists_and_revokes_a_users_sessions() {
    let (app, admin) = instance();
    let laptop = login(&app, "erin").await;
    login(&app, "erin").await;
    let (status, listed) = call(&admin, Method::GET, "/admin/sessions/erin", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed["sessions"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let dry = Some(json!({"dry_run": true}));
    let (_, counted) = call(&admin, Method::POST, "/admin/sessions/erin/revoke", dry).await;
    assert_eq!(counted["count"].as_u64(), Some(2));
    let (status, revoked) = call(
        &admin,
        Method::POST,
        "/admin/sessions/erin/revoke",
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, revoked["count"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{revoked}"
    );
    let mut me = get("/api/me");
    me.headers_mut()
        .insert(COOKIE, HeaderValue::from_str(&laptop).expect("ascii"));
    assert_eq!(
        send(&app, me).await.status(),
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
    let unknown = Some(json!({"id": "AAAAAAAAAAAAAAAAAAAAAA"}));
    let (status, _) = call(&admin, Method::POST, "/admin/sessions/erin/revoke", unknown).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shows_and_resets_a_clients_login_limit() {
    use strata::rate_limit::{Key, Store as _};
    let App {
        admin: handles,
        recorder,
        ..
    } = app(&Config::from_lookup(|_| None).expect("config"), None).expect("app");
    let admin = crate::admin::router(handles.clone(), recorder.viewer());
    let (login, _) = crate::limits::policies()
        .into_iter()
        .find(|(p, _)| p.name() == "login")
        .expect("the login policy");
    let key = Key::ip("192.0.2.44".parse().expect("ip"));
    for _ in 0..2 {
        let decision = handles
            .limits
            .login
            .check(&key, std::slice::from_ref(&login), 1)
            .await;
        assert!(decision.expect("memory").is_allowed());
    }
    let uri = "/admin/ratelimit/ip:192.0.2.44?policy=login";
    let (status, shown) = call(&admin, Method::GET, uri, None).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["policies"][0]["limit"].as_u64(), Some(5), "{shown}");
    assert_eq!(
        shown["policies"][0]["remaining"].as_u64(),
        Some(3),
        "{shown}"
    );
    let (_, every) = call(&admin, Method::GET, "/admin/ratelimit/ip:192.0.2.44", None).await;
    assert_eq!(
        every["policies"].as_array().map(Vec::len),
        Some(4),
        "every policy: {every}"
    );
    let dry = Some(json!({"policy": "login", "dry_run": true}));
    let (_, counted) = call(
        &admin,
        Method::POST,
        "/admin/ratelimit/ip:192.0.2.44/reset",
        dry,
    )
    .await;
    assert_eq!(counted["count"].as_u64(), Some(1), "{counted}");
    let reset = Some(json!({"policy": "login"}));
    let (status, done) = call(
        &admin,
        Method::POST,
        "/admin/ratelimit/ip:192.0.2.44/reset",
        reset,
    )
    .await;
    assert_eq!(
        (status, done["count"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{done}"
    );
    let (_, shown) = call(&admin, Method::GET, uri, None).await;
    assert_eq!(
        shown["policies"][0]["remaining"].as_u64(),
        Some(5),
        "{shown}"
    );
}
