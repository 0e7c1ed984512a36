//! `strata --service`, the operators' tool run in-process, against the
//! admin listener as `ADMIN_PORT=0` and `ADMIN_TOKEN` configure it (its
//! own token check, its own `/admin/...` routes): each command's exit code
//! and output, and its effect seen through the application. Quotas and
//! sessions run on tokio's paused clock, so nothing refills or expires
//! while a test runs, however slow the machine.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};
use strata_testkit::{from_peer, get, request};
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

use crate::app::{App, app};
use crate::config::Config;
use crate::tests_admin::cached as cache_status;

const TOKEN: &str = "cli-admin-token";
/// The client the application's requests come from.
const PEER: ([u8; 4], u16) = ([192, 0, 2, 44], 4000);

/// The application, and its admin listener serving on a free port.
struct Instance {
    app: Router,
    service: String,
    listener: JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

async fn start() -> Instance {
    let mut config = Config::from_lookup(|name| match name {
        "ADMIN_PORT" => Some("0".to_owned()),
        "ADMIN_TOKEN" => Some(TOKEN.to_owned()),
        _ => None,
    })
    .expect("config");
    config.rate_limit_clock = strata::rate_limit::MemoryClock::Tokio;
    config.session_clock = strata::session::Clock::Tokio;
    let App {
        router,
        admin,
        recorder,
        ..
    } = app(&config, None).expect("app");
    let listener = config.admin.clone().expect("ADMIN_PORT is set");
    let (addr, listener) = crate::admin::spawn(listener, admin, recorder.viewer())
        .await
        .expect("the admin listener binds");
    Instance {
        app: router,
        service: format!("http://{addr}"),
        listener,
    }
}

/// The exit code and stdout of `strata --service SERVICE --token TOKEN
/// args...`, run on a blocking thread.
async fn strata(service: &str, token: &str, args: &[&str]) -> (u8, String) {
    let line: Vec<String> = ["strata", "--service", service, "--token", token]
        .iter()
        .chain(args)
        .map(|a| (*a).to_owned())
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let code = strata_cli::run_to(line, &mut out);
        (code, String::from_utf8(out).expect("UTF-8 output"))
    })
    .await
    .expect("the CLI does not panic")
}

/// `strata ... --json` against `i`: the exit code and the JSON printed.
async fn strata_json(i: &Instance, args: &[&str]) -> (u8, Value) {
    let args = [args, &["--json"]].concat();
    let (code, out) = strata(&i.service, TOKEN, &args).await;
    let value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{args:?}: exit {code}, stdout is not JSON ({e}): {out:?}"));
    (code, value)
}

async fn send(app: &Router, request: Request<Full<Bytes>>) -> Response {
    let request = from_peer(request, SocketAddr::from(PEER));
    app.clone().oneshot(request).await.expect("infallible")
}

