//! Settings are checked when the layer is built, by name; registrations are
//! all or nothing.

use std::time::Duration;

use prometheus::Registry;
use strata_core::ConfigError;
use strata_metrics::{CacheMetrics, CounterFamily, DbMetrics, MetricsBuilder, MetricsLayer};

#[test]
fn build_needs_a_registry() {
    let result = MetricsLayer::builder().build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "registry",
                ..
            })
        ),
        "{result:?}"
    );
}

/// The setting named by the error `builder` fails with.
fn refused_setting(builder: MetricsBuilder) -> &'static str {
    match builder.pair() {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

#[test]
fn invalid_settings_fail_when_built_by_name() {
    let b = MetricsLayer::builder;
    let secs = Duration::from_secs;
    assert_eq!(refused_setting(b().max_series(0)), "max_series");
    assert_eq!(refused_setting(b().max_series(100_001)), "max_series");
    assert_eq!(
        refused_setting(b().duration_buckets(vec![])),
        "duration_buckets"
    );
    assert_eq!(
        refused_setting(b().duration_buckets(vec![0.1, 0.1])),
        "duration_buckets"
    );
    assert_eq!(
        refused_setting(b().size_buckets(vec![f64::NAN])),
        "size_buckets"
    );
    assert_eq!(
        refused_setting(b().size_buckets(vec![-1.0])),
        "size_buckets"
    );
    assert_eq!(
        refused_setting(b().slow_requests(secs(5), secs(2))),
        "slow_requests"
    );
    assert_eq!(
        refused_setting(b().slow_requests(Duration::ZERO, secs(2))),
        "slow_requests"
    );
    // The first problem is reported; fixing one does not hide another.
    assert_eq!(
        refused_setting(b().max_series(0).size_buckets(vec![]).max_series(5)),
        "size_buckets"
    );
    assert_eq!(
        refused_setting(b().duration_buckets(vec![]).size_buckets(vec![])),
        "duration_buckets"
    );
    let valid = b().duration_buckets(vec![0.1, 1.0]).pair();
    assert!(valid.is_ok(), "{valid:?}");
}

#[test]
fn helpers_register_once_per_registry_and_roll_back() {
    let registry = Registry::new();
    CacheMetrics::register(&registry)
        .expect("registers")
        .cache("a")
        .hit();
    DbMetrics::register(&registry, "postgresql")
        .expect("registers")
        .observe("select", Duration::from_millis(1), None);
    CounterFamily::register(&registry, "app_jobs_total", "Jobs.", &["kind"], 10)
        .expect("registers")
        .inc(&["x"]);
    let before = registry.gather().len();
    assert_eq!(before, 3);
    let cache = CacheMetrics::register(&registry);
    assert!(matches!(cache, Err(ConfigError::Registry(_))), "{cache:?}");
    let db = DbMetrics::register(&registry, "mysql");
    assert!(matches!(db, Err(ConfigError::Registry(_))), "{db:?}");
    let counter = CounterFamily::register(&registry, "app_jobs_total", "Jobs.", &["kind"], 10);
    assert!(
        matches!(counter, Err(ConfigError::Registry(_))),
        "{counter:?}"
    );
    assert_eq!(registry.gather().len(), before);
}

#[test]
fn counter_family_settings_are_checked_by_name() {
    let registry = Registry::new();
    let cases: [(&str, &[&'static str], usize, &str); 5] = [
        ("app-jobs", &["kind"], 10, "name"),
        ("", &["kind"], 10, "name"),
        ("app_jobs_total", &["a-b"], 10, "labels"),
        ("app_jobs_total", &["__kind"], 10, "labels"),
        ("app_jobs_total", &["kind"], 0, "max_series"),
    ];
    for (name, labels, max, expected) in cases {
        let result = CounterFamily::register(&registry, name, "Help.", labels, max);
        assert!(
            matches!(&result, Err(ConfigError::Invalid { setting, .. }) if *setting == expected),
            "{name} {labels:?} {max}: {result:?}"
        );
    }
    assert!(registry.gather().is_empty());
}
