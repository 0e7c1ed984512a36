use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::ClientIpResolver;

/// Resolves each request's [`ClientIp`](super::ClientIp) and
/// [`Scheme`](super::Scheme) once and stores them in the request extensions,
/// where handlers, extractors and inner layers read them.
///
/// A request without a recorded peer address gets a `Scheme` but no `ClientIp`.
///
/// ```
/// use std::net::SocketAddr;
/// use strata_core::{ClientIp, ResolveClientIpLayer, ClientIpResolver, Scheme};
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let resolver = ClientIpResolver::new().trusted_proxies("127.0.0.1".parse()?);
/// let service = ServiceBuilder::new()
///     .layer(ResolveClientIpLayer::new(resolver))
///     .service_fn(|request: http::Request<()>| async move {
///         let ip = request.extensions().get::<ClientIp>().map(|c| c.ip().to_string());
///         let scheme = request.extensions().get::<Scheme>().copied();
///         Ok::<_, std::convert::Infallible>((ip, scheme))
///     });
///
/// let mut request = http::Request::builder()
///     .header("x-forwarded-for", "198.51.100.4")
///     .header("x-forwarded-proto", "https")
///     .body(())?;
/// request.extensions_mut().insert(SocketAddr::from(([127, 0, 0, 1], 5000)));
/// let (ip, scheme) = service.oneshot(request).await?;
/// assert_eq!(ip.as_deref(), Some("198.51.100.4"));
/// assert_eq!(scheme, Some(Scheme::Https));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ResolveClientIpLayer {
    resolver: Arc<ClientIpResolver>,
}

impl ResolveClientIpLayer {
    /// A layer resolving with `resolver`.
    pub fn new(resolver: ClientIpResolver) -> Self {
        Self {
            resolver: Arc::new(resolver),
        }
    }
}

impl<S> Layer<S> for ResolveClientIpLayer {
    type Service = ResolveClientIp<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResolveClientIp {
            inner,
            resolver: Arc::clone(&self.resolver),
        }
    }
}

/// The service built by [`ResolveClientIpLayer`].
#[derive(Debug, Clone)]
pub struct ResolveClientIp<S> {
    inner: S,
    resolver: Arc<ClientIpResolver>,
}

impl<S> ResolveClientIp<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes this service, returning the inner one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for ResolveClientIp<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let scheme = self.resolver.scheme(&request);
        if let Some(client) = self.resolver.client_ip(&request) {
            request.extensions_mut().insert(client);
        }
        request.extensions_mut().insert(scheme);
        self.inner.call(request)
    }
}
