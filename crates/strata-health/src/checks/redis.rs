use std::time::Duration;

use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::interfaces::ClientLike;
use tokio::time::Instant;

use crate::check::millis;
use crate::{Check, Observation};

/// Sends `PING` through the Redis pool the service shares: `pass` on `PONG`, with the
/// round trip in milliseconds; `fail` with the client's error otherwise.
///
/// The pool is the one
/// [`RedisPoolBuilder`](strata_core::redis::RedisPoolBuilder) builds (a
/// cheap handle: clone it), which fails a `PING`
/// within its command timeout (50 ms by default) while Redis is down, well
/// inside the check's own timeout. Key `{name}:responseTime`,
/// `componentType` `datastore`.
///
/// In a service whose Redis-backed layers degrade on an outage (local
/// fallbacks, 503 on the routes that need Redis), register it as
/// non-critical: a shared dependency failing readiness would pull every
/// instance out of the load balancer at once.
///
/// ```no_run
/// use strata_core::redis::RedisPoolBuilder;
/// use strata_health::checks::RedisCheck;
/// use strata_health::{HealthLayer, Registration};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = RedisPoolBuilder::from_url("redis://127.0.0.1:6379")?.connect().await?;
/// let layer = HealthLayer::builder()
///     .register(Registration::new("redis", RedisCheck::new(pool)).critical(false))
///     .build()?;
/// # drop(layer);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisCheck {
    pool: Pool,
    warn_above: Option<Duration>,
}

impl RedisCheck {
    /// Pings through `pool`.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            warn_above: None,
        }
    }

    /// `warn` when the round trip takes longer than `latency`. Default: never.
    #[must_use]
    pub fn warn_above(mut self, latency: Duration) -> Self {
        self.warn_above = Some(latency);
        self
    }
}

impl Check for RedisCheck {
    async fn check(&self) -> Observation {
        let started = Instant::now();
        match self.pool.ping::<String>(None).await {
            Ok(_) => {
                let elapsed = started.elapsed();
                let observation = match self.warn_above {
                    Some(limit) if elapsed > limit => Observation::warn(format!(
                        "PING took {} ms, above {} ms",
                        elapsed.as_millis(),
                        limit.as_millis()
                    )),
                    _ => Observation::pass(),
                };
                observation.observed(millis(elapsed), "ms")
            }
            Err(error) => Observation::fail(format!("PING: {error}")),
        }
    }

    fn measurement(&self) -> Option<&str> {
        Some("responseTime")
    }

    fn component_type(&self) -> Option<&str> {
        Some("datastore")
    }
}
