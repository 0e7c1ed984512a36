//! Built-in checks.
//!
//! | check | feature | key | observes |
//! |---|---|---|---|
//! | [`TcpCheck`] | | `{name}:responseTime` | a TCP connect, in ms |
//! | `HttpCheck` | `http-check` | `{name}:responseTime` | an HTTP `GET`, in ms |
//! | `RedisCheck` | `redis` | `{name}:responseTime` | a `PING`, in ms |
//! | `DiskSpaceCheck` | `system` | `{name}:utilization` | disk usage, in percent |
//! | `MemoryCheck` | `system` | `{name}:utilization` | memory usage, in percent |
//! | `CpuCheck` | `system` | `{name}:utilization` | CPU usage, in percent |
//!
//! Closures: [`check_fn`](crate::check_fn).

#[cfg(feature = "http-check")]
mod http;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "system")]
pub(crate) mod sample;
#[cfg(feature = "system")]
mod system;
mod tcp;

#[cfg(feature = "http-check")]
#[doc(inline)]
pub use self::http::HttpCheck;
#[cfg(feature = "redis")]
#[doc(inline)]
pub use self::redis::RedisCheck;
#[cfg(feature = "system")]
#[doc(inline)]
pub use self::system::{CpuCheck, DiskSpaceCheck, MemoryCheck};
#[doc(inline)]
pub use self::tcp::TcpCheck;
