//! TrustedHostLayer and HttpsRedirectLayer, driven through their public API.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Version, header};
use http_body_util::Full;
use serde_json::Value;
use strata_core::{ClientIpResolver, ConfigError, ResolveClientIpLayer, Scheme};
use strata_security_headers::{
    HostRejection, HttpsRedirectLayer, RedirectStatus, TrustedHostLayer,
};
use strata_testkit::{body_string, from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn ok(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::from("served")))
}

fn with_host(uri: &str, host: &str) -> Request<Body> {
    let mut request = get(uri);
    request
        .headers_mut()
        .insert(header::HOST, host.parse().expect("valid header value"));
    request
}

async fn status_for(layer: &TrustedHostLayer, request: Request<Body>) -> StatusCode {
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(ok);
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = body_string(response.into_body()).await;
    if status == StatusCode::OK {
        assert_eq!(body, "served");
    } else {
        let doc: Value = serde_json::from_str(&body).expect("problem JSON");
        assert_eq!(doc["status"], 400);
    }
    status
}

fn hosts() -> TrustedHostLayer {
    TrustedHostLayer::builder(["example.com", "*.example.com", "::1", "127.0.0.1"])
        .host("[2001:db8::5]:8443")
        .host("localhost:3000")
        .build()
        .expect("valid patterns")
}

#[tokio::test]
async fn allows_exact_wildcard_and_ip_hosts() {
    let layer = hosts();
    for host in [
        "example.com",
        "EXAMPLE.com.",
        "example.com:8080",
        "api.example.com",
        "a.b.example.com:443",
        "[::1]",
        "[0:0:0:0:0:0:0:1]:3000",
        "[2001:db8::5]:8443",
        "127.0.0.1:80",
        "localhost:3000",
    ] {
        assert_eq!(
            status_for(&layer, with_host("/", host)).await,
            StatusCode::OK,
            "{host}"
        );
    }
}

#[tokio::test]
async fn refuses_other_hosts_ports_and_garbage_with_400() {
    let layer = hosts();
    for host in [
        "evil.com",
        "example.com.evil.com",
        "notexample.com",
        "[2001:db8::5]",
        "[2001:db8::5]:443",
        "[::2]",
        "127.0.0.2",
        "localhost",
        "localhost:3001",
        "user@example.com",
        "example.com:",
        "example.com:99999",
        "[::1",
        "exa mple.com",
        "example.com/path",
        "",
    ] {
        assert_eq!(
            status_for(&layer, with_host("/", host)).await,
            StatusCode::BAD_REQUEST,
            "{host:?}"
        );
    }
    assert_eq!(
        status_for(&layer, get("/")).await,
        StatusCode::BAD_REQUEST,
        "no Host"
    );
    let mut twice = with_host("/", "example.com");
    twice
        .headers_mut()
        .append(header::HOST, "evil.com".parse().expect("valid"));
    assert_eq!(
        status_for(&layer, twice).await,
        StatusCode::BAD_REQUEST,
        "two Hosts"
    );
}

#[tokio::test]
async fn rejection_reason_is_in_the_response_extensions() {
    let service = ServiceBuilder::new().layer(hosts()).service_fn(ok);
    let mut twice = with_host("/", "example.com");
    twice
        .headers_mut()
        .append(header::HOST, "example.com".parse().expect("valid"));
    for (request, reason) in [
        (with_host("/", "evil.com"), HostRejection::NotAllowed),
        (with_host("/", "exa mple.com"), HostRejection::Malformed),
        (get("/"), HostRejection::Missing),
        (twice, HostRejection::Ambiguous),
    ] {
        let response = service.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.extensions().get::<HostRejection>(), Some(&reason));
        let doc: Value =
            serde_json::from_str(&body_string(response.into_body()).await).expect("JSON");
        assert_eq!(doc["detail"], reason.detail());
    }
}

#[tokio::test]
async fn reads_the_http2_authority() {
    let layer = hosts();
    let mut h2 = get("https://api.example.com/x");
    *h2.version_mut() = Version::HTTP_2;
    assert_eq!(status_for(&layer, h2).await, StatusCode::OK);
    let mut h2 = get("https://evil.com/x");
    *h2.version_mut() = Version::HTTP_2;
    assert_eq!(status_for(&layer, h2).await, StatusCode::BAD_REQUEST);
    // :authority and Host must agree.
    let mixed = with_host("https://api.example.com/x", "evil.com");
    assert_eq!(status_for(&layer, mixed).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_patterns_fail_when_built() {
    for bad in [
        vec!["*"],
        vec!["*.com"],
        vec!["ex*ample.com"],
        vec!["example.com:http"],
        vec!["exa mple.com"],
        vec!["[::1"],
    ] {
        let result = TrustedHostLayer::builder(&bad).build();
        assert!(
            matches!(&result, Err(ConfigError::Invalid { setting: "hosts", reason })
                if reason.contains(bad[0])),
            "{bad:?}: {result:?}"
        );
        let result = TrustedHostLayer::builder(["example.com"])
            .host(bad[0])
            .build();
        assert!(
            matches!(
                result,
                Err(ConfigError::Invalid {
                    setting: "host",
                    ..
                })
            ),
            "{bad:?}: {result:?}"
        );
    }
    let result = TrustedHostLayer::builder(Vec::<String>::new()).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "hosts",
                ..
            })
        ),
        "{result:?}"
    );
}

