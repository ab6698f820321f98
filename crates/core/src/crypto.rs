//! Secrets at rest and secret material. Every stored secret (signing keys, subscription secrets,
//! passwords, bearer tokens) is sealed with the master key using XChaCha20-Poly1305; the sealed
//! form carries the key id so a master-key rotation can re-encrypt row by row. Secrets that are
//! only ever compared (client secrets, invocation secrets) are hashed instead.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The key that seals secrets at rest. `id` names it inside every sealed value.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: XChaCha20Poly1305,
    /// The raw key material, kept only to derive purpose-bound subkeys ([`MasterKey::derive_key`]).
    raw: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed with master key '{0}', which is not loaded")]
    UnknownKey(String),
    #[error("sealed value failed authentication (wrong key or tampered data)")]
    Tampered,
    #[error("master key file is malformed: {0}")]
    BadKeyFile(String),
}

impl MasterKey {
    /// A fresh random key with a random id.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let id = hex::encode(random_bytes(4));
        Self::from_parts(id, &key)
    }

    fn from_parts(id: String, key: &[u8; 32]) -> Self {
        Self {
            id,
            cipher: XChaCha20Poly1305::new(key.into()),
            raw: *key,
        }
    }

    /// A 32-byte subkey for one purpose: HMAC-SHA256 keyed with the master key over `label`.
    /// Distinct labels give independent keys, and the master key cannot be recovered from them.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.raw)
            .expect("HMAC accepts keys of any length");
        mac.update(b"switchyard-subkey:");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key file format: `<id>:<base64 key>` on one line.
    pub fn encode_file(id: &str, key: &[u8; 32]) -> String {
        format!("{id}:{}\n", STANDARD.encode(key))
    }

    /// Generates key material and returns it with its file encoding.
    pub fn generate_file() -> (Self, String) {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let id = hex::encode(random_bytes(4));
        let text = Self::encode_file(&id, &key);
        (Self::from_parts(id, &key), text)
    }

    pub fn parse_file(text: &str) -> Result<Self, CryptoError> {
        let (id, b64) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| CryptoError::BadKeyFile("expected '<id>:<base64 key>'".into()))?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|e| CryptoError::BadKeyFile(e.to_string()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::BadKeyFile("key must be 32 bytes".into()))?;
        Ok(Self::from_parts(id.to_string(), &key))
    }

    /// Seals `plain` as `v1:<key id>:<base64url(nonce || ciphertext)>`.
    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(24 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        format!("v1:{}:{}", self.id, URL_SAFE_NO_PAD.encode(out))
    }

    pub fn seal_str(&self, plain: &str) -> String {
        self.seal(plain.as_bytes())
    }

    /// The id of the key that sealed `sealed`, if it is well-formed.
    pub fn sealed_key_id(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, ':');
        (parts.next()? == "v1").then_some(())?;
        parts.next()
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        if parts.next() != Some("v1") {
            return Err(CryptoError::Malformed);
        }
        let id = parts.next().ok_or(CryptoError::Malformed)?;
        if id != self.id {
            return Err(CryptoError::UnknownKey(id.to_string()));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(parts.next().ok_or(CryptoError::Malformed)?)
            .map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 24 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = raw.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Tampered)
    }

    pub fn open_str(&self, sealed: &str) -> Result<String, CryptoError> {
        String::from_utf8(self.open(sealed)?).map_err(|_| CryptoError::Malformed)
    }
}

/// `n` bytes from the OS-seeded CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// SHA-256 of a high-entropy secret, hex-encoded. Suitable for random secrets only (invocation
/// and client secrets), never for user-chosen passwords.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time check of `secret` against a [`hash_secret`] digest.
pub fn verify_secret(secret: &str, digest_hex: &str) -> bool {
    let actual = hash_secret(secret);
    actual.as_bytes().ct_eq(digest_hex.as_bytes()).into()
}

/// Derives invocation secrets: base64url(HMAC-SHA256(key, invocation id)). The secret must be
/// sent again on every retry of a request-response delivery, yet stored only hashed; deriving it
/// from the id with a server-held key means it is never stored at all.
#[derive(Clone)]
pub struct InvocationSecrets {
    key: [u8; 32],
}

impl std::fmt::Debug for InvocationSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvocationSecrets(***)")
    }
}

impl InvocationSecrets {
    /// The label of the master-key subkey invocation secrets are derived with.
    pub const LABEL: &'static str = "invocation-secrets/v1";

    /// Secrets bound to this server's master key (stable across restarts).
    pub fn from_master(master: &MasterKey) -> Self {
        Self {
            key: master.derive_key(Self::LABEL),
        }
    }

    /// Secrets under a random key (tests and engines without a master key).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self { key }
    }

    /// The secret of invocation `id`.
    pub fn secret(&self, id: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

impl Default for InvocationSecrets {
    fn default() -> Self {
        Self::random()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn derived_keys_and_invocation_secrets_are_stable_and_distinct() {
        let (k, text) = MasterKey::generate_file();
        let again = MasterKey::parse_file(&text).unwrap();
        assert_eq!(k.derive_key("a"), again.derive_key("a"));
        assert_ne!(k.derive_key("a"), k.derive_key("b"));
        assert_ne!(k.derive_key("a"), MasterKey::generate().derive_key("a"));
        let s1 = InvocationSecrets::from_master(&k);
        let s2 = InvocationSecrets::from_master(&again);
        assert_eq!(s1.secret("inv-1"), s2.secret("inv-1"));
        assert_ne!(s1.secret("inv-1"), s1.secret("inv-2"));
        assert_ne!(
            s1.secret("inv-1"),
            InvocationSecrets::random().secret("inv-1")
        );
        assert_eq!(s1.secret("x").len(), 43);
    }

    use super::*;

    #[test]
    fn seal_and_open_round_trip() {
        let k = MasterKey::generate();
        let sealed = k.seal_str("hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(MasterKey::sealed_key_id(&sealed), Some(k.id()));
        assert_eq!(k.open_str(&sealed).unwrap(), "hunter2");
    }

    #[test]
    fn open_rejects_other_keys_and_tampering() {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        let sealed = a.seal_str("x");
        assert!(matches!(b.open(&sealed), Err(CryptoError::UnknownKey(_))));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(a.open(&tampered).is_err());
    }

    #[test]
    fn key_file_round_trip() {
        let (k, text) = MasterKey::generate_file();
        let k2 = MasterKey::parse_file(&text).unwrap();
        assert_eq!(k2.open_str(&k.seal_str("s")).unwrap(), "s");
    }

    #[test]
    fn hashed_secrets_verify() {
        let d = hash_secret("abc");
        assert!(verify_secret("abc", &d));
        assert!(!verify_secret("abd", &d));
    }
}
