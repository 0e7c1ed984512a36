//! The proxy's settings, read from the environment.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::Uri;
use axum::http::uri::Authority;
use strata::core::redis::RedisPoolBuilder;

use crate::env;
pub(crate) use crate::env::EnvError;
use crate::serve_config::{ServeConfig, seconds};

/// Everything the proxy reads from its environment.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `UPSTREAM`: the `host:port` every request is forwarded to (plain HTTP).
    pub(crate) upstream: Authority,
    pub(crate) bind: IpAddr,
    pub(crate) port: u16,
    /// `REDIS_URL`: the shared store; unset keeps the cache in memory.
    pub(crate) redis: Option<RedisPoolBuilder>,
    /// `REDIS_CONNECT_WAIT`: how long start-up waits for Redis (zero: not at all).
    pub(crate) redis_wait: Duration,
    /// `UPSTREAM_CONNECT_TIMEOUT`: a TCP connection to the upstream, else 504.
    pub(crate) connect_timeout: Duration,
    /// `UPSTREAM_TIMEOUT`: from sending a request until the upstream's
    /// response head has arrived, else 504.
    pub(crate) response_timeout: Duration,
    pub(crate) log_filter: String,
    /// Connection bounds and timeouts of the listener.
    pub(crate) serve: ServeConfig,
}

impl Config {
    /// Reads the process environment.
    pub(crate) fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; empty values count as unset.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let fail = |var: &'static str, reason: String| EnvError { var, reason };
        let upstream = match var("UPSTREAM") {
            None => {
                return Err(fail(
                    "UPSTREAM",
                    "not set; e.g. UPSTREAM=http://127.0.0.1:3000".into(),
                ));
            }
            Some(value) => upstream(value.trim()).map_err(|reason| fail("UPSTREAM", reason))?,
        };
        let (bind, port) = env::listen_address(var, 8080)?;
        let redis = env::redis_url(var)?;
        let duration = |name: &'static str, default: Duration, zero_ok: bool| match var(name) {
            None => Ok(default),
            Some(value) => seconds(&value, zero_ok).map_err(|reason| fail(name, reason)),
        };
        Ok(Self {
            upstream,
            bind,
            port,
            redis,
            redis_wait: duration("REDIS_CONNECT_WAIT", Duration::from_secs(2), true)?,
            connect_timeout: duration("UPSTREAM_CONNECT_TIMEOUT", Duration::from_secs(5), false)?,
            response_timeout: duration("UPSTREAM_TIMEOUT", Duration::from_secs(30), false)?,
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            serve: ServeConfig::from_vars(var)?,
        })
    }
}

/// `http://host[:port][/]`: the authority (port 80 when none is given).
fn upstream(value: &str) -> Result<Authority, String> {
    let example = "expected http://host:port, e.g. http://127.0.0.1:3000";
    let uri: Uri = value
        .parse()
        .map_err(|_| format!("{value:?} is not a URL; {example}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "{value:?}: https upstreams are not supported (this proxy has no TLS \
                 client); use http:// on a private network"
            ));
        }
        _ => return Err(format!("{value:?} has no http:// scheme; {example}")),
    }
    let bare = uri
        .path_and_query()
        .is_none_or(|pq| pq.as_str().is_empty() || pq.as_str() == "/");
    let authority = uri.authority().filter(|a| !a.host().is_empty());
    match authority {
        Some(authority) if bare && !authority.as_str().contains('@') => {
            let with_port = match authority.port_u16() {
                Some(_) => authority.clone(),
                None => format!("{}:80", authority.host())
                    .parse()
                    .map_err(|_| format!("{value:?} has no usable host; {example}"))?,
            };
            Ok(with_port)
        }
        _ => Err(format!(
            "{value:?} must name only a host and port (no path, query or credentials); {example}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, EnvError> {
        let vars: std::collections::HashMap<_, _> = vars.iter().copied().collect();
        Config::from_lookup(|name| vars.get(name).map(ToString::to_string))
    }

    #[test]
    fn defaults_listen_locally_in_memory() {
        let config = read(&[("UPSTREAM", "http://127.0.0.1:3000")]).expect("valid");
        assert_eq!(config.upstream.as_str(), "127.0.0.1:3000");
        assert_eq!(config.bind.to_string(), "127.0.0.1");
        assert_eq!(config.port, 8080);
        assert!(config.redis.is_none());
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.response_timeout, Duration::from_secs(30));
        let config = read(&[
            ("UPSTREAM", "http://origin.internal/"),
            ("PORT", "9000"),
            ("BIND", "0.0.0.0"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("UPSTREAM_TIMEOUT", "2.5"),
        ])
        .expect("valid");
        assert_eq!(config.upstream.as_str(), "origin.internal:80");
        assert_eq!(
            (config.bind.to_string(), config.port),
            ("0.0.0.0".into(), 9000)
        );
        assert!(config.redis.is_some());
        assert_eq!(config.response_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn bad_values_name_their_variable_in_one_line() {
        let cases: [&[(&str, &str)]; 9] = [
            &[],
            &[("UPSTREAM", "127.0.0.1:3000")],
            &[("UPSTREAM", "https://origin.example")],
            &[("UPSTREAM", "http://origin.example/api")],
            &[("UPSTREAM", "http://user:pw@origin.example")],
            &[("UPSTREAM", "not a url")],
            &[("UPSTREAM", "http://a:1"), ("PORT", "http")],
            &[("UPSTREAM", "http://a:1"), ("REDIS_URL", "nope")],
            &[("UPSTREAM", "http://a:1"), ("UPSTREAM_TIMEOUT", "0")],
        ];
        let names = [
            "UPSTREAM",
            "UPSTREAM",
            "UPSTREAM",
            "UPSTREAM",
            "UPSTREAM",
            "UPSTREAM",
            "PORT",
            "REDIS_URL",
            "UPSTREAM_TIMEOUT",
        ];
        for (vars, name) in cases.iter().zip(names) {
            let error = read(vars).expect_err(name);
            assert_eq!(error.var, name, "{vars:?}");
            let line = error.to_string();
            assert!(line.starts_with(&format!("invalid {name}: ")), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
        let https = read(&[("UPSTREAM", "https://origin.example")]).expect_err("https");
        assert!(
            https.reason.contains("https upstreams are not supported"),
            "{https}"
        );
    }
}
