//! [`Retain`]: which finished exchanges are kept.

use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

use crate::record::Outcome;

/// Default of [`Retain::slower_than`] in [`Retain::default`]: 1 second.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(1);

/// Which exchanges are kept, decided when the exchange ends.
///
/// [`Retain::all`] keeps every exchange; otherwise an exchange is kept when
/// **any** rule matches: its status (class), its duration, the sampled
/// share, or a flagged session or user
/// ([`RecorderHandle::flag_user`](crate::RecorderHandle::flag_user)). An
/// exchange whose service failed (no response) is always kept. Sampling only
/// adds exchanges, so errors are never lost to it.
///
/// The default keeps 5xx and exchanges slower than [`DEFAULT_SLOW`].
///
/// ```
/// use std::time::Duration;
/// use strata_recorder::Retain;
///
/// // 5xx, 429, slower than 500 ms, and 1 % of the rest.
/// let production = Retain::none()
///     .status_class(5)
///     .status(429)
///     .slower_than(Duration::from_millis(500))
///     .sample(0.01);
/// # let _ = production;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Retain {
    pub(crate) all: bool,
    pub(crate) classes: Vec<u8>,
    pub(crate) statuses: Vec<u16>,
    pub(crate) slower_than: Option<Duration>,
    pub(crate) sample: f64,
}

impl Default for Retain {
    fn default() -> Self {
        Self::none().status_class(5).slower_than(DEFAULT_SLOW)
    }
}

impl Retain {
    /// Keep every exchange.
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::none()
        }
    }

    /// Keep only failed services and flagged sessions and users; add rules
    /// with the other methods.
    pub fn none() -> Self {
        Self {
            all: false,
            classes: Vec::new(),
            statuses: Vec::new(),
            slower_than: None,
            sample: 0.0,
        }
    }

    /// Keep responses of this status class (`5` for 5xx, 1 to 5).
    pub fn status_class(mut self, class: u8) -> Self {
        self.classes.push(class);
        self
    }

    /// Keep responses with this status.
    pub fn status(mut self, status: u16) -> Self {
        self.statuses.push(status);
        self
    }

    /// Keep exchanges that took longer than `threshold` to the end of
    /// their response body.
    pub fn slower_than(mut self, threshold: Duration) -> Self {
        self.slower_than = Some(threshold);
        self
    }

    /// Keep this share (0.0 to 1.0) of the other exchanges, chosen by a hash
    /// of the trace id when there is one (so every service of a trace keeps
    /// the same ones) and of the exchange id otherwise.
    pub fn sample(mut self, share: f64) -> Self {
        self.sample = share;
        self
    }

    pub(crate) fn check(&self) -> Result<(), strata_core::ConfigError> {
        if let Some(class) = self.classes.iter().find(|c| !(1..=5).contains(*c)) {
            return Err(strata_core::ConfigError::invalid(
                "retain",
                format!("status class {class} is not 1 to 5"),
            ));
        }
        if let Some(status) = self.statuses.iter().find(|s| !(100..=999).contains(*s)) {
            return Err(strata_core::ConfigError::invalid(
                "retain",
                format!("status {status} is not 100 to 999"),
            ));
        }
        if !(0.0..=1.0).contains(&self.sample) {
            return Err(strata_core::ConfigError::invalid(
                "retain",
                "the sampled share is 0.0 to 1.0",
            ));
        }
        Ok(())
    }

    /// Whether the exchange `summary` describes is kept; `key` is the
    /// sampling key's hash.
    pub(crate) fn keeps(&self, summary: &Facts<'_>, sample_key: u64, flags: &Flags) -> bool {
        if self.all || summary.outcome == Outcome::Error {
            return true;
        }
        if let Some(status) = summary.status {
            let class = u8::try_from(status / 100).unwrap_or(0);
            if self.classes.contains(&class) || self.statuses.contains(&status) {
                return true;
            }
        }
        if self
            .slower_than
            .is_some_and(|t| u128::from(summary.duration_us) > t.as_micros())
        {
            return true;
        }
        if flags.matches(summary) {
            return true;
        }
        sampled(sample_key, self.sample)
    }
}

/// What retention decides on, known when an exchange ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub(crate) outcome: Outcome,
    pub(crate) status: Option<u16>,
    pub(crate) duration_us: u64,
    pub(crate) session: Option<&'a str>,
    pub(crate) user: Option<&'a str>,
}

/// Whether a key hashing to `hash` falls in the sampled `share`.
fn sampled(hash: u64, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    // The top 53 bits as a uniform number in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    let unit = (hash >> 11) as f64 / (1u64 << 53) as f64;
    unit < share
}

/// A 64-bit hash of a sampling key (FNV-1a then a SplitMix64 finaliser):
/// stable across processes and versions, so every instance samples the
/// same traces.
pub(crate) fn sample_hash(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    mix(hash)
}

/// SplitMix64's finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Sessions and users whose exchanges are all kept, changed at run time.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    sessions: RwLock<HashSet<String>>,
    users: RwLock<HashSet<String>>,
}

impl Flags {
    pub(crate) fn set(&self, user: bool, name: &str, on: bool) {
        let set = if user { &self.users } else { &self.sessions };
        let mut set = set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if on {
            set.insert(name.to_owned());
        } else {
            set.remove(name);
        }
    }

    pub(crate) fn list(&self, user: bool) -> Vec<String> {
        let set = if user { &self.users } else { &self.sessions };
        let set = set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut names: Vec<String> = set.iter().cloned().collect();
        names.sort();
        names
    }

    fn matches(&self, summary: &Facts<'_>) -> bool {
        let hit = |set: &RwLock<HashSet<String>>, name: Option<&str>| {
            name.is_some_and(|name| {
                set.read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .contains(name)
            })
        };
        hit(&self.sessions, summary.session) || hit(&self.users, summary.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_about_the_share_and_is_stable() {
        let kept = (0..10_000)
            .filter(|i| sampled(sample_hash(&format!("trace-{i}")), 0.1))
            .count();
        assert!((800..1200).contains(&kept), "{kept}");
        assert_eq!(
            sampled(sample_hash("trace-7"), 0.1),
            sampled(sample_hash("trace-7"), 0.1)
        );
        assert!(!sampled(u64::MAX, 0.0));
        assert!(sampled(u64::MAX, 1.0));
    }
}
