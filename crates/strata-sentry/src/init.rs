//! [`Init`]: the client, from the environment, with the defaults the layer
//! is built for.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sentry::protocol::Event;
use sentry::types::Dsn;
use sentry::{ClientInitGuard, ClientOptions, TracesSamplingStrategy, TransactionContext};
use strata_core::ConfigError;

use crate::report::STATUS_TAG;
use crate::service::PATH_KEY;
use crate::testing::Capture;

/// Paths the default traces sampler never samples: health probes and the
/// Prometheus scrape.
pub const UNSAMPLED_PATHS: [&str; 5] = ["/metrics", "/health", "/healthz", "/livez", "/readyz"];

type BeforeSend = Arc<dyn Fn(Event<'static>) -> Option<Event<'static>> + Send + Sync>;

/// The Sentry client's settings: `Init::from_env()` (or `Init::new()`),
/// setters, then [`init`](Self::init) in a service or
/// [`capture`](Self::capture) in a test.
///
/// Defaults on top of sentry's: a `before_send` that drops client errors
/// ([`drop_client_errors`]) and the [`traces_sampler`] that never samples
/// probes and `/metrics`.
#[must_use]
pub struct Init {
    options: ClientOptions,
    dsn: Option<String>,
    traces_sample_rate: f32,
    before_send: Option<BeforeSend>,
    sampler: bool,
}

impl std::fmt::Debug for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Init")
            .field("options", &self.options)
            .field("dsn", &self.dsn.as_ref().map(|_| "[set]"))
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field("before_send", &self.before_send.is_some())
            .field("sampler", &self.sampler)
            .finish()
    }
}

impl Default for Init {
    fn default() -> Self {
        Self::new()
    }
}

impl Init {
    /// No DSN (reporting off), traces not sampled, the defaults above.
    pub fn new() -> Self {
        Self {
            options: ClientOptions::default(),
            dsn: None,
            traces_sample_rate: 0.0,
            before_send: Some(Arc::new(drop_client_errors)),
            sampler: true,
        }
    }

    /// [`Init::new`] with `SENTRY_DSN` (unset or empty: off),
    /// `SENTRY_RELEASE` and `SENTRY_ENVIRONMENT` from the environment.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
        let mut init = Self::new();
        init.dsn = var("SENTRY_DSN");
        init.options.release = var("SENTRY_RELEASE").map(Cow::Owned);
        init.options.environment = var("SENTRY_ENVIRONMENT").map(Cow::Owned);
        init
    }

    /// sentry's own options as the base (transport, integrations, server
    /// name...); the settings of this builder apply on top.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// The DSN; checked by [`init`](Self::init).
    pub fn dsn(mut self, dsn: impl Into<String>) -> Self {
        self.dsn = Some(dsn.into());
        self
    }

    /// The release, e.g. `concat!("my-service@", env!("CARGO_PKG_VERSION"))`.
    pub fn release(mut self, release: impl Into<Cow<'static, str>>) -> Self {
        self.options.release = Some(release.into());
        self
    }

    /// The environment (`production`, `development`...).
    pub fn environment(mut self, environment: impl Into<Cow<'static, str>>) -> Self {
        self.options.environment = Some(environment.into());
        self
    }

    /// The share of transactions sampled, `0.0..=1.0` (default 0: none).
    pub fn traces_sample_rate(mut self, rate: f32) -> Self {
        self.traces_sample_rate = rate;
        self
    }

    /// Send personal data: every header, the query string, cookies.
    pub fn send_default_pii(mut self, pii: bool) -> Self {
        self.options.send_default_pii = pii;
        self
    }

    /// Replaces the default `before_send` ([`drop_client_errors`]).
    pub fn before_send<F>(mut self, before_send: F) -> Self
    where
        F: Fn(Event<'static>) -> Option<Event<'static>> + Send + Sync + 'static,
    {
        self.before_send = Some(Arc::new(before_send));
        self
    }

    /// Replaces the default traces sampler ([`traces_sampler`]).
    pub fn traces_sampler<F>(mut self, sampler: F) -> Self
    where
        F: Fn(&TransactionContext) -> f32 + Send + Sync + 'static,
    {
        self.options.traces_sampling_strategy = TracesSamplingStrategy::Function(Arc::new(sampler));
        self.sampler = false;
        self
    }

    /// The client options, or the first setting that is invalid.
    pub fn client_options(self) -> Result<ClientOptions, ConfigError> {
        let mut options = self.options;
        if let Some(dsn) = self.dsn.filter(|dsn| !dsn.is_empty()) {
            let dsn = dsn
                .parse::<Dsn>()
                .map_err(|error| ConfigError::invalid("dsn", error.to_string()))?;
            options.dsn = Some(dsn);
        }
        let rate = self.traces_sample_rate;
        if !(0.0..=1.0).contains(&rate) {
            return Err(ConfigError::invalid(
                "traces_sample_rate",
                format!("{rate} is not within 0.0..=1.0"),
            ));
        }
        if self.sampler {
            options.traces_sampling_strategy =
                TracesSamplingStrategy::Function(Arc::new(traces_sampler(rate)));
        }
        if let Some(before_send) = self.before_send {
            options.before_send = Some(before_send);
        }
        Ok(options)
    }

    /// Starts the client and binds it to the process; keep the guard until
    /// the process ends (dropping it flushes what is queued).
    ///
    /// Call it first thing in `main`, **before** the tokio runtime starts
    /// (not inside `#[tokio::main]`): threads and tasks started earlier may
    /// not see the client, and their events are lost. Called inside a
    /// runtime, it logs a warning once.
    pub fn init(self) -> Result<ClientInitGuard, ConfigError> {
        let options = self.client_options()?;
        if tokio::runtime::Handle::try_current().is_ok() {
            warn_inside_runtime_once();
        }
        Ok(sentry::init(options))
    }

    /// A client whose events stay in memory, for tests: see [`Capture`].
    pub fn capture(self) -> Result<Capture, ConfigError> {
        Ok(Capture::new(self.client_options()?))
    }
}

#[cold]
fn warn_inside_runtime_once() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "strata-sentry: Init::init ran inside a tokio runtime; threads and tasks started \
             before it may not report. Initialise in main before building the runtime (not \
             inside #[tokio::main]); logged once"
        );
    }
}

/// The default `before_send`: drops events of responses with a client
/// error status (`4xx`), keeps everything else.
pub fn drop_client_errors(event: Event<'static>) -> Option<Event<'static>> {
    let client_error = event
        .tags
        .get(STATUS_TAG)
        .and_then(|status| status.parse::<u16>().ok())
        .is_some_and(|status| (400..500).contains(&status));
    (!client_error).then_some(event)
}

/// The default traces sampler: never samples [`UNSAMPLED_PATHS`] (and
/// paths under `/health/`); otherwise follows the incoming trace's decision
/// (`sentry-trace` header), else samples at `rate`.
pub fn traces_sampler(rate: f32) -> impl Fn(&TransactionContext) -> f32 + Send + Sync + 'static {
    move |context| {
        let path = context
            .custom()
            .and_then(|custom| custom.get(PATH_KEY))
            .and_then(|path| path.as_str());
        if path.is_some_and(is_unsampled) {
            return 0.0;
        }
        match context.sampled() {
            Some(true) => 1.0,
            Some(false) => 0.0,
            None => rate,
        }
    }
}

fn is_unsampled(path: &str) -> bool {
    UNSAMPLED_PATHS.contains(&path) || path.starts_with("/health/")
}
