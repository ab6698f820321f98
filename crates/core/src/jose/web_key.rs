//! An instance's web keys: the key pairs that sign JWT payloads (and whose public halves are
//! published as the instance's JWKS at `/oauth/v2/keys`). A key is generated on first use, its
//! private half (PKCS#8 DER) sealed at rest by the caller; signing goes through `jsonwebtoken`
//! (ring).

use super::{b64url, JoseError};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

/// RSA modulus size of generated RS256 keys.
pub const RSA_BITS: usize = 2048;

/// The signature algorithm of a web key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebKeyAlgorithm {
    #[default]
    Rs256,
    Es256,
}

impl WebKeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

/// A freshly generated web key: the private key as PKCS#8 DER (to be sealed) and the public
/// JWK (to be published).
pub struct GeneratedWebKey {
    pub algorithm: WebKeyAlgorithm,
    pub private_pkcs8: Vec<u8>,
    pub public_jwk: Value,
}

/// Generates a key pair; `kid` goes into the JWK. RSA generation takes a while: call it off the
/// async executor.
pub fn generate(
    algorithm: WebKeyAlgorithm,
    kid: &str,
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<GeneratedWebKey, JoseError> {
    let bad = |e: String| JoseError::BadKey(e);
    let (private_pkcs8, public_jwk) = match algorithm {
        WebKeyAlgorithm::Rs256 => {
            let private = rsa::RsaPrivateKey::new(rng, RSA_BITS).map_err(|e| bad(e.to_string()))?;
            let der = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&private)
                .map_err(|e| bad(e.to_string()))?;
            let jwk = json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": b64url(private.n().to_bytes_be()),
                "e": b64url(private.e().to_bytes_be()),
            });
            (der.as_bytes().to_vec(), jwk)
        }
        WebKeyAlgorithm::Es256 => {
            let private = p256::SecretKey::random(rng);
            let der = private.to_pkcs8_der().map_err(|e| bad(e.to_string()))?;
            let point = private.public_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(bad("public point has no coordinates".into()));
            };
            let jwk = json!({
                "kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256",
                "x": b64url(x), "y": b64url(y),
            });
            (der.as_bytes().to_vec(), jwk)
        }
    };
    Ok(GeneratedWebKey {
        algorithm,
        private_pkcs8,
        public_jwk,
    })
}

/// Signs compact JWS with one web key.
#[derive(Clone)]
pub struct WebKeySigner {
    kid: String,
    algorithm: WebKeyAlgorithm,
    key: EncodingKey,
}

impl std::fmt::Debug for WebKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebKeySigner({}, {})", self.kid, self.algorithm.as_str())
    }
}

impl WebKeySigner {
    /// From the opened PKCS#8 DER of a web key.
    pub fn new(kid: &str, algorithm: WebKeyAlgorithm, pkcs8: &[u8]) -> Result<Self, JoseError> {
        let bad = |e: String| JoseError::BadKey(e);
        let key = match algorithm {
            WebKeyAlgorithm::Rs256 => {
                let private =
                    <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_der(pkcs8)
                        .map_err(|e| bad(e.to_string()))?;
                let pkcs1 = private.to_pkcs1_der().map_err(|e| bad(e.to_string()))?;
                EncodingKey::from_rsa_der(pkcs1.as_bytes())
            }
            WebKeyAlgorithm::Es256 => {
                p256::SecretKey::from_pkcs8_der(pkcs8).map_err(|e| bad(e.to_string()))?;
                EncodingKey::from_ec_der(pkcs8)
            }
        };
        Ok(Self {
            kid: kid.to_string(),
            algorithm,
            key,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS (`typ` JWT) whose payload is the JSON document `claims`.
    pub fn sign(&self, claims: &[u8]) -> Result<String, JoseError> {
        let claims: Value = serde_json::from_slice(claims)
            .map_err(|e| JoseError::Sign(format!("payload is not JSON: {e}")))?;
        let mut header = Header::new(match self.algorithm {
            WebKeyAlgorithm::Rs256 => Algorithm::RS256,
            WebKeyAlgorithm::Es256 => Algorithm::ES256,
        });
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| JoseError::Sign(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};

    fn verify(jws: &str, jwk: &Value) -> Value {
        let header = decode_header(jws).unwrap();
        assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
        let key = match jwk["kty"].as_str().unwrap() {
            "RSA" => DecodingKey::from_rsa_components(
                jwk["n"].as_str().unwrap(),
                jwk["e"].as_str().unwrap(),
            )
            .unwrap(),
            _ => DecodingKey::from_ec_components(
                jwk["x"].as_str().unwrap(),
                jwk["y"].as_str().unwrap(),
            )
            .unwrap(),
        };
        let mut v = Validation::new(header.alg);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        decode::<Value>(jws, &key, &v).unwrap().claims
    }

    #[test]
    fn generated_keys_sign_what_their_jwk_verifies() {
        let mut rng = rand::thread_rng();
        for alg in [WebKeyAlgorithm::Rs256, WebKeyAlgorithm::Es256] {
            let key = generate(alg, "kid-1", &mut rng).unwrap();
            assert_eq!(key.public_jwk["alg"], alg.as_str());
            let signer = WebKeySigner::new("kid-1", alg, &key.private_pkcs8).unwrap();
            let jws = signer
                .sign(br#"{"event_type":"user.human.added","n":1}"#)
                .unwrap();
            let claims = verify(&jws, &key.public_jwk);
            assert_eq!(claims["event_type"], "user.human.added");
        }
        assert!(WebKeySigner::new("k", WebKeyAlgorithm::Es256, b"junk").is_err());
        assert_eq!(
            WebKeyAlgorithm::parse("ES256"),
            Some(WebKeyAlgorithm::Es256)
        );
        assert_eq!(WebKeyAlgorithm::parse("HS256"), None);
    }
}
