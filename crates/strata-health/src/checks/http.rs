use std::borrow::Cow;

use bytes::Bytes;
use http::header::{HOST, USER_AGENT};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use strata_core::ConfigError;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::check::millis;
use crate::{Check, Observation};

/// Sends `GET` to a plain `http://` URL over HTTP/1.1: `pass` on a 2xx
/// answer, with the time to the response head in milliseconds; `fail` on
/// any other status or a connection error. The body is not read.
///
/// Key `{name}:responseTime`, `componentType` `component`. TLS is not
/// supported: check an `https://` dependency through a closure with the
/// application's own client ([`check_fn`](crate::check_fn)).
///
/// The URL is checked when the layer is built: a URL that is not an
/// absolute `http://` URL with a host fails
/// [`HealthBuilder::build`](crate::HealthBuilder::build) with
/// `ConfigError::Invalid { setting: "HttpCheck::new", .. }`.
///
/// ```
/// use strata_core::ConfigError;
/// use strata_health::HealthLayer;
/// use strata_health::checks::HttpCheck;
///
/// let layer = HealthLayer::builder()
///     .check("search", HttpCheck::new("http://search.internal:9200/_cluster/health"))
///     .build()?;
/// # drop(layer);
///
/// let https = HealthLayer::builder()
///     .check("search", HttpCheck::new("https://example.com/"))
///     .build();
/// assert!(matches!(https, Err(ConfigError::Invalid { setting: "HttpCheck::new", .. })));
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HttpCheck {
    url: String,
    target: Result<Target, Cow<'static, str>>,
}

#[derive(Debug, Clone)]
struct Target {
    uri: Uri,
    authority: String,
    host: HeaderValue,
}

impl HttpCheck {
    /// Checks `url`, which must be an absolute `http://` URL (checked when
    /// the layer is built).
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        let target = Target::parse(&url);
        Self { url, target }
    }

    async fn get(&self, target: &Target) -> Result<StatusCode, String> {
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(|error| format!("connect to {}: {error}", target.authority))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP handshake: {error}"))?;
        // Aborted when the run ends or times out: no connection outlives it.
        let _driver = AbortOnDrop(tokio::spawn(connection));
        let path = target.uri.path_and_query().map_or("/", |p| p.as_str());
        let request = Request::get(path)
            .header(HOST, target.host.clone())
            .header(USER_AGENT, "strata-health")
            .body(Empty::<Bytes>::new())
            .map_err(|error| error.to_string())?;
        sender
            .send_request(request)
            .await
            .map(|response| response.status())
            .map_err(|error| format!("GET {}: {error}", target.uri))
    }
}

impl Target {
    fn parse(url: &str) -> Result<Self, Cow<'static, str>> {
        let uri: Uri = url
            .parse()
            .map_err(|error: http::uri::InvalidUri| Cow::Owned(error.to_string()))?;
        if uri.scheme_str() != Some("http") {
            return Err("only http:// URLs are supported".into());
        }
        let authority = uri.authority().ok_or("the URL has no host")?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| "the host is not a valid header value")?;
        let port = authority.port_u16().unwrap_or(80);
        let authority = format!("{}:{port}", authority.host());
        Ok(Self {
            uri,
            authority,
            host,
        })
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Check for HttpCheck {
    async fn check(&self) -> Observation {
        let target = match &self.target {
            Ok(target) => target,
            Err(reason) => {
                return Observation::fail(format!("invalid URL `{}`: {reason}", self.url));
            }
        };
        let started = Instant::now();
        let result = self.get(target).await;
        let elapsed = millis(started.elapsed());
        match result {
            Ok(status) if status.is_success() => Observation::pass().observed(elapsed, "ms"),
            Ok(status) => Observation::fail(format!("GET {} answered {status}", target.uri))
                .observed(elapsed, "ms"),
            Err(error) => Observation::fail(error),
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("responseTime")
    }

    fn component_type(&self) -> Option<&str> {
        Some("component")
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match &self.target {
            Ok(_) => Ok(()),
            Err(reason) => Err(ConfigError::invalid(
                "HttpCheck::new",
                format!("`{}`: {reason}", self.url),
            )),
        }
    }
}
