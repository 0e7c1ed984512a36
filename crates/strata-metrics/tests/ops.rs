//! The operations kit in `docs/ops` queries metrics this crate exports.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::collections::BTreeSet;
use std::time::Duration;

use strata_metrics::{CacheMetrics, DbMetrics, MetricsLayer};

const DASHBOARD: &str = include_str!("../../../docs/ops/grafana-dashboard.json");
const ALERTS: &str = include_str!("../../../docs/ops/alerts.yml");
const PREFIXES: [&str; 6] = [
    "strata_metrics_",
    "http_server_",
    "cache_",
    "db_client_",
    "build_info",
    "process_",
];

/// Metric names (without `_bucket`, `_count`, `_sum`) referenced in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    // Recording rules (`job:name:ratio_rate5m`) are not exported metrics.
    let tokens = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
    for token in tokens.filter(|t| !t.contains(':')) {
        if PREFIXES.iter().any(|p| token.starts_with(p)) {
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| token.strip_suffix(suffix))
                .unwrap_or(token);
            names.insert(base.to_owned());
        }
    }
    names
}

/// Everything this crate can export, each family with at least one sample.
fn exported() -> BTreeSet<String> {
    let (_layer, handle) = MetricsLayer::builder()
        .build_info("1.0.0", "abc")
        .process_metrics()
        .pair()
        .expect("builds");
    let caches = CacheMetrics::register(handle.registry()).expect("registers");
    caches.cache("items").hit();
    let db = DbMetrics::register(handle.registry(), "postgresql").expect("registers");
    db.observe("select", Duration::from_millis(2), None);
    let text = handle.render();
    let mut names: BTreeSet<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|line| line.split(' ').next())
        .map(str::to_owned)
        .collect();
    // The HTTP families appear once a request was recorded; their names are
    // checked by the layer's own tests.
    for name in [
        "http_server_request_duration_seconds",
        "http_server_request_body_size_bytes",
        "http_server_response_body_size_bytes",
        "http_server_active_requests",
    ] {
        names.insert(name.to_owned());
    }
    names
}

#[test]
fn the_dashboard_imports_with_a_datasource_input_and_job_instance_variables() {
    let dashboard: serde_json::Value = serde_json::from_str(DASHBOARD).expect("valid JSON");
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(variables, ["job", "instance"]);
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut targets = 0;
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expression");
            assert!(
                expr.contains(r#"job=~"$job""#) && expr.contains(r#"instance=~"$instance""#),
                "{} does not filter by the variables: {expr}",
                panel["title"]
            );
            targets += 1;
        }
    }
    assert!(targets >= 20);
}

#[test]
fn every_metric_the_ops_kit_queries_is_exported() {
    let exported = exported();
    let queried: BTreeSet<String> = metric_names(DASHBOARD)
        .union(&metric_names(ALERTS))
        .cloned()
        .collect();
    assert!(queried.contains("http_server_request_duration_seconds"));
    assert!(queried.contains("cache_requests_total"));
    let missing: Vec<&String> = queried.difference(&exported).collect();
    assert!(missing.is_empty(), "queried but not exported: {missing:?}");
}
