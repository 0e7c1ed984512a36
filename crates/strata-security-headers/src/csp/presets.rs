//! The preset policies.

use super::{CspBuilder, Source};

impl CspBuilder {
    /// The strict policy for HTML apps: scripts only through the per-response
    /// nonce with `'strict-dynamic'`, everything else same-origin, no plugins,
    /// no `<base>`, no framing, mixed content upgraded:
    ///
    /// `default-src 'self'; script-src 'nonce-…' 'strict-dynamic';
    /// style-src 'self' 'nonce-…'; img-src 'self' data:; font-src 'self';
    /// object-src 'none'; base-uri 'none'; form-action 'self';
    /// frame-ancestors 'none'; upgrade-insecure-requests`
    pub fn strict() -> Self {
        Self::new()
            .default_src([Source::SELF])
            .script_src([Source::NONCE, Source::STRICT_DYNAMIC])
            .style_src([Source::SELF, Source::NONCE])
            .img_src([Source::SELF, Source::scheme("data")])
            .font_src([Source::SELF])
            .object_src([Source::NONE])
            .base_uri([Source::NONE])
            .form_action([Source::SELF])
            .frame_ancestors([Source::NONE])
            .upgrade_insecure_requests()
    }

    /// The policy for JSON APIs: `default-src 'none'; frame-ancestors 'none'`.
    pub fn api() -> Self {
        Self::new()
            .default_src([Source::NONE])
            .frame_ancestors([Source::NONE])
    }

    /// The policy for local development: the strict policy's nonce without
    /// `'strict-dynamic'`, plus dev servers on `localhost`/`127.0.0.1` (any
    /// port) and their websockets, and no `upgrade-insecure-requests`.
    pub fn development() -> Self {
        const LOCAL: [&str; 4] = [
            "http://localhost:*",
            "http://127.0.0.1:*",
            "https://localhost:*",
            "https://127.0.0.1:*",
        ];
        let local = || LOCAL.map(Source::host);
        let with_local = |first: Vec<Source>| first.into_iter().chain(local());
        Self::new()
            .default_src(with_local(vec![Source::SELF]))
            .script_src(with_local(vec![Source::SELF, Source::NONCE]))
            .style_src(with_local(vec![Source::SELF, Source::UNSAFE_INLINE]))
            .img_src(with_local(vec![
                Source::SELF,
                Source::scheme("data"),
                Source::scheme("blob"),
            ]))
            .font_src(with_local(vec![Source::SELF, Source::scheme("data")]))
            .connect_src(with_local(vec![
                Source::SELF,
                Source::scheme("ws"),
                Source::scheme("wss"),
            ]))
            .object_src([Source::NONE])
            .base_uri([Source::SELF])
            .form_action([Source::SELF])
            .frame_ancestors([Source::SELF])
    }
}