/// Signs `user` in; the session cookie.
async fn login(app: &Router, user: &str) -> String {
    let mut req = request(
        Method::POST,
        "/api/login",
        format!(r#"{{"username":"{user}"}}"#),
    );
    req.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = send(app, req).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    cookie.split(';').next().expect("name=value").to_owned()
}

/// The status of `/api/me` with `cookie`: 200 signed in, 401 not.
async fn me(app: &Router, cookie: &str) -> StatusCode {
    let mut req = get("/api/me");
    req.headers_mut()
        .insert(COOKIE, HeaderValue::from_str(cookie).expect("ascii"));
    send(app, req).await.status()
}

#[tokio::test(start_paused = true)]
async fn cache_stats_and_purge_by_tag_and_url_reach_the_apps_cache() {
    let i = start().await;
    cache_status(&i.app, "/api/items/3").await;
    assert!(cache_status(&i.app, "/api/items/3").await.contains("hit"));
    let (code, stats) = strata_json(&i, &["cache", "stats"]).await;
    assert_eq!(code, 0, "{stats}");
    assert!(stats["entries"].as_u64() >= Some(1), "{stats}");

    let tag = ["cache", "purge", "--tag", "item-3"];
    let (code, counted) = strata_json(&i, &[&tag[..], &["--dry-run"]].concat()).await;
    let expected = json!({"action": "cache purge", "target": "tag item-3", "count": 1,
        "dry_run": true});
    assert_eq!((code, &counted), (0, &expected));
    let status = cache_status(&i.app, "/api/items/3").await;
    assert!(
        status.contains("hit"),
        "a dry run changes nothing: {status}"
    );

    let (code, purged) = strata_json(&i, &[&tag[..], &["--yes"]].concat()).await;
    assert_eq!((code, purged["count"].as_u64()), (0, Some(1)), "{purged}");
    assert_eq!(purged["dry_run"], false, "{purged}");
    let status = cache_status(&i.app, "/api/items/3").await;
    assert!(status.contains("fwd=uri-miss"), "purged: {status}");

    let url = "http://shop.test/api/items/3";
    let (code, by_url) = strata_json(&i, &["cache", "purge", "--url", url, "--yes"]).await;
    assert_eq!((code, by_url["count"].as_u64()), (0, Some(1)), "{by_url}");
    let status = cache_status(&i.app, "/api/items/3").await;
    assert!(status.contains("fwd=uri-miss"), "purged by URL: {status}");

    let unknown = strata(
        &i.service,
        TOKEN,
        &["cache", "purge", "--tag", "nope", "--yes"],
    )
    .await;
    assert_eq!(unknown, (2, String::new()), "an unknown tag");
    let relative = strata(
        &i.service,
        TOKEN,
        &["cache", "purge", "--url", "/x", "--yes"],
    )
    .await;
    assert_eq!(
        relative,
        (2, String::new()),
        "the service refuses a relative URL"
    );
}

#[tokio::test(start_paused = true)]
async fn session_list_and_revoke_sign_the_user_out() {
    let i = start().await;
    let laptop = login(&i.app, "alice").await;
    let phone = login(&i.app, "alice").await;
    let (code, listed) = strata_json(&i, &["session", "list", "alice"]).await;
    assert_eq!(code, 0, "{listed}");
    let sessions = listed["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 2, "{listed}");
    let (code, table) = strata(&i.service, TOKEN, &["session", "list", "alice"]).await;
    assert_eq!((code, table.lines().count()), (0, 3), "{table}");
    assert!(table.starts_with("id "), "{table}");

    // The list does not say which record is which cookie's: revoking the
    // first signs exactly one of the two out.
    let first = sessions[0]["id"].as_str().expect("id").to_owned();
    let revoke_first = ["session", "revoke", "alice", "--id", &first];
    let (code, counted) = strata_json(&i, &[&revoke_first[..], &["--dry-run"]].concat()).await;
    assert_eq!((code, counted["count"].as_u64()), (0, Some(1)), "{counted}");
    assert_eq!(me(&i.app, &laptop).await, StatusCode::OK, "a dry run");
    assert_eq!(me(&i.app, &phone).await, StatusCode::OK, "a dry run");
    let (code, revoked) = strata_json(&i, &[&revoke_first[..], &["--yes"]].concat()).await;
    assert_eq!((code, revoked["count"].as_u64()), (0, Some(1)), "{revoked}");
    let statuses = [me(&i.app, &laptop).await, me(&i.app, &phone).await];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::UNAUTHORIZED),
        "one of the two signed out: {statuses:?}"
    );

    let (code, all) = strata_json(&i, &["session", "revoke", "alice", "--all", "--yes"]).await;
    assert_eq!((code, all["count"].as_u64()), (0, Some(1)), "{all}");
    assert_eq!(me(&i.app, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&i.app, &phone).await, StatusCode::UNAUTHORIZED);

    // A user with no sessions: an empty list, nothing to revoke, and an
    // unknown session.
    let (code, none) = strata_json(&i, &["session", "list", "alice"]).await;
    assert_eq!(
        (code, none["sessions"].as_array().map(Vec::len)),
        (0, Some(0))
    );
    let (code, none) = strata_json(&i, &["session", "revoke", "alice", "--all", "--yes"]).await;
    assert_eq!((code, none["count"].as_u64()), (0, Some(0)), "{none}");
    let unknown = ["session", "revoke", "alice", "--id", &first, "-y"];
    let unknown = strata(&i.service, TOKEN, &unknown).await;
    assert_eq!(unknown, (2, String::new()), "an unknown session");
}

