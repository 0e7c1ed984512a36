//! Settings and the builder of [`SessionLayer`](crate::SessionLayer).

use std::sync::Arc;
use std::time::Duration;

use strata_core::ConfigError;

use crate::admin::SessionAdmin;
use crate::clock::{Clock, Now};
use crate::cookie::{self, CookieFormat, SameSite};
use crate::guard::{self, CrossSiteGuard};
use crate::layer::SessionLayer;
use crate::observe::Observer;
use crate::store::Store;

/// Default for [`SessionBuilder::idle_timeout`]: 24 hours.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Default for [`SessionBuilder::absolute_lifetime`]: 7 days.
pub const DEFAULT_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default for [`SessionBuilder::touch_interval`]: 1 minute.
pub const DEFAULT_TOUCH_INTERVAL: Duration = Duration::from_secs(60);
/// Default for [`SessionBuilder::rotation_grace`]: 5 seconds.
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(5);
/// Default for [`SessionBuilder::store_timeout`]: 250 milliseconds.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

/// What a request whose session could not be loaded (store error or
/// timeout) gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnStoreError {
    /// Go on with an *unavailable* session: it reads as anonymous, refuses
    /// writes, and the `Session` axum extractor answers `503` problem+json,
    /// so routes that need a session fail closed while the others still
    /// serve.
    #[default]
    Anonymous,
    /// Answer every request that carries a session cookie with `503`
    /// problem+json.
    Reject,
}

/// Settings shared by the layer, its services and the admin handle.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) cookie: CookieFormat,
    pub(crate) idle_ms: u64,
    pub(crate) absolute_ms: u64,
    pub(crate) touch_ms: u64,
    pub(crate) grace_ms: u64,
    pub(crate) store_timeout: Duration,
    /// The store bounds a load within `store_timeout` itself
    /// ([`Store::load_bound`], read when the layer is built).
    pub(crate) load_self_bounded: bool,
    pub(crate) on_store_error: OnStoreError,
    pub(crate) guard: CrossSiteGuard,
    pub(crate) now: Now,
    pub(crate) observer: Observer,
}

impl Settings {
    /// Time to live for a record seen at `now_ms` that ends at `expires_ms`.
    pub(crate) fn ttl(&self, now_ms: u64, expires_ms: u64) -> Duration {
        Duration::from_millis(self.idle_ms.min(expires_ms.saturating_sub(now_ms)).max(1))
    }

    /// The settings of an admin handle without a layer: the defaults, and
    /// no idle cut-off of its own (the store's TTLs apply it).
    pub(crate) fn for_admin(store: impl Store) -> Self {
        let mut settings = SessionBuilder::new(store)
            .settings()
            .expect("the default settings are valid");
        settings.idle_ms = u64::MAX;
        settings
    }
}

/// Builds a [`SessionLayer`]: `SessionLayer::builder(store)`, setters, then
/// [`build`](Self::build) or [`pair`](Self::pair).
#[derive(Debug)]
#[must_use]
pub struct SessionBuilder {
    store: Arc<dyn Store>,
    cookie_name: Option<String>,
    cookie_path: String,
    cookie_domain: Option<String>,
    secure: bool,
    same_site: SameSite,
    persistent: bool,
    idle_timeout: Duration,
    absolute_lifetime: Duration,
    touch_interval: Duration,
    rotation_grace: Duration,
    store_timeout: Duration,
    on_store_error: OnStoreError,
    cross_site_guard: bool,
    allowed_origins: Vec<String>,
    guard_bypass: Vec<String>,
    clock: Clock,
    #[cfg(feature = "prometheus")]
    metrics: Option<crate::SessionMetrics>,
}

