//! The application driven in-process with `oneshot`.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;
use strata::core::redis::fred::interfaces::{ClientLike, KeysInterface};
use strata_testkit::{body_bytes, body_string, from_peer, get, request};
use tower::ServiceExt;

use crate::app::{MAX_BODY, app};
use crate::config::Config;

/// The default (in-memory) application, its rate limits on tokio's clock:
/// tests that count allowed requests pause it, so no quota refills while
/// they run, however slow the machine.
fn test_app() -> Router {
    let mut config = Config::from_lookup(|_| None).expect("default config");
    config.rate_limit_clock = strata::rate_limit::MemoryClock::Tokio;
    app(&config, None).expect("the application builds").router
}

pub(crate) async fn send(app: &Router, request: Request<Full<Bytes>>) -> Response {
    let request = from_peer(request, SocketAddr::from(([127, 0, 0, 1], 40000)));
    app.clone().oneshot(request).await.expect("infallible")
}

pub(crate) async fn json(response: Response) -> Value {
    serde_json::from_slice(&body_bytes(response.into_body()).await).expect("JSON body")
}

#[tokio::test]
async fn index_script_carries_the_csp_nonce_of_its_response() {
    let app = test_app();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = send(&app, get("/")).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let page = body_string(response.into_body()).await;
        let nonce = page
            .split("<script nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a nonced script")
            .to_owned();
        assert!(
            csp.contains(&format!("'nonce-{nonce}'")),
            "{csp} vs {nonce}"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce was reused");
}

#[tokio::test]
async fn responses_carry_security_headers_and_no_hsts_over_http() {
    let response = send(&test_app(), get("/api/items/1")).await;
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("referrer-policy"));
    assert!(!response.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn production_sends_hsts_only_when_a_trusted_proxy_says_https() {
    let config = Config::from_lookup(|name| match name {
        "APP_ENV" => Some("production".to_owned()),
        "TRUSTED_PROXIES" => Some("127.0.0.1".to_owned()),
        _ => None,
    })
    .expect("config");
    let app = app(&config, None).expect("app").router;
    let mut https = get("/api/items/1");
    https
        .headers_mut()
        .insert("x-forwarded-proto", HeaderValue::from_static("https"));
    let response = send(&app, https).await;
    assert!(response.headers().contains_key("strict-transport-security"));

    let mut spoofed = from_peer(get("/api/items/1"), SocketAddr::from(([203, 0, 113, 9], 1)));
    spoofed
        .headers_mut()
        .insert("x-forwarded-proto", HeaderValue::from_static("https"));
    let response = app.clone().oneshot(spoofed).await.expect("infallible");
    assert!(!response.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn csp_reports_are_accepted_and_junk_refused() {
    let app = test_app();
    let report = r#"{"csp-report":{"document-uri":"http://127.0.0.1:3000/","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'self'","blocked-uri":"inline","disposition":"enforce","status-code":200}}"#;
    let mut request = request(Method::POST, "/csp-report", report);
    request.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/csp-report"),
    );
    let response = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let mut junk = request_with_type("/csp-report", "application/csp-report", "nope");
    junk = from_peer(junk, SocketAddr::from(([127, 0, 0, 1], 1)));
    let response = app.clone().oneshot(junk).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let big = "x".repeat(MAX_BODY + 1);
    let response = send(
        &test_app(),
        request_with_type("/api/items/1", "application/json", &big),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn request_with_type(uri: &str, content_type: &'static str, body: &str) -> Request<Full<Bytes>> {
    let method = if uri == "/csp-report" {
        Method::POST
    } else {
        Method::PUT
    };
    let mut request = request(method, uri, body.to_owned());
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    request
}

#[tokio::test]
async fn item_list_is_large_cacheable_json() {
    let app = test_app();
    let response = send(&app, get("/api/items")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=30");
    let etag = response.headers()["etag"].clone();
    let body = body_bytes(response.into_body()).await;
    assert!(body.len() >= 10 * 1024, "list is only {} bytes", body.len());
    let items: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(items.as_array().map(Vec::len), Some(100));

    let mut conditional = get("/api/items");
    conditional
        .headers_mut()
        .insert("if-none-match", etag.clone());
    let response = send(&app, conditional).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"], etag);
    assert!(body_bytes(response.into_body()).await.is_empty());
}

#[tokio::test]
async fn reads_one_item_or_answers_a_problem() {
    let app = test_app();
    let response = send(&app, get("/api/items/7")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"item-7-v1\"");
    let item = json(response).await;
    assert_eq!(item["id"], 7);

    let response = send(&app, get("/api/items/1000")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(json(response).await["status"], 404);

    let response = send(&app, get("/api/items/abc")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

fn update(id: u32, name: &str) -> Request<Full<Bytes>> {
    let body = format!(r#"{{"name":"{name}","description":"new","price_cents":100}}"#);
    let mut request = request(Method::PUT, &format!("/api/items/{id}"), body);
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request
}

#[tokio::test]
async fn update_changes_the_item_and_both_etags() {
    let app = test_app();
    let list_etag = send(&app, get("/api/items")).await.headers()["etag"].clone();

    let response = send(&app, update(3, "renamed")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"item-3-v2\"");
    assert_eq!(json(response).await["name"], "renamed");

    let item = json(send(&app, get("/api/items/3")).await).await;
    assert_eq!(item["name"], "renamed");
    assert_eq!(item["version"], 2);
    let response = send(&app, get("/api/items")).await;
    assert_ne!(response.headers()["etag"], list_etag);
}

#[tokio::test]
async fn update_rejects_bad_input_with_problems() {
    let app = test_app();
    let cases: [(Request<Full<Bytes>>, StatusCode); 4] = [
        (update(1, ""), StatusCode::UNPROCESSABLE_ENTITY),
        (update(999, "x"), StatusCode::NOT_FOUND),
        (
            request(Method::PUT, "/api/items/1", "{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            {
                let mut bad = request(Method::PUT, "/api/items/1", "{not json");
                bad.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                bad
            },
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (request, status) in cases {
        let response = send(&app, request).await;
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    }
}

#[tokio::test]
async fn stale_if_match_is_refused() {
    let app = test_app();
    let mut stale = update(5, "first");
    stale
        .headers_mut()
        .insert("if-match", HeaderValue::from_static("\"item-5-v9\""));
    assert_eq!(
        send(&app, stale).await.status(),
        StatusCode::PRECONDITION_FAILED
    );

    let mut fresh = update(5, "second");
    fresh
        .headers_mut()
        .insert("if-match", HeaderValue::from_static("\"item-5-v1\""));
    assert_eq!(send(&app, fresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_are_problems() {
    let response = send(&test_app(), get("/nope")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
}

#[tokio::test]
async fn health_endpoints_answer_and_drain_fails_readiness_only() {
    let config = Config::from_lookup(|_| None).expect("default config");
    let built = app(&config, None).expect("app");
    for path in [
        "/health",
        "/health/live",
        "/health/ready",
        "/health/detailed",
    ] {
        let response = send(&built.router, get(path)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/health+json",
            "{path}"
        );
        assert_eq!(json(response).await["status"], "pass", "{path}");
    }

    built.drain.drain();
    let response = send(&built.router, get("/health/ready")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await["status"], "fail");
    let response = send(&built.router, get("/health/live")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = send(&built.router, get("/api/items/1")).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "in-flight traffic is still served"
    );
}

#[tokio::test]
async fn a_redis_outage_warns_in_health_but_keeps_readiness() {
    let server = strata_testkit::redis::RedisServer::start();
    let config = Config::from_lookup(|name| (name == "REDIS_URL").then(|| server.url().to_owned()))
        .expect("config");
    let pool = config
        .redis
        .as_ref()
        .expect("REDIS_URL read")
        .clone()
        .connect()
        .await
        .expect("pool");
    let router = app(&config, Some(&pool)).expect("app").router;

    let status = |path: &'static str| {
        let router = router.clone();
        async move {
            let response = send(&router, get(path)).await;
            let code = response.status();
            (code, json(response).await)
        }
    };
    let (code, body) = poll(|| status("/health"), |(_, body)| body["status"] == "pass").await;
    assert_eq!(code, StatusCode::OK, "{body}");

    server.stop();
    let (code, body) = poll(|| status("/health"), |(_, body)| body["status"] == "warn").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (_, detailed) = status("/health/detailed").await;
    let redis = detailed["checks"]
        .as_object()
        .and_then(|checks| checks.iter().find(|(key, _)| key.starts_with("redis")))
        .map(|(_, value)| value[0].clone())
        .expect("a redis check in the detailed report");
    assert_eq!(redis["status"], "fail", "{detailed}");
    assert_eq!(status("/health/ready").await.0, StatusCode::OK);
    assert_eq!(status("/health/live").await.0, StatusCode::OK);

    server.restart();
    let (_, body) = poll(|| status("/health"), |(_, body)| body["status"] == "pass").await;
    assert_eq!(body["status"], "pass");
}

/// Calls `probe` until `done` holds or 15 s pass (health results are cached
/// for 5 s); returns the last result.
async fn poll<T, F, Fut>(probe: F, done: impl Fn(&T) -> bool) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let result = probe().await;
        if done(&result) || tokio::time::Instant::now() >= deadline {
            return result;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_use_route_templates_and_include_other_layers() {
    let app = test_app();
    for path in ["/api/items/1", "/api/items/2", "/nope/123"] {
        send(&app, get(path)).await;
    }
    assert_eq!(send(&app, get("/health")).await.status(), StatusCode::OK);
    let response = send(&app, get("/metrics")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[CONTENT_TYPE]
            .to_str()
            .is_ok_and(|value| value.starts_with("text/plain; version=0.0.4")),
    );
    let text = body_string(response.into_body()).await;
    let line = |needle: &str| text.lines().any(|line| line.contains(needle));
    assert!(
        line(r#"http_route="/api/items/{id}""#) && line(r#"http_response_status_code="200""#),
        "{text}"
    );
    assert!(line(r#"http_route="/health""#), "probes are named: {text}");
    assert!(line(r#"http_route="_UNMATCHED""#), "{text}");
    assert!(!line("/api/items/1"), "a raw path became a label: {text}");
    assert!(!line("/nope/123"), "a raw path became a label: {text}");
    assert!(line("build_info"), "{text}");
    assert!(
        line(r#"http_server_active_requests{http_request_method="GET",url_scheme="http"} 1"#),
        "only the scrape itself is in flight: {text}"
    );
}

#[tokio::test]
async fn metrics_are_private_in_production() {
    let config = Config::from_lookup(|name| (name == "APP_ENV").then(|| "production".to_owned()))
        .expect("config");
    let app = app(&config, None).expect("app").router;
    let public = from_peer(get("/metrics"), SocketAddr::from(([203, 0, 113, 7], 1)));
    let response = app.clone().oneshot(public).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(send(&app, get("/metrics")).await.status(), StatusCode::OK);
}

/// Sends `n` requests for `path` from `peer`; the statuses.
async fn burst(app: &Router, path: &str, peer: [u8; 4], n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::with_capacity(n);
    for _ in 0..n {
        let request = from_peer(get(path), SocketAddr::from((peer, 1000)));
        statuses.push(
            app.clone()
                .oneshot(request)
                .await
                .expect("infallible")
                .status(),
        );
    }
    statuses
}

#[tokio::test(start_paused = true)]
async fn anonymous_clients_get_60_per_minute_with_headers() {
    let app = test_app();
    let response = send(&app, get("/api/items/1")).await;
    assert_eq!(
        response.headers()["ratelimit-policy"],
        r#""anonymous";q=60;w=60"#
    );
    let remaining = response.headers()["ratelimit"].to_str().expect("ascii");
    assert!(
        remaining.starts_with(r#""anonymous";r=59;t="#),
        "{remaining}"
    );

    let statuses = burst(&app, "/api/items/1", [127, 0, 0, 1], 59).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let refused = send(&app, get("/api/items")).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()[CONTENT_TYPE], "application/problem+json");
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");

    // Another client is not affected; probes and scrapes are never limited.
    assert_eq!(
        burst(&app, "/api/items/1", [127, 0, 0, 2], 1).await,
        [StatusCode::OK]
    );
    for path in ["/health/ready", "/metrics"] {
        let response = send(&app, get(path)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(!response.headers().contains_key("ratelimit"), "{path}");
    }
}

#[tokio::test]
async fn signed_in_users_and_admin_get_their_tier() {
    let app = test_app();
    for (user, policy) in [
        ("alice", r#""user";q=300;w=60"#),
        ("admin", r#""admin";q=1000;w=60"#),
    ] {
        let body = format!(r#"{{"username":"{user}"}}"#);
        let login = send(
            &app,
            login_from([192, 0, 2, 99], Some("application/json"), &body),
        )
        .await;
        assert_eq!(login.status(), StatusCode::OK);
        let cookie = login.headers()["set-cookie"].to_str().expect("ascii");
        let cookie = cookie.split(';').next().expect("name=value").to_owned();
        let mut request = get("/api/items/1");
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(&cookie).expect("ascii"));
        let response = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["ratelimit-policy"], policy, "{user}");
    }
}

/// Two app instances on one private redis-server, each with its own pool
/// (returned with the server, which must outlive the test), both connected.
pub(crate) async fn two_instances_on_one_redis() -> (
    strata_testkit::redis::RedisServer,
    Router,
    Router,
    strata::core::redis::fred::clients::Pool,
) {
    let server = strata_testkit::redis::RedisServer::start();
    let config = Config::from_lookup(|name| (name == "REDIS_URL").then(|| server.url().to_owned()))
        .expect("config");
    let builder = config.redis.as_ref().expect("REDIS_URL read");
    let (pool_a, pool_b) = (
        builder.clone().connect().await.expect("pool"),
        builder.clone().connect().await.expect("pool"),
    );
    let first = app(&config, Some(&pool_a)).expect("app").router;
    let second = app(&config, Some(&pool_b)).expect("app").router;
    // Wait until both pools are connected, so no decision falls back to memory.
    for pool in [&pool_a, &pool_b] {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while pool.ping::<String>(None).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "Redis unreachable");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    (server, first, second, pool_a)
}

/// Units that may come back to a quota refilling one per `interval` while
/// `elapsed` passes (Redis counts on the server's clock, which no test can
/// pause): one more than whole intervals, for rounding.
fn refilled(elapsed: std::time::Duration, interval: std::time::Duration) -> usize {
    let whole = elapsed.as_secs_f64() / interval.as_secs_f64();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = whole.floor() as usize;
    whole + 1
}

fn allowed(statuses: &[StatusCode], allowed: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == allowed).count()
}

#[tokio::test]
async fn two_instances_sharing_redis_enforce_one_quota() {
    let (_server, first, second, _pool) = two_instances_on_one_redis().await;

    let peer = [198, 51, 100, 20];
    let started = std::time::Instant::now();
    let on_first = burst(&first, "/api/items/1", peer, 60).await;
    let on_second = burst(&second, "/api/items/1", peer, 60).await;
    let elapsed = started.elapsed();
    // The first instance spends the whole quota of 60...
    assert_eq!(allowed(&on_first, StatusCode::OK), 60, "{on_first:?}");
    // ...and the second sees it spent: it allows only what refilled in the
    // meantime (an instance counting alone would allow all 60).
    let second_allowed = allowed(&on_second, StatusCode::OK);
    let bound = refilled(elapsed, std::time::Duration::from_secs(1));
    assert!(
        second_allowed <= bound,
        "the second instance allowed {second_allowed} of 60 in {elapsed:?}: {on_second:?}"
    );
    assert!(on_second.contains(&StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn item_list_is_compressed_by_q_value_and_round_trips() {
    use std::io::Read;
    let app = test_app();
    let plain = body_bytes(send(&app, get("/api/items")).await.into_body()).await;
    for (accept, coding) in [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("zstd", "zstd"),
    ] {
        let mut request = get("/api/items");
        request
            .headers_mut()
            .insert("accept-encoding", HeaderValue::from_static(accept));
        let response = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-encoding"], coding, "{accept}");
        let vary: Vec<&str> = response
            .headers()
            .get_all("vary")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|name| name.eq_ignore_ascii_case("accept-encoding"))
            .collect();
        assert_eq!(vary.len(), 1, "Vary: Accept-Encoding exactly once");
        assert_eq!(
            response.headers()["etag"]
                .to_str()
                .ok()
                .map(|e| e.ends_with(&format!("-{coding}\""))),
            Some(true)
        );
        let compressed = body_bytes(response.into_body()).await;
        assert!(
            compressed.len() * 3 < plain.len(),
            "{coding}: {} bytes",
            compressed.len()
        );
        if coding == "gzip" {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&compressed[..])
                .read_to_end(&mut decoded)
                .expect("valid gzip");
            assert_eq!(decoded, plain);
        }
    }
}

#[tokio::test]
async fn tiny_responses_are_not_compressed() {
    let mut request = get("/api/items/1");
    request
        .headers_mut()
        .insert("accept-encoding", HeaderValue::from_static("gzip"));
    let response = send(&test_app(), request).await;
    assert!(!response.headers().contains_key("content-encoding"));
}

/// `POST /api/login` from `peer` with `body` as `content_type` (none when `None`).
fn login_from(
    peer: [u8; 4],
    content_type: Option<&'static str>,
    body: &str,
) -> Request<Full<Bytes>> {
    let mut request = request(Method::POST, "/api/login", body.to_owned());
    if let Some(content_type) = content_type {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    from_peer(request, SocketAddr::from((peer, 1000)))
}

/// A well-formed login from `peer`.
fn valid_login(peer: [u8; 4]) -> Request<Full<Bytes>> {
    login_from(peer, Some("application/json"), r#"{"username":"alice"}"#)
}

/// Sends `n` well-formed logins from `peer` to `app`; the statuses.
async fn logins(app: &Router, peer: [u8; 4], n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::with_capacity(n);
    for _ in 0..n {
        let response = app
            .clone()
            .oneshot(valid_login(peer))
            .await
            .expect("infallible");
        statuses.push(response.status());
    }
    statuses
}

/// Every value of the (repeatable) header `name`.
fn all_values(response: &Response, name: &str) -> Vec<String> {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|value| value.to_str().expect("ascii").to_owned())
        .collect()
}

#[tokio::test]
async fn valid_login_signs_in_with_both_limits_on_the_response() {
    let response = test_app()
        .oneshot(valid_login([192, 0, 2, 1]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cookie.starts_with("sid="), "{cookie}");
    assert_eq!(
        all_values(&response, "ratelimit-policy"),
        [r#""login";q=5;w=60"#, r#""anonymous";q=60;w=60"#],
        "the login limit and the tier"
    );
    let remaining = all_values(&response, "ratelimit");
    assert!(
        remaining[0].starts_with(r#""login";r=4;t="#),
        "{remaining:?}"
    );
    assert!(
        remaining[1].starts_with(r#""anonymous";r=59;t="#),
        "{remaining:?}"
    );
    let body = json(response).await;
    assert_eq!(body, serde_json::json!({"user": "alice", "role": "user"}));
}

#[tokio::test]
async fn login_rejects_bad_bodies_with_problems() {
    let app = test_app();
    let longest = format!(r#"{{"username":"{}"}}"#, "a".repeat(64));
    let too_long = format!(r#"{{"username":"{}"}}"#, "a".repeat(65));
    let json_type = Some("application/json");
    let cases = [
        (
            None,
            r#"{"username":"alice"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            Some("text/plain"),
            r#"{"username":"alice"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (json_type, "{not json", StatusCode::BAD_REQUEST),
        (json_type, "{}", StatusCode::UNPROCESSABLE_ENTITY),
        (
            json_type,
            r#"{"username":42}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_type,
            r#"{"username":"alice","password":"x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_type,
            r#"{"username":""}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_type,
            r#"{"username":"alice bob"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_type,
            r#"{"username":"al/ice"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_type,
            r#"{"username":"älice"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json_type, &too_long, StatusCode::UNPROCESSABLE_ENTITY),
        (json_type, &longest, StatusCode::OK),
        (json_type, r#"{"username":"Bob_2.x-y"}"#, StatusCode::OK),
    ];
    // One client per case, so the login limit stays out of the way.
    for (i, (content_type, body, status)) in cases.into_iter().enumerate() {
        let peer = [192, 0, 2, u8::try_from(i).expect("few cases") + 10];
        let response = app
            .clone()
            .oneshot(login_from(peer, content_type, body))
            .await
            .expect("infallible");
        assert_eq!(response.status(), status, "{content_type:?} {body}");
        if status == StatusCode::OK {
            assert!(json(response).await["user"].is_string(), "{body}");
            continue;
        }
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/problem+json",
            "{body}"
        );
        assert_eq!(json(response).await["status"], status.as_u16(), "{body}");
    }
}

#[tokio::test(start_paused = true)]
async fn sixth_login_in_a_minute_from_one_ip_is_refused() {
    let app = test_app();
    let peer = [203, 0, 113, 50];
    assert_eq!(logins(&app, peer, 5).await, [StatusCode::OK; 5]);

    let refused = app
        .clone()
        .oneshot(valid_login(peer))
        .await
        .expect("infallible");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()[CONTENT_TYPE], "application/problem+json");
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    // One login comes back every 12 s.
    assert!((1..=12).contains(&retry), "{retry}");
    let remaining = all_values(&refused, "ratelimit");
    assert!(
        remaining[0].starts_with(r#""login";r=0;t="#),
        "{remaining:?}"
    );
    let problem = json(refused).await;
    assert_eq!(problem["type"], strata::rate_limit::QUOTA_EXCEEDED);
    assert_eq!(problem["status"], 429);
    assert_eq!(problem["violated-policies"], serde_json::json!(["login"]));

    // Another client still has its five.
    let other = [203, 0, 113, 51];
    assert_eq!(logins(&app, other, 5).await, [StatusCode::OK; 5]);
    assert_eq!(
        logins(&app, other, 1).await,
        [StatusCode::TOO_MANY_REQUESTS]
    );

    // Both layers count into the one set of rate-limit series.
    let text = body_string(send(&app, get("/metrics")).await.into_body()).await;
    let count = |labels: &str| {
        text.lines()
            .find(|line| {
                line.starts_with(&format!("strata_rate_limit_decisions_total{{{labels}}}"))
            })
            .and_then(|line| line.rsplit(' ').next())
            .map(str::to_owned)
    };
    assert_eq!(
        count(r#"outcome="allowed",policy="login""#).as_deref(),
        Some("10"),
        "{text}"
    );
    assert_eq!(
        count(r#"outcome="limited",policy="login""#).as_deref(),
        Some("2"),
        "{text}"
    );
    assert_eq!(
        count(r#"outcome="allowed",policy="anonymous""#).as_deref(),
        Some("12"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_logins_count_against_the_login_limit() {
    let app = test_app();
    let peer = [203, 0, 113, 60];
    let json_type = Some("application/json");
    let junk = [
        (
            None,
            r#"{"username":"alice"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (json_type, "{not json", StatusCode::BAD_REQUEST),
        (
            json_type,
            r#"{"username":""}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_type,
            r#"{"username":"no spaces"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json_type, "{}", StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (content_type, body, status) in junk {
        let response = app
            .clone()
            .oneshot(login_from(peer, content_type, body))
            .await
            .expect("infallible");
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(
            all_values(&response, "ratelimit-policy")[0],
            r#""login";q=5;w=60"#
        );
    }
    // The limit is spent: a well-formed login is refused, and so is more junk.
    assert_eq!(logins(&app, peer, 1).await, [StatusCode::TOO_MANY_REQUESTS]);
    let response = app
        .clone()
        .oneshot(login_from(peer, json_type, "{not json"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(start_paused = true)]
async fn login_limit_leaves_item_reads_to_the_anonymous_tier() {
    let app = test_app();
    // Logins spent: item reads still pass, under the tier alone, which
    // counted all six logins (the tier runs before the login limit).
    let peer = [203, 0, 113, 70];
    assert_eq!(
        logins(&app, peer, 6).await[5],
        StatusCode::TOO_MANY_REQUESTS
    );
    let response = app
        .clone()
        .oneshot(from_peer(
            get("/api/items/1"),
            SocketAddr::from((peer, 1000)),
        ))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        all_values(&response, "ratelimit-policy"),
        [r#""anonymous";q=60;w=60"#]
    );
    let remaining = all_values(&response, "ratelimit");
    assert_eq!(remaining.len(), 1, "{remaining:?}");
    assert!(
        remaining[0].starts_with(r#""anonymous";r=53;t="#),
        "{remaining:?}"
    );

    // Item reads do not spend logins.
    let reader = [203, 0, 113, 71];
    let statuses = burst(&app, "/api/items/1", reader, 20).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(logins(&app, reader, 5).await, [StatusCode::OK; 5]);
}

#[tokio::test]
async fn two_instances_sharing_redis_share_the_login_limit() {
    let (_server, first, second, pool_a) = two_instances_on_one_redis().await;

    let peer = [198, 51, 100, 30];
    let started = std::time::Instant::now();
    let mut statuses = logins(&first, peer, 3).await;
    statuses.extend(logins(&second, peer, 2).await);
    // Each instance alone has seen fewer than five: counting alone, both
    // would allow one more.
    statuses.extend(logins(&first, peer, 1).await);
    statuses.extend(logins(&second, peer, 1).await);
    let elapsed = started.elapsed();
    assert_eq!(statuses[..5], [StatusCode::OK; 5]);
    let total = allowed(&statuses, StatusCode::OK);
    // One login comes back every 12 s.
    let bound = 5 + refilled(elapsed, std::time::Duration::from_secs(12)) - 1;
    assert!(
        total <= bound,
        "{total} logins allowed in {elapsed:?}: {statuses:?}"
    );
    // The count lives under the login prefix, apart from the tiers'.
    let exists = |key: &'static str| {
        let pool = pool_a.clone();
        async move { pool.exists::<u32, _>(key).await.expect("EXISTS") }
    };
    assert_eq!(exists("strata:rl:login:{ip:198.51.100.30}:login").await, 1);
    assert_eq!(exists("strata:rl:{ip:198.51.100.30}:anonymous").await, 1);
    assert_eq!(exists("strata:rl:{ip:198.51.100.30}:login").await, 0);

    let other = [198, 51, 100, 31];
    assert_eq!(logins(&second, other, 1).await, [StatusCode::OK]);
}
