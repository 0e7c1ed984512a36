//! The profiling endpoints and the admin listener, over real sockets where
//! it matters.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::{Request, StatusCode};
use strata_core::ConfigError;
use strata_profiling::{
    AdminListener, FLAMEGRAPH_PATH, PROFILE_PATH, ProfilingService, RUNTIME_PATH,
};
use strata_testkit::body_bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

async fn get(service: &ProfilingService, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let response = service
        .clone()
        .oneshot(Request::get(uri).body(()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        body_bytes(response.into_body()).await.to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_metrics_are_json_with_the_worker_count() {
    let service = ProfilingService::new();
    let (status, content_type, body) = get(&service, RUNTIME_PATH).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["workers"], 2, "{report}");
    assert!(report["busy_ratio"].is_number(), "{report}");
    assert!(report["live_tasks"].is_number(), "{report}");
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let service = ProfilingService::builder().max_seconds(5).build().unwrap();
    for (uri, status) in [
        ("/debug/pprof/profile?seconds=6", StatusCode::BAD_REQUEST),
        ("/debug/pprof/profile?seconds=0", StatusCode::BAD_REQUEST),
        ("/debug/pprof/flamegraph?seconds=x", StatusCode::BAD_REQUEST),
        ("/debug/nothing", StatusCode::NOT_FOUND),
    ] {
        let (got, content_type, _) = get(&service, uri).await;
        assert_eq!(got, status, "{uri}");
        assert_eq!(content_type, "application/problem+json", "{uri}");
    }
    let post = Request::post(RUNTIME_PATH).body(()).unwrap();
    assert_eq!(
        service.oneshot(post).await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn settings_are_checked_by_name() {
    for (setting, result) in [
        (
            "max_seconds",
            ProfilingService::builder().max_seconds(601).build(),
        ),
        (
            "default_seconds",
            ProfilingService::builder()
                .max_seconds(5)
                .default_seconds(6)
                .build(),
        ),
        (
            "frequency",
            ProfilingService::builder().frequency(0).build(),
        ),
    ] {
        assert!(
            matches!(&result, Err(ConfigError::Invalid { setting: s, .. }) if *s == setting),
            "{setting}: {result:?}"
        );
    }
}

#[cfg(feature = "cpu")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_profile_renders_as_pprof_and_flamegraph_one_at_a_time() {
    let service = ProfilingService::builder()
        .default_seconds(1)
        .build()
        .unwrap();
    // Something to sample, until the test ends.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spin = tokio::task::spawn_blocking({
        let stop = stop.clone();
        move || {
            let mut x = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            x
        }
    });
    // Polled in order: the first claims the profiler in its first poll,
    // so the second, meanwhile, is refused.
    let (first, busy) = tokio::join!(get(&service, PROFILE_PATH), get(&service, FLAMEGRAPH_PATH));
    assert_eq!(busy.0, StatusCode::CONFLICT);
    let (status, content_type, body) = first;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/octet-stream");
    // The spinning closure's frames are in the profile's string table.
    let name = b"a_cpu_profile_renders";
    assert!(
        body.windows(name.len()).any(|w| w == name),
        "{} bytes, no spin frame",
        body.len()
    );

    let (status, content_type, svg) = get(&service, FLAMEGRAPH_PATH).await;
    assert_eq!(status, StatusCode::OK, "free again");
    assert_eq!(content_type, "image/svg+xml");
    let svg = String::from_utf8_lossy(&svg);
    assert!(svg.contains("<svg"), "{}", &svg[..svg.len().min(300)]);
    assert!(
        svg.contains("a_cpu_profile_renders"),
        "the spinning frames are drawn"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spin.await.unwrap();
}

#[test]
fn a_non_loopback_listener_needs_a_token() {
    let result = AdminListener::builder("0.0.0.0:6060".parse().unwrap()).build();
    assert!(
        matches!(
            result,
            Err(ConfigError::Invalid {
                setting: "bearer_token",
                ..
            })
        ),
        "{result:?}"
    );
    AdminListener::builder("0.0.0.0:6060".parse().unwrap())
        .bearer_token("t0ken")
        .build()
        .unwrap();
    AdminListener::builder("[::1]:6060".parse().unwrap())
        .build()
        .unwrap();
}

async fn raw_get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nhost: admin\r\n{auth}connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_checks_the_token_on_every_request_and_shuts_down() {
    let admin = AdminListener::builder("127.0.0.1:0".parse().unwrap())
        .bearer_token("s3cret-token")
        .build()
        .unwrap();
    let bound = admin.bind().await.unwrap();
    let addr = bound.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve(ProfilingService::new(), async {
        let _ = stopped.await;
    }));

    let refused = raw_get(addr, RUNTIME_PATH, None).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains("www-authenticate: Bearer"), "{refused}");
    let wrong = raw_get(addr, RUNTIME_PATH, Some("s3cret-tokem")).await;
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let allowed = raw_get(addr, RUNTIME_PATH, Some("s3cret-token")).await;
    assert!(allowed.starts_with("HTTP/1.1 200"), "{allowed}");
    assert!(allowed.contains("\"workers\":2"), "{allowed}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
