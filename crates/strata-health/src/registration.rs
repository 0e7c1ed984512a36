use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Check;
use crate::check::DynCheck;

/// A [`Check`] with the settings the layer runs it under: component name,
/// criticality, timeout and tags.
///
/// The report key is `component:measurement`, the measurement coming from the
/// check unless set here. Registered through
/// [`HealthBuilder::register`](crate::HealthBuilder::register);
/// [`HealthBuilder::check`](crate::HealthBuilder::check) is the shortcut for a
/// critical check with the default timeout and no tags.
///
/// ```
/// use std::time::Duration;
/// use strata_health::{Registration, check_fn};
///
/// let search = Registration::new("search", check_fn(|| async { Ok::<_, String>(()) }))
///     .critical(false)
///     .timeout(Duration::from_millis(300))
///     .tags(["external", "ready"]);
/// assert_eq!(search.key(), "search:responseTime");
/// assert!(!search.is_critical());
/// ```
#[derive(Clone)]
pub struct Registration {
    pub(crate) component: Cow<'static, str>,
    pub(crate) measurement: Option<Cow<'static, str>>,
    pub(crate) component_type: Option<Cow<'static, str>>,
    pub(crate) check: Arc<dyn DynCheck>,
    pub(crate) critical: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) tags: Vec<Cow<'static, str>>,
}

impl Registration {
    /// `check` under the component name `component`: critical, the layer's
    /// default timeout, no tags.
    pub fn new(component: impl Into<Cow<'static, str>>, check: impl Check) -> Self {
        let check: Arc<dyn DynCheck> = Arc::new(check);
        Self {
            component: component.into(),
            measurement: check.measurement().map(|m| Cow::Owned(m.to_owned())),
            component_type: check.component_type().map(|t| Cow::Owned(t.to_owned())),
            check,
            critical: true,
            timeout: None,
            tags: Vec::new(),
        }
    }

    /// Whether a failure of this check fails the service (`fail`, HTTP 503,
    /// not ready). A failing non-critical check makes the service `warn`
    /// (HTTP 200) and is left out of readiness. Default `true`.
    #[must_use]
    pub fn critical(mut self, critical: bool) -> Self {
        self.critical = critical;
        self
    }

    /// How long one run may take before it counts as `fail`. Default: the
    /// layer's [`timeout`](crate::HealthBuilder::timeout); must be non-zero.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a tag; [groups](crate::HealthBuilder::group) select checks by tag.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<Cow<'static, str>>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds several tags.
    #[must_use]
    pub fn tags<I, T>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<Cow<'static, str>>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Overrides the check's measurement name (the part of the key after the
    /// colon); an empty string leaves only the component name.
    #[must_use]
    pub fn measurement(mut self, measurement: impl Into<Cow<'static, str>>) -> Self {
        let measurement = measurement.into();
        self.measurement = (!measurement.is_empty()).then_some(measurement);
        self
    }

    /// Overrides the check's `componentType`.
    #[must_use]
    pub fn component_type(mut self, component_type: impl Into<Cow<'static, str>>) -> Self {
        self.component_type = Some(component_type.into());
        self
    }

    /// The report key, `component:measurement` or `component`.
    pub fn key(&self) -> String {
        match &self.measurement {
            Some(measurement) => format!("{}:{measurement}", self.component),
            None => self.component.to_string(),
        }
    }

    /// Whether the check is critical.
    pub fn is_critical(&self) -> bool {
        self.critical
    }

    /// Whether the check carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("key", &self.key())
            .field("component_type", &self.component_type)
            .field("critical", &self.critical)
            .field("timeout", &self.timeout)
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}
