//! [`Capture`]: Sentry offline, for tests.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use sentry::protocol::{Event, Transaction};
use sentry::{ClientOptions, Envelope, Hub, SentryFutureExt, Transport};

/// The DSN of captured clients: never contacted.
const OFFLINE_DSN: &str = "https://public@sentry.invalid/1";

/// A Sentry client whose envelopes stay in memory, and a hub bound to it:
/// run a test's future with [`run`](Self::run) (on any runtime, the
/// multi-thread one included: the hub follows the future across threads),
/// then read [`events`](Self::events) and
/// [`transactions`](Self::transactions).
///
/// Made by [`Init::capture`](crate::Init::capture), so a test runs with the
/// settings (before_send, sampler) the service runs with.
///
/// Work the future spawns does not inherit the hub: spawn it with
/// `.bind_hub(capture.hub())` ([`sentry::SentryFutureExt`]).
pub struct Capture {
    hub: Arc<Hub>,
    transport: Arc<Collect>,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

impl Capture {
    pub(crate) fn new(mut options: ClientOptions) -> Self {
        let transport = Arc::new(Collect::default());
        if options.dsn.is_none() {
            options.dsn = OFFLINE_DSN.parse().ok();
        }
        options.transport = Some(Arc::new(transport.clone()));
        let client = Arc::new(sentry::Client::from(options));
        let hub = Arc::new(Hub::new(Some(client), Arc::default()));
        Self { hub, transport }
    }

    /// The hub bound to the captured client.
    pub fn hub(&self) -> Arc<Hub> {
        self.hub.clone()
    }

    /// Runs `future` with the hub bound.
    pub async fn run<F: Future>(&self, future: F) -> F::Output {
        future.bind_hub(self.hub.clone()).await
    }

    /// The events captured so far, oldest first.
    pub fn events(&self) -> Vec<Event<'static>> {
        self.envelopes()
            .iter()
            .filter_map(|envelope| envelope.event().cloned())
            .collect()
    }

    /// The transactions sent so far, oldest first.
    pub fn transactions(&self) -> Vec<Transaction<'static>> {
        self.envelopes()
            .iter()
            .flat_map(Envelope::items)
            .filter_map(|item| match item {
                sentry::protocol::EnvelopeItem::Transaction(transaction) => {
                    Some(Transaction::clone(transaction))
                }
                _ => None,
            })
            .collect()
    }

    /// Every envelope sent so far, oldest first.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.transport
            .envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets what was captured so far.
    pub fn clear(&self) {
        self.transport
            .envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[derive(Default)]
struct Collect {
    envelopes: Mutex<Vec<Envelope>>,
}

impl Transport for Collect {
    fn send_envelope(&self, envelope: Envelope) {
        self.envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(envelope);
    }
}
