//! CSP grammar checks, run once when a policy is built.

use strata_core::ConfigError;

use super::{Repr, Source, Value};

const SOURCE_LIST: &[&str] = &[
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "object-src",
    "frame-src",
    "child-src",
    "worker-src",
    "manifest-src",
    "fenced-frame-src",
    "base-uri",
    "form-action",
    "frame-ancestors",
];
const TOKEN_LISTS: &[&str] = &[
    "sandbox",
    "report-to",
    "report-uri",
    "require-trusted-types-for",
    "trusted-types",
];
const FLAGS: &[&str] = &["upgrade-insecure-requests"];
const DEPRECATED: &[&str] = &[
    "block-all-mixed-content",
    "plugin-types",
    "prefetch-src",
    "navigate-to",
    "referrer",
    "reflected-xss",
];
const KEYWORDS: &[&str] = &[
    "'self'",
    "'none'",
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'wasm-unsafe-eval'",
    "'unsafe-hashes'",
    "'strict-dynamic'",
    "'report-sample'",
    "'inline-speculation-rules'",
];
const SANDBOX: &[&str] = &[
    "allow-downloads",
    "allow-forms",
    "allow-modals",
    "allow-orientation-lock",
    "allow-pointer-lock",
    "allow-popups",
    "allow-popups-to-escape-sandbox",
    "allow-presentation",
    "allow-same-origin",
    "allow-scripts",
    "allow-storage-access-by-user-activation",
    "allow-top-navigation",
    "allow-top-navigation-by-user-activation",
    "allow-top-navigation-to-custom-protocols",
];

/// The [`CspBuilder`](super::CspBuilder) method that sets a directive:
/// its own (`script_src`, `report_to`, ...), else `directive`.
pub(super) fn setting(name: &str) -> &'static str {
    match name {
        "default-src" => "default_src",
        "script-src" => "script_src",
        "script-src-elem" => "script_src_elem",
        "script-src-attr" => "script_src_attr",
        "style-src" => "style_src",
        "style-src-elem" => "style_src_elem",
        "style-src-attr" => "style_src_attr",
        "img-src" => "img_src",
        "font-src" => "font_src",
        "connect-src" => "connect_src",
        "media-src" => "media_src",
        "object-src" => "object_src",
        "frame-src" => "frame_src",
        "child-src" => "child_src",
        "worker-src" => "worker_src",
        "manifest-src" => "manifest_src",
        "base-uri" => "base_uri",
        "form-action" => "form_action",
        "frame-ancestors" => "frame_ancestors",
        "upgrade-insecure-requests" => "upgrade_insecure_requests",
        "sandbox" => "sandbox",
        "report-to" => "report_to",
        "report-uri" => "report_uri",
        "require-trusted-types-for" => "require_trusted_types",
        _ => "directive",
    }
}

fn bad_directive(name: &str, reason: &'static str) -> ConfigError {
    ConfigError::invalid(setting(name), format!("directive `{name}`: {reason}"))
}

fn bad_source(directive: &str, value: &str, reason: &'static str) -> ConfigError {
    ConfigError::invalid(
        setting(directive),
        format!("source `{value}` in `{directive}`: {reason}"),
    )
}

pub(super) fn directive(name: &str, value: &Value) -> Result<(), ConfigError> {
    directive_name(name)?;
    match value {
        Value::Flag => flag(name),
        Value::Tokens(list) => tokens(name, list),
        Value::Sources(list) => sources(name, list),
    }
}

/// Whether `name` is a current CSP directive.
pub(crate) fn is_known(name: &str) -> bool {
    SOURCE_LIST.contains(&name) || TOKEN_LISTS.contains(&name) || FLAGS.contains(&name)
}

fn directive_name(name: &str) -> Result<(), ConfigError> {
    if DEPRECATED.contains(&name) {
        return Err(bad_directive(name, "deprecated and ignored by browsers"));
    }
    if SOURCE_LIST.contains(&name) || TOKEN_LISTS.contains(&name) || FLAGS.contains(&name) {
        Ok(())
    } else {
        Err(bad_directive(
            name,
            "unknown directive (a typo is silently ignored by browsers)",
        ))
    }
}

fn flag(name: &str) -> Result<(), ConfigError> {
    if FLAGS.contains(&name) {
        Ok(())
    } else {
        Err(bad_directive(name, "this directive takes values"))
    }
}

/// Printable ASCII without the characters that end a source, a directive or a
/// policy: whitespace, `;` and `,`.
fn injection_free(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("empty value");
    }
    if value
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
    {
        Ok(())
    } else {
        Err("contains whitespace, `;`, `,`, a control or a non-ASCII character")
    }
}

