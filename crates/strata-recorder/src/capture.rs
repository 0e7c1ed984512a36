//! An exchange in flight ([`Pending`]) and what it becomes when it ends.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Request, Version};
use tokio::time::Instant;

use crate::body::Tap;
use crate::record::{Outcome, RecordTags, Summary};
use crate::retain::sample_hash;
use crate::shared::Shared;

/// What is known of an exchange before its response body ends.
pub(crate) struct Pending {
    shared: Arc<Shared>,
    rand: u64,
    started_us: u64,
    started: Instant,
    method: Method,
    uri: String,
    pub(crate) route: Option<String>,
    host: Option<String>,
    version: Version,
    request_headers: HeaderMap,
    request_tap: Arc<Mutex<Tap>>,
    client_ip: Option<IpAddr>,
    pub(crate) tags: RecordTags,
    pub(crate) status: Option<u16>,
    pub(crate) response_headers: HeaderMap,
    pub(crate) ttfb: Option<Duration>,
}

/// A kept exchange on its way to the store, not yet redacted.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) summary: Summary,
    pub(crate) version: Version,
    pub(crate) request_headers: HeaderMap,
    pub(crate) response_headers: HeaderMap,
    /// Prefix, truncated, SHA-256, length.
    pub(crate) request: (Vec<u8>, bool, String, u64),
    pub(crate) response: (Vec<u8>, bool, String, u64),
}

impl Pending {
    pub(crate) fn start<B>(
        shared: Arc<Shared>,
        request: &Request<B>,
        tap: Arc<Mutex<Tap>>,
    ) -> Self {
        let started_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let rand = crate::retain::mix(
            shared.seed
                ^ shared
                    .counter
                    .fetch_add(1, Ordering::Relaxed)
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| request.uri().authority().map(|a| a.to_string()));
        let client_ip = request
            .extensions()
            .get::<strata_core::ClientIp>()
            .filter(|ip| ip.is_resolved())
            .map(strata_core::ClientIp::ip);
        Self {
            rand,
            started_us,
            started: Instant::now(),
            method: request.method().clone(),
            uri: request.uri().to_string(),
            route: route(request),
            host,
            version: request.version(),
            request_headers: request.headers().clone(),
            request_tap: tap,
            client_ip,
            tags: request
                .extensions()
                .get::<RecordTags>()
                .cloned()
                .unwrap_or_default(),
            status: None,
            response_headers: HeaderMap::new(),
            ttfb: None,
            shared,
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Ends the exchange: decides retention and queues what is kept.
    pub(crate) fn finish(self: Box<Self>, response: Option<&mut Tap>, outcome: Outcome) {
        let duration = self.started.elapsed();
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let id = format!("{:016x}{:016x}", self.started_us, self.rand);
        let summary = Summary {
            id,
            started_ms: self.started_us / 1000,
            method: self.method.to_string(),
            route: self.route,
            uri: self.uri,
            host: self.host,
            status: self.status,
            ttfb_us: self.ttfb.map(micros),
            duration_us: micros(duration),
            client_ip: self.client_ip.map(|ip| ip.to_string()),
            session: self.tags.session,
            user: self.tags.user,
            trace_id: self.tags.trace_id,
            outcome,
            stored_bytes: 0,
        };
        let shared = self.shared;
        let key = summary
            .trace_id
            .as_deref()
            .map_or_else(|| crate::retain::mix(self.rand), sample_hash);
        shared.recorded();
        if !shared.retain.keeps(&summary, key, &shared.flags) {
            return;
        }
        let request = {
            let mut tap = self
                .request_tap
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let len = tap.len;
            let (prefix, truncated, sha) = tap.finish();
            (prefix, truncated, sha, len)
        };
        let response = response.map_or_else(
            || (Vec::new(), false, String::new(), 0),
            |tap| {
                let len = tap.len;
                let (prefix, truncated, sha) = tap.finish();
                (prefix, truncated, sha, len)
            },
        );
        shared.enqueue(Capture {
            summary,
            version: self.version,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            request,
            response,
        });
    }
}

#[cfg(feature = "axum")]
fn route<B>(request: &Request<B>) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
}

#[cfg(not(feature = "axum"))]
fn route<B>(_: &Request<B>) -> Option<String> {
    None
}
