//! A request the cache cannot key (no authority) bypasses it, and the
//! setup problem is logged once per process, not once per request.

mod common;

use std::sync::{Arc, Mutex};

use common::{Origin, get, service};
use strata_cache::CacheLayer;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[tokio::test]
async fn a_request_without_authority_bypasses_and_is_logged_once() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let origin = Origin::with_headers(&[("cache-control", "max-age=60")]);
    let svc = service(&CacheLayer::new(), &origin);
    for _ in 0..3 {
        let got = get(&svc, "/no-host").await;
        assert_eq!(
            got.cache_status(),
            "strata; fwd=bypass; fwd-status=200; detail=no-authority"
        );
    }
    assert_eq!(origin.calls(), 3);
    let text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf-8");
    assert_eq!(
        text.matches("neither an absolute target nor a `Host` header")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("WARN"));
}
