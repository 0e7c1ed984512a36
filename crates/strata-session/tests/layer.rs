//! The layer over a memory store, on tokio's paused clock.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::app::{app, cookie_of, send, send_with, set_cookie, text};
use common::counting::Counting;
use http::StatusCode;
use strata_session::{Clock, MemoryStore, SessionLayer};

fn layer(store: Counting<MemoryStore>) -> SessionLayer {
    SessionLayer::builder(store)
        .clock(Clock::Tokio)
        .idle_timeout(Duration::from_secs(600))
        .absolute_lifetime(Duration::from_secs(3600))
        .touch_interval(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn store() -> Counting<MemoryStore> {
    Counting::new(MemoryStore::new())
}

#[tokio::test(start_paused = true)]
async fn a_request_without_a_cookie_costs_no_store_call_and_sets_no_cookie() {
    let store = store();
    let app = app(layer(store.clone()));
    let response = send(&app, "GET", "/read", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(set_cookie(response.headers()), None);
    assert_eq!(store.calls.get(), [0; 4]);
}

#[tokio::test(start_paused = true)]
async fn a_new_session_that_holds_nothing_is_never_stored() {
    let store = store();
    let app = app(layer(store.clone()));
    let response = send(&app, "POST", "/noop", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(set_cookie(response.headers()), None);
    assert_eq!(store.calls.get(), [0; 4]);
    assert!(store.inner.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_value_round_trips_with_one_read_and_no_write_for_reads() {
    let store = store();
    let app = app(layer(store.clone()));
    let response = send(&app, "POST", "/set/v/hello", None).await;
    let set = set_cookie(response.headers()).unwrap();
    assert!(set.starts_with("__Host-sid="), "{set}");
    assert!(
        set.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{set}"
    );
    assert_eq!(store.calls.get(), [0, 1, 0, 0]);
    let cookie = cookie_of(&response).unwrap();

    let response = send(&app, "GET", "/read", Some(&cookie)).await;
    assert_eq!(set_cookie(response.headers()), None);
    assert_eq!(text(response).await, "|hello");
    assert_eq!(store.calls.get(), [1, 1, 0, 0], "one load, no write");
}

#[tokio::test(start_paused = true)]
async fn only_changed_keys_are_written_and_an_unchanged_insert_writes_nothing() {
    let store = store();
    let app = app(layer(store.clone()));
    let cookie = cookie_of(&send(&app, "POST", "/set/a/1", None).await).unwrap();
    send(&app, "POST", "/set/b/2", Some(&cookie)).await;
    assert_eq!(store.calls.get(), [1, 1, 1, 0]);
    // Writing the value it already holds is no change.
    let response = send(&app, "POST", "/set/b/2", Some(&cookie)).await;
    assert_eq!(set_cookie(response.headers()), None);
    assert_eq!(store.calls.get(), [2, 1, 1, 0]);
    assert_eq!(
        text(send(&app, "GET", "/get/a", Some(&cookie)).await).await,
        "1"
    );
    assert_eq!(
        text(send(&app, "GET", "/get/b", Some(&cookie)).await).await,
        "2"
    );
}

#[tokio::test(start_paused = true)]
async fn activity_touches_at_most_once_per_interval_without_a_cookie() {
    let store = store();
    let app = app(layer(store.clone()));
    let cookie = cookie_of(&send(&app, "POST", "/set/v/x", None).await).unwrap();
    for _ in 0..5 {
        tokio::time::advance(Duration::from_secs(10)).await;
        send(&app, "GET", "/read", Some(&cookie)).await;
    }
    assert_eq!(store.calls.get(), [5, 1, 0, 0], "50 s: no touch yet");
    tokio::time::advance(Duration::from_secs(11)).await;
    let response = send(&app, "GET", "/read", Some(&cookie)).await;
    assert_eq!(
        set_cookie(response.headers()),
        None,
        "a touch sends no cookie"
    );
    assert_eq!(
        store.calls.get(),
        [6, 1, 1, 0],
        "one touch after the interval"
    );
    send(&app, "GET", "/read", Some(&cookie)).await;
    assert_eq!(store.calls.get(), [7, 1, 1, 0]);
}

#[tokio::test(start_paused = true)]
async fn the_server_ends_idle_sessions_and_active_ones_at_their_absolute_end() {
    let store = store();
    let app = app(layer(store.clone()));
    let idle = cookie_of(&send(&app, "POST", "/set/v/idle", None).await).unwrap();
    let active = cookie_of(&send(&app, "POST", "/set/v/active", None).await).unwrap();
    // Active every 5 minutes: the idle one (10 minutes) ends, the active one lives.
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(300)).await;
        assert_eq!(
            text(send(&app, "GET", "/get/v", Some(&active)).await).await,
            "active"
        );
    }
    assert_eq!(
        text(send(&app, "GET", "/get/v", Some(&idle)).await).await,
        ""
    );
    // The absolute lifetime (1 hour) ends the active one however active:
    // alive at 55 minutes, ended at 60.
    for _ in 0..8 {
        tokio::time::advance(Duration::from_secs(300)).await;
        assert_eq!(
            text(send(&app, "GET", "/get/v", Some(&active)).await).await,
            "active"
        );
    }
    tokio::time::advance(Duration::from_secs(300)).await;
    assert_eq!(
        text(send(&app, "GET", "/get/v", Some(&active)).await).await,
        ""
    );
}

#[tokio::test(start_paused = true)]
async fn sign_in_rotates_the_id_keeps_the_data_and_the_old_id_works_for_the_grace_window() {
    let store = store();
    let app = app(layer(store.clone()));
    let before = cookie_of(&send(&app, "POST", "/set/v/cart", None).await).unwrap();
    let response = send(&app, "POST", "/login/alice", Some(&before)).await;
    let after = cookie_of(&response).unwrap();
    assert_ne!(after, before);
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&after)).await).await,
        "alice|cart"
    );
    tokio::time::advance(Duration::from_millis(4_900)).await;
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&before)).await).await,
        "alice|cart"
    );
    tokio::time::advance(Duration::from_millis(200)).await;
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&before)).await).await,
        "|"
    );
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&after)).await).await,
        "alice|cart"
    );
}

