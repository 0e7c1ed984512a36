use std::borrow::Cow;

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::check::millis;
use crate::{Check, Observation};

/// Connects to `host:port` over TCP: `pass` when the connection opens, with
/// the time it took (name resolution included) in milliseconds.
///
/// ```
/// use strata_health::checks::TcpCheck;
/// use strata_health::{Check, Status};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let check = TcpCheck::new(listener.local_addr()?.to_string());
/// assert_eq!(check.check().await.status(), Status::Pass);
///
/// drop(listener);
/// assert_eq!(check.check().await.status(), Status::Fail);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TcpCheck {
    address: Cow<'static, str>,
}

impl TcpCheck {
    /// Checks `address`, `host:port` (resolved at every run).
    pub fn new(address: impl Into<Cow<'static, str>>) -> Self {
        Self {
            address: address.into(),
        }
    }
}

impl Check for TcpCheck {
    async fn check(&self) -> Observation {
        let started = Instant::now();
        match TcpStream::connect(self.address.as_ref()).await {
            Ok(stream) => {
                let elapsed = started.elapsed();
                drop(stream);
                Observation::pass().observed(millis(elapsed), "ms")
            }
            Err(error) => Observation::fail(format!("connect to {}: {error}", self.address)),
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("responseTime")
    }

    fn component_type(&self) -> Option<&str> {
        Some("component")
    }
}
