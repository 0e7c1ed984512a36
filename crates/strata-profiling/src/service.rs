//! [`ProfilingService`]: the profiling endpoints as one tower service.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use strata_core::Problem;
use tower_service::Service;

use crate::config::{ProfilingBuilder, Settings};
use crate::runtime::RuntimeReport;

/// Path of the pprof protobuf CPU profile.
pub const PROFILE_PATH: &str = "/debug/pprof/profile";
/// Path of the flamegraph SVG CPU profile.
pub const FLAMEGRAPH_PATH: &str = "/debug/pprof/flamegraph";
/// Path of the tokio runtime metrics.
pub const RUNTIME_PATH: &str = "/debug/runtime";

/// The profiling endpoints, answering `GET` (other paths: `404` problem):
///
/// - [`PROFILE_PATH`]`?seconds=N`: a CPU profile of the whole process for
///   `N` seconds (default 10, at most [`max_seconds`](ProfilingBuilder::max_seconds)),
///   as pprof protobuf (`go tool pprof`, Pyroscope, speedscope);
/// - [`FLAMEGRAPH_PATH`]`?seconds=N`: the same as a flamegraph SVG;
/// - [`RUNTIME_PATH`]: tokio runtime metrics (workers, live tasks, queue
///   depth, busy ratio, parks) since the previous request, as JSON.
///
/// One CPU profile runs at a time: another request meanwhile gets `409`
/// problem+json. Profiles sample on a blocking thread and finish even if
/// the client leaves. The service has no access control of its own: serve
/// it on an [`AdminListener`](crate::AdminListener), which binds loopback
/// by default and checks a bearer token. CPU profiles need feature `cpu`
/// (Linux or macOS); without it those paths answer `501`.
#[derive(Clone)]
pub struct ProfilingService {
    shared: Arc<Shared>,
}

struct Shared {
    settings: Settings,
    busy: Arc<AtomicBool>,
    runtime: RuntimeReport,
}

impl ProfilingService {
    /// The endpoints with the default settings.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .unwrap_or_else(|error| unreachable!("the defaults are valid: {error}"))
    }

    /// A builder for other settings.
    pub fn builder() -> ProfilingBuilder {
        ProfilingBuilder::default()
    }

    pub(crate) fn from_settings(settings: Settings) -> Self {
        Self {
            shared: Arc::new(Shared {
                settings,
                busy: Arc::default(),
                runtime: RuntimeReport::default(),
            }),
        }
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        if request.method() != Method::GET {
            return problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "the profiling endpoints answer GET",
            );
        }
        match request.uri().path() {
            RUNTIME_PATH => match self.shared.runtime.next() {
                Some(report) => with_type(report.to_string().into(), "application/json"),
                None => problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not running on a tokio runtime",
                ),
            },
            PROFILE_PATH => self.cpu(request.uri().query(), Kind::Pprof).await,
            FLAMEGRAPH_PATH => self.cpu(request.uri().query(), Kind::Flamegraph).await,
            _ => problem(StatusCode::NOT_FOUND, "no such profiling endpoint"),
        }
    }

    async fn cpu(&self, query: Option<&str>, kind: Kind) -> Response<Full<Bytes>> {
        let settings = &self.shared.settings;
        let seconds = match seconds(query, settings.default_seconds) {
            Some(seconds) if (1..=settings.max_seconds).contains(&seconds) => seconds,
            _ => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "`seconds` must be a whole number from 1 to {}",
                        settings.max_seconds
                    ),
                );
            }
        };
        let Some(busy) = Busy::claim(&self.shared.busy) else {
            return problem(
                StatusCode::CONFLICT,
                "a CPU profile is already running; try again when it ends",
            );
        };
        run_cpu(settings, seconds, kind, busy).await
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Pprof,
    Flamegraph,
}

#[cfg(feature = "cpu")]
async fn run_cpu(
    settings: &Settings,
    seconds: u64,
    kind: Kind,
    busy: Busy,
) -> Response<Full<Bytes>> {
    use crate::cpu::{Format, capture};
    let duration = settings.duration(seconds);
    let frequency = settings.frequency;
    let format = match kind {
        Kind::Pprof => Format::Pprof,
        Kind::Flamegraph => Format::Flamegraph,
    };
    let task = tokio::task::spawn_blocking(move || {
        let result = capture(duration, frequency, format);
        drop(busy);
        result
    });
    match task.await {
        Ok(Ok(bytes)) => {
            let mut response = match kind {
                Kind::Pprof => with_type(bytes.into(), "application/octet-stream"),
                Kind::Flamegraph => with_type(bytes.into(), "image/svg+xml"),
            };
            if matches!(kind, Kind::Pprof) {
                response.headers_mut().insert(
                    CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"cpu.pb\""),
                );
            }
            response
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "CPU profile failed");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "the CPU profile failed")
        }
        Err(_) => problem(StatusCode::INTERNAL_SERVER_ERROR, "the CPU profile failed"),
    }
}

#[cfg(not(feature = "cpu"))]
async fn run_cpu(_: &Settings, _: u64, _: Kind, _: Busy) -> Response<Full<Bytes>> {
    problem(
        StatusCode::NOT_IMPLEMENTED,
        "CPU profiles need the `cpu` feature of strata-profiling",
    )
}

/// The one-profile-at-a-time flag, released when dropped.
struct Busy(Arc<AtomicBool>);

impl Busy {
    fn claim(flag: &Arc<AtomicBool>) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Self(flag.clone()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// `seconds=N` from the query, `default` when absent; `None` when malformed.
fn seconds(query: Option<&str>, default: u64) -> Option<u64> {
    let Some(query) = query else {
        return Some(default);
    };
    let mut found = None;
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("seconds=") {
            if found.is_some() || value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            found = Some(value.parse().ok()?);
        }
    }
    Some(found.unwrap_or(default))
}

fn with_type(body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn problem(
    status: StatusCode,
    detail: impl Into<std::borrow::Cow<'static, str>>,
) -> Response<Full<Bytes>> {
    Problem::new(status).detail(detail).into_response()
}

impl Default for ProfilingService {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ProfilingService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfilingService")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl<B: Send + 'static> Service<Request<B>> for ProfilingService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn seconds_are_read_strictly() {
        assert_eq!(seconds(None, 10), Some(10));
        assert_eq!(seconds(Some("debug=1"), 10), Some(10));
        assert_eq!(seconds(Some("seconds=5"), 10), Some(5));
        for bad in [
            "seconds=",
            "seconds=-1",
            "seconds=1.5",
            "seconds=5&seconds=6",
            "seconds=99999999999999999999",
        ] {
            assert_eq!(seconds(Some(bad), 10), None, "{bad}");
        }
    }
}
