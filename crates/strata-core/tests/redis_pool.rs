//! The pool builder against a real `redis-server`.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use strata_core::ConfigError;
use strata_core::redis::RedisPoolBuilder;
use strata_core::redis::fred::prelude::*;
use strata_testkit::redis::{RedisServer, shared, unique_prefix};

const TIMEOUT: Duration = Duration::from_millis(100);
/// A ceiling that catches a command waiting for Redis to come back (a hang),
/// not a slow machine: thirty times the timeout.
const HANG: Duration = Duration::from_secs(3);

#[tokio::test]
async fn connects_and_pings() {
    let pool = RedisPoolBuilder::from_url(shared().url())
        .expect("valid url")
        .connect()
        .await
        .expect("pool");
    let pong: String = poll_ping(&pool, Duration::from_secs(5))
        .await
        .expect("PING");
    assert_eq!(pong, "PONG");

    let key = format!("{}k", unique_prefix("connects_and_pings"));
    let () = pool
        .set(&key, "v", Some(Expiration::EX(60)), None, false)
        .await
        .expect("SET");
    let value: String = pool.get(&key).await.expect("GET");
    assert_eq!(value, "v");
}

#[tokio::test]
async fn a_command_fails_within_the_timeout_while_redis_is_down_and_recovers() {
    let server = RedisServer::start();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(TIMEOUT)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect()
        .await
        .expect("pool");
    poll_ping(&pool, Duration::from_secs(5))
        .await
        .expect("first PING");

    server.stop();
    for _ in 0..5 {
        let started = Instant::now();
        let result: Result<String, _> = pool.ping(None).await;
        let elapsed = started.elapsed();
        assert!(result.is_err(), "PING succeeded against a stopped server");
        assert!(
            elapsed <= HANG,
            "PING took {elapsed:?} while Redis was down"
        );
    }

    server.restart();
    let recovered = poll_ping(&pool, Duration::from_secs(10)).await;
    assert_eq!(recovered.as_deref(), Ok("PONG"), "pool did not reconnect");
}

#[tokio::test]
async fn starts_while_redis_is_down() {
    let server = RedisServer::start();
    server.stop();
    let started = Instant::now();
    let pool = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .command_timeout(TIMEOUT)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect()
        .await
        .expect("connect returns while Redis is down");
    assert!(started.elapsed() < HANG, "connect waited for Redis");

    let started = Instant::now();
    let result: Result<String, _> = pool.ping(None).await;
    assert!(result.is_err());
    assert!(started.elapsed() <= HANG, "took {:?}", started.elapsed());

    server.restart();
    let recovered = poll_ping(&pool, Duration::from_secs(10)).await;
    assert_eq!(recovered.as_deref(), Ok("PONG"), "pool never connected");
}

/// The first connection attempt does not wait for the reconnect backoff: with
/// a 5 s minimum delay, a command sent right after `connect()` is answered
/// within its 2 s timeout.
#[tokio::test]
async fn the_first_connection_attempt_starts_at_once() {
    let pool = RedisPoolBuilder::from_url(shared().url())
        .expect("valid url")
        .command_timeout(Duration::from_secs(2))
        .reconnect_backoff(Duration::from_secs(5), Duration::from_secs(10))
        .connect()
        .await
        .expect("pool");
    let pong: Result<String, _> = pool.ping(None).await;
    assert_eq!(pong.as_deref().ok(), Some("PONG"), "{pong:?}");
}

#[tokio::test]
async fn fail_fast_reports_an_unreachable_server() {
    let server = RedisServer::start();
    server.stop();
    let result = RedisPoolBuilder::from_url(server.url())
        .expect("valid url")
        .fail_fast(true)
        .connect()
        .await;
    assert!(
        matches!(result, Err(ConfigError::Redis { .. })),
        "{result:?}"
    );
}

#[test]
fn rejects_bad_urls_and_settings() {
    assert!(matches!(
        RedisPoolBuilder::from_url("not a url"),
        Err(ConfigError::RedisUrl { .. })
    ));
    let tls = RedisPoolBuilder::from_url("rediss://127.0.0.1:6380");
    if cfg!(feature = "redis-tls") {
        assert!(tls.is_ok(), "{tls:?}");
    } else {
        assert!(
            matches!(
                tls,
                Err(ConfigError::FeatureDisabled {
                    setting: "from_url",
                    feature: "redis-tls"
                })
            ),
            "{tls:?}"
        );
    }
    let builder = RedisPoolBuilder::from_url("redis://127.0.0.1:1").expect("valid url");
    let invalid = [
        ("pool_size", builder.clone().pool_size(0)),
        (
            "command_timeout",
            builder.clone().command_timeout(Duration::ZERO),
        ),
        ("max_command_buffer", builder.clone().max_command_buffer(0)),
        (
            "reconnect_backoff",
            builder
                .clone()
                .reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1)),
        ),
        (
            "max_command_attempts",
            builder.clone().max_command_attempts(0),
        ),
        (
            "unresponsive_timeout",
            builder.clone().unresponsive_timeout(Some(Duration::ZERO)),
        ),
    ];
    for (name, builder) in invalid {
        match builder.build() {
            Err(ConfigError::Invalid { setting, .. }) => assert_eq!(setting, name),
            other => panic!("{name}: expected Invalid, got {other:?}"),
        }
    }
    assert!(builder.build().is_ok());
}

#[test]
fn accepts_cluster_urls() {
    let builder = RedisPoolBuilder::from_url("redis-cluster://127.0.0.1:7000?node=127.0.0.1:7001")
        .expect("cluster url");
    assert!(builder.build().is_ok());
}

/// PINGs until it answers or `within` passes; the last error otherwise.
async fn poll_ping(pool: &Pool, within: Duration) -> Result<String, Error> {
    let deadline = Instant::now() + within;
    loop {
        match pool.ping::<String>(None).await {
            Ok(pong) => return Ok(pong),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_connected_sees_every_connection_come_up_and_gives_up_on_a_dead_address() {
    // Many pools, each waited on right after `connect()`: the moment a
    // connection comes up races the wait, which must never miss it.
    for _ in 0..50 {
        let pool = RedisPoolBuilder::from_url(shared().url())
            .expect("valid url")
            .connect()
            .await
            .expect("pool");
        assert!(
            strata_core::redis::wait_connected(&pool, Duration::from_secs(10)).await,
            "a reachable server's connections are all seen up"
        );
        assert!(pool.clients().iter().all(|c| c.is_connected()));
        let _ = pool.quit().await;
    }
    let dead = RedisServer::start();
    let url = dead.url().to_owned();
    drop(dead);
    let pool = RedisPoolBuilder::from_url(&url)
        .expect("valid url")
        .connect()
        .await
        .expect("pool");
    let started = Instant::now();
    assert!(!strata_core::redis::wait_connected(&pool, Duration::from_millis(300)).await);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout"
    );
}
