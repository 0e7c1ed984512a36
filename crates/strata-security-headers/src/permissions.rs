//! A typed `Permissions-Policy` in structured-field syntax.

use std::borrow::Cow;
use std::fmt;

use http::HeaderValue;
use strata_core::ConfigError;

/// A policy-controlled browser feature (`camera`, `geolocation`, ...).
///
/// The common features are constants; [`Feature::new`] names any other.
///
/// A [`PermissionsPolicy`] is assembled like a builder: [`Feature::new`] and
/// [`Allowlist::origin`] never fail, and the whole policy is checked once,
/// when the [`SecurityHeadersBuilder`](crate::SecurityHeadersBuilder) given
/// it is built ([`ConfigError::Invalid`] for `permissions_policy`, naming the
/// feature or origin).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Feature(Cow<'static, str>);

macro_rules! features {
    ($($constant:ident => $name:literal,)*) => {
        impl Feature {
            $(
                #[doc = concat!("`", $name, "`")]
                pub const $constant: Self = Self(Cow::Borrowed($name));
            )*
        }
    };
}

features! {
    ACCELEROMETER => "accelerometer",
    AUTOPLAY => "autoplay",
    BLUETOOTH => "bluetooth",
    BROWSING_TOPICS => "browsing-topics",
    CAMERA => "camera",
    CLIPBOARD_READ => "clipboard-read",
    CLIPBOARD_WRITE => "clipboard-write",
    DISPLAY_CAPTURE => "display-capture",
    ENCRYPTED_MEDIA => "encrypted-media",
    FULLSCREEN => "fullscreen",
    GAMEPAD => "gamepad",
    GEOLOCATION => "geolocation",
    GYROSCOPE => "gyroscope",
    HID => "hid",
    IDLE_DETECTION => "idle-detection",
    LOCAL_FONTS => "local-fonts",
    MAGNETOMETER => "magnetometer",
    MICROPHONE => "microphone",
    MIDI => "midi",
    PAYMENT => "payment",
    PICTURE_IN_PICTURE => "picture-in-picture",
    PUBLICKEY_CREDENTIALS_CREATE => "publickey-credentials-create",
    PUBLICKEY_CREDENTIALS_GET => "publickey-credentials-get",
    SCREEN_WAKE_LOCK => "screen-wake-lock",
    SERIAL => "serial",
    SYNC_XHR => "sync-xhr",
    USB => "usb",
    WEB_SHARE => "web-share",
    XR_SPATIAL_TRACKING => "xr-spatial-tracking",
}

impl Feature {
    /// Any other feature, named as in the spec: a lowercase structured-field
    /// key (`a-z`, digits, `_-.*`, starting with a letter or `*`), checked
    /// when the layer is built.
    pub fn new(name: &str) -> Self {
        Self(Cow::Owned(name.to_owned()))
    }

    fn check(&self) -> Result<(), ConfigError> {
        let mut bytes = self.0.bytes();
        let first = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'*');
        if first
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b))
        {
            Ok(())
        } else {
            Err(ConfigError::invalid(
                "permissions_policy",
                format!(
                    "feature `{}` is not a lowercase structured-field key",
                    self.0
                ),
            ))
        }
    }

    /// The feature's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who may use a feature: nobody, the page's origin, listed origins, or
/// everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct Allowlist {
    all: bool,
    same_origin: bool,
    origins: Vec<String>,
}

impl Allowlist {
    /// Nobody, not even the page: `()`.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every origin: `*`.
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// The page's own origin: `self`.
    pub fn same_origin() -> Self {
        Self {
            same_origin: true,
            ..Self::default()
        }
    }

    /// Adds an origin such as `https://maps.example.com`; it must be a
    /// structured-field string (printable ASCII without `"` or `\`) with a
    /// scheme, checked when the layer is built.
    pub fn origin(mut self, origin: &str) -> Self {
        self.origins.push(origin.to_owned());
        self
    }

