//! The server's settings, read from the environment.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use axum::http::{HeaderValue, Uri};
use strata::core::TrustedProxies;
use strata::core::redis::RedisPoolBuilder;
use strata::profiling::AdminListener;
use strata::rate_limit::MemoryClock;
use strata::security_headers::TrustedHostLayer;

use crate::serve_config::{ServeConfig, seconds};

/// `development` or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppEnv {
    Development,
    Production,
}

impl AppEnv {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) bind: IpAddr,
    pub(crate) port: u16,
    /// Validated when read; unset keeps every store in memory.
    pub(crate) redis: Option<RedisPoolBuilder>,
    pub(crate) env: AppEnv,
    pub(crate) trusted_proxies: TrustedProxies,
    /// How long readiness fails before the listener closes on shutdown.
    pub(crate) drain_for: Duration,
    /// Origins allowed to call `/api` from a browser (CORS).
    pub(crate) cors_origins: Vec<HeaderValue>,
    /// `ALLOWED_HOSTS`: the `Host` values the site answers (empty: any).
    pub(crate) allowed_hosts: Option<TrustedHostLayer>,
    /// `ADMIN_PORT` / `ADMIN_TOKEN`: the admin listener (profiling, runtime
    /// metrics) on loopback, off when unset.
    pub(crate) admin: Option<AdminListener>,
    pub(crate) log_filter: String,
    /// `LOG_DIR`: where daily log files go instead of stdout (unset: stdout).
    pub(crate) log_dir: Option<PathBuf>,
    /// The clock of the in-memory rate-limit stores: the fast CPU clock;
    /// tests that pause tokio's clock choose `MemoryClock::Tokio`. Not read
    /// from the environment.
    pub(crate) rate_limit_clock: MemoryClock,
    /// The clock sessions are timed by: the system clock; tests that pause
    /// tokio's clock choose `session::Clock::Tokio`. Not read from the
    /// environment.
    pub(crate) session_clock: strata::session::Clock,
    /// `REDIS_CONNECT_WAIT`: how long start-up waits for the first Redis
    /// connection before it listens anyway; zero does not wait.
    pub(crate) redis_wait: Duration,
    /// The host of `REDIS_URL`, for logs (never the password).
    pub(crate) redis_host: Option<String>,
    /// Connection bounds and timeouts.
    pub(crate) serve: ServeConfig,
    /// `CATALOGUE_DELAY_MS`: how long each catalogue read takes (the demo's
    /// stand-in for a database query). Default 20 ms.
    pub(crate) catalogue_delay: Duration,
}

/// A variable with an unusable value: one line, naming the variable.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EnvError {
    pub(crate) var: &'static str,
    pub(crate) reason: String,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.var, self.reason)
    }
}

impl std::error::Error for EnvError {}

impl Config {
    /// Reads the process environment.
    pub(crate) fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; empty values count as unset.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let fail = |var: &'static str, reason: String| EnvError { var, reason };

        let bind = match var("BIND") {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| fail("BIND", format!("{value:?} is not an IP address")))?,
        };
        let port = match var("PORT") {
            None => 3000,
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| fail("PORT", format!("{value:?} is not a port number (0-65535)")))?,
        };
        let env = match var("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                return Err(fail(
                    "APP_ENV",
                    format!("{other:?} is neither \"development\" nor \"production\""),
                ));
            }
        };
        let trusted_proxies = match var("TRUSTED_PROXIES") {
            None => TrustedProxies::none(),
            Some(value) => value
                .parse()
                .map_err(|error| fail("TRUSTED_PROXIES", format!("{error}")))?,
        };
        // The URL may hold a password: the error never repeats it.
        let redis = var("REDIS_URL")
            .map(|url| RedisPoolBuilder::from_url(url.trim()))
            .transpose()
            .map_err(|error| fail("REDIS_URL", error.to_string()))?;
        let cors_origins = match var("CORS_ORIGINS") {
            None => Vec::new(),
            Some(value) => parse_origins(&value).map_err(|reason| fail("CORS_ORIGINS", reason))?,
        };
        let allowed_hosts = match var("ALLOWED_HOSTS") {
            None => None,
            Some(value) if value.trim().is_empty() => None,
            Some(value) => Some(
                TrustedHostLayer::builder(
                    value.split(',').map(str::trim).filter(|h| !h.is_empty()),
                )
                .build()
                .map_err(|error| fail("ALLOWED_HOSTS", error.to_string()))?,
            ),
        };
        let admin = match var("ADMIN_PORT") {
            None => None,
            Some(value) => {
                let port: u16 = value.trim().parse().map_err(|_| {
                    fail(
                        "ADMIN_PORT",
                        format!("{value:?} is not a port number (0-65535)"),
                    )
                })?;
                let addr = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
                let mut admin = AdminListener::builder(addr);
                if let Some(token) = var("ADMIN_TOKEN") {
                    admin = admin.bearer_token(token.trim());
                }
                Some(
                    admin
                        .build()
                        .map_err(|error| fail("ADMIN_TOKEN", error.to_string()))?,
                )
            }
        };
        let drain_for = match var("DRAIN_SECONDS") {
            None if env == AppEnv::Production => Duration::from_secs(5),
            None => Duration::ZERO,
            Some(value) => value
                .trim()
                .parse::<u16>()
                .map(|seconds| Duration::from_secs(seconds.into()))
                .map_err(|_| {
                    fail(
                        "DRAIN_SECONDS",
                        format!("{value:?} is not a number of seconds"),
                    )
                })?,
        };
        let log_filter = var("RUST_LOG").unwrap_or_else(|| "info".to_owned());
        let log_dir = var("LOG_DIR").map(PathBuf::from);
        let redis_wait = match var("REDIS_CONNECT_WAIT") {
            None => Duration::from_secs(2),
            Some(value) => {
                seconds(&value, true).map_err(|reason| fail("REDIS_CONNECT_WAIT", reason))?
            }
        };
        let redis_host = var("REDIS_URL").map(|url| url_host(&url));
        let catalogue_delay = match var("CATALOGUE_DELAY_MS") {
            None => Duration::from_millis(20),
            Some(value) => value
                .trim()
                .parse::<u16>()
                .map(|ms| Duration::from_millis(ms.into()))
                .map_err(|_| {
                    fail(
                        "CATALOGUE_DELAY_MS",
                        format!("{value:?} is not a number of milliseconds (0-65535)"),
                    )
                })?,
        };
        let serve = ServeConfig::from_vars(var)?;
        Ok(Self {
            catalogue_delay,
            redis_wait,
            redis_host,
            serve,
            drain_for,
            bind,
            port,
            redis,
            env,
            trusted_proxies,
            cors_origins,
            allowed_hosts,
            admin,
            log_filter,
            log_dir,
            rate_limit_clock: MemoryClock::Fast,
            session_clock: strata::session::Clock::System,
        })
    }
}

