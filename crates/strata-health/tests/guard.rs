//! `guard_details`: detailed and group reports for admitted clients only.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_core::guard::{AccessGuard, AccessRefusal, GuardRule};
use strata_core::{ClientIp, TrustedProxies};
use strata_health::{DetailsRefused, Endpoint, HealthLayer, Registration, check_fn};
use strata_testkit::{from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn app(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::from("app")))
}

fn guarded(guard: AccessGuard) -> HealthLayer {
    HealthLayer::builder()
        .register(
            Registration::new("db", check_fn(|| async { strata_health::Status::Pass }))
                .tags(["storage"]),
        )
        .group("storage", ["storage"])
        .route("/health/storage", Endpoint::group("storage"))
        .guard_details(guard)
        .build()
        .expect("valid")
}

fn private_networks() -> AccessGuard {
    AccessGuard::builder()
        .allow_ips(TrustedProxies::private_networks())
        .build()
        .expect("valid guard")
}

async fn status(layer: &HealthLayer, request: Request<Body>) -> Response<Body> {
    ServiceBuilder::new()
        .layer(layer.clone())
        .service_fn(app)
        .oneshot(request)
        .await
        .expect("infallible")
}

const PUBLIC: [u8; 4] = [203, 0, 113, 9];
const PRIVATE: [u8; 4] = [10, 1, 2, 3];

#[tokio::test]
async fn refuses_details_outside_the_allow_list_and_keeps_probes_open() {
    let layer = guarded(private_networks());
    for path in ["/health/detailed", "/health/storage"] {
        let response = status(&layer, from_peer(get(path), SocketAddr::from((PUBLIC, 1)))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            response
                .extensions()
                .get::<DetailsRefused>()
                .map(|r| r.reason),
            Some(AccessRefusal::Address)
        );
        let response = status(&layer, from_peer(get(path), SocketAddr::from((PRIVATE, 1)))).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    for path in ["/health", "/health/live", "/health/ready"] {
        let response = status(&layer, from_peer(get(path), SocketAddr::from((PUBLIC, 1)))).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // No address at all: refused.
    let response = status(&layer, get("/health/detailed")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unresolved_client_is_refused() {
    let layer = guarded(private_networks());
    // Through a trusted proxy on a private network whose chain could not be read.
    let mut request = from_peer(get("/health/detailed"), SocketAddr::from((PRIVATE, 1)));
    request.extensions_mut().insert(ClientIp::unresolved());
    assert_eq!(
        status(&layer, request).await.status(),
        StatusCode::FORBIDDEN
    );
}

fn with_token(peer: [u8; 4], token: &'static str) -> Request<Body> {
    let mut request = from_peer(get("/health/detailed"), SocketAddr::from((peer, 1)));
    request
        .headers_mut()
        .insert(AUTHORIZATION, http::HeaderValue::from_static(token));
    request
}

#[tokio::test]
async fn with_the_any_rule_a_bearer_token_admits_any_address() {
    let layer = guarded(
        AccessGuard::builder()
            .allow_ips(TrustedProxies::private_networks())
            .bearer_token("s3cret")
            .rule(GuardRule::Any)
            .build()
            .expect("valid guard"),
    );
    for good in ["Bearer s3cret", "bearer s3cret"] {
        let response = status(&layer, with_token(PUBLIC, good)).await;
        assert_eq!(response.status(), StatusCode::OK, "{good}");
    }
    for wrong in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"] {
        let response = status(&layer, with_token(PUBLIC, wrong)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{wrong}");
    }
    // A private address needs no token.
    let response = status(
        &layer,
        from_peer(get("/health/detailed"), SocketAddr::from((PRIVATE, 1))),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn by_default_both_the_address_and_the_token_are_required() {
    let layer = guarded(
        AccessGuard::builder()
            .allow_ips(TrustedProxies::private_networks())
            .bearer_token("s3cret")
            .build()
            .expect("valid guard"),
    );
    assert_eq!(
        status(&layer, with_token(PRIVATE, "Bearer s3cret"))
            .await
            .status(),
        StatusCode::OK
    );
    let response = status(&layer, with_token(PUBLIC, "Bearer s3cret")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = status(&layer, with_token(PRIVATE, "Bearer nope")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response
            .extensions()
            .get::<DetailsRefused>()
            .map(|r| r.reason),
        Some(AccessRefusal::Token)
    );
}
