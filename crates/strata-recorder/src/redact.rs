//! Redaction of headers, query parameters and body fields before anything
//! is stored.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde_json::Value;
use sha2::Sha256;

use crate::form;

mod json;

/// Headers whose values are redacted unless the builder removes them.
pub const DEFAULT_REDACTED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-csrf-token",
    "x-xsrf-token",
];

/// Query parameters and JSON / form body fields whose values are redacted
/// (names compared case-insensitively) unless the builder removes them.
pub const DEFAULT_REDACTED_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "password_confirmation",
    "new_password",
    "old_password",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "authorization",
    "auth",
    "credentials",
    "private_key",
    "session",
    "sessionid",
    "csrf_token",
    "otp",
];

/// What redaction replaces a value with: `redacted:` then 24 hex digits.
pub(crate) const MARK: &str = "redacted:";

/// The redaction settings: names and the key of the keyed hash.
#[derive(Clone)]
pub(crate) struct Redactor {
    headers: HashSet<String>,
    fields: HashSet<String>,
    key: Arc<[u8]>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("headers", &self.headers)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    pub(crate) fn new(headers: HashSet<String>, fields: HashSet<String>, key: Arc<[u8]>) -> Self {
        Self {
            headers,
            fields,
            key,
        }
    }

    /// `redacted:<hex of the first 12 bytes of HMAC-SHA256(key, value)>`.
    pub(crate) fn mark(&self, value: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(value);
        let tag = mac.finalize().into_bytes();
        let mut out = String::with_capacity(MARK.len() + 24);
        out.push_str(MARK);
        for b in &tag[..12] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    pub(crate) fn is_secret_field(&self, name: &str) -> bool {
        self.fields.contains(&name.to_ascii_lowercase())
    }

    /// Headers in order, values of denied (or sensitive-marked) ones redacted.
    pub(crate) fn headers(&self, headers: &HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let text = if value.is_sensitive() || self.headers.contains(name.as_str()) {
                    self.mark(value.as_bytes())
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), text)
            })
            .collect()
    }

    /// The URI with the values of secret query parameters redacted.
    pub(crate) fn uri(&self, uri: &str) -> String {
        match uri.split_once('?') {
            Some((path, query)) => format!("{path}?{}", self.form(query)),
            None => uri.to_owned(),
        }
    }

    /// A form (or query) with the values of secret fields redacted.
    fn form(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for (name, value) in form::pairs(text) {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(name);
            if let Some(value) = value {
                out.push('=');
                if self.is_secret_field(&form::decode(name)) {
                    out.push_str(&self.mark(form::decode(value).as_bytes()));
                } else {
                    out.push_str(value);
                }
            }
        }
        out
    }

    /// A body prefix, redacted by its media type; `None` in the second
    /// place, or why no prefix can be kept.
    pub(crate) fn body(
        &self,
        prefix: &[u8],
        truncated: bool,
        headers: &HeaderMap,
    ) -> (Vec<u8>, Option<String>) {
        if prefix.is_empty() {
            return (Vec::new(), None);
        }
        let header = |name: http::header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_ascii_lowercase())
        };
        if header(http::header::CONTENT_ENCODING).is_some_and(|e| !e.is_empty() && e != "identity")
        {
            // A compressed body cannot be redacted: keep none of it.
            return (Vec::new(), Some("content-encoding".to_owned()));
        }
        let media = header(http::header::CONTENT_TYPE).unwrap_or_default();
        let media = media.split(';').next().unwrap_or_default().trim();
        if media.starts_with("multipart/") {
            return (Vec::new(), Some("multipart".to_owned()));
        }
        let sniffed_json = media.is_empty()
            && prefix
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| matches!(b, b'{' | b'['));
        if media == "application/json" || media.ends_with("+json") || sniffed_json {
            return (self.json(prefix, truncated), None);
        }
        if media == "application/x-www-form-urlencoded" {
            let text = String::from_utf8_lossy(prefix);
            return (self.form(&text).into_bytes(), None);
        }
        (prefix.to_vec(), None)
    }

    /// A JSON body: parsed with serde_json when it is whole and valid, else
    /// scanned token-wise (a secret whose value cannot be delimited is
    /// redacted to the end).
    fn json(&self, prefix: &[u8], truncated: bool) -> Vec<u8> {
        if !truncated && let Ok(mut value) = serde_json::from_slice::<Value>(prefix) {
            self.json_value(&mut value);
            return serde_json::to_vec(&value).unwrap_or_default();
        }
        json::redact_prefix(prefix, self)
    }

    fn json_value(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (name, value) in map.iter_mut() {
                    if self.is_secret_field(name) {
                        let text = match &*value {
                            Value::String(s) => s.clone().into_bytes(),
                            other => serde_json::to_vec(other).unwrap_or_default(),
                        };
                        let marked = self.mark(&text);
                        *value = Value::String(marked);
                    } else {
                        self.json_value(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json_value(v)),
            _ => {}
        }
    }
}
