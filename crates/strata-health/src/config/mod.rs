use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use http::request::Parts;

use crate::endpoint::Details;
use crate::layer::{
    DEFAULT_CACHE_TTL, DEFAULT_FAILURE_TTL, DEFAULT_REFRESH_EVERY, DEFAULT_TIMEOUT,
};
mod validate;

use self::validate::select;
use crate::state::{Meta, Route, Shared, Slot};
use crate::{Check, Drain, Endpoint, HealthLayer, Registration, ShowDetails};
use strata_core::ConfigError;
use strata_core::guard::AccessGuard;

/// Settings of a [`HealthLayer`]: checks, routes, groups, timeouts, caching
/// and the service fields of every report. Setters only record;
/// [`build`](Self::build) and [`pair`](Self::pair) check everything and
/// report the first problem as a [`ConfigError`] naming the setting.
///
/// | setting | default |
/// |---|---|
/// | routes | `/health` summary, `/health/live`, `/health/ready`, `/health/detailed` ([`base_path`](Self::base_path), [`route`](Self::route), [`aliases`](Self::aliases)) |
/// | [`timeout`](Self::timeout) | 1 s per check run |
/// | [`cache_ttl`](Self::cache_ttl) | 5 s |
/// | [`failure_ttl`](Self::failure_ttl) | 1 s |
/// | [`refresh_every`](Self::refresh_every) | 30 s, in the background |
/// | [`show_details`](Self::show_details) | to everyone |
/// | [`guard_details`](Self::guard_details) | none: the detailed and group endpoints are open |
/// | system section (feature `system`) | on, disk of `/` |
#[must_use]
#[derive(Debug)]
pub struct HealthBuilder {
    registrations: Vec<Registration>,
    /// Path, endpoint, and the setting that added it (for errors).
    routes: Vec<(String, Endpoint, &'static str)>,
    groups: Vec<(Cow<'static, str>, Vec<Cow<'static, str>>)>,
    timeout: Duration,
    cache_ttl: Duration,
    failure_ttl: Duration,
    refresh_every: Option<Duration>,
    details: Details,
    guard: Option<AccessGuard>,
    meta: Meta,
    #[cfg(feature = "system")]
    system_section: bool,
    #[cfg(feature = "system")]
    disk_path: std::path::PathBuf,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::HealthMetrics>,
}

impl Default for HealthBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthBuilder {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self {
            registrations: Vec::new(),
            routes: Vec::new(),
            groups: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            cache_ttl: DEFAULT_CACHE_TTL,
            failure_ttl: DEFAULT_FAILURE_TTL,
            refresh_every: Some(DEFAULT_REFRESH_EVERY),
            details: Details::Always,
            guard: None,
            meta: Meta::default(),
            #[cfg(feature = "system")]
            system_section: true,
            #[cfg(feature = "system")]
            disk_path: std::path::PathBuf::from("/"),
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
        .base_path("/health")
    }

    /// Adds a critical check under the component name `component`, with the
    /// default timeout and no tags. See [`register`](Self::register) for the
    /// other settings.
    pub fn check(self, component: impl Into<Cow<'static, str>>, check: impl Check) -> Self {
        self.register(Registration::new(component, check))
    }

    /// Adds a check with its settings.
    pub fn register(mut self, registration: Registration) -> Self {
        self.registrations.push(registration);
        self
    }

    /// Serves `endpoint` at `path` (an exact match on the request path,
    /// which must start with `/`), replacing what `path` served before.
    pub fn route(self, path: impl Into<String>, endpoint: Endpoint) -> Self {
        self.add_route(path.into(), endpoint, "route")
    }

    fn add_route(mut self, path: String, endpoint: Endpoint, setting: &'static str) -> Self {
        self.routes.retain(|(p, _, _)| *p != path);
        self.routes.push((path, endpoint, setting));
        self
    }

    /// Stops serving `path`.
    pub fn remove_route(mut self, path: &str) -> Self {
        self.routes.retain(|(p, _, _)| p != path);
        self
    }

