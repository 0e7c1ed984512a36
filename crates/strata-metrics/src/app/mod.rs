//! Metrics for what services commonly track beside HTTP: database query
//! durations, cache hits and misses, and counters of their own.

mod cache;
mod counter;
mod db;
mod family;

pub use self::cache::{CacheCounters, CacheMetrics};
pub use self::counter::CounterFamily;
pub use self::db::{DB_DURATION_BUCKETS, DbMetrics, DbTimer};
