//! Every setting is checked at build time and named in the error.

use std::time::Duration;

use strata_cache::{CacheLayer, MemoryStore};
use strata_core::ConfigError;

fn builder() -> strata_cache::CacheBuilder {
    CacheLayer::builder(MemoryStore::new())
}

#[test]
fn defaults_are_valid() {
    builder().build().expect("the defaults are valid");
    builder().pair().expect("the defaults are valid");
    let _ = CacheLayer::new();
}

#[test]
fn each_invalid_setting_is_named() {
    let cases: Vec<(strata_cache::CacheBuilder, &str)> = vec![
        (builder().name(""), "name"),
        (builder().name("caché"), "name"),
        (builder().max_object_bytes(0), "max_object_bytes"),
        (builder().max_vary_fields(0), "max_vary_fields"),
        (builder().max_vary_fields(65), "max_vary_fields"),
        (builder().default_ttl(Duration::ZERO), "default_ttl"),
        (
            builder().keep_stale(Duration::from_secs(86_401)),
            "keep_stale",
        ),
        (
            builder().hit_for_miss(Duration::from_secs(3601)),
            "hit_for_miss",
        ),
        (builder().store_timeout(Duration::ZERO), "store_timeout"),
        (
            builder().store_timeout(Duration::from_secs(11)),
            "store_timeout",
        ),
        (
            builder().collapse_timeout(Duration::ZERO),
            "collapse_timeout",
        ),
        (builder().tag_header("bad header"), "tag_header"),
        (
            CacheLayer::builder(MemoryStore::new().max_bytes(10)),
            "MemoryStore::max_bytes",
        ),
    ];
    for (b, setting) in cases {
        let result = b.build();
        assert!(
            matches!(&result, Err(ConfigError::Invalid { setting: s, .. }) if *s == setting),
            "{setting}: {result:?}"
        );
    }
}

#[test]
fn the_first_problem_is_reported() {
    let result = builder()
        .max_object_bytes(0)
        .tag_header("bad header")
        .build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "max_object_bytes",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn a_quoted_name_is_accepted() {
    builder()
        .name("My CDN")
        .build()
        .expect("a name with a space is sent quoted");
}
