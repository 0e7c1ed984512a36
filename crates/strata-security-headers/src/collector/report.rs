//! The two CSP report formats, normalised into [`CspViolation`].

use serde::Deserialize;
use serde_json::Value;

/// Longest string kept from a report field; longer ones are cut (with `…`),
/// so a report cannot blow up log lines.
pub const MAX_FIELD_CHARS: usize = 512;

/// Most reports read from one `application/reports+json` batch; the rest are
/// dropped.
pub const MAX_BATCH_REPORTS: usize = 100;

/// Whether the violated policy was enforced or report-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disposition {
    /// The resource was blocked.
    Enforce,
    /// `Content-Security-Policy-Report-Only`: only reported.
    Report,
}

impl Disposition {
    /// `"enforce"` or `"report"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Report => "report",
        }
    }
}

/// One CSP violation, the same whichever format the browser sent.
///
/// Strings are cut at [`MAX_FIELD_CHARS`] characters. Every field comes from
/// the client and is untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CspViolation {
    /// The page the violation happened on.
    pub document_url: String,
    /// What was blocked: a URL, or `inline`, `eval`, `wasm-eval`, ...
    pub blocked_url: String,
    /// The directive that was violated (`script-src-elem`, ...).
    pub effective_directive: String,
    /// The policy as the browser received it.
    pub original_policy: String,
    /// Enforced or report-only; `None` when the browser did not say.
    pub disposition: Option<Disposition>,
    /// The page's referrer.
    pub referrer: Option<String>,
    /// The script file where the violation happened.
    pub source_file: Option<String>,
    /// Line in `source_file`.
    pub line: Option<u64>,
    /// Column in `source_file`.
    pub column: Option<u64>,
    /// The HTTP status of the page.
    pub status_code: Option<u64>,
    /// The first characters of the blocked code (`'report-sample'`).
    pub sample: Option<String>,
    /// The browser, from the report or the request's `User-Agent`.
    pub user_agent: Option<String>,
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(cut)
}

fn number(value: Option<&Value>) -> Option<u64> {
    value.and_then(Value::as_u64)
}

fn disposition(value: Option<&Value>) -> Option<Disposition> {
    match value.and_then(Value::as_str)? {
        "enforce" => Some(Disposition::Enforce),
        "report" => Some(Disposition::Report),
        _ => None,
    }
}

/// `{"csp-report": {...}}` as sent for `report-uri`.
#[derive(Deserialize)]
struct Legacy {
    #[serde(rename = "csp-report")]
    report: serde_json::Map<String, Value>,
}

/// One entry of an `application/reports+json` batch.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    body: serde_json::Map<String, Value>,
}

/// Parses an `application/csp-report` document.
pub(crate) fn parse_legacy(bytes: &[u8]) -> Result<CspViolation, serde_json::Error> {
    let Legacy { report: r } = serde_json::from_slice(bytes)?;
    let directive = string(r.get("effective-directive"))
        .or_else(|| string(r.get("violated-directive")))
        .unwrap_or_default();
    Ok(CspViolation {
        document_url: string(r.get("document-uri")).unwrap_or_default(),
        blocked_url: string(r.get("blocked-uri")).unwrap_or_default(),
        // Old browsers put the whole directive ("script-src 'self'") here.
        effective_directive: directive.split(' ').next().unwrap_or_default().to_owned(),
        original_policy: string(r.get("original-policy")).unwrap_or_default(),
        disposition: disposition(r.get("disposition")),
        referrer: string(r.get("referrer")).filter(|s| !s.is_empty()),
        source_file: string(r.get("source-file")),
        line: number(r.get("line-number")),
        column: number(r.get("column-number")),
        status_code: number(r.get("status-code")),
        sample: string(r.get("script-sample")).filter(|s| !s.is_empty()),
        user_agent: None,
    })
}

/// Parses an `application/reports+json` batch, keeping the
/// `csp-violation` entries (at most [`MAX_BATCH_REPORTS`]). Returns the
/// violations and how many other reports were skipped.
pub(crate) fn parse_batch(bytes: &[u8]) -> Result<(Vec<CspViolation>, usize), serde_json::Error> {
    let entries: Vec<Entry> = serde_json::from_slice(bytes)?;
    let mut violations = Vec::new();
    let mut skipped = 0;
    for entry in entries.into_iter().take(MAX_BATCH_REPORTS) {
        if entry.kind != "csp-violation" {
            skipped += 1;
            continue;
        }
        let b = entry.body;
        violations.push(CspViolation {
            document_url: string(b.get("documentURL")).unwrap_or_default(),
            blocked_url: string(b.get("blockedURL")).unwrap_or_default(),
            effective_directive: string(b.get("effectiveDirective")).unwrap_or_default(),
            original_policy: string(b.get("originalPolicy")).unwrap_or_default(),
            disposition: disposition(b.get("disposition")),
            referrer: string(b.get("referrer")).filter(|s| !s.is_empty()),
            source_file: string(b.get("sourceFile")),
            line: number(b.get("lineNumber")),
            column: number(b.get("columnNumber")),
            status_code: number(b.get("statusCode")),
            sample: string(b.get("sample")).filter(|s| !s.is_empty()),
            user_agent: entry.user_agent.as_deref().map(cut),
        });
    }
    Ok((violations, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_fields_are_cut() {
        let long = "a".repeat(MAX_FIELD_CHARS + 10);
        let body = format!(
            r#"{{"csp-report":{{"document-uri":"{long}","violated-directive":"script-src 'self'"}}}}"#
        );
        let violation = parse_legacy(body.as_bytes()).expect("valid");
        assert_eq!(violation.document_url.chars().count(), MAX_FIELD_CHARS + 1);
        assert!(violation.document_url.ends_with('…'));
        assert_eq!(violation.effective_directive, "script-src");
    }

    #[test]
    fn batch_keeps_csp_violations_only() {
        let body = br#"[{"type":"deprecation","body":{}},{"type":"csp-violation","body":{"effectiveDirective":"img-src","disposition":"report"}}]"#;
        let (violations, skipped) = parse_batch(body).expect("valid");
        assert_eq!(skipped, 1);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].effective_directive, "img-src");
        assert_eq!(violations[0].disposition, Some(Disposition::Report));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert!(parse_legacy(br#"{"not-a-report":{}}"#).is_err());
        assert!(parse_legacy(br#"[]"#).is_err());
        assert!(parse_batch(br#"{"csp-report":{}}"#).is_err());
        assert!(parse_batch(br#"[{"body":{}}]"#).is_err());
    }
}