impl SessionBuilder {
    pub(crate) fn new(store: impl Store) -> Self {
        Self {
            store: Arc::new(store),
            cookie_name: None,
            cookie_path: "/".into(),
            cookie_domain: None,
            secure: true,
            same_site: SameSite::Lax,
            persistent: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            absolute_lifetime: DEFAULT_ABSOLUTE_LIFETIME,
            touch_interval: DEFAULT_TOUCH_INTERVAL,
            rotation_grace: DEFAULT_ROTATION_GRACE,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            on_store_error: OnStoreError::default(),
            cross_site_guard: true,
            allowed_origins: Vec::new(),
            guard_bypass: Vec::new(),
            clock: Clock::default(),
            #[cfg(feature = "prometheus")]
            metrics: None,
        }
    }

    /// The cookie's name. Default `__Host-sid` when
    /// [`secure`](Self::secure) (the prefix makes browsers refuse it
    /// without `Secure`, with a `Domain` or a `Path` other than `/`), `sid`
    /// otherwise.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = Some(name.into());
        self
    }

    /// The cookie's `Path`. Default `/`.
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie_path = path.into();
        self
    }

    /// The cookie's `Domain`. Default none (host-only cookie).
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie_domain = Some(domain.into());
        self
    }

    /// Whether the cookie is `Secure` (sent over HTTPS only). Default
    /// `true`; turn it off for plain-HTTP development only.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie's `SameSite`. Default [`SameSite::Lax`].
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// `true`: the cookie carries `Max-Age` (the session's remaining
    /// absolute lifetime) and survives a browser restart. Default `false`:
    /// a browser-session cookie. Either way the server enforces both
    /// timeouts.
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// A session unused this long ends. Default [`DEFAULT_IDLE_TIMEOUT`].
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// A session ends this long after it was created, however active.
    /// Default [`DEFAULT_ABSOLUTE_LIFETIME`].
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime;
        self
    }

    /// Activity extends the idle timeout at most this often: one small
    /// write (last-seen time and expiry; no data, no `Set-Cookie`). Default
    /// [`DEFAULT_TOUCH_INTERVAL`]; must be shorter than the idle timeout.
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.touch_interval = interval;
        self
    }

    /// After a rotation ([`Session::sign_in`](crate::Session::sign_in),
    /// [`Session::cycle_id`](crate::Session::cycle_id)), the replaced id
    /// still works this long, for requests already in flight. Default
    /// [`DEFAULT_ROTATION_GRACE`]; at most one minute; zero turns it off.
    pub fn rotation_grace(mut self, grace: Duration) -> Self {
        self.rotation_grace = grace;
        self
    }

    /// Every store call is bounded by this. Default
    /// [`DEFAULT_STORE_TIMEOUT`].
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// What a request gets when its session cannot be loaded. Default
    /// [`OnStoreError::Anonymous`].
    pub fn on_store_error(mut self, policy: OnStoreError) -> Self {
        self.on_store_error = policy;
        self
    }

    /// Refuse (`403` problem+json) unsafe requests that carry the session
    /// cookie but come from another site (see the crate docs). Default
    /// `true`.
    pub fn cross_site_guard(mut self, enabled: bool) -> Self {
        self.cross_site_guard = enabled;
        self
    }

    /// An origin (`https://app.example.com`) whose requests the cross-site
    /// guard lets through. May be called several times.
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// A path prefix (`/webhooks/`) the cross-site guard does not check.
    /// May be called several times.
    pub fn guard_bypass(mut self, path_prefix: impl Into<String>) -> Self {
        self.guard_bypass.push(path_prefix.into());
        self
    }

    /// The clock sessions are timed by. Default [`Clock::System`].
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Count into these collectors (feature `prometheus`).
    #[cfg(feature = "prometheus")]
    pub fn metrics(mut self, metrics: crate::SessionMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Checks the settings and builds the layer.
    pub fn build(self) -> Result<SessionLayer, ConfigError> {
        self.pair().map(|(layer, _)| layer)
    }

    /// Checks the settings and builds the layer and its [`SessionAdmin`]
    /// handle (list and revoke sessions by user).
    pub fn pair(self) -> Result<(SessionLayer, SessionAdmin), ConfigError> {
        let settings = Arc::new(self.settings()?);
        Ok((
            SessionLayer::from_settings(settings.clone()),
            SessionAdmin::from_settings(settings),
        ))
    }

    fn settings(self) -> Result<Settings, ConfigError> {
        let name = self
            .cookie_name
            .clone()
            .unwrap_or_else(|| if self.secure { "__Host-sid" } else { "sid" }.to_owned());
        if !cookie::is_token(&name) {
            return Err(ConfigError::invalid(
                "cookie_name",
                "not a cookie name (a token)",
            ));
        }
        if name.starts_with("__Host-")
            && (!self.secure || self.cookie_domain.is_some() || self.cookie_path != "/")
        {
            return Err(ConfigError::invalid(
                "cookie_name",
                "a `__Host-` cookie needs `secure(true)`, no domain and path `/`",
            ));
        }
        if name.starts_with("__Secure-") && !self.secure {
            return Err(ConfigError::invalid(
                "cookie_name",
                "a `__Secure-` cookie needs `secure(true)`",
            ));
        }
        if !self.cookie_path.starts_with('/') || !cookie::is_attribute_value(&self.cookie_path) {
            return Err(ConfigError::invalid(
                "cookie_path",
                "must start with `/`, visible ASCII without `;`",
            ));
        }
        if let Some(domain) = &self.cookie_domain
            && !cookie::is_attribute_value(domain)
        {
            return Err(ConfigError::invalid(
                "cookie_domain",
                "visible ASCII without `;`",
            ));
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::invalid(
                "same_site",
                "`SameSite=None` needs `secure(true)`",
            ));
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if self.idle_timeout < Duration::from_secs(1) {
            return Err(ConfigError::invalid("idle_timeout", "at least one second"));
        }
        if self.absolute_lifetime < self.idle_timeout.min(Duration::from_secs(60)) {
            return Err(ConfigError::invalid(
                "absolute_lifetime",
                "at least one minute, or the idle timeout",
            ));
        }
        if self.touch_interval >= self.idle_timeout {
            return Err(ConfigError::invalid(
                "touch_interval",
                "must be shorter than the idle timeout",
            ));
        }
        if self.rotation_grace > Duration::from_secs(60) {
            return Err(ConfigError::invalid("rotation_grace", "at most one minute"));
        }
        if self.store_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "store_timeout",
                "must be more than zero",
            ));
        }
        let mut allowed_origins = Vec::with_capacity(self.allowed_origins.len());
        for origin in &self.allowed_origins {
            let Some(origin) = guard::normalise_origin(origin) else {
                return Err(ConfigError::invalid(
                    "allowed_origin",
                    format!("{origin:?} is not an origin like `https://app.example.com`"),
                ));
            };
            allowed_origins.push(origin);
        }
        if let Some(bad) = self.guard_bypass.iter().find(|p| !p.starts_with('/')) {
            return Err(ConfigError::invalid(
                "guard_bypass",
                format!("{bad:?} does not start with `/`"),
            ));
        }
        let load_self_bounded = self
            .store
            .load_bound()
            .is_some_and(|bound| bound <= self.store_timeout);
        Ok(Settings {
            store: self.store,
            cookie: CookieFormat::new(
                name,
                &self.cookie_path,
                self.cookie_domain.as_deref(),
                self.secure,
                self.same_site,
                self.persistent,
            ),
            idle_ms: ms(self.idle_timeout),
            absolute_ms: ms(self.absolute_lifetime),
            touch_ms: ms(self.touch_interval),
            grace_ms: ms(self.rotation_grace),
            store_timeout: self.store_timeout,
            load_self_bounded,
            on_store_error: self.on_store_error,
            guard: CrossSiteGuard {
                enabled: self.cross_site_guard,
                allowed_origins,
                bypass: self.guard_bypass,
            },
            now: Now::new(self.clock),
            observer: Observer::new(
                #[cfg(feature = "prometheus")]
                self.metrics,
            ),
        })
    }
}
