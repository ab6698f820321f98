//! A target's public key (ZITADEL's `AddPublicKey`): what JWE payloads are encrypted to. The key
//! arrives as PEM text inside a proto `bytes` field (base64 on the JSON wire); it is bounded,
//! parsed once and kept as the PEM it was sent in, with its SHA-256 fingerprint. Only keys this
//! server can encrypt to are accepted: RSA of 2048 to 4096 bits (`RSA-OAEP-256`) and EC on
//! P-256 (`ECDH-ES+A256KW`).

use crate::ValidationError;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

/// Largest PEM accepted, in bytes (ZITADEL's limit).
pub const MAX_PEM_BYTES: usize = 8192;
/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

const FIELD: &str = "publicKey";

/// The kind of a public key, which decides the JWE key management algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyMaterial {
    Rsa(rsa::RsaPublicKey),
    EcP256(p256::PublicKey),
}

impl PublicKeyMaterial {
    /// The JWE `alg` used for this key.
    pub fn jwe_algorithm(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "RSA-OAEP-256",
            Self::EcP256(_) => "ECDH-ES+A256KW",
        }
    }
}

/// A parsed target public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPublicKey {
    pem: String,
    fingerprint: String,
    material: PublicKeyMaterial,
}

fn bad(rule: impl Into<String>) -> ValidationError {
    ValidationError::new(FIELD, rule)
}

impl TargetPublicKey {
    /// Reads the proto3 JSON form of the `bytes` field: base64 (standard or URL-safe, padded or
    /// not) of the PEM. PEM text sent as is is accepted too.
    pub fn from_wire(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() {
            return Err(bad("is required"));
        }
        if value.len() > MAX_PEM_BYTES * 2 {
            return Err(bad(format!("must be at most {MAX_PEM_BYTES} bytes")));
        }
        if value.trim_start().starts_with("-----BEGIN") {
            return Self::parse_pem(value);
        }
        let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(&compact).ok())
            .ok_or_else(|| {
                bad("must be a PEM public key, base64-encoded as a proto bytes field")
            })?;
        let text = String::from_utf8(bytes).map_err(|_| bad("must be PEM text"))?;
        Self::parse_pem(&text)
    }

    /// Parses a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RSA or EC P-256) or `RSA PUBLIC KEY`
    /// (PKCS#1) of at most [`MAX_PEM_BYTES`].
    pub fn parse_pem(pem: &str) -> Result<Self, ValidationError> {
        if pem.len() > MAX_PEM_BYTES {
            return Err(bad(format!(
                "must be at most {MAX_PEM_BYTES} bytes (got {})",
                pem.len()
            )));
        }
        let (label, der) = decode_pem(pem)?;
        let (material, spki) = match label {
            "PUBLIC KEY" => (from_spki(&der)?, der),
            "RSA PUBLIC KEY" => {
                let key = rsa::RsaPublicKey::from_pkcs1_der(&der)
                    .map_err(|e| bad(format!("is not a valid PKCS#1 RSA public key ({e})")))?;
                let spki = key
                    .to_public_key_der()
                    .map_err(|e| bad(format!("cannot be encoded ({e})")))?
                    .as_bytes()
                    .to_vec();
                (checked_rsa(key)?, spki)
            }
            other => {
                return Err(bad(format!(
                    "must be a PEM 'PUBLIC KEY' or 'RSA PUBLIC KEY', not '{other}'"
                )))
            }
        };
        Ok(Self {
            pem: pem.to_string(),
            fingerprint: fingerprint(&spki),
            material,
        })
    }

    /// The PEM as sent.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// `SHA256:` and the unpadded base64 of the SHA-256 of the key's SubjectPublicKeyInfo (DER),
    /// the form `ssh-keygen -l` prints.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn material(&self) -> &PublicKeyMaterial {
        &self.material
    }
}

fn fingerprint(spki_der: &[u8]) -> String {
    format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(Sha256::digest(spki_der))
    )
}

fn checked_rsa(key: rsa::RsaPublicKey) -> Result<PublicKeyMaterial, ValidationError> {
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(bad(format!(
            "RSA keys must have at least {MIN_RSA_BITS} bits (got {bits})"
        )));
    }
    Ok(PublicKeyMaterial::Rsa(key))
}

