//! End to end over real TCP, when the upstream fails, and with two proxies
//! sharing one Redis.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use strata::core::redis::fred::interfaces::ClientLike;
use tokio::net::TcpListener;

use crate::tests::{client, get, header, send, start_origin, start_proxy};

async fn assert_problem(proxy: SocketAddr, status: StatusCode) {
    let (got, headers, body) = send(
        &client(),
        get(proxy, "/x").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(got, status);
    assert_eq!(header(&headers, "content-type"), "application/problem+json");
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(problem["status"], status.as_u16());
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("upstream")),
        "{problem}"
    );
    assert!(
        !header(&headers, "cache-status").contains("stored"),
        "{headers:?}"
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_problem() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream = closed.local_addr().expect("addr");
    drop(closed);
    let proxy = start_proxy(upstream, None, &[]).await;
    assert_problem(proxy, StatusCode::BAD_GATEWAY).await;
}

#[tokio::test]
async fn an_upstream_that_never_answers_is_a_504_problem() {
    // Accepts connections and never reads or answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream = silent.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let proxy = start_proxy(upstream, None, &[("UPSTREAM_TIMEOUT", "0.2")]).await;
    assert_problem(proxy, StatusCode::GATEWAY_TIMEOUT).await;
}

#[tokio::test]
async fn two_proxies_on_one_redis_serve_each_others_responses() {
    let redis = strata_testkit::redis::RedisServer::start();
    let builder = strata::core::redis::RedisPoolBuilder::from_url(redis.url()).expect("url");
    let wait = Duration::from_secs(10);
    let pool_a = crate::env::connect_redis(builder.clone(), wait)
        .await
        .expect("pool");
    let pool_b = crate::env::connect_redis(builder, wait)
        .await
        .expect("pool");
    for pool in [&pool_a, &pool_b] {
        let up = pool.clients().iter().all(ClientLike::is_connected);
        assert!(up, "Redis unreachable");
    }
    let (upstream, origin) = start_origin().await;
    let first = start_proxy(upstream, Some(pool_a), &[]).await;
    let second = start_proxy(upstream, Some(pool_b), &[]).await;
    let client = client();
    // Both instances serve one public name, behind one load balancer.
    let request = |proxy| {
        get(proxy, "/shared")
            .header("host", "shop.example")
            .body(Body::empty())
            .expect("request")
    };
    let (status, stored, _) = send(&client, request(first)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header(&stored, "cache-status").contains("stored"),
        "{stored:?}"
    );
    let (status, hit, body) = send(&client, request(second)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "contents of /shared");
    assert!(header(&hit, "cache-status").contains("hit"), "{hit:?}");
    assert_eq!(header(&hit, "date"), header(&stored, "date"));
    assert_eq!(
        origin.count(&Method::GET),
        1,
        "the second instance went to the upstream"
    );
}
