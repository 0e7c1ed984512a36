//! The built-in checks against real sockets and the real host.

use std::time::Duration;

use strata_health::checks::TcpCheck;
use strata_health::{Check, Status};

#[tokio::test]
async fn tcp_check_passes_while_a_port_listens_and_fails_once_closed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr").to_string();
    let check = TcpCheck::new(address.clone());
    let open = check.check().await;
    assert_eq!(open.status(), Status::Pass, "{open:?}");
    assert_eq!(open.observed_unit(), Some("ms"));
    assert_eq!(check.measurement(), Some("responseTime"));

    drop(listener);
    let closed = check.check().await;
    assert_eq!(closed.status(), Status::Fail);
    let output = closed.get_output().expect("output");
    assert!(output.contains(&address), "{output}");
}

#[cfg(feature = "http-check")]
mod http_check {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;
    use strata_core::ConfigError;
    use strata_health::checks::HttpCheck;
    use strata_health::{Check, HealthLayer, Status};

    #[tokio::test]
    async fn passes_on_2xx_and_fails_on_errors_and_closed_ports() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        let app = Router::new().route("/ok", get(|| async { "fine" })).route(
            "/down",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        );
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let ok = HttpCheck::new(format!("http://{address}/ok")).check().await;
        assert_eq!(ok.status(), Status::Pass, "{ok:?}");
        assert_eq!(ok.observed_unit(), Some("ms"));

        let down = HttpCheck::new(format!("http://{address}/down?verbose=1"))
            .check()
            .await;
        assert_eq!(down.status(), Status::Fail);
        assert!(
            down.get_output().expect("output").contains("503"),
            "{down:?}"
        );

        server.abort();
        let _ = server.await;
        let closed = HttpCheck::new(format!("http://{address}/ok")).check().await;
        assert_eq!(closed.status(), Status::Fail, "{closed:?}");
    }

    #[tokio::test]
    async fn rejects_urls_it_cannot_check_when_built() {
        for url in [
            "https://example.com/",
            "/relative",
            "not a url",
            "ftp://host/",
        ] {
            let result = HealthLayer::builder()
                .check("dep", HttpCheck::new(url))
                .build();
            assert!(
                matches!(
                    result,
                    Err(ConfigError::Invalid {
                        setting: "HttpCheck::new",
                        ..
                    })
                ),
                "{url}: {result:?}"
            );
            // Run directly, it fails without touching the network.
            let observation = HttpCheck::new(url).check().await;
            assert_eq!(observation.status(), Status::Fail, "{url}");
        }
    }
}

#[cfg(feature = "system")]
mod system {
    use strata_health::checks::{CpuCheck, DiskSpaceCheck, MemoryCheck};
    use strata_health::{Check, Status};

    #[tokio::test]
    async fn disk_check_grades_usage_against_its_thresholds() {
        let relaxed = DiskSpaceCheck::new("/").warn_above(100).fail_above(100);
        let observation = relaxed.check().await;
        assert_eq!(observation.status(), Status::Pass, "{observation:?}");
        assert_eq!(observation.observed_unit(), Some("percent"));
        let used = observation
            .observed_value()
            .and_then(serde_json::Value::as_f64)
            .expect("percent");
        assert!(used > 0.0 && used <= 100.0, "{used}");

        let strict = DiskSpaceCheck::new("/tmp").fail_above(0);
        let observation = strict.check().await;
        assert_eq!(observation.status(), Status::Fail);
        assert!(
            observation
                .get_output()
                .expect("output")
                .contains("above 0 %"),
            "{observation:?}"
        );
    }

    #[tokio::test]
    async fn memory_check_warns_above_its_threshold() {
        let observation = MemoryCheck::new().warn_above(0).check().await;
        assert_eq!(observation.status(), Status::Warn, "{observation:?}");
        let observation = MemoryCheck::new().check().await;
        assert_eq!(observation.observed_unit(), Some("percent"));
        assert_eq!(MemoryCheck::new().component_type(), Some("system"));
    }

    #[tokio::test]
    async fn cpu_check_reports_usage_in_percent() {
        let check = CpuCheck::new();
        for _ in 0..2 {
            let observation = check.check().await;
            let usage = observation
                .observed_value()
                .and_then(serde_json::Value::as_f64)
                .expect("percent");
            assert!((0.0..=100.0).contains(&usage), "{usage}");
            assert_ne!(observation.status(), Status::Fail, "never fails by default");
        }
        let busy = CpuCheck::new().warn_above(0).fail_above(0);
        // Even an idle host shows some usage over the sample; if it is
        // exactly 0 the check passes, so accept both outcomes but no warn.
        let observation = busy.check().await;
        assert_ne!(observation.status(), Status::Warn, "{observation:?}");
    }
}

#[tokio::test]
async fn closure_checks_report_their_latency() {
    let check = strata_health::check_fn(|| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok::<_, std::io::Error>(())
    });
    let observation = check.check().await;
    assert_eq!(observation.status(), Status::Pass);
    let ms = observation
        .observed_value()
        .and_then(serde_json::Value::as_f64)
        .expect("ms");
    assert!(ms >= 20.0, "{ms}");
}