    /// Moves the four standard routes under `base`: `{base}` (summary),
    /// `{base}/live`, `{base}/ready` and `{base}/detailed`. Default `/health`;
    /// empty or starting with `/`.
    pub fn base_path(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/');
        self.routes.retain(|(_, endpoint, _)| {
            !matches!(
                endpoint,
                Endpoint::Summary | Endpoint::Live | Endpoint::Ready | Endpoint::Detailed
            )
        });
        let summary = if base.is_empty() { "/" } else { base };
        let setting = "base_path";
        self.add_route(summary.to_owned(), Endpoint::Summary, setting)
            .add_route(format!("{base}/live"), Endpoint::Live, setting)
            .add_route(format!("{base}/ready"), Endpoint::Ready, setting)
            .add_route(format!("{base}/detailed"), Endpoint::Detailed, setting)
    }

    /// Adds the Kubernetes-style aliases `/livez`, `/readyz` and `/healthz`
    /// (summary).
    pub fn aliases(self) -> Self {
        self.route("/livez", Endpoint::Live)
            .route("/readyz", Endpoint::Ready)
            .route("/healthz", Endpoint::Summary)
    }

    /// Defines the group `name`: the checks carrying at least one of `tags`.
    /// Serve it with [`route`](Self::route) and [`Endpoint::group`].
    pub fn group<I, T>(mut self, name: impl Into<Cow<'static, str>>, tags: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<Cow<'static, str>>,
    {
        let name = name.into();
        self.groups.retain(|(n, _)| *n != name);
        self.groups
            .push((name, tags.into_iter().map(Into::into).collect()));
        self
    }

    /// Default timeout of one check run; a check still running then is
    /// `fail` with the output `timed out after N ms`. Default 1 s; non-zero.
    /// A probe that has to run checks answers within its slowest check's
    /// timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a check result is served without running the check again.
    /// However many probes arrive, each check runs at most once per TTL
    /// (concurrent probes share one run). Default 5 s; zero still shares
    /// one run among concurrent probes.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How long a result that is not `pass` (a check that warns or fails) is
    /// served before the check runs again: a dependency that was briefly
    /// away (still connecting at start, say) does not show as failing for a
    /// whole [`cache_ttl`](Self::cache_ttl) once it is back. Default 1 s;
    /// the shorter of this and the cache TTL applies.
    pub fn failure_ttl(mut self, ttl: Duration) -> Self {
        self.failure_ttl = ttl;
        self
    }

    /// Runs every check in the background at this interval (the first round
    /// one interval after start, when the service's clients have connected),
    /// so probes find fresh results and metrics stay current without probes. Default every 30 s; `None` runs checks only for
    /// probes; non-zero.
    pub fn refresh_every(mut self, every: Option<Duration>) -> Self {
        self.refresh_every = every;
        self
    }

    /// Who sees check details. Default [`ShowDetails::Always`].
    pub fn show_details(mut self, show: ShowDetails) -> Self {
        self.details = show.into();
        self
    }

    /// Shows details only to requests for which `predicate` returns `true`
    /// (a token header, an internal address in the extensions...); others
    /// get the summary.
    pub fn show_details_when<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        self.details = Details::When(Arc::new(predicate));
        self
    }

    /// Refuses the detailed and group endpoints (403 problem+json, with
    /// [`DetailsRefused`](crate::DetailsRefused) in the extensions) to
    /// requests `guard` does not admit; the summary, liveness and readiness
    /// stay open. Unlike [`show_details_when`](Self::show_details_when),
    /// which answers such requests with the summary, a refused request runs
    /// no check.
    ///
    /// With both an allow-list and a token, the guard's
    /// [`GuardRule`](strata_core::guard::GuardRule) decides: both by
    /// default, `Any` to let operators outside the allow-list in with the
    /// token.
    pub fn guard_details(mut self, guard: AccessGuard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The `version` member (the service's public version, such as `"1"`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.meta.version = Some(version.into());
        self
    }

    /// The `releaseId` member (the build, such as `"1.4.2"` or a commit).
    pub fn release_id(mut self, release_id: impl Into<String>) -> Self {
        self.meta.release_id = Some(release_id.into());
        self
    }

    /// The `serviceId` member (a unique identifier of the service).
    pub fn service_id(mut self, service_id: impl Into<String>) -> Self {
        self.meta.service_id = Some(service_id.into());
        self
    }

    /// The `description` member.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.meta.description = Some(description.into());
        self
    }

