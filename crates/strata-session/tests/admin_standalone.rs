//! `SessionAdmin::new`: an admin handle on a store alone (no layer) lists
//! and revokes the sessions a service's layer created, on memory, Redis
//! and a Redis Cluster.
#![cfg(all(feature = "redis", feature = "axum"))]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::app::{app, cookie_of, send, text};
use strata_core::redis::RedisPoolBuilder;
use strata_session::store::Store;
use strata_session::{MemoryStore, RedisStore, SessionAdmin, SessionLayer};
use strata_testkit::redis::{shared, shared_cluster, unique_prefix};

async fn redis(url: &str) -> RedisStore {
    let pool = RedisPoolBuilder::from_url(url)
        .unwrap()
        .command_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    assert!(strata_core::redis::wait_connected(&pool, Duration::from_secs(20)).await);
    RedisStore::new(pool)
}

/// A layer on `service` signs a user in twice; an admin on `tool` (the same
/// state, reached separately) lists both, revokes one by id, then the rest.
async fn admin_without_a_layer_lists_and_revokes(service: impl Store, tool: impl Store) {
    let (layer, _) = SessionLayer::builder(service)
        .store_timeout(Duration::from_secs(2))
        .pair()
        .unwrap();
    let web = app(layer);
    let user = common::unique_user("standalone");
    let laptop = cookie_of(&send(&web, "POST", &format!("/login/{user}"), None).await).unwrap();
    let phone = cookie_of(&send(&web, "POST", &format!("/login/{user}"), None).await).unwrap();

    let admin = SessionAdmin::new(tool);
    let sessions = admin.list(&user).await.unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(sessions.iter().all(|s| s.user.as_deref() == Some(&*user)));
    assert!(admin.revoke(&user, &sessions[0].id).await.unwrap());
    assert!(
        !admin.revoke(&user, &sessions[0].id).await.unwrap(),
        "already revoked"
    );
    let left = admin.list(&user).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, sessions[1].id);

    assert_eq!(admin.revoke_all(&user).await.unwrap(), 1);
    assert!(admin.list(&user).await.unwrap().is_empty());
    for cookie in [&laptop, &phone] {
        assert_eq!(
            text(send(&web, "GET", "/read", Some(cookie)).await).await,
            "|",
            "signed out on the service"
        );
    }
}

#[tokio::test]
async fn on_memory() {
    let store = MemoryStore::new();
    admin_without_a_layer_lists_and_revokes(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis() {
    let prefix = unique_prefix("session-admin");
    admin_without_a_layer_lists_and_revokes(
        redis(shared().url()).await.prefix(&prefix),
        redis(shared().url()).await.prefix(&prefix),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster() {
    let prefix = unique_prefix("session-admin");
    admin_without_a_layer_lists_and_revokes(
        redis(shared_cluster().url()).await.prefix(&prefix),
        redis(shared_cluster().url()).await.prefix(&prefix),
    )
    .await;
}

/// A service with a 48-hour idle timeout keeps a session seen 30 hours
/// ago (its TTL says so): the standalone admin, which cannot know that
/// timeout, lists and revokes it instead of judging it by the default 24.
#[tokio::test]
async fn a_session_idle_longer_than_the_default_timeout_is_still_listed() {
    use strata_session::store::RecordId;
    let store = MemoryStore::new();
    let user = common::unique_user("long-idle");
    let mut record = common::record(1, Some(&user), &[]);
    let hour = 3_600_000;
    record.seen_ms -= 30 * hour;
    record.created_ms -= 30 * hour;
    record.expires_ms += 24 * hour;
    let id = RecordId::generate();
    assert!(store.create(&id, &record, common::HOUR).await.unwrap());

    let admin = SessionAdmin::new(store.clone());
    let listed = admin.list(&user).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), [id]);
    assert_eq!(admin.revoke_all(&user).await.unwrap(), 1);
    assert!(store.load(&id).await.unwrap().is_none());
}