#[tokio::test(start_paused = true)]
async fn ratelimit_show_and_reset_give_the_client_its_quota_back() {
    let i = start().await;
    login(&i.app, "dana").await;
    login(&i.app, "dana").await;
    let show = ["ratelimit", "show", "ip:192.0.2.44", "--policy", "login"];
    let remaining = |shown: &Value| {
        assert_eq!(shown["policies"][0]["policy"], "login", "{shown}");
        assert_eq!(shown["policies"][0]["limit"], 5, "{shown}");
        shown["policies"][0]["remaining"].as_u64()
    };
    let (code, shown) = strata_json(&i, &show).await;
    assert_eq!((code, remaining(&shown)), (0, Some(3)), "two sign-ins");
    let (code, table) = strata(&i.service, TOKEN, &show).await;
    assert_eq!(code, 0);
    assert!(
        table
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("login ")),
        "{table}"
    );

    let reset = ["ratelimit", "reset", "ip:192.0.2.44", "--policy", "login"];
    let (code, counted) = strata_json(&i, &[&reset[..], &["--dry-run"]].concat()).await;
    let expected = json!({"action": "ratelimit reset", "target": "key ip:192.0.2.44 policy login",
        "count": 1, "dry_run": true});
    assert_eq!((code, &counted), (0, &expected));
    let (_, shown) = strata_json(&i, &show).await;
    assert_eq!(remaining(&shown), Some(3), "a dry run changes nothing");

    let (code, done) = strata_json(&i, &[&reset[..], &["--yes"]].concat()).await;
    assert_eq!((code, done["count"].as_u64()), (0, Some(1)), "{done}");
    let (_, shown) = strata_json(&i, &show).await;
    assert_eq!(remaining(&shown), Some(5), "the whole quota back");

    let nope = ["ratelimit", "show", "ip:192.0.2.44", "--policy", "nope"];
    assert_eq!(strata(&i.service, TOKEN, &nope).await, (2, String::new()));
}

#[tokio::test(start_paused = true)]
async fn a_wrong_token_or_an_unreachable_service_fails_with_exit_2() {
    let i = start().await;
    let cookie = login(&i.app, "erin").await;
    let revoke = ["session", "revoke", "erin", "--all", "--dry-run"];
    let (code, counted) = strata_json(&i, &revoke).await;
    assert_eq!(
        (code, counted["count"].as_u64()),
        (0, Some(1)),
        "the right token"
    );
    let revoke = ["session", "revoke", "erin", "--all", "--yes"];
    for token in ["wrong", ""] {
        assert_eq!(
            strata(&i.service, token, &["cache", "stats"]).await,
            (2, String::new()),
            "token {token:?}"
        );
        assert_eq!(strata(&i.service, token, &revoke).await, (2, String::new()));
    }
    assert_eq!(me(&i.app, &cookie).await, StatusCode::OK, "nothing revoked");

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let down = format!("http://127.0.0.1:{closed}");
    assert_eq!(
        strata(&down, TOKEN, &["cache", "stats"]).await,
        (2, String::new())
    );
    assert_eq!(strata(&down, TOKEN, &revoke).await, (2, String::new()));
    let https = format!("https://{}", i.service.trim_start_matches("http://"));
    assert_eq!(
        strata(&https, TOKEN, &["cache", "stats"]).await,
        (64, String::new()),
        "a bad URL is a usage error"
    );
    assert_eq!(me(&i.app, &cookie).await, StatusCode::OK, "nothing revoked");
}
