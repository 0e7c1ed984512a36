//! The security headers layer, driven through its public API.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, header};
use http_body_util::Full;
use strata_core::{ClientIpResolver, ConfigError, ResolveClientIpLayer, Scheme};
use strata_security_headers::{
    CrossOriginEmbedderPolicy, CspBuilder, CspNonce, FrameOptions, HeaderMode, Hsts,
    PermissionsPolicy, Preset, ReferrerPolicy, SecurityHeadersLayer, Source,
};
use strata_testkit::{body_string, from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn html(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let nonce = request
        .extensions()
        .get::<CspNonce>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut response = Response::new(Body::from(format!("<script nonce=\"{nonce}\"></script>")));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/html; charset=utf-8".parse().expect("valid"),
    );
    Ok(response)
}

async fn json(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::from("{}"));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("valid"),
    );
    Ok(response)
}

async fn leaky(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::from("<p>"));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("valid"));
    headers.insert(header::SERVER, "nginx/1.2.3".parse().expect("valid"));
    headers.insert("x-powered-by", "PHP/5.4".parse().expect("valid"));
    headers.insert(
        header::X_FRAME_OPTIONS,
        "SAMEORIGIN".parse().expect("valid"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        "default-src https:".parse().expect("valid"),
    );
    Ok(response)
}

async fn headers_of(layer: SecurityHeadersLayer, request: Request<Body>) -> HeaderMap {
    let service = ServiceBuilder::new().layer(layer).service_fn(html);
    let response = service.oneshot(request).await.expect("infallible");
    response.headers().clone()
}

fn https(mut request: Request<Body>) -> Request<Body> {
    request.extensions_mut().insert(Scheme::Https);
    request
}

fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().expect("ASCII header"))
}

#[tokio::test]
async fn strict_preset_sets_every_header_over_https() {
    let headers = headers_of(SecurityHeadersLayer::strict(), https(get("/"))).await;
    let csp = value(&headers, "content-security-policy").expect("CSP set");
    assert!(
        csp.starts_with("default-src 'self'; script-src 'nonce-"),
        "{csp}"
    );
    assert!(
        csp.contains("'strict-dynamic'; style-src 'self' 'nonce-"),
        "{csp}"
    );
    assert!(
        csp.ends_with(
            "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests"
        ),
        "{csp}"
    );
    let expected = [
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("origin-agent-cluster", "?1"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-dns-prefetch-control", "off"),
        ("x-frame-options", "DENY"),
        ("x-permitted-cross-domain-policies", "none"),
        ("x-xss-protection", "0"),
    ];
    for (name, expected) in expected {
        assert_eq!(value(&headers, name), Some(expected), "{name}");
    }
    let permissions = value(&headers, "permissions-policy").expect("Permissions-Policy set");
    assert!(
        permissions.starts_with("accelerometer=(), bluetooth=(), browsing-topics=(), camera=()"),
        "{permissions}"
    );
    assert!(permissions.ends_with("sync-xhr=self"), "{permissions}");
    assert!(headers.get("cross-origin-embedder-policy").is_none());
    assert!(headers.get("content-security-policy-report-only").is_none());
    assert!(
        headers.get("x-download-options").is_none(),
        "deprecated header sent"
    );
}

#[tokio::test]
async fn new_is_the_strict_preset() {
    let strict = headers_of(SecurityHeadersLayer::strict(), get("/")).await;
    let new = headers_of(SecurityHeadersLayer::new(), get("/")).await;
    let names = |h: &HeaderMap| h.keys().map(|k| k.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&strict), names(&new));
}