#[tokio::test(start_paused = true)]
async fn cycle_id_rotates_without_signing_in() {
    let app = app(layer(store()));
    let before = cookie_of(&send(&app, "POST", "/set/v/1", None).await).unwrap();
    let after = cookie_of(&send(&app, "POST", "/cycle", Some(&before)).await).unwrap();
    assert_ne!(after, before);
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&after)).await).await,
        "|1"
    );
}

#[tokio::test(start_paused = true)]
async fn sign_out_deletes_the_record_and_removes_the_cookie_with_its_path_and_domain() {
    let store = store();
    let layer = SessionLayer::builder(store.clone())
        .clock(Clock::Tokio)
        .cookie_name("sid")
        .cookie_domain("app.test")
        .cookie_path("/")
        .build()
        .unwrap();
    let app = app(layer);
    let cookie = cookie_of(&send(&app, "POST", "/login/bob", None).await).unwrap();
    let response = send(&app, "POST", "/logout", Some(&cookie)).await;
    assert_eq!(
        set_cookie(response.headers()).unwrap(),
        "sid=; Path=/; Domain=app.test; Secure; HttpOnly; SameSite=Lax; Max-Age=0; \
         Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    );
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&cookie)).await).await,
        "|"
    );
    assert!(store.inner.is_empty());
}

