//! [`AdminListener`]: a separate, guarded listener for admin endpoints.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use strata_core::guard::AccessGuard;
use strata_core::{ConfigError, Problem};
use tokio::net::TcpListener;
use tower_service::Service;

/// Default address of an [`AdminListener`]: `127.0.0.1:6060`.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 6060);

/// A listener of its own for admin endpoints (profiling, operators'
/// commands), apart from the application's.
///
/// It binds loopback by default; a non-loopback address is refused at
/// build time unless a bearer token is set, and with a token every request
/// must carry `Authorization: Bearer <token>` (compared in constant time;
/// `401` problem+json otherwise). Connections have a 10 s header-read
/// timeout; on shutdown, in-flight requests get 10 s to finish.
///
/// ```no_run
/// use strata_profiling::{AdminListener, ProfilingService};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let admin = AdminListener::builder("127.0.0.1:6060".parse()?).build()?;
/// let bound = admin.bind().await?;
/// bound.serve(ProfilingService::new(), std::future::pending()).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AdminListener {
    addr: SocketAddr,
    guard: Option<Arc<AccessGuard>>,
}

/// Builds an [`AdminListener`].
#[derive(Debug, Clone)]
#[must_use]
pub struct AdminListenerBuilder {
    addr: SocketAddr,
    token: Option<String>,
}

impl AdminListener {
    /// A builder for a listener on `addr`.
    pub fn builder(addr: SocketAddr) -> AdminListenerBuilder {
        AdminListenerBuilder { addr, token: None }
    }

    /// Binds the address.
    pub async fn bind(self) -> io::Result<BoundAdminListener> {
        let listener = TcpListener::bind(self.addr).await?;
        Ok(BoundAdminListener {
            listener,
            guard: self.guard,
        })
    }
}

impl AdminListenerBuilder {
    /// Every request must carry `Authorization: Bearer <token>`. Needed for
    /// a non-loopback address.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<AdminListener, ConfigError> {
        let guard = match self.token {
            Some(token) => Some(Arc::new(
                AccessGuard::builder().bearer_token(token).build()?,
            )),
            None if !self.addr.ip().is_loopback() => {
                return Err(ConfigError::invalid(
                    "bearer_token",
                    format!(
                        "the admin listener on {} is not loopback: it needs a bearer token",
                        self.addr
                    ),
                ));
            }
            None => None,
        };
        Ok(AdminListener {
            addr: self.addr,
            guard,
        })
    }
}

/// An [`AdminListener`] bound to its address.
#[derive(Debug)]
pub struct BoundAdminListener {
    listener: TcpListener,
    guard: Option<Arc<AccessGuard>>,
}

impl BoundAdminListener {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `service` until `shutdown` resolves.
    pub async fn serve<S, B>(self, service: S, shutdown: impl Future<Output = ()>) -> io::Result<()>
    where
        S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10));
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "admin listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let guard = self.guard.clone();
            let service = service.clone();
            let handler = service_fn(move |request: Request<Incoming>| {
                let guard = guard.clone();
                let mut service = service.clone();
                async move {
                    if let Some(guard) = guard
                        && guard.check(&request).is_err()
                    {
                        return Ok::<_, Infallible>(refused().map(Either::Right));
                    }
                    let response = service.call(request).await?;
                    Ok(response.map(Either::Left))
                }
            });
            let connection = builder
                .serve_connection(TokioIo::new(stream), handler)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "admin listener: connection ended with an error");
                }
            });
        }
        if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("admin listener: requests still running after 10 s were cut");
        }
        Ok(())
    }
}

fn refused() -> Response<Full<Bytes>> {
    let mut response = Problem::new(StatusCode::UNAUTHORIZED)
        .detail("the admin listener needs `Authorization: Bearer <token>`")
        .into_response::<Full<Bytes>>();
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"admin\""),
    );
    response
}
