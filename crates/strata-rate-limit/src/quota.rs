//! Quotas and named policies.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use strata_core::ConfigError;

/// How many requests a client may make per period, and how many at once.
///
/// The names read as they mean: [`Quota::per_minute(60)`](Quota::per_minute)
/// is sixty requests per minute, replenished one per second, sixty of which
/// may arrive at once. [`burst`](Quota::burst) lowers (or raises) how many
/// may arrive at once without changing the rate.
///
/// The algorithm is GCRA: one unit is replenished every `period / count`
/// (the *emission interval*, whole microseconds in both backends), and a
/// client may be at most `burst` units ahead.
///
/// ```
/// use std::time::Duration;
/// use strata_rate_limit::Quota;
///
/// let quota = Quota::per_minute(60).burst(10);
/// assert_eq!(quota.count(), 60);
/// assert_eq!(quota.period(), Duration::from_secs(60));
/// assert_eq!(quota.emission_interval(), Duration::from_secs(1));
/// assert_eq!(quota.burst_size(), 10);
///
/// let custom = Quota::new(5, Duration::from_secs(10));
/// assert_eq!(custom.emission_interval(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    count: u32,
    period: Duration,
    burst: Option<u32>,
}

impl Quota {
    /// `count` requests per `period`; the burst defaults to `count`.
    ///
    /// A zero `count`, a period shorter than `count` microseconds or longer
    /// than a year is rejected when the layer or store is built.
    pub const fn new(count: u32, period: Duration) -> Self {
        Self {
            count,
            period,
            burst: None,
        }
    }

    /// `count` requests per second.
    pub const fn per_second(count: u32) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` requests per minute.
    pub const fn per_minute(count: u32) -> Self {
        Self::new(count, Duration::from_secs(60))
    }

    /// `count` requests per hour.
    pub const fn per_hour(count: u32) -> Self {
        Self::new(count, Duration::from_secs(3600))
    }

    /// `count` requests per day.
    pub const fn per_day(count: u32) -> Self {
        Self::new(count, Duration::from_secs(86_400))
    }

    /// How many requests may arrive at once (the bucket size). Default: the
    /// count. Must be at least 1.
    #[must_use]
    pub const fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// Requests per period.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The period.
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// Requests that may arrive at once.
    pub const fn burst_size(&self) -> u32 {
        match self.burst {
            Some(burst) => burst,
            None => self.count,
        }
    }

    /// The time one unit takes to replenish: `period / count`, in whole
    /// microseconds (at least one).
    pub fn emission_interval(&self) -> Duration {
        Duration::from_micros(self.emission_micros())
    }

    pub(crate) fn emission_micros(&self) -> u64 {
        let period = u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX);
        (period / u64::from(self.count.max(1))).max(1)
    }

    /// The window advertised in `RateLimit-Policy` (`w`): the period in
    /// whole seconds, at least 1.
    pub(crate) fn window_secs(&self) -> u64 {
        self.period.as_secs().max(1)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        const YEAR: Duration = Duration::from_secs(366 * 86_400);
        if self.count == 0 {
            return Err(ConfigError::invalid("Quota::count", "must be at least 1"));
        }
        if self.period > YEAR || self.period.as_micros() < u128::from(self.count) {
            return Err(ConfigError::invalid(
                "Quota::period",
                "must be at most a year and at least one microsecond per request",
            ));
        }
        if self.burst_size() == 0 {
            return Err(ConfigError::invalid("Quota::burst", "must be at least 1"));
        }
        Ok(())
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} per {:?}", self.count, self.period)?;
        if let Some(burst) = self.burst {
            write!(f, " (burst {burst})")?;
        }
        Ok(())
    }
}

/// A named [`Quota`]: the unit a rule enforces, reports in the `RateLimit`
/// headers and labels metrics with.
///
/// The name appears in response headers (as an RFC 9651 string) and in Redis
/// keys: ASCII letters, digits, `-`, `_` and `.`, 1 to 64 characters, checked
/// when the layer is built.
///
/// ```
/// use strata_rate_limit::{Policy, Quota};
///
/// let policy = Policy::new("per-ip", Quota::per_minute(60));
/// assert_eq!(policy.name(), "per-ip");
/// assert_eq!(policy.quota().count(), 60);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    name: Arc<str>,
    quota: Quota,
}

impl Policy {
    /// A policy called `name` enforcing `quota`.
    pub fn new(name: impl Into<Arc<str>>, quota: Quota) -> Self {
        Self {
            name: name.into(),
            quota,
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quota.
    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let valid_name = (1..=64).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid_name {
            return Err(ConfigError::invalid(
                "Policy::new",
                format!(
                    "the name {:?} must be 1 to 64 ASCII letters, digits, `-`, `_` or `.`",
                    self.name
                ),
            ));
        }
        self.quota.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_minute_means_count_per_minute() {
        let quota = Quota::per_minute(60);
        assert_eq!(quota.emission_interval(), Duration::from_secs(1));
        assert_eq!(quota.burst_size(), 60);
        assert_eq!(Quota::per_second(4).emission_interval().as_millis(), 250);
        assert_eq!(Quota::per_hour(3600).emission_interval().as_secs(), 1);
        assert_eq!(Quota::per_day(24).emission_interval().as_secs(), 3600);
    }

    fn setting(result: Result<(), ConfigError>) -> Option<&'static str> {
        match result {
            Err(ConfigError::Invalid { setting, .. }) => Some(setting),
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(()) => None,
        }
    }

    #[test]
    fn invalid_quotas_and_names_name_their_setting() {
        let year_and_more = Duration::from_secs(400 * 86_400);
        let cases = [
            (Quota::per_minute(0).validate(), Some("Quota::count")),
            (
                Quota::per_minute(5).burst(0).validate(),
                Some("Quota::burst"),
            ),
            (
                Quota::new(10, Duration::from_nanos(5)).validate(),
                Some("Quota::period"),
            ),
            (
                Quota::new(1, year_and_more).validate(),
                Some("Quota::period"),
            ),
            (
                Policy::new("", Quota::per_minute(1)).validate(),
                Some("Policy::new"),
            ),
            (
                Policy::new("a\"b", Quota::per_minute(1)).validate(),
                Some("Policy::new"),
            ),
            (
                Policy::new("per-ip_1.x", Quota::per_minute(1)).validate(),
                None,
            ),
        ];
        for (i, (result, expected)) in cases.into_iter().enumerate() {
            assert_eq!(setting(result), expected, "case {i}");
        }
    }
}