#[tokio::test]
async fn api_preset_sends_its_csp_on_json_and_no_permissions_policy() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::api())
        .service_fn(json);
    let response = service
        .oneshot(https(get("/api")))
        .await
        .expect("infallible");
    let headers = response.headers();
    assert_eq!(
        value(headers, "content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    assert_eq!(value(headers, "x-frame-options"), Some("DENY"));
    assert_eq!(
        value(headers, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
    assert_eq!(value(headers, "x-content-type-options"), Some("nosniff"));
    assert!(headers.get("permissions-policy").is_none());
}

#[tokio::test]
async fn development_preset_has_no_hsts_and_allows_local_dev_servers() {
    let headers = headers_of(SecurityHeadersLayer::development(), https(get("/"))).await;
    assert!(headers.get("strict-transport-security").is_none());
    let csp = value(&headers, "content-security-policy").expect("CSP set");
    assert!(
        csp.contains("connect-src 'self' ws: wss: http://localhost:*"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(!csp.contains("strict-dynamic"), "{csp}");
    assert!(!csp.contains("upgrade-insecure-requests"), "{csp}");
    assert_eq!(value(&headers, "x-frame-options"), Some("SAMEORIGIN"));
}

#[tokio::test]
async fn document_only_headers_skip_json_responses() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(json);
    let response = service.oneshot(get("/data")).await.expect("infallible");
    let headers = response.headers();
    assert!(headers.get("content-security-policy").is_none());
    assert!(headers.get("x-frame-options").is_none());
    assert_eq!(value(headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(
        value(headers, "cross-origin-resource-policy"),
        Some("same-origin")
    );
}

#[tokio::test]
async fn document_types_and_everywhere_are_configurable() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .document_types(["application/json"])
        .build()
        .expect("valid");
    let service = ServiceBuilder::new().layer(layer).service_fn(json);
    let response = service.oneshot(get("/")).await.expect("infallible");
    assert!(response.headers().contains_key("content-security-policy"));

    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .document_types(["application/json"])
        .build()
        .expect("valid");
    let headers = headers_of(layer, get("/")).await; // text/html is no longer a document
    assert!(!headers.contains_key("content-security-policy"));

    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .document_headers_everywhere(true)
        .build()
        .expect("valid");
    let service = ServiceBuilder::new().layer(layer).service_fn(json);
    let response = service.oneshot(get("/")).await.expect("infallible");
    assert_eq!(value(response.headers(), "x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn handler_headers_win_and_leaky_headers_are_removed() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(leaky);
    let response = service.oneshot(get("/")).await.expect("infallible");
    let headers = response.headers();
    assert_eq!(value(headers, "x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(
        value(headers, "content-security-policy"),
        Some("default-src https:")
    );
    assert!(headers.get("server").is_none());
    assert!(headers.get("x-powered-by").is_none());
    assert_eq!(value(headers, "referrer-policy"), Some("no-referrer"));
}

/// A response with many headers of its own, one of them leaky: the
/// removal does not depend on how many headers the response holds.
async fn crowded(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::from("<p>"));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("valid"));
    for i in 0..20 {
        headers.insert(
            http::HeaderName::try_from(format!("x-app-{i}")).expect("valid"),
            "1".parse().expect("valid"),
        );
    }
    headers.insert("x-powered-by", "PHP/5.4".parse().expect("valid"));
    Ok(response)
}

#[tokio::test]
async fn leaky_headers_are_removed_from_responses_with_few_or_many_headers() {
    for crowd in [false, true] {
        let service = ServiceBuilder::new()
            .layer(SecurityHeadersLayer::strict())
            .service_fn(move |request| async move {
                if crowd {
                    crowded(request).await
                } else {
                    leaky(request).await
                }
            });
        let response = service.oneshot(get("/")).await.expect("infallible");
        let headers = response.headers();
        assert!(headers.get("x-powered-by").is_none(), "crowded: {crowd}");
        assert_eq!(value(headers, "x-content-type-options"), Some("nosniff"));
        if crowd {
            assert_eq!(value(headers, "x-app-19"), Some("1"));
        }
    }
}

#[tokio::test]
async fn override_mode_replaces_handler_headers() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .header_mode(header::X_FRAME_OPTIONS, HeaderMode::Override)
        .build()
        .expect("valid");
    let service = ServiceBuilder::new().layer(layer).service_fn(leaky);
    let response = service.oneshot(get("/")).await.expect("infallible");
    assert_eq!(value(response.headers(), "x-frame-options"), Some("DENY"));
    // Other headers keep the default mode.
    assert_eq!(
        value(response.headers(), "content-security-policy"),
        Some("default-src https:")
    );

    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .mode(HeaderMode::Override)
        .build()
        .expect("valid");
    let service = ServiceBuilder::new().layer(layer).service_fn(leaky);
    let response = service.oneshot(get("/")).await.expect("infallible");
    let csp = value(response.headers(), "content-security-policy").expect("CSP");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
}

#[tokio::test]
async fn every_header_has_an_off_switch() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .no_csp()
        .no_hsts()
        .no_cross_origin_opener_policy()
        .no_cross_origin_resource_policy()
        .no_cross_origin_embedder_policy()
        .origin_agent_cluster(false)
        .no_referrer_policy()
        .content_type_options(false)
        .no_dns_prefetch_control()
        .no_frame_options()
        .no_permitted_cross_domain_policies()
        .xss_protection(false)
        .no_permissions_policy()
        .keep_header(&header::SERVER)
        .build()
        .expect("valid");
    assert!(!layer.uses_nonce());
    let service = ServiceBuilder::new().layer(layer).service_fn(leaky);
    let response = service.oneshot(https(get("/"))).await.expect("infallible");
    let mut names: Vec<_> = response.headers().keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    // Only the handler's own headers remain, minus X-Powered-By.
    assert_eq!(
        names,
        [
            "content-security-policy",
            "content-type",
            "server",
            "x-frame-options"
        ]
    );
}

#[tokio::test]
async fn setters_change_the_values() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .hsts(Hsts::new().preload())
        .referrer_policy(ReferrerPolicy::StrictOriginWhenCrossOrigin)
        .frame_options(FrameOptions::SameOrigin)
        .cross_origin_embedder_policy(CrossOriginEmbedderPolicy::Credentialless)
        .dns_prefetch_control(true)
        .permissions_policy(PermissionsPolicy::new().deny(strata_security_headers::Feature::CAMERA))
        .remove_header(http::HeaderName::from_static("x-debug"))
        .csp(
            CspBuilder::new()
                .default_src([Source::SELF])
                .build()
                .expect("valid"),
        )
        .build()
        .expect("valid");
    let headers = headers_of(layer, https(get("/"))).await;
    assert_eq!(
        value(&headers, "strict-transport-security"),
        Some("max-age=63072000; includeSubDomains; preload")
    );
    assert_eq!(
        value(&headers, "referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
    assert_eq!(value(&headers, "x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(
        value(&headers, "cross-origin-embedder-policy"),
        Some("credentialless")
    );
    assert_eq!(value(&headers, "x-dns-prefetch-control"), Some("on"));
    assert_eq!(value(&headers, "permissions-policy"), Some("camera=()"));
    assert_eq!(
        value(&headers, "content-security-policy"),
        Some("default-src 'self'")
    );
}

#[tokio::test]
async fn nonce_in_header_equals_the_one_handlers_see() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(html);
    let response = service.oneshot(get("/")).await.expect("infallible");
    let csp = value(response.headers(), "content-security-policy")
        .expect("CSP")
        .to_owned();
    let body = body_string(response.into_body()).await;
    let nonce = body
        .strip_prefix("<script nonce=\"")
        .and_then(|rest| rest.strip_suffix("\"></script>"))
        .expect("the handler saw a nonce");
    assert!(!nonce.is_empty());
    assert!(
        csp.contains(&format!("script-src 'nonce-{nonce}' 'strict-dynamic'")),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("style-src 'self' 'nonce-{nonce}'")),
        "{csp}"
    );
}

#[tokio::test]
async fn nonces_are_unique_and_at_least_128_bits() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(html);
    let mut seen = HashSet::new();
    for _ in 0..2_000 {
        let response = service.clone().oneshot(get("/")).await.expect("infallible");
        let csp = value(response.headers(), "content-security-policy").expect("CSP");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_owned();
        let bytes = base64_decoded_len(&nonce);
        assert!(bytes * 8 >= 128, "nonce {nonce} has only {bytes} bytes");
        assert!(seen.insert(nonce), "a nonce was reused");
    }
}

/// An HTML page that never reads the nonce; it hands the nonce on in the
/// response extensions, unread.
async fn static_page(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::from("<p>no script</p>"));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, "text/html".parse().expect("valid"));
    if let Some(nonce) = request.extensions().get::<CspNonce>() {
        response.extensions_mut().insert(nonce.clone());
    }
    Ok(response)
}

#[tokio::test]
async fn a_page_that_never_reads_the_nonce_gets_a_strict_csp_without_one() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(static_page);
    let response = service.oneshot(get("/")).await.expect("infallible");
    let csp = value(response.headers(), "content-security-policy").expect("CSP");
    assert_eq!(
        csp,
        "default-src 'self'; script-src 'strict-dynamic'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests"
    );
    // Read after the headers were written: empty for good, matching the header.
    let nonce = response.extensions().get::<CspNonce>().expect("handed on");
    assert_eq!(nonce.as_str(), "");
    assert_eq!(nonce.to_string(), "");
}