#[tokio::test(start_paused = true)]
async fn bad_cookies_give_a_fresh_session_without_a_store_write() {
    let store = store();
    let app = app(layer(store.clone()));
    let good = cookie_of(&send(&app, "POST", "/set/v/1", None).await).unwrap();
    let calls_before = store.calls.get();
    let value = good.split_once('=').unwrap().1.to_owned();
    let cases = [
        "__Host-sid=junk".to_owned(),
        format!("__Host-sid={}", "A".repeat(4000)),
        format!("__Host-sid={value}; __Host-sid={value}"),
        format!("__Host-sid={}*", &value[..42]),
        format!("__Host-sid={}=", &value[..42]),
    ];
    for cookie in &cases {
        let response = send(&app, "GET", "/read", Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{cookie}");
        assert_eq!(set_cookie(response.headers()), None);
        assert_eq!(text(response).await, "|", "{cookie}");
    }
    assert_eq!(
        store.calls.get(),
        calls_before,
        "malformed ids cost no store call"
    );
    // A well-formed unknown id: one read, nothing written.
    let unknown = format!("__Host-sid={}", "B".repeat(43));
    assert_eq!(
        text(send(&app, "GET", "/read", Some(&unknown)).await).await,
        "|"
    );
    assert_eq!(
        store.calls.writes(),
        calls_before[1] + calls_before[2] + calls_before[3]
    );
}

#[tokio::test(start_paused = true)]
async fn parallel_requests_changing_different_keys_both_persist() {
    let app = app(layer(store()));
    let cookie = cookie_of(&send(&app, "POST", "/set/base/0", None).await).unwrap();
    let requests: Vec<_> = (0..10)
        .map(|i| {
            let app = app.clone();
            let cookie = cookie.clone();
            tokio::spawn(async move {
                send(&app, "POST", &format!("/set/k{i}/{i}"), Some(&cookie)).await
            })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().status(), StatusCode::NO_CONTENT);
    }
    for i in 0..10 {
        assert_eq!(
            text(send(&app, "GET", &format!("/get/k{i}"), Some(&cookie)).await).await,
            i.to_string()
        );
    }
    assert_eq!(
        text(send(&app, "GET", "/get/base", Some(&cookie)).await).await,
        "0"
    );
}

#[tokio::test(start_paused = true)]
async fn the_cross_site_guard_refuses_unsafe_requests_with_the_cookie_from_other_sites() {
    let layer = SessionLayer::builder(store())
        .clock(Clock::Tokio)
        .allowed_origin("https://partner.test")
        .build()
        .unwrap();
    let app = app(layer);
    let cookie = cookie_of(&send(&app, "POST", "/set/v/1", None).await).unwrap();

    let refused = send_with(
        &app,
        "POST",
        "/set/v/2",
        Some(&cookie),
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        refused.extensions().get::<strata_session::Rejection>(),
        Some(&strata_session::Rejection::CrossSite(
            strata_session::CrossSiteRefusal::FetchSite
        ))
    );
    let refused = send_with(
        &app,
        "POST",
        "/set/v/2",
        Some(&cookie),
        &[("origin", "https://evil.test")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        text(send(&app, "GET", "/get/v", Some(&cookie)).await).await,
        "1",
        "nothing written"
    );

    for headers in [
        &[("sec-fetch-site", "same-origin")][..],
        &[("origin", "https://app.test")][..],
        &[
            ("origin", "https://partner.test"),
            ("sec-fetch-site", "cross-site"),
        ][..],
    ] {
        let allowed = send_with(&app, "POST", "/set/v/3", Some(&cookie), headers).await;
        assert_eq!(allowed.status(), StatusCode::NO_CONTENT, "{headers:?}");
    }
    // Without the session cookie there is nothing to forge.
    let anonymous = send_with(
        &app,
        "POST",
        "/set/v/4",
        None,
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(start_paused = true)]
async fn persistent_cookies_carry_the_remaining_lifetime() {
    let layer = SessionLayer::builder(store())
        .clock(Clock::Tokio)
        .persistent(true)
        .absolute_lifetime(Duration::from_secs(7200))
        .build()
        .unwrap();
    let app = app(layer);
    let set = set_cookie(send(&app, "POST", "/set/v/1", None).await.headers()).unwrap();
    assert!(set.ends_with("; Max-Age=7200"), "{set}");
}

#[tokio::test(start_paused = true)]
async fn a_load_that_never_answers_ends_at_the_store_timeout() {
    let store = store();
    let stalled = store.stalled.clone();
    let layer = SessionLayer::builder(store)
        .clock(Clock::Tokio)
        .store_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (app, cookie) = common::app::app_with_session(layer).await;

    stalled.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = tokio::time::Instant::now();
    let response = send(&app, "GET", "/read", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}
