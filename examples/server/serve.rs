//! The HTTP server: hyper's connection builder with every bound set, a
//! connection limit around `accept`, and a graceful shutdown with a deadline.
//!
//! axum's `serve` has no timeouts, so connections are served here: HTTP/1
//! and HTTP/2 (prior knowledge) through `hyper_util`'s auto builder, each
//! request carrying `ConnectInfo<SocketAddr>` as with
//! `into_make_service_with_connect_info`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::header::HOST;
use axum::http::{Request, StatusCode, Version};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use strata::core::Problem;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::serve_config::ServeConfig;

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting, closes idle connections and gives the others
/// `shutdown_timeout` to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    config: &ServeConfig,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(config.max_header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX));
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the limit, new connections wait in the listen backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before accept:
                    // back off a little instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (io, activity) = Tracked::new(stream);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), {
                let router = router.clone();
                service_fn(move |mut request: Request<Incoming>| {
                    let router = router.clone();
                    async move {
                        if let Some(refusal) = missing_host(&request) {
                            return Ok::<_, Infallible>(refusal);
                        }
                        request.extensions_mut().insert(ConnectInfo(peer));
                        router.oneshot(request).await
                    }
                })
            })
            .into_owned();
        let connection = graceful.watch(connection);
        let (idle_timeout, first_byte) = (config.idle_timeout, config.header_read_timeout);
        tokio::spawn(async move {
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                }
                () = idle(&activity, idle_timeout, first_byte) => {
                    tracing::debug!(%peer, "closing a connection idle for IDLE_TIMEOUT");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(
        open = graceful.count(),
        "stopped accepting; closing idle connections"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(config.shutdown_timeout) => {
            tracing::warn!(
                shutdown_timeout = config.shutdown_timeout.as_secs_f64(),
                "connections still open after SHUTDOWN_TIMEOUT: closing them"
            );
        }
    }
}

/// Answers an HTTP/1.1 request without exactly one `Host` (RFC 9112 §3.2)
/// with 400; `None` for the others.
fn missing_host(request: &Request<Incoming>) -> Option<Response> {
    let hosts = request.headers().get_all(HOST).iter().count();
    (request.version() == Version::HTTP_11 && hosts != 1).then(|| {
        Problem::new(StatusCode::BAD_REQUEST)
            .detail("an HTTP/1.1 request needs exactly one Host header")
            .into_response()
    })
}

/// Resolves once no byte was read or written for `timeout`, or, before the
/// first byte, after `first_byte` (the protocol is not known yet, so hyper's
/// header read timeout has not started).
async fn idle(activity: &Activity, timeout: Duration, first_byte: Duration) {
    loop {
        let deadline = match activity.last() {
            Some(last) => last + timeout,
            None => activity.opened + first_byte.min(timeout),
        };
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// When a connection last moved a byte: milliseconds since it opened, plus
/// one (zero: never).
#[derive(Debug, Clone)]
struct Activity {
    opened: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_ms.store(ms + 1, Ordering::Relaxed);
    }

    fn last(&self) -> Option<Instant> {
        match self.last_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(self.opened + Duration::from_millis(ms - 1)),
        }
    }
}

/// A stream that records its activity.
#[derive(Debug)]
struct Tracked {
    inner: TcpStream,
    activity: Activity,
}

impl Tracked {
    fn new(inner: TcpStream) -> (Self, Activity) {
        let activity = Activity {
            opened: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        };
        let tracked = Self {
            inner,
            activity: activity.clone(),
        };
        (tracked, activity)
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
