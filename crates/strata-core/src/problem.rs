//! RFC 9457 problem details.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};

/// The media type of a problem details document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 `application/problem+json` document, the body of every strata
/// rejection.
///
/// `type` defaults to `about:blank`, whose `title` is the status's reason
/// phrase. Extension members sit beside the standard ones; the names `type`,
/// `title`, `status`, `detail` and `instance` are reserved for the standard
/// members, and an extension using one of them is ignored.
///
/// ```
/// use http::StatusCode;
/// use strata_core::Problem;
///
/// let response = Problem::new(StatusCode::TOO_MANY_REQUESTS)
///     .type_uri("https://iana.org/assignments/http-problem-types#quota-exceeded")
///     .title("Too many requests")
///     .detail("60 requests per minute")
///     .extension("policies", ["per-ip"])
///     .into_response::<bytes::Bytes>();
///
/// assert_eq!(response.status(), 429);
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// let body: serde_json::Value = serde_json::from_slice(response.body())?;
/// assert_eq!(body["status"], 429);
/// assert_eq!(body["policies"][0], "per-ip");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    status: StatusCode,
    type_uri: Option<Cow<'static, str>>,
    title: Option<Cow<'static, str>>,
    detail: Option<Cow<'static, str>>,
    instance: Option<Cow<'static, str>>,
    extensions: Map<String, Value>,
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "type")]
    type_uri: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<&'a str>,
    #[serde(flatten)]
    extensions: &'a Map<String, Value>,
}

const RESERVED: [&str; 5] = ["type", "title", "status", "detail", "instance"];

impl Problem {
    /// A problem with this status and `type` `about:blank`.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            type_uri: None,
            title: None,
            detail: None,
            instance: None,
            extensions: Map::new(),
        }
    }

    /// The URI identifying the problem type.
    #[must_use]
    pub fn type_uri(mut self, uri: impl Into<Cow<'static, str>>) -> Self {
        self.type_uri = Some(uri.into());
        self
    }

    /// A short summary of the problem type. Default for `about:blank`: the
    /// status's reason phrase.
    #[must_use]
    pub fn title(mut self, title: impl Into<Cow<'static, str>>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// An explanation specific to this occurrence.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// A URI identifying this occurrence.
    #[must_use]
    pub fn instance(mut self, instance: impl Into<Cow<'static, str>>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Adds an extension member. A value that cannot be represented as JSON
    /// (a map with non-string keys) is stored as `null`.
    #[must_use]
    pub fn extension(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        if !RESERVED.contains(&name.as_str()) {
            let value = serde_json::to_value(value).unwrap_or(Value::Null);
            self.extensions.insert(name, value);
        }
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The extension member `name`, if set.
    pub fn get_extension(&self, name: &str) -> Option<&Value> {
        self.extensions.get(name)
    }

    /// The JSON document, members in the order `type`, `title`, `status`,
    /// `detail`, `instance`, then extensions.
    pub fn to_json(&self) -> Bytes {
        let type_uri = self.type_uri.as_deref().unwrap_or("about:blank");
        let title = match (&self.title, type_uri) {
            (Some(title), _) => Some(title.as_ref()),
            (None, "about:blank") => self.status.canonical_reason(),
            (None, _) => None,
        };
        let doc = Document {
            type_uri,
            title,
            status: self.status.as_u16(),
            detail: self.detail.as_deref(),
            instance: self.instance.as_deref(),
            extensions: &self.extensions,
        };
        // Strings, integers and a map of JSON values always serialise.
        Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
    }

    /// The response: this status, `Content-Type: application/problem+json`,
    /// `Cache-Control: no-store`, and the JSON document as the body.
    pub fn into_response<B: From<Bytes>>(self) -> Response<B> {
        let mut response = Response::new(B::from(self.to_json()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        response
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Problem {
    fn into_response(self) -> axum::response::Response {
        Problem::into_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(problem: &Problem) -> Value {
        serde_json::from_slice(&problem.to_json()).expect("valid JSON")
    }

    #[test]
    fn about_blank_takes_the_reason_phrase_as_title() {
        let doc = json(&Problem::new(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(doc["type"], "about:blank");
        assert_eq!(doc["title"], "Service Unavailable");
        assert_eq!(doc["status"], 503);
        assert!(doc.get("detail").is_none());
    }

    #[test]
    fn custom_type_has_no_default_title() {
        let doc = json(&Problem::new(StatusCode::BAD_REQUEST).type_uri("urn:x"));
        assert_eq!(doc["type"], "urn:x");
        assert!(doc.get("title").is_none());
    }

    #[test]
    fn extensions_cannot_override_standard_members() {
        let problem = Problem::new(StatusCode::FORBIDDEN)
            .detail("no")
            .extension("status", 200)
            .extension("type", "evil")
            .extension("reason", "denied");
        let doc = json(&problem);
        assert_eq!(doc["status"], 403);
        assert_eq!(doc["type"], "about:blank");
        assert_eq!(doc["reason"], "denied");
        assert_eq!(doc["detail"], "no");
    }

    #[test]
    fn members_are_in_rfc_order() {
        let problem = Problem::new(StatusCode::PAYLOAD_TOO_LARGE)
            .instance("/upload/1")
            .detail("too big")
            .extension("limit", 10);
        let text = String::from_utf8(problem.to_json().to_vec()).expect("utf-8");
        assert_eq!(
            text,
            r#"{"type":"about:blank","title":"Payload Too Large","status":413,"detail":"too big","instance":"/upload/1","limit":10}"#
        );
    }

    #[test]
    fn response_carries_status_and_media_type() {
        let response = Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE).into_response::<Bytes>();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-store");
        let doc: Value = serde_json::from_slice(response.body()).expect("valid JSON");
        assert_eq!(doc["status"], 415);
    }
}
