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

/// The keys that seal secrets at rest: a keyring whose first key seals and whose every key
/// opens what it sealed (the key id is part of every sealed value). Outside a master-key
/// rotation the ring holds one key.
#[derive(Clone)]
pub struct MasterKey {
    keys: std::sync::Arc<Vec<KeyEntry>>,
}

struct KeyEntry {
    id: String,
    cipher: XChaCha20Poly1305,
    /// The raw key material, kept to derive purpose-bound subkeys ([`MasterKey::derive_key`])
    /// and to write the key file.
    raw: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "MasterKey({})", ids.join(", "))
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
            keys: std::sync::Arc::new(vec![KeyEntry::new(id, key)]),
        }
    }

    fn current(&self) -> &KeyEntry {
        &self.keys[0]
    }

    /// A keyring with a fresh key in front (it seals from now on) and every key of `self` behind
    /// it (they still open what they sealed), plus its file text.
    pub fn rotated(&self) -> (Self, String) {
        let (fresh, _) = Self::generate_file();
        let mut keys = vec![KeyEntry::new(
            fresh.current().id.clone(),
            &fresh.current().raw,
        )];
        keys.extend(
            self.keys
                .iter()
                .map(|k| KeyEntry::new(k.id.clone(), &k.raw)),
        );
        let next = Self {
            keys: std::sync::Arc::new(keys),
        };
        let text = next.file_text();
        (next, text)
    }

    /// Only the current key (after every stored secret was re-sealed with it), and its file text.
    pub fn current_only(&self) -> (Self, String) {
        let k = self.current();
        let only = Self::from_parts(k.id.clone(), &k.raw);
        let text = only.file_text();
        (only, text)
    }

    /// The key file: one `<id>:<base64 key>` line per key, the current key first.
    pub fn file_text(&self) -> String {
        self.keys
            .iter()
            .map(|k| Self::encode_file(&k.id, &k.raw))
            .collect()
    }

    /// A 32-byte subkey for one purpose: HMAC-SHA256 keyed with the master key over `label`.
    /// Distinct labels give independent keys, and the master key cannot be recovered from them.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.current().raw)
            .expect("HMAC accepts keys of any length");
        mac.update(b"switchyard-subkey:");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The id of the key that seals.
    pub fn id(&self) -> &str {
        &self.current().id
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
        let mut keys = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (id, b64) = line
                .split_once(':')
                .ok_or_else(|| CryptoError::BadKeyFile("expected '<id>:<base64 key>'".into()))?;
            let bytes = STANDARD
                .decode(b64)
                .map_err(|e| CryptoError::BadKeyFile(e.to_string()))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| CryptoError::BadKeyFile("key must be 32 bytes".into()))?;
            keys.push(KeyEntry::new(id.to_string(), &key));
        }
        if keys.is_empty() {
            return Err(CryptoError::BadKeyFile("no key in the file".into()));
        }
        Ok(Self {
            keys: std::sync::Arc::new(keys),
        })
    }

    /// Seals `plain` as `v1:<key id>:<base64url(nonce || ciphertext)>`.
    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .current()
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(24 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        format!("v1:{}:{}", self.id(), URL_SAFE_NO_PAD.encode(out))
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
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let raw = URL_SAFE_NO_PAD
            .decode(parts.next().ok_or(CryptoError::Malformed)?)
            .map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 24 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = raw.split_at(24);
        key.cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Tampered)
    }

    pub fn open_str(&self, sealed: &str) -> Result<String, CryptoError> {
        String::from_utf8(self.open(sealed)?).map_err(|_| CryptoError::Malformed)
    }

    /// Re-seals `sealed` with the current key, if another key sealed it; `Ok(None)` when it is
    /// already sealed with the current key.
    pub fn reseal(&self, sealed: &str) -> Result<Option<String>, CryptoError> {
        if Self::sealed_key_id(sealed) == Some(self.id()) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(sealed)?)))
    }
}

impl KeyEntry {
    fn new(id: String, key: &[u8; 32]) -> Self {
        Self {
            id,
            cipher: XChaCha20Poly1305::new(key.into()),
            raw: *key,
        }
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
    fn rotation_keeps_old_secrets_readable_until_resealed() {
        let (old, _) = MasterKey::generate_file();
        let sealed = old.seal_str("s3cret");
        let (ring, text) = old.rotated();
        assert_ne!(ring.id(), old.id());
        let ring = MasterKey::parse_file(&text).unwrap();
        assert_eq!(
            ring.open_str(&sealed).unwrap(),
            "s3cret",
            "old key still opens"
        );
        let resealed = ring
            .reseal(&sealed)
            .unwrap()
            .expect("sealed by the old key");
        assert_eq!(MasterKey::sealed_key_id(&resealed), Some(ring.id()));
        assert!(ring.reseal(&resealed).unwrap().is_none(), "already current");
        let (only, text) = ring.current_only();
        let only = MasterKey::parse_file(&text).map(|_| only).unwrap();
        assert_eq!(only.open_str(&resealed).unwrap(), "s3cret");
        assert!(matches!(
            only.open(&sealed),
            Err(CryptoError::UnknownKey(_))
        ));
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
