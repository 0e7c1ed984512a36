use bytes::Bytes;
use http::header::{HOST, USER_AGENT};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::check::millis;
use crate::{BuildError, Check, Observation};

/// Sends `GET` to a plain `http://` URL over HTTP/1.1: `pass` on a 2xx
/// answer, with the time to the response head in milliseconds; `fail` on
/// any other status or a connection error. The body is not read.
///
/// Key `{name}:responseTime`, `componentType` `component`. TLS is not
/// supported: check an `https://` dependency through a closure with the
/// application's own client ([`check_fn`](crate::check_fn)).
///
/// ```
/// use strata_health::checks::HttpCheck;
///
/// assert!(HttpCheck::new("http://search.internal:9200/_cluster/health").is_ok());
/// assert!(HttpCheck::new("https://example.com/").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct HttpCheck {
    uri: Uri,
    authority: String,
    host: HeaderValue,
}

impl HttpCheck {
    /// Checks `url`, which must be an absolute `http://` URL.
    pub fn new(url: &str) -> Result<Self, BuildError> {
        let invalid = |reason: &str| BuildError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|error: http::uri::InvalidUri| invalid(&error.to_string()))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid("only http:// URLs are supported"));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("the URL has no host"))?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| invalid("the host is not a valid header value"))?;
        let port = authority.port_u16().unwrap_or(80);
        let authority = format!("{}:{port}", authority.host());
        Ok(Self {
            uri,
            authority,
            host,
        })
    }

    async fn get(&self) -> Result<StatusCode, String> {
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|error| format!("connect to {}: {error}", self.authority))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP handshake: {error}"))?;
        // Aborted when the run ends or times out: no connection outlives it.
        let _driver = AbortOnDrop(tokio::spawn(connection));
        let path = self.uri.path_and_query().map_or("/", |p| p.as_str());
        let request = Request::get(path)
            .header(HOST, self.host.clone())
            .header(USER_AGENT, "strata-health")
            .body(Empty::<Bytes>::new())
            .map_err(|error| error.to_string())?;
        sender
            .send_request(request)
            .await
            .map(|response| response.status())
            .map_err(|error| format!("GET {}: {error}", self.uri))
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
        let started = Instant::now();
        let result = self.get().await;
        let elapsed = millis(started.elapsed());
        match result {
            Ok(status) if status.is_success() => Observation::pass().observed(elapsed, "ms"),
            Ok(status) => Observation::fail(format!("GET {} answered {status}", self.uri))
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
}
