//! The layer over `RedisStore` on real Redis: two instances sharing
//! sessions, revocation seen by the other instance, a write racing a
//! sign-out, rotation, and an outage.
#![cfg(all(feature = "redis", feature = "axum"))]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use common::app::{app, cookie_of, send, set_cookie, text};
use http::StatusCode;
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::ClientLike as _;
use strata_core::redis::fred::types::CustomCommand;
use strata_session::{OnStoreError, RedisStore, Session, SessionAdmin, SessionLayer};
use strata_testkit::redis::{RedisServer, shared, unique_prefix};
use tokio::sync::Notify;

async fn pool(url: &str) -> Pool {
    pool_with_timeout(url, Duration::from_secs(2)).await
}

async fn pool_with_timeout(url: &str, command_timeout: Duration) -> Pool {
    let pool = RedisPoolBuilder::from_url(url)
        .unwrap()
        .command_timeout(command_timeout)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    assert!(strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await);
    pool
}

async fn instance(url: &str, prefix: &str) -> (SessionLayer, SessionAdmin) {
    SessionLayer::builder(RedisStore::new(pool(url).await).prefix(prefix))
        .store_timeout(Duration::from_secs(2))
        .pair()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_and_a_revocation_on_one_ends_them_on_the_other() {
    let prefix = unique_prefix("session-layer");
    let (layer_a, _) = instance(shared().url(), &prefix).await;
    let (layer_b, admin_b) = instance(shared().url(), &prefix).await;
    let (a, b) = (app(layer_a), app(layer_b));
    let user = format!("alice-{}", strata_session::RecordId::generate());

    let laptop = cookie_of(&send(&a, "POST", &format!("/login/{user}"), None).await).unwrap();
    let phone = cookie_of(&send(&b, "POST", &format!("/login/{user}"), None).await).unwrap();
    send(&a, "POST", "/set/v/from-a", Some(&laptop)).await;
    assert_eq!(
        text(send(&b, "GET", "/read", Some(&laptop)).await).await,
        format!("{user}|from-a")
    );

    let sessions = admin_b.list(&user).await.unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    // "Sign out everywhere else", from the phone's instance.
    let keep = {
        // The phone's record id, as its handler would see it.
        let layer_probe = Router::new().route(
            "/id",
            post(|session: Session| async move { session.record_id().unwrap().to_string() }),
        );
        let (probe_layer, _) = instance(shared().url(), &prefix).await;
        let probe = layer_probe.layer(probe_layer);
        text(send(&probe, "POST", "/id", Some(&phone)).await).await
    };
    let keep = strata_session::RecordId::parse(&keep).unwrap();
    assert_eq!(admin_b.revoke_all_except(&user, &keep).await.unwrap(), 1);
    assert_eq!(
        text(send(&a, "GET", "/read", Some(&laptop)).await).await,
        "|",
        "revoked at once on A"
    );
    assert_eq!(
        text(send(&a, "GET", "/read", Some(&phone)).await).await,
        format!("{user}|")
    );
    assert_eq!(admin_b.list(&user).await.unwrap().len(), 1);
    assert_eq!(admin_b.revoke_all(&user).await.unwrap(), 1);
    assert_eq!(
        text(send(&b, "GET", "/read", Some(&phone)).await).await,
        "|"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_racing_a_sign_out_never_brings_the_session_back() {
    let prefix = unique_prefix("session-race");
    let raw = pool(shared().url()).await;
    let (layer, _) = instance(shared().url(), &prefix).await;
    let loaded = Arc::new(Notify::new());
    let proceed = Arc::new(Notify::new());
    let (l, p) = (loaded.clone(), proceed.clone());
    let slow = Router::new()
        .route(
            "/slow-set",
            post(move |session: Session| {
                let (l, p) = (l.clone(), p.clone());
                async move {
                    l.notify_one();
                    p.notified().await;
                    session.insert("late", "write").unwrap();
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .merge(app(layer.clone()));
    let slow = slow.layer(layer.clone());
    let plain = app(layer);
    let cookie = cookie_of(&send(&plain, "POST", "/login/dave", None).await).unwrap();

    let writer = {
        let (slow, cookie) = (slow.clone(), cookie.clone());
        tokio::spawn(async move { send(&slow, "POST", "/slow-set", Some(&cookie)).await })
    };
    loaded.notified().await;
    assert_eq!(
        send(&plain, "POST", "/logout", Some(&cookie))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    proceed.notify_one();
    let late = writer.await.unwrap();
    assert!(
        set_cookie(late.headers()).unwrap().contains("Max-Age=0"),
        "the late writer's browser forgets it"
    );
    assert_eq!(
        text(send(&plain, "GET", "/read", Some(&cookie)).await).await,
        "|"
    );
    // Not even a stray field: no record key is left under the prefix.
    let keys: Vec<String> = raw
        .custom(
            CustomCommand::new_static("KEYS", None, false),
            vec![format!("{prefix}s:*")],
        )
        .await
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_id_works_inside_the_grace_window_and_stops_after_it() {
    let prefix = unique_prefix("session-grace");
    let long = SessionLayer::builder(RedisStore::new(pool(shared().url()).await).prefix(&prefix))
        .rotation_grace(Duration::from_secs(60))
        .build()
        .unwrap();
    let app_long = app(long);
    let before = cookie_of(&send(&app_long, "POST", "/set/v/kept", None).await).unwrap();
    let after = cookie_of(&send(&app_long, "POST", "/login/erin", Some(&before)).await).unwrap();
    assert_eq!(
        text(send(&app_long, "GET", "/read", Some(&before)).await).await,
        "erin|kept"
    );
    assert_eq!(
        text(send(&app_long, "GET", "/read", Some(&after)).await).await,
        "erin|kept"
    );

    let short = SessionLayer::builder(RedisStore::new(pool(shared().url()).await).prefix(&prefix))
        .rotation_grace(Duration::from_millis(300))
        .build()
        .unwrap();
    let app_short = app(short);
    let before = cookie_of(&send(&app_short, "POST", "/set/v/kept", None).await).unwrap();
    let after = cookie_of(&send(&app_short, "POST", "/cycle", Some(&before)).await).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        text(send(&app_short, "GET", "/read", Some(&before)).await).await,
        "|"
    );
    assert_eq!(
        text(send(&app_short, "GET", "/read", Some(&after)).await).await,
        "|kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_closed_for_routes_that_need_a_session_and_recovers() {
    let server = RedisServer::start();
    let prefix = unique_prefix("session-outage");
    let store = RedisStore::new(pool(server.url()).await).prefix(&prefix);
    let (anonymous, _) = SessionLayer::builder(store.clone())
        .store_timeout(Duration::from_millis(300))
        .pair()
        .unwrap();
    let rejecting = SessionLayer::builder(store)
        .store_timeout(Duration::from_millis(300))
        .on_store_error(OnStoreError::Reject)
        .build()
        .unwrap();
    let (soft, hard) = (app(anonymous), app(rejecting));
    let cookie = cookie_of(&send(&soft, "POST", "/set/v/1", None).await).unwrap();

    server.stop();
    let started = std::time::Instant::now();
    let needs = send(&soft, "GET", "/read", Some(&cookie)).await;
    assert_eq!(needs.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(needs.headers()["content-type"], "application/problem+json");
    assert_eq!(
        text(send(&soft, "GET", "/public", Some(&cookie)).await).await,
        "public"
    );
    assert_eq!(
        text(send(&soft, "GET", "/optional", Some(&cookie)).await).await,
        "without session"
    );
    let refused = send(&hard, "GET", "/public", Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    // A new session cannot be saved: 503, not a cookie for nothing.
    let save = send(&soft, "POST", "/set/v/2", None).await;
    assert_eq!(save.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(set_cookie(save.headers()), None);
    // Bounded by the store timeout (hang ceiling, not a speed test).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    server.restart();
    let mut recovered = false;
    for _ in 0..100 {
        if send(&soft, "GET", "/read", Some(&cookie)).await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "sessions work again once Redis is back");
    // This test server keeps nothing across a restart: new sessions work.
    let fresh = cookie_of(&send(&soft, "POST", "/set/v/3", None).await).unwrap();
    assert_eq!(
        text(send(&soft, "GET", "/read", Some(&fresh)).await).await,
        "|3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_the_pool_bounds_needs_no_timer_of_the_layer_and_still_ends() {
    let server = RedisServer::start();
    let prefix = unique_prefix("session-self-bounded");
    let pool = pool_with_timeout(server.url(), Duration::from_millis(200)).await;
    let store = RedisStore::new(pool).prefix(&prefix);
    assert_eq!(
        strata_session::Store::load_bound(&store),
        Some(Duration::from_millis(200)),
        "a load is one command, bounded by the pool's command timeout"
    );
    // The layer's own timeout is far longer: the pool's bound is what ends
    // a load when Redis is gone.
    let layer = SessionLayer::builder(store)
        .store_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let (app, cookie) = common::app::app_with_session(layer).await;

    server.stop();
    let started = std::time::Instant::now();
    let needs = send(&app, "GET", "/read", Some(&cookie)).await;
    assert_eq!(needs.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Hang ceiling, not a speed test: a sixth of the layer's timeout.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
