//! Rules (a key and its policies) and tiers (a rule per kind of client).

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::{Extensions, HeaderMap};
use strata_core::ConfigError;

use crate::{Key, KeyBy, Policy};

/// The most policies one rule may have.
pub(crate) const MAX_POLICIES: usize = 8;

/// A key and the policies enforced on it.
///
/// Several policies (for example a per-second burst and a per-hour cap) are
/// checked atomically: a request consumes from all of them or from none.
///
/// ```
/// use strata_rate_limit::{KeyBy, Policy, Quota, Rule};
///
/// let rule = Rule::new(KeyBy::client_ip(), Policy::new("burst", Quota::per_second(5)))
///     .and(Policy::new("hourly", Quota::per_hour(1000)));
/// assert_eq!(rule.policies().len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Rule {
    key_by: KeyBy,
    policies: Arc<[Policy]>,
}

impl Rule {
    /// Enforce `policy` per key found by `key_by`.
    pub fn new(key_by: KeyBy, policy: Policy) -> Self {
        Self {
            key_by,
            policies: Arc::from([policy]),
        }
    }

    /// Also enforce `policy` on the same key, atomically with the others.
    #[must_use]
    pub fn and(self, policy: Policy) -> Self {
        let mut policies = self.policies.to_vec();
        policies.push(policy);
        Self {
            key_by: self.key_by,
            policies: policies.into(),
        }
    }

    /// The policies, in the order they are reported.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    pub(crate) fn key_by(&self) -> &KeyBy {
        &self.key_by
    }

    pub(crate) fn shared_policies(&self) -> &Arc<[Policy]> {
        &self.policies
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.key_by.validate()?;
        for (i, policy) in self.policies.iter().enumerate() {
            policy.validate()?;
            if self.policies[..i].iter().any(|p| p.name() == policy.name()) {
                return Err(ConfigError::duplicate("policy", policy.name()));
            }
        }
        if self.policies.len() > MAX_POLICIES {
            return Err(ConfigError::invalid(
                "Rule::and",
                format!("a rule has at most {MAX_POLICIES} policies"),
            ));
        }
        Ok(())
    }
}

type SelectFn = dyn Fn(&Parts) -> Option<&'static str> + Send + Sync;

/// Several rules in one layer, one per kind of client, chosen per request.
///
/// "Anonymous clients 60 per minute per IP, signed-in users 300 per user,
/// the admin 1000" is one layer: a default rule and named tiers, and a
/// selector that names the tier of a request (`None` or an unknown name: the
/// default).
///
/// ```
/// use http::request::Parts;
/// use strata_rate_limit::{KeyBy, Policy, Quota, Rule, Tiers};
///
/// #[derive(Clone)]
/// struct UserId(String);
/// impl std::fmt::Display for UserId {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) }
/// }
///
/// let tiers = Tiers::new(Rule::new(KeyBy::client_ip(), Policy::new("anonymous", Quota::per_minute(60))))
///     .tier("user", Rule::new(KeyBy::extension::<UserId>(), Policy::new("user", Quota::per_minute(300))))
///     .tier("admin", Rule::new(KeyBy::extension::<UserId>(), Policy::new("admin", Quota::per_minute(1000))))
///     .select(|parts: &Parts| {
///         let user = parts.extensions.get::<UserId>()?;
///         Some(if user.0 == "admin" { "admin" } else { "user" })
///     });
/// # let _ = tiers;
/// ```
#[derive(Clone)]
pub struct Tiers {
    default: Rule,
    tiers: Vec<(&'static str, Rule)>,
    select: Option<Arc<SelectFn>>,
}

impl Tiers {
    /// Tiers whose requests all use `default` until a selector and tiers are
    /// added.
    pub fn new(default: Rule) -> Self {
        Self {
            default,
            tiers: Vec::new(),
            select: None,
        }
    }

    /// Adds the tier `name`, enforcing `rule`.
    #[must_use]
    pub fn tier(mut self, name: &'static str, rule: Rule) -> Self {
        self.tiers.push((name, rule));
        self
    }

    /// The function naming each request's tier.
    #[must_use]
    pub fn select<F>(mut self, select: F) -> Self
    where
        F: Fn(&Parts) -> Option<&'static str> + Send + Sync + 'static,
    {
        self.select = Some(Arc::new(select));
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.default.validate()?;
        for (i, (name, rule)) in self.tiers.iter().enumerate() {
            rule.validate()?;
            if self.tiers[..i].iter().any(|(other, _)| other == name) {
                return Err(ConfigError::duplicate("tier", *name));
            }
        }
        Ok(())
    }

    /// The index (in [`rules`](Self::rules) order) of a request's rule.
    fn rule_index(&self, parts: &Parts) -> usize {
        let Some(select) = &self.select else {
            return 0;
        };
        select(parts)
            .and_then(|name| self.tiers.iter().position(|(tier, _)| *tier == name))
            .map_or(0, |i| i + 1)
    }

    /// A request's key (`None` when its rule finds none) and rule index.
    pub(crate) fn resolve(&self, parts: &Parts) -> (Option<Key>, usize) {
        let index = self.rule_index(parts);
        let rule = match index {
            0 => &self.default,
            i => self
                .tiers
                .get(i - 1)
                .map_or(&self.default, |(_, rule)| rule),
        };
        (rule.key_by.extract(parts), index)
    }

    /// Whether resolving a request needs the whole request head: a
    /// selector or a key closure, both of which take [`Parts`].
    pub(crate) fn needs_parts(&self) -> bool {
        self.select.is_some() || self.rules().any(|rule| rule.key_by.needs_parts())
    }

    /// [`resolve`](Self::resolve) when [`needs_parts`](Self::needs_parts)
    /// is `false`: the default rule, keyed from headers and extensions.
    #[inline]
    pub(crate) fn resolve_head(&self, headers: &HeaderMap, extensions: &Extensions) -> Option<Key> {
        self.default.key_by.extract_head(headers, extensions)
    }

    /// The default rule, then the tiers' rules in order.
    pub(crate) fn rules(&self) -> impl Iterator<Item = &Rule> {
        std::iter::once(&self.default).chain(self.tiers.iter().map(|(_, rule)| rule))
    }

    pub(crate) fn all_policies(&self) -> impl Iterator<Item = &Policy> {
        self.rules().flat_map(|rule| rule.policies.iter())
    }
}

impl From<Rule> for Tiers {
    fn from(rule: Rule) -> Self {
        Self::new(rule)
    }
}

impl fmt::Debug for Tiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tiers")
            .field("default", &self.default)
            .field("tiers", &self.tiers)
            .field("select", &self.select.as_ref().map(|_| "Fn"))
            .finish()
    }
}
