//! The `tracing` layer: errors as events, info and warnings as breadcrumbs.

use sentry::integrations::tracing::{EventFilter, SentryLayer};
use tracing::{Level, Metadata};
use tracing_subscriber::registry::LookupSpan;

/// A `tracing-subscriber` layer sending `tracing` events to the current
/// hub: `error` as Sentry events, `info` and `warn` as breadcrumbs, the
/// rest ignored. This crate's own logs are breadcrumbs only (the layer
/// captures what they describe itself).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(strata_sentry::tracing_layer());
/// # let _ = subscriber;
/// ```
pub fn tracing_layer<S>() -> SentryLayer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    sentry::integrations::tracing::layer().event_filter(event_filter)
}

fn event_filter(metadata: &Metadata<'_>) -> EventFilter {
    let own = metadata.target().starts_with("strata_sentry");
    match *metadata.level() {
        Level::ERROR if !own => EventFilter::Event,
        Level::ERROR | Level::WARN | Level::INFO => EventFilter::Breadcrumb,
        _ => EventFilter::Ignore,
    }
}
