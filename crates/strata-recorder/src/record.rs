//! What is recorded of one exchange: [`Exchange`], its [`Summary`] and the
//! [`RecordTags`] other layers attach.

use serde::{Deserialize, Serialize};

/// Who and what an exchange belongs to, for the recorder to store beside it.
///
/// Insert it into the request or the response extensions (a session layer
/// in the response, an authentication middleware or the handler in either);
/// fields set in the response win over the request's. Put identifiers here,
/// never secrets: the session value should be a record id or a hash of the
/// session, not the cookie.
///
/// ```
/// use strata_recorder::RecordTags;
///
/// let tags = RecordTags::new().session("s-81f2").user("ada").trace_id("4bf92f3577b34da6");
/// assert_eq!(tags.user.as_deref(), Some("ada"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordTags {
    /// The session (an identifier, not the secret).
    pub session: Option<String>,
    /// The signed-in user.
    pub user: Option<String>,
    /// The trace id (also the sampling key when present).
    pub trace_id: Option<String>,
}

impl RecordTags {
    /// No tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the session.
    #[must_use]
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// Sets the user.
    #[must_use]
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets the trace id.
    #[must_use]
    pub fn trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// Fields of `other` that are set replace these.
    pub(crate) fn merge(&mut self, other: &RecordTags) {
        if other.session.is_some() {
            self.session.clone_from(&other.session);
        }
        if other.user.is_some() {
            self.user.clone_from(&other.user);
        }
        if other.trace_id.is_some() {
            self.trace_id.clone_from(&other.trace_id);
        }
    }
}

/// How an exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The response body was sent to its end.
    Complete,
    /// The response body was dropped before its end (the client went away).
    Aborted,
    /// The inner service returned an error instead of a response.
    Error,
}

/// The captured part of one body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BodyRecord {
    /// The first bytes, up to the per-body cap, redacted.
    #[serde(with = "b64")]
    pub prefix: Vec<u8>,
    /// Bytes of the whole body that went through.
    pub total_len: u64,
    /// XXH3-128 of the whole body as sent, 32 lowercase hex digits: tells
    /// equal bodies apart at memory speed (a SHA-256 of every body byte
    /// cost more than the rest of the recorder); not a cryptographic
    /// commitment.
    pub xxh3_128: String,
    /// Whether `prefix` is shorter than the body.
    pub truncated: bool,
    /// Why no prefix is stored although the body has bytes (for example
    /// `content-encoding`: a compressed body cannot be redacted, so it is
    /// not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<String>,
}

/// One recorded request and response, redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Exchange {
    /// The summary: everything queries filter on.
    #[serde(flatten)]
    pub summary: Summary,
    /// Request headers, in order, redacted.
    pub request_headers: Vec<(String, String)>,
    /// Response headers, in order, redacted.
    pub response_headers: Vec<(String, String)>,
    /// The request body.
    pub request_body: BodyRecord,
    /// The response body.
    pub response_body: BodyRecord,
    /// The HTTP version, `HTTP/1.1` style.
    pub http_version: String,
}

/// What queries filter on and lists show, for one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// The id: 16 hex digits of the start time in Unix microseconds then 16
    /// of the exchange's random part, so ids sort by start time.
    pub id: String,
    /// Start, Unix milliseconds (wall clock).
    pub started_ms: u64,
    /// The request method.
    pub method: String,
    /// The route template (`/items/{id}`) when the router tells it.
    pub route: Option<String>,
    /// The request URI as received, query parameters redacted.
    pub uri: String,
    /// The `Host` (or URI authority) the request named.
    pub host: Option<String>,
    /// The response status, `None` when the service failed.
    pub status: Option<u16>,
    /// From the start to the response head, microseconds.
    pub ttfb_us: Option<u64>,
    /// From the start to the end of the response body, microseconds.
    pub duration_us: u64,
    /// The client IP strata-core resolved.
    pub client_ip: Option<String>,
    /// The session, from [`RecordTags`].
    pub session: Option<String>,
    /// The user, from [`RecordTags`].
    pub user: Option<String>,
    /// The trace id, from [`RecordTags`].
    pub trace_id: Option<String>,
    /// How the exchange ended.
    pub outcome: Outcome,
    /// Bytes the exchange takes in the store (compressed), `0` before it is stored.
    #[serde(default)]
    pub stored_bytes: u64,
}

/// Bodies as base64 in JSON.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