    /// The environment (`production`...) shown in the system section.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.meta.environment = Some(environment.into());
        self
    }

    /// Whether detailed reports carry CPU, memory and disk usage in their
    /// `system` section (uptime, version and environment are always there).
    /// Default `true`.
    #[cfg(feature = "system")]
    pub fn system_section(mut self, enabled: bool) -> Self {
        self.system_section = enabled;
        self
    }

    /// A path on the disk whose usage the system section shows. Default `/`.
    #[cfg(feature = "system")]
    pub fn disk_path(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.disk_path = path.into();
        self
    }

    /// Records every check run in `metrics` (see [`HealthMetrics`](crate::HealthMetrics));
    /// one `HealthMetrics` may serve several layers. The layer's check keys
    /// appear as soon as it is built, with status gauges at 0.
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::HealthMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds the layer, checking the configuration. When called inside a
    /// Tokio runtime the background refresh starts now, otherwise with the
    /// first probe.
    ///
    /// Fails with [`ConfigError::Invalid`] naming the first invalid setting
    /// (`timeout`, `refresh_every`, `Registration::timeout`, a check's own
    /// settings such as `HttpCheck::new`, `route`, `base_path`, `group`) or
    /// [`ConfigError::Duplicate`] (`what: "check"`) when two checks report
    /// under one key.
    pub fn build(self) -> Result<HealthLayer, ConfigError> {
        self.pair().map(|(layer, _)| layer)
    }

    /// Builds the layer and the [`Drain`] handle that flips its readiness.
    pub fn pair(self) -> Result<(HealthLayer, Drain), ConfigError> {
        self.validate()?;
        let user = self.registrations.len();
        #[cfg_attr(not(feature = "system"), allow(unused_mut))]
        let mut slots: Vec<Slot> = self
            .registrations
            .into_iter()
            .map(|registration| Slot::new(registration, self.timeout))
            .collect();
        let mut routes = Vec::with_capacity(self.routes.len());
        for (path, endpoint, _) in self.routes {
            let checks = select(&slots[..user], &self.groups, &endpoint).ok_or_else(|| {
                let group = match &endpoint {
                    Endpoint::Group(name) => name.to_string(),
                    _ => String::new(),
                };
                ConfigError::invalid(
                    "route",
                    format!("`{path}` serves the group `{group}`, which `group` never defined"),
                )
            })?;
            routes.push(Route {
                path,
                endpoint,
                checks,
            });
        }
        #[cfg(feature = "system")]
        let system = self.system_section.then(|| {
            let sampler = crate::checks::sample::SystemSampler::new(self.disk_path);
            slots.push(Slot::new(
                Registration::new("system", sampler),
                self.timeout,
            ));
            slots.len() - 1
        });
        #[cfg(not(feature = "system"))]
        let system = None;
        #[cfg(feature = "prometheus")]
        if let Some(metrics) = &self.metrics {
            metrics.announce(slots[..user].iter().map(|slot| slot.key.as_str()));
        }
        let drain = Drain::new();
        let shared = Arc::new(Shared {
            slots: slots.into_boxed_slice(),
            user,
            system,
            routes,
            summaries: crate::report::Summaries::new(&self.meta),
            meta: self.meta,
            details: self.details,
            ttl: self.cache_ttl,
            failure_ttl: self.failure_ttl.min(self.cache_ttl),
            refresh_every: self.refresh_every,
            background: AtomicBool::new(false),
            drain: drain.clone(),
            started: std::time::Instant::now(),
            #[cfg(feature = "prometheus")]
            metrics: self.metrics,
        });
        shared.ensure_background();
        let guard = self.guard.map(Arc::new);
        Ok((HealthLayer { shared, guard }, drain))
    }
}