fn tokens(name: &str, tokens: &[String]) -> Result<(), ConfigError> {
    if !TOKEN_LISTS.contains(&name) {
        return Err(bad_directive(
            name,
            "this directive takes sources, not tokens",
        ));
    }
    if tokens.is_empty() && name != "sandbox" && name != "trusted-types" {
        return Err(bad_directive(name, "needs a value"));
    }
    for token in tokens {
        injection_free(token).map_err(|reason| bad_source(name, token, reason))?;
        let ok = match name {
            "sandbox" => SANDBOX.contains(&token.as_str()),
            "report-to" => tokens.len() == 1 && token.bytes().all(is_token_byte),
            "require-trusted-types-for" => token == "'script'",
            _ => true,
        };
        if !ok {
            return Err(bad_source(
                name,
                token,
                "not a value this directive accepts",
            ));
        }
    }
    Ok(())
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.".contains(&b)
}

fn sources(name: &str, sources: &[Source]) -> Result<(), ConfigError> {
    if !SOURCE_LIST.contains(&name) {
        return Err(bad_directive(
            name,
            "this directive does not take a source list",
        ));
    }
    if sources.is_empty() {
        return Err(bad_directive(
            name,
            "needs at least one source (use 'none' for nothing)",
        ));
    }
    let script_or_style =
        name == "default-src" || name.starts_with("script-src") || name.starts_with("style-src");
    for source in sources {
        match &source.0 {
            Repr::Nonce if !script_or_style => {
                return Err(bad_source(
                    name,
                    "'nonce-…'",
                    "nonces only apply to default-src and the script and style directives",
                ));
            }
            Repr::Nonce => {}
            Repr::Keyword(keyword) => keyword_allowed(name, keyword)?,
            Repr::Text(text) => {
                injection_free(text).map_err(|reason| bad_source(name, text, reason))?;
                text_source(name, text)?;
            }
        }
    }
    if sources.len() > 1 && sources.iter().any(is_none) {
        return Err(bad_source(
            name,
            "'none'",
            "'none' must be the only source of its directive",
        ));
    }
    Ok(())
}

fn is_none(source: &Source) -> bool {
    match &source.0 {
        Repr::Keyword(k) => *k == "'none'",
        Repr::Text(t) => t.eq_ignore_ascii_case("'none'"),
        Repr::Nonce => false,
    }
}

fn keyword_allowed(name: &str, keyword: &str) -> Result<(), ConfigError> {
    if name == "frame-ancestors" && keyword != "'self'" && keyword != "'none'" {
        return Err(bad_source(
            name,
            keyword,
            "frame-ancestors accepts only 'self', 'none', hosts and schemes",
        ));
    }
    Ok(())
}

pub(super) fn is_hash(value: &str) -> bool {
    let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) else {
        return false;
    };
    let Some((algorithm, digest)) = inner.split_once('-') else {
        return false;
    };
    ["sha256", "sha384", "sha512"].contains(&algorithm.to_ascii_lowercase().as_str())
        && is_base64(digest)
}

fn is_base64(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    value.len() - body.len() <= 2
        && !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/-_".contains(&b))
}

fn text_source(name: &str, text: &str) -> Result<(), ConfigError> {
    let lower = text.to_ascii_lowercase();
    if text.starts_with('\'') {
        if KEYWORDS.contains(&lower.as_str()) {
            return keyword_allowed(name, &lower);
        }
        if lower.starts_with("'nonce-") {
            return Err(bad_source(
                name,
                text,
                "a fixed nonce protects nothing: use Source::NONCE for a fresh one per response",
            ));
        }
        if is_hash(text) {
            return if name == "frame-ancestors" {
                Err(bad_source(name, text, "frame-ancestors accepts no hashes"))
            } else {
                Ok(())
            };
        }
        return Err(bad_source(name, text, "unknown quoted keyword"));
    }
    if KEYWORDS.contains(&format!("'{lower}'").as_str()) {
        return Err(bad_source(
            name,
            text,
            "keywords must be single-quoted (unquoted, it names a host)",
        ));
    }
    if text == "*" {
        return Ok(());
    }
    if let Some(scheme) = text.strip_suffix(':') {
        return if is_scheme(scheme) {
            Ok(())
        } else {
            Err(bad_source(name, text, "not a scheme source"))
        };
    }
    host_source(text).map_err(|reason| bad_source(name, text, reason))
}

fn is_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// `[scheme "://"] host [":" port] [path]`, host being `*`, `*.labels` or labels.
fn host_source(text: &str) -> Result<(), &'static str> {
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        Some(_) => return Err("not a scheme"),
        None => text,
    };
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    let (host, mut rest) = rest.split_at(end);
    let labels = host.strip_prefix("*.").unwrap_or(host);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host != "*" && !labels.split('.').all(label_ok) {
        return Err("not a host (letters, digits, `-` and `.`, optionally starting with `*.`)");
    }
    if let Some(after) = rest.strip_prefix(':') {
        let end = after.find('/').unwrap_or(after.len());
        let port = &after[..end];
        if port != "*"
            && (!port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err())
        {
            return Err("not a port (digits or `*`)");
        }
        rest = &after[end..];
    }
    if !rest.is_empty()
        && !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&()*+=:@".contains(&b))
    {
        return Err("not a path");
    }
    Ok(())
}
