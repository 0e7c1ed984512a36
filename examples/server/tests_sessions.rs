//! Signing in and out, the user's sessions and the admin route, in memory
//! and across two instances sharing Redis.

use axum::Router;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use strata_testkit::{get, request};

use crate::app::app;
use crate::config::Config;
use crate::tests::{json, send, two_instances_on_one_redis};

fn memory_app(env: &str) -> Router {
    let config =
        Config::from_lookup(|name| (name == "APP_ENV").then(|| env.to_owned())).expect("config");
    app(&config, None).expect("app").router
}

async fn login(app: &Router, user: &str, agent: &str) -> (Response, String) {
    let mut login = request(
        Method::POST,
        "/api/login",
        format!(r#"{{"username":"{user}"}}"#),
    );
    login
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    login
        .headers_mut()
        .insert("user-agent", HeaderValue::from_str(agent).expect("ascii"));
    let response = send(app, login).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    let cookie = cookie.split(';').next().expect("name=value").to_owned();
    (response, cookie)
}

async fn with_cookie(app: &Router, method: Method, uri: &str, cookie: &str) -> Response {
    let mut request = request(method, uri, "");
    request
        .headers_mut()
        .insert(COOKIE, HeaderValue::from_str(cookie).expect("ascii"));
    send(app, request).await
}

async fn me(app: &Router, cookie: &str) -> (StatusCode, Value) {
    let response = with_cookie(app, Method::GET, "/api/me", cookie).await;
    (response.status(), json(response).await)
}

#[tokio::test]
async fn login_me_and_logout() {
    let app = memory_app("development");
    assert_eq!(
        send(&app, get("/api/me")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (response, cookie) = login(&app, "alice", "laptop").await;
    assert_eq!(
        json(response).await,
        json!({"user": "alice", "role": "user"})
    );
    assert_eq!(
        me(&app, &cookie).await,
        (StatusCode::OK, json!({"user": "alice", "role": "user"}))
    );

    let logout = with_cookie(&app, Method::POST, "/api/logout", &cookie).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let removal = logout.headers()[SET_COOKIE].to_str().expect("ascii");
    assert!(
        removal.starts_with("sid=; Path=/;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
    let (status, problem) = me(&app, &cookie).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["status"], 401);
}

#[tokio::test]
async fn production_cookies_are_secure_host_cookies() {
    let app = memory_app("production");
    let (response, _) = login(&app, "alice", "laptop").await;
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    assert!(cookie.starts_with("__Host-sid="), "{cookie}");
    assert!(
        cookie.contains("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_user_lists_their_sessions_and_revokes_the_others() {
    let app = memory_app("development");
    let (_, laptop) = login(&app, "carol", "laptop").await;
    let (_, phone) = login(&app, "carol", "phone").await;
    let (_, other_user) = login(&app, "dave", "tablet").await;

    let listed = json(with_cookie(&app, Method::GET, "/api/me/sessions", &phone).await).await;
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 2, "{listed:?}");
    let agents: Vec<_> = listed
        .iter()
        .map(|s| s["user_agent"].as_str().expect("agent"))
        .collect();
    assert!(
        agents.contains(&"laptop") && agents.contains(&"phone"),
        "{agents:?}"
    );
    let current: Vec<_> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "phone");

    let revoked = with_cookie(&app, Method::DELETE, "/api/me/sessions", &phone).await;
    assert_eq!(json(revoked).await, json!({"revoked": 1}));
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &phone).await.0, StatusCode::OK);
    assert_eq!(
        me(&app, &other_user).await.0,
        StatusCode::OK,
        "other users keep theirs"
    );
    assert_eq!(
        send(&app, get("/api/me/sessions")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_admin_route_wants_the_admin_role() {
    let app = memory_app("development");
    assert_eq!(
        send(&app, get("/api/admin/stats")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, user) = login(&app, "erin", "laptop").await;
    let forbidden = with_cookie(&app, Method::GET, "/api/admin/stats", &user).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        forbidden.headers()[CONTENT_TYPE],
        "application/problem+json"
    );
    let (_, admin) = login(&app, "admin", "laptop").await;
    let stats = with_cookie(&app, Method::GET, "/api/admin/stats", &admin).await;
    assert_eq!(stats.status(), StatusCode::OK);
    assert_eq!(json(stats).await["user"], "admin");
}

#[tokio::test]
async fn a_cross_site_post_with_the_session_cookie_is_refused() {
    let app = memory_app("development");
    let (_, cookie) = login(&app, "frank", "laptop").await;
    let mut forged = request(Method::POST, "/api/logout", "");
    forged
        .headers_mut()
        .insert(COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    forged
        .headers_mut()
        .insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
    let response = send(&app, forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(me(&app, &cookie).await.0, StatusCode::OK, "still signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_redis_share_sign_in_and_sign_out() {
    let (server, first, second, _pool) = two_instances_on_one_redis().await;
    let (_, cookie) = login(&first, "grace", "laptop").await;
    assert_eq!(
        me(&second, &cookie).await,
        (StatusCode::OK, json!({"user": "grace", "role": "user"}))
    );
    let (_, phone) = login(&second, "grace", "phone").await;
    let listed = json(with_cookie(&first, Method::GET, "/api/me/sessions", &cookie).await).await;
    assert_eq!(listed.as_array().expect("a list").len(), 2);
    assert_eq!(
        with_cookie(&second, Method::POST, "/api/logout", &cookie)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        me(&first, &cookie).await.0,
        StatusCode::UNAUTHORIZED,
        "signed out on both"
    );
    assert_eq!(me(&first, &phone).await.0, StatusCode::OK);
    drop(server);
}

fn app_with(vars: &'static [(&'static str, &'static str)]) -> Router {
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("config");
    app(&config, None).expect("app").router
}

#[tokio::test]
async fn allowed_hosts_guard_the_site_but_not_probes_or_scrapes() {
    let app = app_with(&[("ALLOWED_HOSTS", "shop.example, *.shop.example")]);
    let with_host = |path: &str, host: &'static str| {
        let mut request = get(path);
        request
            .headers_mut()
            .insert("host", HeaderValue::from_static(host));
        request
    };
    assert_eq!(
        send(&app, with_host("/api/items/1", "shop.example"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&app, with_host("/api/items/1", "eu.shop.example"))
            .await
            .status(),
        StatusCode::OK
    );
    let refused = send(&app, with_host("/api/items/1", "evil.example")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(
        send(&app, with_host("/", "evil.example")).await.status(),
        StatusCode::BAD_REQUEST
    );
    for path in ["/health/live", "/metrics"] {
        assert_eq!(
            send(&app, with_host(path, "10.1.2.3:3000")).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let bad = Config::from_lookup(|name| (name == "ALLOWED_HOSTS").then(|| "*".to_owned()));
    assert_eq!(bad.expect_err("refused").var, "ALLOWED_HOSTS");
}

#[tokio::test]
async fn production_behind_a_proxy_redirects_plain_http_and_sets_secure_cookies() {
    use tower::ServiceExt as _;
    let app = app_with(&[("APP_ENV", "production"), ("TRUSTED_PROXIES", "10.0.0.0/8")]);
    let through_proxy = |request: axum::http::Request<http_body_util::Full<bytes::Bytes>>,
                         proto: &'static str| {
        let mut request = request;
        request
            .headers_mut()
            .insert("x-forwarded-proto", HeaderValue::from_static(proto));
        request
            .headers_mut()
            .insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        request
            .headers_mut()
            .insert("host", HeaderValue::from_static("shop.example"));
        strata_testkit::from_peer(request, std::net::SocketAddr::from(([10, 0, 0, 1], 5000)))
    };
    let plain = app
        .clone()
        .oneshot(through_proxy(get("/api/items/1"), "http"))
        .await
        .expect("infallible");
    assert_eq!(plain.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        plain.headers()["location"],
        "https://shop.example/api/items/1"
    );
    let probe = app
        .clone()
        .oneshot(through_proxy(get("/health/live"), "http"))
        .await
        .expect("infallible");
    assert_eq!(
        probe.status(),
        StatusCode::OK,
        "probes are answered before the redirect"
    );

    let mut login = request(Method::POST, "/api/login", r#"{"username":"heidi"}"#);
    login
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = app
        .oneshot(through_proxy(login, "https"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("ascii");
    assert!(
        cookie.starts_with("__Host-sid=") && cookie.contains("; Secure;"),
        "{cookie}"
    );
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .is_ok()
    );
}
