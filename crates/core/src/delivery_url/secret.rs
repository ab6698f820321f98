//! The secret part of a delivery URL: its password (`amqp://user:PASSWORD@host/...`, a Redis
//! `AUTH` password, a NATS token as `nats://:TOKEN@host/...`). It is sealed at rest like every
//! other secret — the stored URL carries the sealed form in the password's place — opened only
//! to connect, and masked (`***`) in every answer, log and attempt record. The rest of the URL
//! is kept as the user sent it.

use super::DeliveryUrl;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::ops::Range;

/// Everything but unreserved characters is escaped in a password written into a URL.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Longest password accepted in a URL, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest sealed password read back from the store (a sealed 256-character password, escaped).
pub(super) const MAX_SEALED_CHARS: usize = 2048;

impl DeliveryUrl {
    /// The password, percent-decoded, if the URL has one.
    pub fn password(&self) -> Option<String> {
        self.parsed
            .password()
            .map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned())
    }

    /// The URL with its password replaced by `f(password)` (sealing before storing, opening
    /// before connecting); the same URL when it has none.
    pub fn map_password<E>(&self, f: impl FnOnce(&str) -> Result<String, E>) -> Result<Self, E> {
        let (Some(span), Some(password)) = (password_span(&self.text), self.password()) else {
            return Ok(self.clone());
        };
        let new = utf8_percent_encode(&f(&password)?, USERINFO).to_string();
        let mut text = self.text.clone();
        text.replace_range(span, &new);
        let mut parsed = self.parsed.clone();
        // Escaped above, so the parser keeps it byte for byte.
        let _ = parsed.set_password(Some(&new));
        Ok(Self { text, parsed })
    }

    /// The URL as shown in answers, logs and attempt records: the password masked.
    pub fn masked(&self) -> String {
        match password_span(&self.text) {
            Some(span) if self.parsed.password().is_some() => {
                let mut shown = self.text.clone();
                shown.replace_range(span, "***");
                shown
            }
            _ => self.text.clone(),
        }
    }
}

/// Whether a stored password is in sealed form (else it predates sealing and is used as is).
pub fn is_sealed(password: &str) -> bool {
    crate::crypto::MasterKey::sealed_key_id(password).is_some()
}

/// The rules for credentials in a URL: a password of at most [`MAX_PASSWORD_CHARS`] without
/// control characters (a sealed one, as stored, may be longer), and for NATS and Redis no user
/// without a password (a token or a password alone goes after the `:`).
pub(super) fn check(url: &url::Url) -> Result<(), String> {
    let Some(raw) = url.password() else {
        if !url.username().is_empty() && matches!(url.scheme(), "nats" | "tls" | "redis" | "rediss")
        {
            return Err(format!(
                "a user needs a password; a token or a password alone goes after the ':' ({}://:SECRET@HOST...)",
                url.scheme()
            ));
        }
        return Ok(());
    };
    let password = percent_decode_str(raw).decode_utf8_lossy();
    if password.chars().any(char::is_control) {
        return Err("the password must not contain control characters".into());
    }
    if !is_sealed(&password) && password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must be at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// Where the password is in `text`: between the first `:` of the user info and its last `@`.
fn password_span(text: &str) -> Option<Range<usize>> {
    let start = text.find("://")? + 3;
    let rest = &text[start..];
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    Some(start + colon + 1..start + at)
}

/// How many characters of `text` count toward the URL length limit: a password in sealed form
/// (as stored) does not, up to [`MAX_SEALED_CHARS`].
pub(super) fn counted_chars(text: &str) -> usize {
    let n = text.chars().count();
    match password_span(text) {
        Some(span) => {
            let raw = &text[span];
            let sealed = percent_decode_str(raw)
                .decode_utf8()
                .is_ok_and(|p| p.starts_with("v1:"));
            if sealed && raw.len() <= MAX_SEALED_CHARS {
                n - raw.chars().count()
            } else {
                n
            }
        }
        None => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> DeliveryUrl {
        DeliveryUrl::parse("url", s).unwrap()
    }

    #[test]
    fn the_password_is_found_masked_and_replaced() {
        let u = url("amqp://app:s%40cret@rabbit.example.com:5672/prod?exchange=e");
        assert_eq!(u.password().as_deref(), Some("s@cret"));
        assert_eq!(
            u.masked(),
            "amqp://app:***@rabbit.example.com:5672/prod?exchange=e"
        );
        let sealed = u
            .map_password(|p| Ok::<_, ()>(format!("v1:k:{}+/=", p.len())))
            .unwrap();
        assert_eq!(sealed.password().as_deref(), Some("v1:k:6+/="));
        assert_eq!(
            sealed.as_str(),
            "amqp://app:v1%3Ak%3A6%2B%2F%3D@rabbit.example.com:5672/prod?exchange=e"
        );
        assert_eq!(sealed.url().username(), "app");
        assert_eq!(sealed.url().host_str(), Some("rabbit.example.com"));
        let opened = sealed
            .map_password(|_| Ok::<_, ()>("s@cret".into()))
            .unwrap();
        assert_eq!(opened.password().as_deref(), Some("s@cret"));
        assert_eq!(opened.url().password(), u.url().password());

        let token = url("nats://:t0ken@127.0.0.1:4222/orders");
        assert_eq!(token.masked(), "nats://:***@127.0.0.1:4222/orders");
        let plain = url("https://example.com/a@b");
        assert_eq!(plain.password(), None);
        assert_eq!(plain.masked(), "https://example.com/a@b");
        assert_eq!(
            url("http://u@example.com/").masked(),
            "http://u@example.com/"
        );
    }

    #[test]
    fn a_sealed_password_does_not_count_toward_the_length_limit() {
        let sealed = format!("v1%3Ak%3A{}", "A".repeat(1200));
        let stored = format!("redis://:{sealed}@h:6379/0?stream=s");
        assert!(DeliveryUrl::parse("url", &stored).is_ok());
        let plain = format!("redis://:{}@h:6379/0?stream=s", "A".repeat(1200));
        assert!(DeliveryUrl::parse("url", &plain).is_err());
    }
}
