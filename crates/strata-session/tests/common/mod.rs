//! The conformance suite every session store passes, and shared helpers.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(feature = "axum")]
pub mod app;
pub mod counting;

use strata_session::store::{Record, RecordId, Rotation, SecretHash, SignIn, Update};

pub fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

pub const HOUR: Duration = Duration::from_secs(3600);

pub fn secret(n: u8) -> SecretHash {
    SecretHash([n; 32])
}

pub fn record(secret_n: u8, user: Option<&str>, data: &[(&str, &str)]) -> Record {
    let now = now_ms();
    Record {
        secret: secret(secret_n),
        previous: None,
        user: user.map(str::to_owned),
        created_ms: now,
        seen_ms: now,
        expires_ms: now + 3_600_000,
        user_agent: Some("test-agent".into()),
        ip: Some("192.0.2.7".into()),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

pub fn update(secret_n: u8) -> Update {
    let now = now_ms();
    Update {
        secret: secret(secret_n),
        now_ms: now,
        rotate: None,
        sign_in: None,
        set: Vec::new(),
        remove: Vec::new(),
        seen_ms: now,
    }
}

pub fn set(mut update: Update, key: &str, value: &str) -> Update {
    update.set.push((key.into(), value.into()));
    update
}

pub fn rotate(mut update: Update, new_secret: u8, grace_ms: u64) -> Update {
    update.rotate = Some(Rotation {
        secret: secret(new_secret),
        grace_until_ms: update.now_ms + grace_ms,
    });
    update
}

pub fn sign_in(mut update: Update, user: &str) -> Update {
    update.sign_in = Some(SignIn {
        user: user.into(),
        user_agent: Some("agent-2".into()),
        ip: Some("198.51.100.1".into()),
    });
    update
}

pub fn data(record: &Record) -> HashMap<&str, &str> {
    record
        .data
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

pub fn unique_user(name: &str) -> String {
    format!("{name}-{}", RecordId::generate())
}

/// The suite: `conformance_suite!(store_expression)` inside a test file.
#[macro_export]
macro_rules! conformance_suite {
    ($store:expr) => {
        mod conformance {
            use std::sync::Arc;
            use std::time::Duration;

            use strata_session::store::{RecordId, Store};

            use super::*;
            use $crate::common::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_created_record_loads_back_whole() {
                let store = $store;
                let id = RecordId::generate();
                let record = record(1, None, &[("a", "1"), ("b", "\"two\"")]);
                assert!(store.create(&id, &record, HOUR).await.unwrap());
                assert_eq!(store.load(&id).await.unwrap(), Some(record));
                assert_eq!(store.load(&RecordId::generate()).await.unwrap(), None);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn create_refuses_a_taken_id_and_keeps_the_first_record() {
                let store = $store;
                let id = RecordId::generate();
                let first = record(1, None, &[("a", "1")]);
                assert!(store.create(&id, &first, HOUR).await.unwrap());
                assert!(
                    !store
                        .create(&id, &record(2, None, &[("a", "2")]), HOUR)
                        .await
                        .unwrap()
                );
                assert_eq!(store.load(&id).await.unwrap(), Some(first));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn updates_write_only_their_keys_so_concurrent_ones_both_persist() {
                let store = Arc::new($store);
                let id = RecordId::generate();
                store
                    .create(&id, &record(1, None, &[("keep", "0")]), HOUR)
                    .await
                    .unwrap();
                let writers: Vec<_> = (0..20)
                    .map(|i| {
                        let store = store.clone();
                        tokio::spawn(async move {
                            let update = set(update(1), &format!("k{i}"), &i.to_string());
                            store.update(&id, &update, HOUR).await.unwrap()
                        })
                    })
                    .collect();
                for writer in writers {
                    assert!(writer.await.unwrap());
                }
                let loaded = store.load(&id).await.unwrap().unwrap();
                assert_eq!(loaded.data.len(), 21, "{:?}", loaded.data);
                assert_eq!(data(&loaded)["keep"], "0");
                for i in 0..20 {
                    assert_eq!(data(&loaded)[&*format!("k{i}")], i.to_string());
                }
                let mut removal = update(1);
                removal.remove.push("keep".into());
                assert!(store.update(&id, &removal, HOUR).await.unwrap());
                assert!(
                    !store
                        .load(&id)
                        .await
                        .unwrap()
                        .unwrap()
                        .data
                        .contains_key("keep")
                );
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_deleted_record_is_never_written_back() {
                let store = $store;
                let id = RecordId::generate();
                store
                    .create(&id, &record(1, None, &[]), HOUR)
                    .await
                    .unwrap();
                assert!(store.delete(&id).await.unwrap());
                assert!(!store.delete(&id).await.unwrap());
                assert!(
                    !store
                        .update(&id, &set(update(1), "late", "1"), HOUR)
                        .await
                        .unwrap()
                );
                assert_eq!(store.load(&id).await.unwrap(), None);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_wrong_secret_writes_nothing() {
                let store = $store;
                let id = RecordId::generate();
                let original = record(1, None, &[("a", "1")]);
                store.create(&id, &original, HOUR).await.unwrap();
                assert!(
                    !store
                        .update(&id, &set(update(9), "a", "2"), HOUR)
                        .await
                        .unwrap()
                );
                assert_eq!(store.load(&id).await.unwrap(), Some(original));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn rotation_keeps_data_and_the_old_secret_works_only_in_its_grace_window() {
                let store = $store;
                let id = RecordId::generate();
                store
                    .create(&id, &record(1, None, &[("a", "1")]), HOUR)
                    .await
                    .unwrap();
                let rotation = rotate(update(1), 2, 5_000);
                let grace_end = rotation.now_ms + 5_000;
                assert!(store.update(&id, &rotation, HOUR).await.unwrap());
                let loaded = store.load(&id).await.unwrap().unwrap();
                assert_eq!(loaded.secret, secret(2));
                assert_eq!(loaded.previous, Some((secret(1), grace_end)));
                assert_eq!(data(&loaded)["a"], "1");
                assert!(loaded.accepts(&secret(1), grace_end - 1));
                assert!(!loaded.accepts(&secret(1), grace_end));

                // The old secret inside the window: accepted.
                let mut in_grace = set(update(1), "b", "2");
                in_grace.now_ms = grace_end - 1;
                assert!(store.update(&id, &in_grace, HOUR).await.unwrap());
                // After it: refused, nothing written.
                let mut late = set(update(1), "c", "3");
                late.now_ms = grace_end;
                assert!(!store.update(&id, &late, HOUR).await.unwrap());
                let loaded = store.load(&id).await.unwrap().unwrap();
                assert_eq!(data(&loaded).get("b"), Some(&"2"));
                assert_eq!(data(&loaded).get("c"), None);
                // The new secret: accepted.
                assert!(
                    store
                        .update(&id, &set(update(2), "c", "3"), HOUR)
                        .await
                        .unwrap()
                );
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_record_past_its_absolute_end_takes_no_write() {
                let store = $store;
                let id = RecordId::generate();
                let record = record(1, None, &[]);
                store.create(&id, &record, HOUR).await.unwrap();
                let mut late = set(update(1), "a", "1");
                late.now_ms = record.expires_ms;
                assert!(!store.update(&id, &late, HOUR).await.unwrap());
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn records_expire_after_their_time_to_live() {
                let store = $store;
                let short = RecordId::generate();
                let long = RecordId::generate();
                store
                    .create(&short, &record(1, None, &[]), Duration::from_millis(200))
                    .await
                    .unwrap();
                store
                    .create(&long, &record(1, None, &[]), HOUR)
                    .await
                    .unwrap();
                // A touch extends the time to live.
                let touched = RecordId::generate();
                store
                    .create(&touched, &record(1, None, &[]), Duration::from_millis(200))
                    .await
                    .unwrap();
                assert!(store.update(&touched, &update(1), HOUR).await.unwrap());
                tokio::time::sleep(Duration::from_millis(1_200)).await;
                assert_eq!(store.load(&short).await.unwrap(), None);
                assert!(store.load(&long).await.unwrap().is_some());
                assert!(store.load(&touched).await.unwrap().is_some());
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_user_index_lists_live_sessions_and_prunes_dead_ones() {
                let store = $store;
                let alice = unique_user("alice");
                let bob = unique_user("bob");
                let (a1, a2, a3) = (
                    RecordId::generate(),
                    RecordId::generate(),
                    RecordId::generate(),
                );
                store
                    .create(&a1, &record(1, Some(&alice), &[]), HOUR)
                    .await
                    .unwrap();
                // Signed in later, through an update.
                store
                    .create(&a2, &record(1, None, &[]), HOUR)
                    .await
                    .unwrap();
                assert!(
                    store
                        .update(&a2, &sign_in(update(1), &alice), HOUR)
                        .await
                        .unwrap()
                );
                store
                    .create(&a3, &record(1, Some(&alice), &[]), HOUR)
                    .await
                    .unwrap();

                let mut listed: Vec<_> = store.sessions(&alice).await.unwrap();
                listed.sort_by_key(|s| s.id);
                let mut expected = vec![a1, a2, a3];
                expected.sort();
                assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), expected);
                let a2_info = listed.iter().find(|s| s.id == a2).unwrap();
                assert_eq!(a2_info.user.as_deref(), Some(&*alice));
                assert_eq!(a2_info.user_agent.as_deref(), Some("agent-2"));
                assert_eq!(a2_info.ip.as_deref(), Some("198.51.100.1"));

                // Deleted, and re-signed in as someone else: both leave.
                assert!(store.delete(&a1).await.unwrap());
                assert!(
                    store
                        .update(&a3, &sign_in(update(1), &bob), HOUR)
                        .await
                        .unwrap()
                );
                let listed = store.sessions(&alice).await.unwrap();
                assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a2]);
                let bobs = store.sessions(&bob).await.unwrap();
                assert_eq!(bobs.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a3]);
                assert!(
                    store
                        .sessions(&unique_user("nobody"))
                        .await
                        .unwrap()
                        .is_empty()
                );
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_expired_record_leaves_its_users_index() {
                let store = $store;
                let user = unique_user("carol");
                let id = RecordId::generate();
                store
                    .create(
                        &id,
                        &record(1, Some(&user), &[]),
                        Duration::from_millis(200),
                    )
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(1_200)).await;
                assert!(store.sessions(&user).await.unwrap().is_empty());
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_store_answers_ping() {
                let store = $store;
                store.ping().await.unwrap();
            }
        }
    };
}
