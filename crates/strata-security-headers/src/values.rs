//! Typed values of the fixed-vocabulary headers.

use std::time::Duration;

use http::HeaderValue;

macro_rules! keyword_enum {
    (
        $(#[$doc:meta])*
        $name:ident default $default:ident {
            $($(#[$vdoc:meta])* $variant:ident => $text:literal,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[doc = concat!("`", $text, "`")]
                $variant,
            )*
        }

        impl $name {
            /// The header value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            pub(crate) fn header_value(self) -> HeaderValue {
                HeaderValue::from_static(self.as_str())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$default
            }
        }
    };
}

keyword_enum! {
    /// `Referrer-Policy`. Default: `no-referrer` (helmet 8, OWASP).
    ReferrerPolicy default NoReferrer {
        NoReferrer => "no-referrer",
        NoReferrerWhenDowngrade => "no-referrer-when-downgrade",
        Origin => "origin",
        OriginWhenCrossOrigin => "origin-when-cross-origin",
        SameOrigin => "same-origin",
        StrictOrigin => "strict-origin",
        /// The browsers' own default.
        StrictOriginWhenCrossOrigin => "strict-origin-when-cross-origin",
        UnsafeUrl => "unsafe-url",
    }
}

keyword_enum! {
    /// `X-Frame-Options`, for browsers without CSP `frame-ancestors`.
    /// Default: `DENY` (OWASP; helmet 8 sends `SAMEORIGIN`).
    FrameOptions default Deny {
        Deny => "DENY",
        SameOrigin => "SAMEORIGIN",
    }
}

keyword_enum! {
    /// `Cross-Origin-Opener-Policy`. Default: `same-origin`.
    CrossOriginOpenerPolicy default SameOrigin {
        SameOrigin => "same-origin",
        /// Keeps popups this page opens (OAuth, payment windows) connected.
        SameOriginAllowPopups => "same-origin-allow-popups",
        NoopenerAllowPopups => "noopener-allow-popups",
        UnsafeNone => "unsafe-none",
    }
}

keyword_enum! {
    /// `Cross-Origin-Resource-Policy`. Default: `same-origin`.
    CrossOriginResourcePolicy default SameOrigin {
        SameOrigin => "same-origin",
        SameSite => "same-site",
        /// For public assets and APIs meant to be embedded elsewhere.
        CrossOrigin => "cross-origin",
    }
}

keyword_enum! {
    /// `Cross-Origin-Embedder-Policy`. Off by default (it breaks every
    /// cross-origin resource without CORP/CORS); `require-corp` when enabled.
    CrossOriginEmbedderPolicy default RequireCorp {
        RequireCorp => "require-corp",
        Credentialless => "credentialless",
        UnsafeNone => "unsafe-none",
    }
}

keyword_enum! {
    /// `X-Permitted-Cross-Domain-Policies` (Adobe Flash/Acrobat policy files).
    /// Default: `none`.
    PermittedCrossDomainPolicies default None {
        None => "none",
        MasterOnly => "master-only",
        ByContentType => "by-content-type",
        All => "all",
    }
}

/// `Strict-Transport-Security`. Default: `max-age=31536000; includeSubDomains`
/// (one year, helmet 8 and OWASP).
///
/// Sent only on responses to requests that arrived over HTTPS (RFC 6797
/// §7.2); see [`SecurityHeadersLayer`](crate::SecurityHeadersLayer).
///
/// ```
/// use std::time::Duration;
/// use strata_security_headers::Hsts;
///
/// assert_eq!(Hsts::new().to_string(), "max-age=31536000; includeSubDomains");
/// assert_eq!(
///     Hsts::new().max_age(Duration::from_secs(600)).include_subdomains(false).to_string(),
///     "max-age=600"
/// );
/// assert_eq!(Hsts::new().preload().to_string(), "max-age=63072000; includeSubDomains; preload");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Hsts {
    max_age: u64,
    include_subdomains: bool,
    preload: bool,
}

impl Default for Hsts {
    fn default() -> Self {
        Self::new()
    }
}

impl Hsts {
    /// One year, including subdomains, no preload.
    pub fn new() -> Self {
        Self {
            max_age: 31_536_000,
            include_subdomains: true,
            preload: false,
        }
    }

    /// How long browsers remember to use HTTPS only (whole seconds).
    /// Zero tells browsers to forget the host.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.as_secs();
        self
    }

    /// Whether subdomains are covered. Default: `true`.
    pub fn include_subdomains(mut self, include: bool) -> Self {
        self.include_subdomains = include;
        self
    }

    /// Asks for inclusion in the browsers' preload list, which also requires
    /// `includeSubDomains` and a long max-age: this sets both (two years at
    /// least). Removal from the list takes months; read hstspreload.org first.
    pub fn preload(mut self) -> Self {
        self.preload = true;
        self.include_subdomains = true;
        self.max_age = self.max_age.max(63_072_000);
        self
    }

    pub(crate) fn header_value(self) -> HeaderValue {
        HeaderValue::try_from(self.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("max-age=31536000"))
    }
}

impl std::fmt::Display for Hsts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "max-age={}", self.max_age)?;
        if self.include_subdomains {
            f.write_str("; includeSubDomains")?;
        }
        if self.preload {
            f.write_str("; preload")?;
        }
        Ok(())
    }
}
