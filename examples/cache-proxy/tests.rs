//! End to end over real TCP: a test client → the proxy → a real upstream
//! server that counts and records what it receives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use strata::core::redis::fred::clients::Pool;
use tokio::net::TcpListener;

use crate::app::app;
use crate::config::Config;

const LAST_MODIFIED: &str = "Mon, 30 Nov 2026 10:00:00 GMT";

/// One request as the upstream received it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// The upstream: records every request; `GET` answers are fresh for 60 s
/// with a validator, a `Date` 5 s old and connection-specific fields.
#[derive(Debug, Default)]
pub(super) struct Origin {
    seen: Mutex<Vec<Seen>>,
    dates: Mutex<Vec<String>>,
}

impl Origin {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub(super) fn count(&self, method: &Method) -> usize {
        self.seen().iter().filter(|s| s.method == method).count()
    }
}

async fn origin(State(origin): State<Arc<Origin>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.expect("request body").to_bytes();
    let seen = Seen {
        method: parts.method.clone(),
        path: parts.uri.to_string(),
        headers: parts.headers,
        body,
    };
    origin.seen.lock().expect("lock").push(seen.clone());
    let response = Response::builder()
        .header("connection", "x-upstream-secret")
        .header("x-upstream-secret", "1")
        .header("keep-alive", "timeout=5");
    if parts.method != Method::GET {
        let echo = format!("{} bytes received", seen.body.len());
        return response
            .status(StatusCode::CREATED)
            .header("cache-control", "no-store")
            .body(Body::from(echo))
            .expect("response");
    }
    let date = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(5));
    origin.dates.lock().expect("lock").push(date.clone());
    response
        .header("cache-control", "max-age=60")
        .header("etag", "\"v1\"")
        .header("date", date)
        .header("last-modified", LAST_MODIFIED)
        .body(Body::from(format!("contents of {}", seen.path)))
        .expect("response")
}

pub(super) async fn start_origin() -> (SocketAddr, Arc<Origin>) {
    let state = Arc::new(Origin::default());
    let router = Router::new()
        .fallback(origin)
        .with_state(Arc::clone(&state));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, state)
}

/// A proxy in front of `upstream` on 127.0.0.1:0, with `vars` as extra settings.
pub(super) async fn start_proxy(
    upstream: SocketAddr,
    redis: Option<Pool>,
    vars: &[(&str, &str)],
) -> SocketAddr {
    let url = format!("http://{upstream}");
    let config = Config::from_lookup(|name| match name {
        "UPSTREAM" => Some(url.clone()),
        _ => vars
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned()),
    })
    .expect("config");
    let router = app(&config, redis).expect("app");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        crate::serve::serve(listener, router, &config.serve, std::future::pending()).await;
    });
    addr
}

pub(super) type TestClient = Client<HttpConnector, Body>;

pub(super) fn client() -> TestClient {
    Client::builder(TokioExecutor::new()).build_http()
}

pub(super) fn get(proxy: SocketAddr, path: &str) -> axum::http::request::Builder {
    Request::get(format!("http://{proxy}{path}"))
}

/// Sends `request` and reads the whole response.
pub(super) async fn send(
    client: &TestClient,
    request: Request<Body>,
) -> (StatusCode, HeaderMap, Bytes) {
    let response = client.request(request).await.expect("proxy answers");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("response body").to_bytes();
    (parts.status, parts.headers, body)
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map_or("", |value| value.to_str().expect("text"))
}

#[tokio::test]
async fn a_repeated_get_is_a_hit_with_the_origins_date_and_validators() {
    let (upstream, origin) = start_origin().await;
    let proxy = start_proxy(upstream, None, &[]).await;
    let client = client();
    let request = || {
        get(proxy, "/items?page=2")
            .body(Body::empty())
            .expect("request")
    };

    let (status, first, body) = send(&client, request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "contents of /items?page=2");
    assert!(
        header(&first, "cache-status").contains("fwd=uri-miss"),
        "{first:?}"
    );
    let (status, second, body) = send(&client, request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "contents of /items?page=2");
    assert_eq!(
        origin.count(&Method::GET),
        1,
        "the second GET reached the upstream: {second:?}"
    );

    let sent_date = origin.dates.lock().expect("lock")[0].clone();
    for headers in [&first, &second] {
        assert_eq!(header(headers, "date"), sent_date);
        assert_eq!(header(headers, "etag"), "\"v1\"");
        assert_eq!(header(headers, "last-modified"), LAST_MODIFIED);
        assert_eq!(header(headers, "cache-control"), "max-age=60");
    }
    let cache_status = header(&second, "cache-status");
    assert!(cache_status.starts_with("strata; hit"), "{cache_status}");
    // The origin's Date is 5 s old: the apparent age counts.
    let age: u64 = header(&second, "age").parse().expect("Age is a number");
    assert!((5..60).contains(&age), "Age {age}");
}

