//! `DetailsGuard`: detailed and group reports for admitted clients only.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use strata_core::TrustedProxies;
use strata_health::{
    BuildError, DetailsGuard, DetailsRefused, Endpoint, HealthLayer, Registration, check_fn,
};
use strata_testkit::{from_peer, get};
use tower::{ServiceBuilder, ServiceExt};

type Body = Full<Bytes>;

async fn app(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::from("app")))
}

fn guarded(guard: DetailsGuard) -> HealthLayer {
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
    let layer = guarded(DetailsGuard::new().allow_ips(TrustedProxies::private_networks()));
    for path in ["/health/detailed", "/health/storage"] {
        let response = status(&layer, from_peer(get(path), SocketAddr::from((PUBLIC, 1)))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert!(response.extensions().get::<DetailsRefused>().is_some());
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
async fn a_bearer_token_admits_any_address() {
    let layer = guarded(
        DetailsGuard::new()
            .allow_ips(TrustedProxies::private_networks())
            .bearer_token("s3cret"),
    );
    let with = |token: &'static str| {
        let mut request = from_peer(get("/health/detailed"), SocketAddr::from((PUBLIC, 1)));
        request
            .headers_mut()
            .insert(AUTHORIZATION, http::HeaderValue::from_static(token));
        request
    };
    assert_eq!(
        status(&layer, with("Bearer s3cret")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        status(&layer, with("bearer s3cret")).await.status(),
        StatusCode::OK
    );
    for wrong in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"] {
        assert_eq!(
            status(&layer, with(wrong)).await.status(),
            StatusCode::FORBIDDEN,
            "{wrong}"
        );
    }
}

#[test]
fn a_bad_token_is_a_build_error() {
    for token in ["", "has space", "ünicode"] {
        let error = HealthLayer::builder()
            .guard_details(DetailsGuard::new().bearer_token(token))
            .build()
            .expect_err(token);
        assert!(
            matches!(
                error,
                BuildError::OutOfRange {
                    name: "DetailsGuard::bearer_token",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
