//! The checks of [`HealthBuilder::build`](super::HealthBuilder::build), and
//! which checks each endpoint runs.

use std::borrow::Cow;

use strata_core::ConfigError;

use super::HealthBuilder;
use crate::Endpoint;
use crate::state::Slot;

impl HealthBuilder {
    /// The first problem, in the order: timeouts, checks, routes.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout.is_zero() {
            return Err(ConfigError::invalid("timeout", "must be non-zero"));
        }
        if self.refresh_every.is_some_and(|every| every.is_zero()) {
            return Err(ConfigError::invalid(
                "refresh_every",
                "must be non-zero or None",
            ));
        }
        let mut keys = std::collections::HashSet::new();
        for registration in &self.registrations {
            if registration.timeout.is_some_and(|t| t.is_zero()) {
                return Err(ConfigError::invalid(
                    "Registration::timeout",
                    "must be non-zero",
                ));
            }
            registration.check.validate()?;
            let key = registration.key();
            if !keys.insert(key.clone()) {
                return Err(ConfigError::duplicate("check", key));
            }
        }
        if let Some((path, _, setting)) = self.routes.iter().find(|(p, _, _)| !p.starts_with('/')) {
            return Err(ConfigError::invalid(
                setting,
                format!("the path `{path}` must start with `/`"),
            ));
        }
        Ok(())
    }
}

/// The checks `endpoint` runs; `None` for an undefined group.
pub(super) fn select(
    slots: &[Slot],
    groups: &[(Cow<'static, str>, Vec<Cow<'static, str>>)],
    endpoint: &Endpoint,
) -> Option<Vec<usize>> {
    let indexes = 0..slots.len();
    Some(match endpoint {
        Endpoint::Live => Vec::new(),
        Endpoint::Summary | Endpoint::Detailed => indexes.collect(),
        Endpoint::Ready => indexes
            .filter(|&i| slots[i].registration.critical)
            .collect(),
        Endpoint::Group(name) => {
            let (_, tags) = groups.iter().find(|(n, _)| n == name)?;
            indexes
                .filter(|&i| tags.iter().any(|tag| slots[i].registration.has_tag(tag)))
                .collect()
        }
    })
}
