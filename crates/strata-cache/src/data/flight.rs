//! In-process coalescing of loads: one leader per key, the others woken
//! with its outcome (value bytes or the loader's error).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use tokio::sync::watch;

/// Why a load gave no value to share.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The loader's error, an `Arc<E>` of the leader's `E`.
    Loader(Arc<dyn Any + Send + Sync>),
    Timeout(Duration),
    /// The value could not be encoded: each waiter loads its own.
    Unshareable,
}

pub(crate) type Outcome = Result<Bytes, Failure>;
type Slot = watch::Receiver<Option<Outcome>>;

#[derive(Debug, Default)]
pub(crate) struct Flights {
    map: Arc<DashMap<String, Slot>>,
}

/// The caller that loads; dropping it without [`finish`](Self::finish)
/// wakes the waiters empty-handed (they try again).
pub(crate) struct Leader {
    map: Arc<DashMap<String, Slot>>,
    key: String,
    tx: watch::Sender<Option<Outcome>>,
}

impl Leader {
    pub(crate) fn finish(self, outcome: Outcome) {
        self.tx.send_replace(Some(outcome));
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        let tx = &self.tx;
        self.map
            .remove_if(&self.key, |_, rx| rx.same_channel(&tx.subscribe()));
    }
}

pub(crate) enum Join {
    Leader(Leader),
    Waiter(Slot),
}

impl Flights {
    pub(crate) fn join(&self, key: &str) -> Join {
        match self.map.entry(key.to_owned()) {
            MapEntry::Occupied(e) => Join::Waiter(e.get().clone()),
            MapEntry::Vacant(v) => {
                let (tx, rx) = watch::channel(None);
                v.insert(rx);
                Join::Leader(Leader {
                    map: Arc::clone(&self.map),
                    key: key.to_owned(),
                    tx,
                })
            }
        }
    }
}

/// The leader's outcome (a timeout once `max` passed); `None` when it
/// gave up without one.
pub(crate) async fn wait(mut rx: Slot, max: Duration) -> Option<Outcome> {
    match tokio::time::timeout(max, rx.wait_for(Option::is_some)).await {
        Ok(Ok(outcome)) => outcome.clone(),
        Ok(Err(_)) => None,
        Err(_) => Some(Err(Failure::Timeout(max))),
    }
}
