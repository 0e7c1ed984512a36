//! The layer, end to end, with the in-memory store on tokio's paused clock
//! ([`MemoryClock::Tokio`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, Request, Response, StatusCode};
use http_body_util::Full;
use strata_core::{ClientIpResolver, ResolveClientIpLayer};
use strata_rate_limit::{
    HeaderStyle, KeyBy, MemoryClock, MemoryStore, MissingKey, Policy, QUOTA_EXCEEDED, Quota,
    RateLimitBuilder, RateLimitLayer, Rejection, Rule, Tiers,
};
use strata_testkit::{body_string, from_peer, get};
use tower::{Service, ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn ok(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// A store on tokio's clock, so `advance` refills quotas.
fn store() -> MemoryStore {
    MemoryStore::new().clock(MemoryClock::Tokio)
}

fn builder(tiers: impl Into<Tiers>) -> RateLimitBuilder {
    RateLimitLayer::builder(tiers).memory(store())
}

fn per_ip(name: &str, quota: Quota) -> Rule {
    Rule::new(KeyBy::client_ip(), Policy::new(name.to_owned(), quota))
}

fn from(ip: [u8; 4]) -> Request<Body> {
    from_peer(get("/"), SocketAddr::from((ip, 40_000)))
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn send<S>(service: &mut S, request: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    service
        .ready()
        .await
        .expect("ready")
        .call(request)
        .await
        .expect("infallible")
}

#[tokio::test(start_paused = true)]
async fn allowed_responses_carry_draft10_headers() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(60)))
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "ratelimit-policy"),
        Some(r#""per-ip";q=60;w=60"#)
    );
    assert_eq!(header(&response, "ratelimit"), Some(r#""per-ip";r=59;t=1"#));
    assert_eq!(header(&response, "retry-after"), None);
    assert_eq!(body_string(response.into_body()).await, "ok");
}

#[tokio::test(start_paused = true)]
async fn denies_after_burst_with_problem_json_and_retry_after() {
    let layer = builder(per_ip("per-ip", Quota::per_second(2)))
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    for _ in 0..2 {
        assert_eq!(
            send(&mut service, from([192, 0, 2, 1])).await.status(),
            StatusCode::OK
        );
    }
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // 500 ms to wait: rounded up to a whole second, never 0.
    assert_eq!(header(&response, "retry-after"), Some("1"));
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(&response, "ratelimit"), Some(r#""per-ip";r=0;t=1"#));
    assert!(response.extensions().get::<Rejection>().is_some());
    let body: serde_json::Value =
        serde_json::from_str(&body_string(response.into_body()).await).expect("json");
    assert_eq!(body["type"], QUOTA_EXCEEDED);
    assert_eq!(body["status"], 429);
    assert_eq!(body["violated-policies"], serde_json::json!(["per-ip"]));
    // Another client is not affected.
    assert_eq!(
        send(&mut service, from([192, 0, 2, 2])).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_rounds_sub_second_remainders_up() {
    // One unit per 1.5 s.
    let quota = Quota::new(2, Duration::from_secs(3));
    let layer = builder(per_ip("slow", quota)).build().expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    send(&mut service, from([192, 0, 2, 1])).await;
    send(&mut service, from([192, 0, 2, 1])).await;
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(header(&response, "retry-after"), Some("2"));
    tokio::time::advance(Duration::from_millis(1400)).await;
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), Some("1"));
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(
        send(&mut service, from([192, 0, 2, 1])).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(start_paused = true)]
async fn spoofed_forwarded_for_from_an_untrusted_peer_does_not_change_the_key() {
    let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse().expect("cidr"));
    let rule = Rule::new(
        KeyBy::client_ip_resolved(resolver),
        Policy::new("per-ip", Quota::per_minute(2)),
    );
    let mut service = ServiceBuilder::new()
        .layer(builder(rule).build().expect("valid"))
        .service_fn(ok);
    let spoofed = |n: u8| {
        let mut request = from([198, 51, 100, 7]);
        let value = format!("203.0.113.{n}").parse().expect("value");
        request.headers_mut().insert("x-forwarded-for", value);
        request
    };
    assert_eq!(
        send(&mut service, spoofed(1)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, spoofed(2)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, spoofed(3)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn clients_behind_a_trusted_proxy_get_their_own_quota() {
    let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse().expect("cidr"));
    let mut service = ServiceBuilder::new()
        .layer(ResolveClientIpLayer::new(resolver))
        .layer(
            builder(per_ip("per-ip", Quota::per_minute(1)))
                .build()
                .expect("valid"),
        )
        .service_fn(ok);
    let via_proxy = |client: &str| {
        let mut request = from([10, 0, 0, 1]);
        request
            .headers_mut()
            .insert("x-forwarded-for", client.parse().expect("value"));
        request
    };
    assert_eq!(
        send(&mut service, via_proxy("203.0.113.1")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, via_proxy("203.0.113.2")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, via_proxy("203.0.113.1")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn junk_forwarding_headers_share_the_unresolved_key() {
    let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse().expect("cidr"));
    let rule = Rule::new(
        KeyBy::client_ip_resolved(resolver),
        Policy::new("per-ip", Quota::per_minute(1)),
    );
    let mut service = ServiceBuilder::new()
        .layer(builder(rule).build().expect("valid"))
        .service_fn(ok);
    for (i, junk) in [
        "unknown",
        "not an ip, ::::",
        "",
        "1.2.3.4.5",
        "203.0.113.9, <script>",
    ]
    .iter()
    .enumerate()
    {
        let mut request = from([10, 0, 0, 1]);
        if let Ok(value) = junk.parse() {
            request.headers_mut().insert("x-forwarded-for", value);
        }
        let expected = if i == 0 {
            StatusCode::OK
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(
            send(&mut service, request).await.status(),
            expected,
            "{junk:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_without_peer_address_passes_uncounted_by_default() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    for _ in 0..3 {
        let response = send(&mut service, get("/")).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit"), None);
    }
}

#[tokio::test(start_paused = true)]
async fn requests_without_key_can_share_one_bucket() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .missing_key(MissingKey::Shared)
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    assert_eq!(send(&mut service, get("/")).await.status(), StatusCode::OK);
    assert_eq!(
        send(&mut service, get("/")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn ipv6_clients_in_one_prefix_share_a_key() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    let v6 = |ip: &str| from_peer(get("/"), SocketAddr::new(ip.parse().expect("ip"), 1));
    assert_eq!(
        send(&mut service, v6("2001:db8:1:2::1")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, v6("2001:db8:1:2:ffff::9"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(&mut service, v6("2001:db8:1:3::1")).await.status(),
        StatusCode::OK
    );
}

#[derive(Clone)]
struct UserId(&'static str);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

fn tiers() -> Tiers {
    let by_user = || KeyBy::extension::<UserId>();
    Tiers::new(per_ip("anonymous", Quota::per_minute(2)))
        .tier(
            "user",
            Rule::new(by_user(), Policy::new("user", Quota::per_minute(3))),
        )
        .tier(
            "admin",
            Rule::new(by_user(), Policy::new("admin", Quota::per_minute(5))),
        )
        .select(|parts| {
            let user = parts.extensions.get::<UserId>()?;
            Some(if user.0 == "admin" { "admin" } else { "user" })
        })
}

async fn allowed_count<S>(service: &mut S, user: Option<&'static str>, ip: [u8; 4]) -> usize
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    let mut allowed = 0;
    for _ in 0..10 {
        let mut request = from(ip);
        if let Some(user) = user {
            request.extensions_mut().insert(UserId(user));
        }
        if send(service, request).await.status() == StatusCode::OK {
            allowed += 1;
        }
    }
    allowed
}

#[tokio::test(start_paused = true)]
async fn tiers_pick_key_and_quota_per_request() {
    let layer = builder(tiers()).build().expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    assert_eq!(allowed_count(&mut service, None, [192, 0, 2, 1]).await, 2);
    // Signed-in users are counted per user, not per address.
    assert_eq!(
        allowed_count(&mut service, Some("alice"), [192, 0, 2, 1]).await,
        3
    );
    assert_eq!(
        allowed_count(&mut service, Some("bob"), [192, 0, 2, 1]).await,
        3
    );
    assert_eq!(
        allowed_count(&mut service, Some("admin"), [192, 0, 2, 1]).await,
        5
    );
    let mut request = from([192, 0, 2, 9]);
    request.extensions_mut().insert(UserId("carol"));
    let response = send(&mut service, request).await;
    assert_eq!(
        header(&response, "ratelimit-policy"),
        Some(r#""user";q=3;w=60"#)
    );
}

#[tokio::test(start_paused = true)]
async fn api_key_header_is_a_key() {
    let rule = Rule::new(
        KeyBy::header(HeaderName::from_static("x-api-key")),
        Policy::new("per-key", Quota::per_minute(1)),
    );
    let mut service = ServiceBuilder::new()
        .layer(builder(rule).build().expect("valid"))
        .service_fn(ok);
    let with_key = |key: &str| {
        let mut request = from([192, 0, 2, 1]);
        request
            .headers_mut()
            .insert("x-api-key", key.parse().expect("value"));
        request
    };
    assert_eq!(
        send(&mut service, with_key("k1")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, with_key("k2")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, with_key("k1")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn skipped_requests_are_neither_counted_nor_annotated() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .skip_when(|parts| parts.uri.path().starts_with("/health"))
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    for _ in 0..3 {
        let request = from_peer(get("/health/live"), SocketAddr::from(([192, 0, 2, 1], 1)));
        let response = send(&mut service, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit"), None);
    }
    assert_eq!(
        send(&mut service, from([192, 0, 2, 1])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut service, from([192, 0, 2, 1])).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn dry_run_never_refuses_but_reports() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .dry_run(true)
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    send(&mut service, from([192, 0, 2, 1])).await;
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "ratelimit"), Some(r#""per-ip";r=0;t=60"#));
    assert_eq!(header(&response, "retry-after"), None);
}

#[tokio::test(start_paused = true)]
async fn on_rejection_replaces_the_body_and_keeps_the_headers() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .on_rejection(|rejection: &Rejection| {
            let mut response = Response::new(Full::new(Bytes::from("slow down")));
            *response.status_mut() = rejection.status();
            response
        })
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    send(&mut service, from([192, 0, 2, 1])).await;
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), Some("60"));
    assert_eq!(header(&response, "ratelimit"), Some(r#""per-ip";r=0;t=60"#));
    let rejection = response.extensions().get::<Rejection>().expect("rejection");
    assert_eq!(rejection.decision().map(|d| d.is_allowed()), Some(false));
    assert_eq!(body_string(response.into_body()).await, "slow down");
}

#[tokio::test(start_paused = true)]
async fn legacy_headers_on_request() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(10)))
        .headers(HeaderStyle::Draft10AndLegacy)
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(header(&response, "x-ratelimit-limit"), Some("10"));
    assert_eq!(header(&response, "x-ratelimit-remaining"), Some("9"));
    assert_eq!(header(&response, "x-ratelimit-reset"), Some("6"));
    assert!(header(&response, "ratelimit").is_some());

    let layer = builder(per_ip("per-ip", Quota::per_minute(10)))
        .headers(HeaderStyle::None)
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert!(header(&response, "ratelimit").is_none());
    assert!(header(&response, "x-ratelimit-limit").is_none());
}

/// Without headers (and metrics) an allowed request takes the store's
/// shortest path; the quota is enforced and refills all the same.
#[tokio::test(start_paused = true)]
async fn headers_off_still_enforces_and_refills() {
    let layer = builder(per_ip("per-ip", Quota::per_minute(2)))
        .headers(HeaderStyle::None)
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    for _ in 0..2 {
        let response = send(&mut service, from([192, 0, 2, 1])).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let refused = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&refused, "retry-after"), Some("30"));
    assert!(header(&refused, "ratelimit").is_none());
    // Another client is counted on its own.
    let other = send(&mut service, from([192, 0, 2, 2])).await;
    assert_eq!(other.status(), StatusCode::OK);
    tokio::time::advance(Duration::from_secs(30)).await;
    let refilled = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(refilled.status(), StatusCode::OK);
    let again = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(start_paused = true)]
async fn nested_layers_append_their_policies() {
    let outer = builder(per_ip("global", Quota::per_minute(60)))
        .build()
        .expect("valid");
    let inner = builder(per_ip("login", Quota::per_minute(5)))
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new()
        .layer(outer)
        .layer(inner)
        .service_fn(ok);
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    let values: Vec<&str> = response
        .headers()
        .get_all("ratelimit")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(values, [r#""login";r=4;t=12"#, r#""global";r=59;t=1"#]);
}

#[tokio::test(start_paused = true)]
async fn several_policies_on_one_rule_are_reported_and_enforced_together() {
    let rule = per_ip("per-second", Quota::per_second(10).burst(2))
        .and(Policy::new("per-hour", Quota::per_hour(3)));
    let mut service = ServiceBuilder::new()
        .layer(builder(rule).build().expect("valid"))
        .service_fn(ok);
    let response = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(
        header(&response, "ratelimit-policy"),
        Some(r#""per-second";q=10;w=1, "per-hour";q=3;w=3600"#)
    );
    assert_eq!(
        header(&response, "ratelimit"),
        Some(r#""per-second";r=1;t=1, "per-hour";r=2;t=1200"#)
    );
    send(&mut service, from([192, 0, 2, 1])).await;
    let refused = send(&mut service, from([192, 0, 2, 1])).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = body_string(refused.into_body()).await;
    assert!(
        body.contains(r#""violated-policies":["per-second"]"#),
        "{body}"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        send(&mut service, from([192, 0, 2, 1])).await.status(),
        StatusCode::OK
    );
    let refused = send(&mut service, from([192, 0, 2, 1])).await;
    let body = body_string(refused.into_body()).await;
    assert!(
        body.contains(r#""violated-policies":["per-hour"]"#),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn cost_is_charged_per_request() {
    let layer = builder(per_ip("units", Quota::per_minute(10)))
        .cost(|parts| if parts.uri.path() == "/export" { 5 } else { 1 })
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    let export = || from_peer(get("/export"), SocketAddr::from(([192, 0, 2, 1], 1)));
    let response = send(&mut service, export()).await;
    assert_eq!(header(&response, "ratelimit"), Some(r#""units";r=5;t=30"#));
    send(&mut service, export()).await;
    assert_eq!(
        send(&mut service, export()).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn layers_sharing_a_memory_store_share_counts() {
    let store = store();
    let layer = || {
        builder(per_ip("shared", Quota::per_minute(2)))
            .memory(store.clone())
            .build()
            .expect("valid")
    };
    let mut a = ServiceBuilder::new().layer(layer()).service_fn(ok);
    let mut b = ServiceBuilder::new().layer(layer()).service_fn(ok);
    assert_eq!(
        send(&mut a, from([192, 0, 2, 1])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut b, from([192, 0, 2, 1])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&mut a, from([192, 0, 2, 1])).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(start_paused = true)]
async fn replenished_keys_are_swept() {
    let store = store().sweep_interval(Duration::from_secs(1));
    let layer = builder(per_ip("per-ip", Quota::per_minute(60)))
        .memory(store.clone())
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    for i in 0..50 {
        send(&mut service, from([192, 0, 2, i])).await;
    }
    assert_eq!(store.len(), 50);
    tokio::time::advance(Duration::from_millis(500)).await;
    store.sweep();
    assert_eq!(store.len(), 50, "keys still being replenished were dropped");
    tokio::time::advance(Duration::from_secs(2)).await;
    // The next request triggers the scheduled sweep.
    send(&mut service, from([198, 51, 100, 1])).await;
    for _ in 0..100 {
        if store.len() == 1 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(store.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn key_count_is_bounded() {
    let store = store().max_keys(10);
    let layer = builder(per_ip("per-ip", Quota::per_minute(1)))
        .memory(store.clone())
        .build()
        .expect("valid");
    let mut service = ServiceBuilder::new().layer(layer).service_fn(ok);
    for i in 0..10 {
        send(&mut service, from([192, 0, 2, i])).await;
    }
    for i in 10..30 {
        // Beyond the bound, new keys are judged fresh and not stored.
        assert_eq!(
            send(&mut service, from([192, 0, 2, i])).await.status(),
            StatusCode::OK
        );
    }
    assert!(store.len() <= 10, "{} keys stored", store.len());
    // Tracked keys keep their limit.
    assert_eq!(
        send(&mut service, from([192, 0, 2, 0])).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
