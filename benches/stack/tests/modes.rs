//! Every mode answers both routes with the right body; `bare-headers`
//! sends the headers `strata` sends; `strata` serves `/large` from its cache.

use axum::Router;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, DATE};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use strata_stack_bench::modes::{self, MODES};
use strata_stack_bench::request::{Route, request};
use strata_stack_bench::{body, is_strata_hit};
use tokio::io::AsyncReadExt;
use tower::ServiceExt;

async fn send(app: &Router, route: Route) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app
        .clone()
        .oneshot(request(route))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes();
    (parts.status, parts.headers, bytes.to_vec())
}

/// The body as sent, decoded when `Content-Encoding` says it is encoded.
async fn decoded(headers: &HeaderMap, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match headers.get(CONTENT_ENCODING).map(|v| v.as_bytes()) {
        None => out.extend_from_slice(bytes),
        Some(b"br") => {
            let mut decoder = async_compression::tokio::bufread::BrotliDecoder::new(bytes);
            decoder.read_to_end(&mut out).await.expect("valid br");
        }
        Some(b"gzip") => {
            let mut decoder = async_compression::tokio::bufread::GzipDecoder::new(bytes);
            decoder.read_to_end(&mut out).await.expect("valid gzip");
        }
        Some(other) => panic!("unexpected coding {:?}", String::from_utf8_lossy(other)),
    }
    out
}

#[tokio::test]
async fn every_mode_answers_both_routes_with_their_body() {
    let large = body::large();
    for mode in MODES {
        let app = modes::app(mode.name).await.expect("the mode builds");
        for route in Route::ALL {
            // Twice: the second /large comes from the cache where there is one.
            for _ in 0..2 {
                let (status, headers, bytes) = send(&app, route).await;
                assert_eq!(status, StatusCode::OK, "{} {}", mode.name, route.path());
                let body = decoded(&headers, &bytes).await;
                let expected: &[u8] = match route {
                    Route::Small => body::SMALL.as_bytes(),
                    Route::Large => &large,
                };
                assert!(
                    body == expected,
                    "{} {}: wrong body",
                    mode.name,
                    route.path()
                );
            }
        }
    }
}

#[tokio::test]
async fn compressing_modes_send_large_in_br() {
    for name in [
        "strata",
        "peer",
        "strata-compression",
        "strata-cache-compression",
        "peer-compression",
        "bare-headers",
    ] {
        let app = modes::app(name).await.expect("the mode builds");
        let (_, headers, bytes) = send(&app, Route::Large).await;
        assert_eq!(headers[CONTENT_ENCODING], "br", "{name}");
        assert!(
            bytes.len() < body::LARGE_BYTES / 4,
            "{name}: {} bytes",
            bytes.len()
        );
    }
}

/// The header names of a response, in order, without those the server writes.
fn names(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .filter(|name| *name != DATE && *name != CONTENT_LENGTH)
        .map(|name| name.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn bare_headers_sends_the_header_names_strata_sends() {
    let strata = modes::app("strata").await.expect("builds");
    let bare_headers = modes::app("bare-headers").await.expect("builds");
    for route in Route::ALL {
        // The strata cache answers /large from the second request on.
        let mut strata_names = Vec::new();
        for _ in 0..2 {
            strata_names = names(&send(&strata, route).await.1);
        }
        let (_, headers, _) = send(&bare_headers, route).await;
        let mut ours = names(&headers);
        assert_eq!(ours, strata_names, "{}", route.path());
        ours.sort();
        assert!(
            ours.binary_search(&"x-content-type-options".to_owned())
                .is_ok()
        );
    }
}

#[tokio::test]
async fn strata_serves_large_from_its_cache_on_the_second_request() {
    for name in ["strata", "strata-cache-compression"] {
        let strata = modes::app(name).await.expect("builds");
        let (_, first, _) = send(&strata, Route::Large).await;
        assert!(
            !is_strata_hit(&first),
            "{name}: the first request cannot be a hit"
        );
        let (_, second, _) = send(&strata, Route::Large).await;
        assert!(
            is_strata_hit(&second),
            "{name}: {:?}",
            second.get("cache-status")
        );
        let (_, small, _) = send(&strata, Route::Small).await;
        assert!(
            !is_strata_hit(&small),
            "{name}: GET /small has no freshness: never stored"
        );
    }
}