#[tokio::test]
async fn hop_by_hop_fields_are_not_forwarded_either_way() {
    let (upstream, origin) = start_origin().await;
    let proxy = start_proxy(upstream, None, &[]).await;
    let request = get(proxy, "/hop")
        .header("connection", "x-client-secret")
        .header("x-client-secret", "1")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("x-forwarded-for", "203.0.113.7")
        .header("accept", "text/plain")
        .body(Body::empty())
        .expect("request");
    let (status, headers, _) = send(&client(), request).await;
    assert_eq!(status, StatusCode::OK);

    let seen = origin.seen().pop().expect("forwarded");
    for name in ["x-client-secret", "keep-alive", "proxy-authorization"] {
        assert!(
            !seen.headers.contains_key(name),
            "{name} forwarded: {:?}",
            seen.headers
        );
    }
    let connection = header(&seen.headers, "connection");
    assert!(!connection.contains("x-client-secret"), "{connection}");
    assert_eq!(header(&seen.headers, "accept"), "text/plain");
    assert_eq!(header(&seen.headers, "host"), proxy.to_string());
    assert_eq!(
        header(&seen.headers, "x-forwarded-for"),
        "203.0.113.7, 127.0.0.1"
    );
    assert_eq!(header(&seen.headers, "x-forwarded-proto"), "http");
    assert_eq!(header(&seen.headers, "via"), "1.1 strata-cache-proxy");

    for name in ["x-upstream-secret", "keep-alive"] {
        assert!(!headers.contains_key(name), "{name} returned: {headers:?}");
    }
    assert!(!header(&headers, "connection").contains("x-upstream-secret"));
    assert_eq!(header(&headers, "via"), "1.1 strata-cache-proxy");
}

#[tokio::test]
async fn a_post_is_forwarded_with_its_streamed_body_and_invalidates() {
    let (upstream, origin) = start_origin().await;
    let proxy = start_proxy(upstream, None, &[]).await;
    let client = client();
    let read = || get(proxy, "/items").body(Body::empty()).expect("request");
    send(&client, read()).await;
    let (_, cached, _) = send(&client, read()).await;
    assert!(
        header(&cached, "cache-status").contains("hit"),
        "{cached:?}"
    );

    // Three chunks, no Content-Length: the body streams (chunked) to the upstream.
    let chunks =
        ["new ", "item ", "here"].map(|c| Ok::<_, std::io::Error>(Frame::data(Bytes::from(c))));
    let body = Body::new(StreamBody::new(futures_util::stream::iter(chunks)));
    let post = Request::post(format!("http://{proxy}/items"))
        .body(body)
        .expect("request");
    let (status, _, answer) = send(&client, post).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer, "13 bytes received");
    let posted = origin.seen().pop().expect("forwarded");
    assert_eq!(
        (posted.method, posted.body),
        (Method::POST, Bytes::from("new item here"))
    );

    let (status, after, _) = send(&client, read()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header(&after, "cache-status").contains("fwd=uri-miss"),
        "{after:?}"
    );
    assert_eq!(origin.count(&Method::GET), 2, "the POST did not invalidate");
}

#[tokio::test]
async fn if_none_match_is_answered_304_by_the_cache() {
    let (upstream, origin) = start_origin().await;
    let proxy = start_proxy(upstream, None, &[]).await;
    let client = client();
    send(
        &client,
        get(proxy, "/tagged").body(Body::empty()).expect("request"),
    )
    .await;
    let conditional = get(proxy, "/tagged")
        .header("if-none-match", "W/\"v1\"")
        .body(Body::empty())
        .expect("request");
    let (status, headers, body) = send(&client, conditional).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&headers, "etag"), "\"v1\"");
    assert!(
        header(&headers, "cache-status").contains("hit"),
        "{headers:?}"
    );
    assert_eq!(origin.count(&Method::GET), 1);
}