    fn check(&self) -> Result<(), ConfigError> {
        for origin in &self.origins {
            let printable = origin
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
            if !printable || !origin.contains("://") {
                return Err(ConfigError::invalid(
                    "permissions_policy",
                    format!("`{origin}` is not an origin such as https://example.com"),
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Allowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all {
            return f.write_str("*");
        }
        if self.same_origin && self.origins.is_empty() {
            return f.write_str("self");
        }
        f.write_str("(")?;
        let mut items = self
            .same_origin
            .then_some(Cow::Borrowed("self"))
            .into_iter()
            .chain(self.origins.iter().map(|o| Cow::Owned(format!("\"{o}\""))));
        if let Some(first) = items.next() {
            f.write_str(&first)?;
        }
        for item in items {
            write!(f, " {item}")?;
        }
        f.write_str(")")
    }
}

/// A `Permissions-Policy` header: a structured-field dictionary of features
/// and their allowlists.
///
/// ```
/// use strata_security_headers::{Allowlist, Feature, PermissionsPolicy};
///
/// let policy = PermissionsPolicy::new()
///     .deny(Feature::CAMERA)
///     .allow(Feature::GEOLOCATION, Allowlist::same_origin().origin("https://maps.example.com"))
///     .allow(Feature::FULLSCREEN, Allowlist::same_origin());
/// assert_eq!(
///     policy.to_string(),
///     r#"camera=(), geolocation=(self "https://maps.example.com"), fullscreen=self"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct PermissionsPolicy {
    features: Vec<(Feature, Allowlist)>,
}

impl PermissionsPolicy {
    /// An empty policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default: powerful features nobody needs by accident are disabled
    /// (`accelerometer`, `bluetooth`, `browsing-topics`, `camera`,
    /// `display-capture`, `geolocation`, `gyroscope`, `hid`, `idle-detection`,
    /// `magnetometer`, `microphone`, `midi`, `payment`, `screen-wake-lock`,
    /// `serial`, `usb`, `xr-spatial-tracking`); `sync-xhr` is kept to the
    /// page's origin. Allow one again with [`allow`](Self::allow).
    pub fn restrictive() -> Self {
        [
            Feature::ACCELEROMETER,
            Feature::BLUETOOTH,
            Feature::BROWSING_TOPICS,
            Feature::CAMERA,
            Feature::DISPLAY_CAPTURE,
            Feature::GEOLOCATION,
            Feature::GYROSCOPE,
            Feature::HID,
            Feature::IDLE_DETECTION,
            Feature::MAGNETOMETER,
            Feature::MICROPHONE,
            Feature::MIDI,
            Feature::PAYMENT,
            Feature::SCREEN_WAKE_LOCK,
            Feature::SERIAL,
            Feature::USB,
            Feature::XR_SPATIAL_TRACKING,
        ]
        .into_iter()
        .fold(Self::new(), Self::deny)
        .allow(Feature::SYNC_XHR, Allowlist::same_origin())
    }

    /// Sets the allowlist of `feature`, replacing an earlier one.
    pub fn allow(mut self, feature: Feature, allowlist: Allowlist) -> Self {
        match self.features.iter_mut().find(|(f, _)| *f == feature) {
            Some(slot) => slot.1 = allowlist,
            None => self.features.push((feature, allowlist)),
        }
        self
    }

    /// Disables `feature` for everyone: `feature=()`.
    pub fn deny(self, feature: Feature) -> Self {
        self.allow(feature, Allowlist::none())
    }

    /// Removes `feature` from the policy (the browser default applies).
    pub fn remove(mut self, feature: &Feature) -> Self {
        self.features.retain(|(f, _)| f != feature);
        self
    }

    /// The first feature or origin that cannot be written in the header.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for (feature, allowlist) in &self.features {
            feature.check()?;
            allowlist.check()?;
        }
        Ok(())
    }

    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        if self.features.is_empty() {
            return None;
        }
        HeaderValue::try_from(self.to_string()).ok()
    }
}

impl fmt::Display for PermissionsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (feature, allowlist)) in self.features.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={allowlist}", feature.as_str())?;
        }
        Ok(())
    }
}