#[tokio::test]
async fn two_pages_that_read_the_nonce_get_different_ones() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(html);
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = service.clone().oneshot(get("/")).await.expect("infallible");
        let csp = value(response.headers(), "content-security-policy")
            .expect("CSP")
            .to_owned();
        let body = body_string(response.into_body()).await;
        let nonce = body.split('"').nth(1).expect("nonce attribute").to_owned();
        assert_eq!(base64_decoded_len(&nonce), 16, "{nonce}");
        assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
}

fn base64_decoded_len(text: &str) -> usize {
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'),
        "{text}"
    );
    text.trim_end_matches('=').len() * 6 / 8
}

#[tokio::test]
async fn no_nonce_is_generated_when_the_policy_uses_none() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .csp(
            CspBuilder::new()
                .default_src([Source::SELF])
                .build()
                .expect("valid"),
        )
        .build()
        .expect("valid");
    assert!(!layer.uses_nonce());
    let service = ServiceBuilder::new().layer(layer).service_fn(html);
    let body = body_string(
        service
            .oneshot(get("/"))
            .await
            .expect("infallible")
            .into_body(),
    )
    .await;
    assert_eq!(body, "<script nonce=\"\"></script>");
}

#[tokio::test]
async fn report_only_policy_shares_the_nonce_and_reporting_endpoints_are_sent() {
    let trial = CspBuilder::strict()
        .require_trusted_types()
        .report_to("csp")
        .report_uri("/csp-report")
        .build()
        .expect("valid");
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .csp_report_only(trial)
        .reporting_endpoint("csp", "https://example.com/csp-report")
        .build()
        .expect("valid");
    let headers = headers_of(layer, get("/")).await;
    let enforced = value(&headers, "content-security-policy").expect("CSP");
    let trial = value(&headers, "content-security-policy-report-only").expect("report-only CSP");
    let nonce_of = |csp: &str| csp.split("'nonce-").nth(1).map(|s| s[..22].to_owned());
    assert_eq!(nonce_of(enforced), nonce_of(trial));
    assert!(
        trial
            .ends_with("require-trusted-types-for 'script'; report-to csp; report-uri /csp-report"),
        "{trial}"
    );
    assert_eq!(
        value(&headers, "reporting-endpoints"),
        Some("csp=\"https://example.com/csp-report\"")
    );
}

