//! Waking the instances that wait on a fill lease: one subscriber
//! connection per store on the `<prefix>filled` channel, and a slow poll
//! of the lease only as a backstop (a lost message, a subscriber that is
//! reconnecting).

use std::sync::Arc;
use std::time::Duration;

use strata_core::redis::fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use strata_core::redis::fred::types::Builder;
use tokio::sync::Notify;

use super::RedisStore;
use crate::CacheKey;
use crate::store::Notice;

/// How often a waiter checks the lease itself.
const BACKSTOP: Duration = Duration::from_millis(500);

impl RedisStore {
    /// Starts the subscriber once (in the background: a store whose Redis
    /// is down does not wait for it). It wakes lease waiters and forwards
    /// broadcast messages to listeners, with a [`Notice::Resync`] each time
    /// its subscription becomes active (first connection and every
    /// reconnection), as messages sent meanwhile were lost.
    pub(super) async fn subscribe(&self) {
        let waiters = Arc::clone(&self.shared.waiters);
        let notices = self.shared.notices.clone();
        let channel = self.channel();
        let invalidate = self.invalidate_channel();
        let pool = self.pool.clone();
        self.shared
            .subscriber
            .get_or_init(|| async move {
                let template = pool.next();
                let mut builder = Builder::from_config(template.client_config());
                builder.set_connection_config(template.connection_config().clone());
                if let Some(policy) = template.client_reconnect_policy() {
                    builder.set_policy(policy);
                }
                let Ok(subscriber) = builder.build_subscriber_client() else {
                    tracing::warn!("cache store: no subscriber client; waiters poll the lease");
                    return;
                };
                let mut messages = subscriber.message_rx();
                let mut reconnects = subscriber.reconnect_rx();
                subscriber.connect();
                let _resubscribe = subscriber.manage_subscriptions();
                let resync = notices.clone();
                tokio::spawn(async move {
                    let mut first = true;
                    while reconnects.recv().await.is_ok() {
                        // The first connection's `Resync` follows the
                        // subscription below.
                        if !std::mem::take(&mut first) {
                            let _ = resync.send(Notice::Resync);
                        }
                    }
                });
                tokio::spawn(async move {
                    match subscriber.subscribe(vec![channel, invalidate.clone()]).await {
                        Ok(()) => {
                            let _ = notices.send(Notice::Resync);
                        }
                        Err(error) => tracing::warn!(
                            %error,
                            "cache store: cannot subscribe; waiters poll the lease and memory tiers \
                             rely on their TTL cap"
                        ),
                    }
                    // Keeps the subscriber alive as long as messages flow.
                    while let Ok(message) = messages.recv().await {
                        let Some(text) = message.value.as_string() else {
                            continue;
                        };
                        if *message.channel == *invalidate {
                            let _ = notices.send(Notice::Message(Arc::from(text)));
                        } else if let Some(notify) = waiters.get(&text) {
                            notify.notify_waiters();
                        }
                    }
                    drop(subscriber);
                });
            })
            .await;
    }

    /// Waits until the lease of `variant` of `key` is released or gone, at
    /// most `max`.
    pub(super) async fn wait_for_release(&self, key: &CacheKey, variant: &str, max: Duration) {
        self.subscribe().await;
        let id = format!("{}:{variant}", key.digest());
        let notify = Arc::clone(
            &*self
                .shared
                .waiters
                .entry(id.clone())
                .or_insert_with(|| Arc::new(Notify::new())),
        );
        let deadline = tokio::time::Instant::now() + max;
        {
            let notified = notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            loop {
                // Released (or expired) before this waiter listened: done.
                if !self.leased(key.digest(), variant).await.unwrap_or(true) {
                    break;
                }
                let wake = deadline.min(tokio::time::Instant::now() + BACKSTOP);
                tokio::select! {
                    () = &mut notified => break,
                    () = tokio::time::sleep_until(wake) => {}
                }
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
            }
        }
        drop(notify);
        self.shared
            .waiters
            .remove_if(&id, |_, n| Arc::strong_count(n) == 1);
    }
}