fn from_spki(der: &[u8]) -> Result<PublicKeyMaterial, ValidationError> {
    if let Ok(key) = rsa::RsaPublicKey::from_public_key_der(der) {
        return checked_rsa(key);
    }
    if let Ok(key) = p256::PublicKey::from_public_key_der(der) {
        return Ok(PublicKeyMaterial::EcP256(key));
    }
    Err(bad(
        "must be an RSA public key of 2048 to 4096 bits or an EC public key on P-256",
    ))
}

/// The label and DER body of the one PEM block in `text`.
fn decode_pem(text: &str) -> Result<(&str, Vec<u8>), ValidationError> {
    let text = text.trim();
    let not_pem =
        || bad("must be PEM: '-----BEGIN PUBLIC KEY-----' ... '-----END PUBLIC KEY-----'");
    let rest = text.strip_prefix("-----BEGIN ").ok_or_else(not_pem)?;
    let (label, rest) = rest.split_once("-----").ok_or_else(not_pem)?;
    let end = format!("-----END {label}-----");
    let body = rest.strip_suffix(end.as_str()).ok_or_else(not_pem)?;
    if body.contains("-----") {
        return Err(bad("must hold exactly one PEM block"));
    }
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(compact)
        .map_err(|_| bad("has a PEM body that is not base64"))?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::LineEnding;

    fn rsa_key(bits: usize) -> rsa::RsaPublicKey {
        let mut rng = rand::thread_rng();
        rsa::RsaPrivateKey::new(&mut rng, bits)
            .unwrap()
            .to_public_key()
    }

    fn ec_key() -> p256::PublicKey {
        p256::SecretKey::random(&mut rand::thread_rng()).public_key()
    }

    #[test]
    fn rsa_and_ec_keys_parse_from_pem_and_base64() {
        let rsa = rsa_key(2048);
        let pem = rsa.to_public_key_pem(LineEnding::LF).unwrap();
        let k = TargetPublicKey::from_wire(&STANDARD.encode(&pem)).unwrap();
        assert_eq!(k.pem(), pem);
        assert_eq!(k.material().jwe_algorithm(), "RSA-OAEP-256");
        let spki = rsa.to_public_key_der().unwrap();
        let expected = format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(spki.as_bytes()))
        );
        assert_eq!(k.fingerprint(), expected);
        // PKCS#1 spelling of the same key: same fingerprint.
        let pkcs1 = rsa.to_pkcs1_pem(LineEnding::CRLF).unwrap();
        let k1 = TargetPublicKey::from_wire(&pkcs1).unwrap();
        assert_eq!(k1.fingerprint(), expected);

        let ec = ec_key();
        let pem = ec.to_public_key_pem(LineEnding::LF).unwrap();
        let k = TargetPublicKey::from_wire(&URL_SAFE_NO_PAD.encode(&pem)).unwrap();
        assert_eq!(k.material(), &PublicKeyMaterial::EcP256(ec));
        assert_eq!(k.material().jwe_algorithm(), "ECDH-ES+A256KW");
        assert!(k.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn bad_keys_are_refused_with_the_rule() {
        let rule = |v: &str| TargetPublicKey::from_wire(v).unwrap_err().rule;
        assert!(rule("").contains("required"));
        assert!(rule("%%%").contains("base64"));
        assert!(rule(&STANDARD.encode("hello")).contains("PEM"));
        let small = rsa_key(1024).to_public_key_pem(LineEnding::LF).unwrap();
        assert!(rule(&small).contains("2048"), "{}", rule(&small));
        let garbage = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(rule(garbage).contains("P-256"));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        assert!(rule(cert).contains("CERTIFICATE"));
        let pem = ec_key().to_public_key_pem(LineEnding::LF).unwrap();
        assert!(rule(&format!("{pem}{pem}")).contains("one PEM block"));
        let huge = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
            "A".repeat(MAX_PEM_BYTES)
        );
        assert!(rule(&huge).contains("8192"));
        assert!(rule(&STANDARD.encode(&huge)).contains("8192"));
    }
}
