//! Configuration errors: each names its setting, and metrics register all
//! or nothing.

use std::time::Duration;

use strata_core::ConfigError;
use strata_rate_limit::{KeyBy, MemoryStore, Policy, Quota, RateLimitLayer, Rule, Tiers};

fn per_ip(name: &str, quota: Quota) -> Rule {
    Rule::new(KeyBy::client_ip(), Policy::new(name.to_owned(), quota))
}

fn build(tiers: impl Into<Tiers>) -> Result<RateLimitLayer, ConfigError> {
    RateLimitLayer::builder(tiers).build()
}

fn invalid_setting(result: Result<RateLimitLayer, ConfigError>) -> &'static str {
    match result {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

#[test]
fn invalid_settings_are_named_type_and_method() {
    let cases = [
        (build(per_ip("zero", Quota::per_minute(0))), "Quota::count"),
        (
            build(per_ip("x", Quota::per_minute(1).burst(0))),
            "Quota::burst",
        ),
        (
            build(per_ip("x", Quota::new(10, Duration::from_nanos(5)))),
            "Quota::period",
        ),
        (
            build(per_ip("bad name", Quota::per_minute(1))),
            "Policy::new",
        ),
        (
            build(Rule::new(
                KeyBy::client_ip().ipv6_prefix(129),
                Policy::new("x", Quota::per_minute(1)),
            )),
            "KeyBy::ipv6_prefix",
        ),
        (
            build((1..=9).fold(per_ip("p0", Quota::per_minute(1)), |rule, i| {
                rule.and(Policy::new(format!("p{i}"), Quota::per_minute(1)))
            })),
            "Rule::and",
        ),
        (
            RateLimitLayer::builder(per_ip("x", Quota::per_minute(1)))
                .memory(MemoryStore::new().max_keys(0))
                .build(),
            "MemoryStore::max_keys",
        ),
        (
            RateLimitLayer::builder(per_ip("x", Quota::per_minute(1)))
                .memory(MemoryStore::new().sweep_interval(Duration::from_millis(1)))
                .build(),
            "MemoryStore::sweep_interval",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(invalid_setting(result), expected);
    }
}

#[test]
fn a_policy_name_given_twice_is_a_duplicate() {
    let in_one_rule =
        build(per_ip("dup", Quota::per_minute(1)).and(Policy::new("dup", Quota::per_hour(1))));
    assert!(
        matches!(&in_one_rule, Err(ConfigError::Duplicate { what: "policy", name }) if name == "dup"),
        "{in_one_rule:?}"
    );
    let across_rules = build(
        Tiers::new(per_ip("same", Quota::per_minute(1)))
            .tier("t", per_ip("same", Quota::per_minute(2))),
    );
    assert!(
        matches!(&across_rules, Err(ConfigError::Duplicate { what: "policy", name }) if name == "same"),
        "{across_rules:?}"
    );
    // One policy (same name, same quota) in several rules is fine.
    let shared = build(
        Tiers::new(per_ip("same", Quota::per_minute(1)))
            .tier("t", per_ip("same", Quota::per_minute(1))),
    );
    assert!(shared.is_ok(), "{shared:?}");
}

#[test]
fn a_tier_name_given_twice_is_a_duplicate() {
    let result = build(
        Tiers::new(per_ip("default", Quota::per_minute(1)))
            .tier("t", per_ip("a", Quota::per_minute(1)))
            .tier("t", per_ip("b", Quota::per_minute(1))),
    );
    assert!(
        matches!(&result, Err(ConfigError::Duplicate { what: "tier", name }) if name == "t"),
        "{result:?}"
    );
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_store_settings_are_checked_by_build() {
    use strata_core::redis::RedisPoolBuilder;
    use strata_rate_limit::RedisStore;

    // Built, never connected: only the settings are looked at.
    let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:1")
        .expect("url")
        .build()
        .expect("pool");
    let layer = |store: RedisStore| {
        RateLimitLayer::builder(per_ip("x", Quota::per_minute(1)))
            .redis(store)
            .build()
    };
    let cases = [
        (
            layer(RedisStore::new(pool.clone()).timeout(Duration::ZERO)),
            "RedisStore::timeout",
        ),
        (
            layer(RedisStore::new(pool.clone()).timeout(Duration::from_secs(11))),
            "RedisStore::timeout",
        ),
        (
            layer(RedisStore::new(pool.clone()).prefix("app:{rl}:")),
            "RedisStore::prefix",
        ),
        (
            layer(RedisStore::new(pool).fallback(MemoryStore::new().max_keys(0))),
            "MemoryStore::max_keys",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(invalid_setting(result), expected);
    }
}

#[cfg(feature = "prometheus")]
mod metrics {
    use std::net::SocketAddr;

    use bytes::Bytes;
    use http_body_util::Full;
    use prometheus::{IntCounter, Registry};
    use strata_rate_limit::RateLimitMetrics;
    use strata_testkit::{from_peer, get};
    use tower::{ServiceBuilder, ServiceExt};

    use super::*;

    async fn ok(
        _: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<Full<Bytes>>, std::convert::Infallible> {
        Ok(http::Response::new(Full::default()))
    }

    #[tokio::test]
    async fn registering_twice_fails_and_keeps_exactly_the_first_set() {
        let registry = Registry::new();
        let metrics = RateLimitMetrics::register(&registry).expect("first registration");
        // Give the labelled families a series each, so that all four show.
        let layer = RateLimitLayer::builder(per_ip("per-ip", Quota::per_minute(5)))
            .metrics(metrics)
            .build()
            .expect("valid");
        let service = ServiceBuilder::new().layer(layer).service_fn(ok);
        let peer = SocketAddr::from(([192, 0, 2, 1], 1));
        service
            .clone()
            .oneshot(from_peer(get("/"), peer))
            .await
            .expect("infallible");
        service.oneshot(get("/")).await.expect("infallible");
        assert_eq!(registry.gather().len(), 4);

        let again = RateLimitMetrics::register(&registry);
        assert!(matches!(again, Err(ConfigError::Registry(_))), "{again:?}");
        let families = registry.gather();
        assert_eq!(families.len(), 4);
        let decisions = families
            .iter()
            .find(|f| f.name() == "strata_rate_limit_decisions_total")
            .expect("decisions");
        assert_eq!(decisions.get_metric()[0].get_counter().get_value(), 1.0);
    }

    #[test]
    fn a_clash_on_a_later_counter_leaves_nothing_behind() {
        let registry = Registry::new();
        // The third of the four counters, as the crate defines it.
        let taken = IntCounter::new(
            "strata_rate_limit_store_errors_total",
            "Rate-limit store calls that failed or timed out.",
        )
        .expect("counter");
        registry
            .register(Box::new(taken.clone()))
            .expect("register");
        let result = RateLimitMetrics::register(&registry);
        assert!(
            matches!(result, Err(ConfigError::Registry(_))),
            "{result:?}"
        );
        assert_eq!(
            registry.gather().len(),
            1,
            "only the counter registered first"
        );
        // The counters registered before the clash were taken out again:
        // once the name is free, the whole set registers.
        registry.unregister(Box::new(taken)).expect("unregister");
        let again = RateLimitMetrics::register(&registry);
        assert!(again.is_ok(), "counters were left registered: {again:?}");
    }
}