async fn redirect(layer: HttpsRedirectLayer, request: Request<Body>) -> Response<Body> {
    ServiceBuilder::new()
        .layer(layer)
        .service_fn(ok)
        .oneshot(request)
        .await
        .expect("infallible")
}

#[tokio::test]
async fn redirects_http_with_308_keeping_path_and_query() {
    let response = redirect(
        HttpsRedirectLayer::new(),
        with_host("/a/b?c=d&e", "Example.com:8080"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()[header::LOCATION],
        "https://example.com/a/b?c=d&e"
    );
    assert_eq!(body_string(response.into_body()).await, "");
}

#[tokio::test]
async fn status_port_and_host_are_configurable() {
    let layer = HttpsRedirectLayer::builder()
        .status(RedirectStatus::MovedPermanently)
        .https_port(8443)
        .build()
        .expect("valid");
    let response = redirect(layer, with_host("/", "[::1]:8080")).await;
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(response.headers()[header::LOCATION], "https://[::1]:8443/");

    let layer = HttpsRedirectLayer::builder()
        .status(RedirectStatus::TemporaryRedirect)
        .host("www.example.com")
        .build()
        .expect("valid host");
    let response = redirect(layer, with_host("/x", "evil.com")).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        response.headers()[header::LOCATION],
        "https://www.example.com/x"
    );
    let result = HttpsRedirectLayer::builder().host("a b").build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "host",
                ..
            })
        ),
        "{result:?}"
    );
    // A bad path does not stop the chain; build() names it.
    let result = HttpsRedirectLayer::builder()
        .exempt("health")
        .https_port(8443)
        .build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "exempt",
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn exempt_paths_are_served_over_http() {
    let layer = || {
        HttpsRedirectLayer::builder()
            .exempt("/health/")
            .build()
            .expect("valid")
    };
    for path in ["/health", "/health/live"] {
        let response = redirect(layer(), with_host(path, "example.com")).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = redirect(layer(), with_host("/healthz", "example.com")).await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn garbage_host_is_a_400_not_a_redirect() {
    let response = redirect(HttpsRedirectLayer::new(), with_host("/", "evil.com/@x")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!response.headers().contains_key(header::LOCATION));
    let response = redirect(HttpsRedirectLayer::new(), get("/")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

fn forwarded_https(peer: [u8; 4]) -> Request<Body> {
    let mut request = with_host("/", "example.com");
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("valid"));
    from_peer(request, SocketAddr::from((peer, 5000)))
}

#[tokio::test]
async fn an_absolute_https_request_target_over_plain_http_is_still_redirected() {
    let request = from_peer(
        get("https://example.com/cart?x=1"),
        SocketAddr::from(([203, 0, 113, 7], 4000)),
    );
    let response = redirect(HttpsRedirectLayer::new(), request).await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()[header::LOCATION],
        "https://example.com/cart?x=1"
    );
}

#[tokio::test]
async fn forwarded_https_from_a_trusted_proxy_is_not_redirected() {
    let layer = HttpsRedirectLayer::builder()
        .trusted_proxies("10.0.0.0/8".parse().expect("valid"))
        .build()
        .expect("valid");
    let response = redirect(layer, forwarded_https([10, 1, 1, 1])).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn forwarded_https_from_an_untrusted_peer_is_still_redirected() {
    let layer = HttpsRedirectLayer::builder()
        .trusted_proxies("10.0.0.0/8".parse().expect("valid"))
        .build()
        .expect("valid");
    let response = redirect(layer, forwarded_https([203, 0, 113, 9])).await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    let response = redirect(HttpsRedirectLayer::new(), forwarded_https([10, 1, 1, 1])).await;
    assert_eq!(
        response.status(),
        StatusCode::PERMANENT_REDIRECT,
        "no proxy trusted by default"
    );
}

#[tokio::test]
async fn https_connections_and_client_ip_layer_scheme_pass_through() {
    let mut tls = with_host("/", "example.com");
    tls.extensions_mut().insert(Scheme::Https);
    assert_eq!(
        redirect(HttpsRedirectLayer::new(), tls).await.status(),
        StatusCode::OK
    );

    let resolver = ClientIpResolver::new().trusted_proxies("10.0.0.0/8".parse().expect("valid"));
    let service = ServiceBuilder::new()
        .layer(ResolveClientIpLayer::new(resolver))
        .layer(HttpsRedirectLayer::new())
        .service_fn(ok);
    let response = service
        .clone()
        .oneshot(forwarded_https([10, 2, 2, 2]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let response = service
        .oneshot(forwarded_https([198, 51, 100, 2]))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
}
