//! Connection bounds and timeouts of the HTTP server, read from the
//! environment (see `docs/example-server.md`, "Connections").

use std::time::Duration;

use crate::config::EnvError;

/// The smallest header buffer hyper accepts.
const MIN_HEADER_BYTES: usize = 8 * 1024;

/// How the server bounds connections: every value has an env var.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServeConfig {
    /// `HEADER_READ_TIMEOUT`: from the moment a connection opens, or waits
    /// for its next request, until the request's header section has arrived.
    pub(crate) header_read_timeout: Duration,
    /// `IDLE_TIMEOUT`: a connection on which no byte was read or written for
    /// this long is closed (idle keep-alive, stalled bodies and readers).
    pub(crate) idle_timeout: Duration,
    /// `BODY_TIMEOUT`: the whole request body must arrive within this time
    /// of the request head, else 408.
    pub(crate) body_timeout: Duration,
    /// `MAX_CONNECTIONS`: open connections at most; beyond it new ones wait
    /// in the listen backlog until one closes.
    pub(crate) max_connections: usize,
    /// `MAX_HEADER_BYTES`: the request line and headers of one request;
    /// beyond it hyper answers 431 and closes.
    pub(crate) max_header_bytes: usize,
    /// `SHUTDOWN_TIMEOUT`: after the drain, how long in-flight requests may
    /// still take before the process exits anyway.
    pub(crate) shutdown_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_header_bytes: 16 * 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServeConfig {
    /// Reads the variables through `var` (unset or empty: the default).
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let default = Self::default();
        Ok(Self {
            header_read_timeout: timeout(&var, "HEADER_READ_TIMEOUT", default.header_read_timeout)?,
            idle_timeout: timeout(&var, "IDLE_TIMEOUT", default.idle_timeout)?,
            body_timeout: timeout(&var, "BODY_TIMEOUT", default.body_timeout)?,
            max_connections: count(&var, "MAX_CONNECTIONS", 1, default.max_connections)?,
            max_header_bytes: count(
                &var,
                "MAX_HEADER_BYTES",
                MIN_HEADER_BYTES,
                default.max_header_bytes,
            )?,
            shutdown_timeout: timeout(&var, "SHUTDOWN_TIMEOUT", default.shutdown_timeout)?,
        })
    }
}

/// A positive number of seconds (fractions allowed), at most a day.
fn timeout(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, EnvError> {
    match var(name) {
        None => Ok(default),
        Some(value) => seconds(&value, false).map_err(|reason| EnvError { var: name, reason }),
    }
}

/// `value` as seconds (fractions allowed, at most a day); zero only when
/// `zero_ok`.
pub(crate) fn seconds(value: &str, zero_ok: bool) -> Result<Duration, String> {
    let parsed = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
        .filter(|s| zero_ok || *s > 0.0);
    match parsed {
        Some(s) => Ok(Duration::from_secs_f64(s)),
        None if zero_ok => Err(format!(
            "{value:?} is not a number of seconds from 0 to 86400"
        )),
        None => Err(format!(
            "{value:?} is not a number of seconds above 0 and at most 86400"
        )),
    }
}

/// A whole number from `min` to 2^30.
fn count(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    min: usize,
    default: usize,
) -> Result<usize, EnvError> {
    let Some(value) = var(name) else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (min..=1 << 30).contains(n))
        .ok_or_else(|| EnvError {
            var: name,
            reason: format!("{value:?} is not a whole number from {min} to 1073741824"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ServeConfig, EnvError> {
        ServeConfig::from_vars(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn reads_fractional_seconds_and_counts() {
        let config = read(&[
            ("HEADER_READ_TIMEOUT", "0.3"),
            ("IDLE_TIMEOUT", "2"),
            ("BODY_TIMEOUT", "1.5"),
            ("MAX_CONNECTIONS", "3"),
            ("MAX_HEADER_BYTES", "8192"),
            ("SHUTDOWN_TIMEOUT", "0.25"),
        ])
        .expect("valid");
        assert_eq!(config.header_read_timeout, Duration::from_millis(300));
        assert_eq!(config.idle_timeout, Duration::from_secs(2));
        assert_eq!(config.body_timeout, Duration::from_millis(1500));
        assert_eq!(config.max_connections, 3);
        assert_eq!(config.max_header_bytes, 8192);
        assert_eq!(config.shutdown_timeout, Duration::from_millis(250));
        assert_eq!(read(&[]).expect("defaults"), ServeConfig::default());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("HEADER_READ_TIMEOUT", "0"),
            ("HEADER_READ_TIMEOUT", "-1"),
            ("IDLE_TIMEOUT", "soon"),
            ("BODY_TIMEOUT", "NaN"),
            ("SHUTDOWN_TIMEOUT", "100000"),
            ("MAX_CONNECTIONS", "0"),
            ("MAX_CONNECTIONS", "1.5"),
            ("MAX_HEADER_BYTES", "1024"),
        ];
        for (var, value) in cases {
            let error = read(&[(var, value)]).expect_err(value);
            assert_eq!(error.var, var, "{value}");
            assert!(!error.to_string().contains('\n'));
        }
    }
}