/// The host part of a Redis URL: what lies between the scheme (and any
/// credentials) and the port, path or query.
fn url_host(url: &str) -> String {
    let rest = url.trim().split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => host.split(':').next().unwrap_or_default().to_owned(),
    }
}

/// A comma-separated list of origins: `scheme://host[:port]`, nothing more.
fn parse_origins(list: &str) -> Result<Vec<HeaderValue>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let uri: Uri = origin
                .parse()
                .map_err(|_| format!("{origin:?} is not an origin"))?;
            let plain = matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.authority().is_some()
                && uri
                    .path_and_query()
                    .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/")
                && !origin.ends_with('/');
            if !plain || origin.contains('*') {
                return Err(format!(
                    "{origin:?} is not an origin such as https://app.example.com"
                ));
            }
            HeaderValue::from_str(origin).map_err(|_| format!("{origin:?} is not an origin"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, EnvError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn defaults_serve_locally_in_memory() {
        let config = read(&[]).expect("defaults are valid");
        assert_eq!(config.bind.to_string(), "127.0.0.1");
        assert_eq!(config.port, 3000);
        assert!(config.redis.is_none());
        assert_eq!(config.env, AppEnv::Development);
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.log_filter, "info");
        assert_eq!(config.drain_for, Duration::ZERO);
        let production = read(&[("APP_ENV", "production")]).expect("valid");
        assert_eq!(production.drain_for, Duration::from_secs(5));
    }

    #[test]
    fn reads_every_variable() {
        let config = read(&[
            ("BIND", "0.0.0.0"),
            ("PORT", "8080"),
            ("APP_ENV", "production"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.1"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("RUST_LOG", "debug"),
            ("CORS_ORIGINS", "https://app.example, http://localhost:5173"),
        ])
        .expect("valid");
        assert_eq!(config.bind.to_string(), "0.0.0.0");
        assert_eq!(config.port, 8080);
        assert_eq!(config.env, AppEnv::Production);
        assert!(
            config
                .trusted_proxies
                .contains("10.2.3.4".parse().expect("ip"))
        );
        assert!(config.redis.is_some());
        assert_eq!(config.log_filter, "debug");
        assert_eq!(
            config.cors_origins,
            ["https://app.example", "http://localhost:5173"]
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("PORT", "abc"),
            ("PORT", "70000"),
            ("BIND", "localhost:3000"),
            ("APP_ENV", "staging"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 300.1.1.1/8"),
            ("REDIS_URL", "not a url"),
            ("CORS_ORIGINS", "https://ok.example, *"),
            ("CORS_ORIGINS", "https://app.example/path"),
            ("CORS_ORIGINS", "app.example"),
            ("DRAIN_SECONDS", "-1"),
            ("REDIS_CONNECT_WAIT", "-0.5"),
            ("REDIS_CONNECT_WAIT", "a while"),
            ("IDLE_TIMEOUT", "0"),
        ];
        for (var, value) in cases {
            let error = read(&[(var, value)]).expect_err(value);
            assert_eq!(error.var, var);
            let line = error.to_string();
            assert!(line.starts_with(&format!("invalid {var}: ")), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn redis_errors_do_not_echo_the_password() {
        let error =
            read(&[("REDIS_URL", "redis://user:s3cret@host:notaport")]).expect_err("bad port");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn redis_wait_and_host_for_logs() {
        let config =
            read(&[("REDIS_URL", "redis://user:s3cret@cache.internal:6380/2")]).expect("valid");
        assert_eq!(config.redis_wait, Duration::from_secs(2));
        assert_eq!(config.redis_host.as_deref(), Some("cache.internal"));
        let config = read(&[("REDIS_CONNECT_WAIT", "0.25")]).expect("valid");
        assert_eq!(config.redis_wait, Duration::from_millis(250));
        assert_eq!(url_host("redis://[::1]:6379"), "::1");
        assert_eq!(url_host("redis-cluster://a:1?node=b:2"), "a");
    }
}