#[tokio::test]
async fn reporting_endpoint_rejects_quotes_and_bad_names() {
    for (name, url) in [("csp", "/x\", evil=\"y"), ("Bad Name", "/x"), ("csp", "")] {
        // The setter never fails; build() names the setting.
        let result = SecurityHeadersLayer::builder(Preset::Strict)
            .reporting_endpoint(name, url)
            .no_hsts()
            .build();
        assert!(
            matches!(
                result,
                Err(ConfigError::Invalid {
                    setting: "reporting_endpoint",
                    ..
                })
            ),
            "{name:?} {url:?}: {result:?}"
        );
    }
    // A later entry of the same name replaces a bad one.
    let result = SecurityHeadersLayer::builder(Preset::Strict)
        .reporting_endpoint("csp", "")
        .reporting_endpoint("csp", "/csp-report")
        .build();
    let _ = result.expect("valid");
}

#[tokio::test]
async fn hsts_is_not_sent_over_plain_http() {
    let headers = headers_of(SecurityHeadersLayer::strict(), get("/")).await;
    assert!(headers.get("strict-transport-security").is_none());
    assert_eq!(value(&headers, "x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn an_absolute_https_request_target_over_plain_http_gets_no_hsts() {
    // `GET https://evil.example/ HTTP/1.1` on a plain connection: the scheme
    // in the request target is the client's word, not the connection's.
    let request = from_peer(
        get("https://evil.example/"),
        SocketAddr::from(([203, 0, 113, 7], 4000)),
    );
    let headers = headers_of(SecurityHeadersLayer::strict(), request).await;
    assert!(headers.get("strict-transport-security").is_none());
    // The same through ResolveClientIpLayer, which stores the scheme it resolved.
    let service = ServiceBuilder::new()
        .layer(ResolveClientIpLayer::new(ClientIpResolver::new()))
        .layer(SecurityHeadersLayer::strict())
        .service_fn(html);
    let request = from_peer(
        get("https://evil.example/"),
        SocketAddr::from(([203, 0, 113, 7], 4000)),
    );
    let response = service.oneshot(request).await.expect("infallible");
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

#[tokio::test]
async fn spoofed_forwarded_proto_from_an_untrusted_peer_does_not_enable_hsts() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .trusted_proxies("10.0.0.0/8".parse().expect("valid"))
        .build()
        .expect("valid");
    let mut request = get("/");
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("valid"));
    let request = from_peer(request, SocketAddr::from(([203, 0, 113, 7], 4000)));
    let headers = headers_of(layer, request).await;
    assert!(headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn forwarded_proto_from_a_trusted_proxy_enables_hsts() {
    let layer = SecurityHeadersLayer::builder(Preset::Strict)
        .trusted_proxies("10.0.0.0/8".parse().expect("valid"))
        .build()
        .expect("valid");
    let mut request = get("/");
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("valid"));
    let request = from_peer(request, SocketAddr::from(([10, 0, 0, 2], 4000)));
    let headers = headers_of(layer, request).await;
    assert_eq!(
        value(&headers, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_proto_is_ignored_even_from_loopback() {
    let mut request = get("/");
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("valid"));
    let request = from_peer(request, SocketAddr::from(([127, 0, 0, 1], 4000)));
    let headers = headers_of(SecurityHeadersLayer::strict(), request).await;
    assert!(headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn scheme_resolved_by_client_ip_layer_is_used() {
    let resolver = ClientIpResolver::new().trusted_proxies("127.0.0.1".parse().expect("valid"));
    let service = ServiceBuilder::new()
        .layer(ResolveClientIpLayer::new(resolver))
        .layer(SecurityHeadersLayer::strict())
        .service_fn(html);
    let mut request = get("/");
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("valid"));
    let request = from_peer(request, SocketAddr::from(([127, 0, 0, 1], 4000)));
    let response = service.clone().oneshot(request).await.expect("infallible");
    assert!(response.headers().contains_key("strict-transport-security"));

    let mut spoofed = get("/");
    spoofed
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().expect("valid"));
    let spoofed = from_peer(spoofed, SocketAddr::from(([198, 51, 100, 1], 4000)));
    let response = service.oneshot(spoofed).await.expect("infallible");
    assert!(!response.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn errors_from_the_inner_service_pass_through() {
    let service = ServiceBuilder::new()
        .layer(SecurityHeadersLayer::strict())
        .service_fn(|_: Request<Body>| async { Err::<Response<Body>, _>("boom") });
    assert_eq!(service.oneshot(get("/")).await.err(), Some("boom"));
}
