//! Bearer tokens. Switchyard issues HS256 JWTs signed with its own secret (`/oauth/token`, the
//! `switchyard token` command) and accepts asymmetric JWTs (RS256, ES256, …) from an identity
//! provider whose public keys are configured as a JWKS file. The header's algorithm only selects
//! which of these key sets is tried; an HS256 token is never checked against a public key, so the
//! classic algorithm-confusion attack has nothing to work with.

use super::Principal;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use switchyard_core::auth::Scopes;
use switchyard_core::InstanceId;

/// The claims Switchyard reads and writes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The client or user id; rate limits are kept per subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The instance the token is bound to. Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Why a token was refused; the text follows "JWT validation failed: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwtError(pub String);

fn fail(reason: impl Into<String>) -> JwtError {
    JwtError(reason.into())
}

/// Signs `claims` as an HS256 JWT with `secret`.
pub fn mint(secret: &[u8], claims: &Claims) -> String {
    // Encoding JSON claims with an HMAC key cannot fail.
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}

struct PublicKey {
    kid: Option<String>,
    /// The `alg` the JWK is restricted to, if it says.
    alg: Option<String>,
    key: DecodingKey,
}

/// Checks tokens against the server secret and the configured JWKS, issuer and audience.
pub struct TokenVerifier {
    secret: Vec<u8>,
    hs256: DecodingKey,
    jwks: Vec<PublicKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl TokenVerifier {
    /// `secret` signs and verifies HS256 tokens; `jwks_json` (a JWKS document) holds the public
    /// keys accepted for asymmetric tokens.
    pub fn new(
        secret: Vec<u8>,
        jwks_json: Option<&str>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= 32,
            "the JWT secret must be at least 32 bytes"
        );
        let mut jwks = Vec::new();
        if let Some(text) = jwks_json {
            let set: JwkSet = serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("the JWKS file is not a JSON Web Key Set: {e}"))?;
            for jwk in &set.keys {
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| anyhow::anyhow!("unusable key in the JWKS file: {e}"))?;
                jwks.push(PublicKey {
                    kid: jwk.common.key_id.clone(),
                    alg: jwk.common.key_algorithm.map(|a| format!("{a:?}")),
                    key,
                });
            }
            anyhow::ensure!(!jwks.is_empty(), "the JWKS file holds no keys");
        }
        Ok(Self {
            hs256: DecodingKey::from_secret(&secret),
            secret,
            jwks,
            issuer,
            audience,
        })
    }

    /// The HS256 signing secret (for issuing tokens).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The configured issuer, put into tokens Switchyard issues.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The configured audience, put into tokens Switchyard issues.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Verifies `token` and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| fail("malformed token"))?;
        let claims = match header.alg {
            Algorithm::HS256 => {
                let claims = self.decode(token, Algorithm::HS256, &self.hs256)?;
                // Only this server issues HS256 tokens: a `client_id` in one names a client of
                // ours, whose revocation must end the token.
                let client = claims.client_id.clone().filter(|c| !c.is_empty());
                let mut p = principal(claims)?;
                p.client = client;
                return Ok(p);
            }
            Algorithm::HS384 | Algorithm::HS512 => return Err(fail("algorithm not accepted")),
            alg => {
                let alg_name = format!("{alg:?}");
                let candidates: Vec<&PublicKey> = self
                    .jwks
                    .iter()
                    .filter(|k| header.kid.is_none() || k.kid == header.kid)
                    .filter(|k| k.alg.as_deref().is_none_or(|a| a == alg_name))
                    .collect();
                if candidates.is_empty() {
                    return Err(fail(if header.kid.is_some() {
                        "unknown signing key"
                    } else {
                        "no key accepts this token's algorithm"
                    }));
                }
                let mut last = fail("invalid signature");
                let mut found = None;
                for k in candidates {
                    match self.decode(token, alg, &k.key) {
                        Ok(c) => {
                            found = Some(c);
                            break;
                        }
                        Err(e) => last = e,
                    }
                }
                found.ok_or(last)?
            }
        };
        principal(claims)
    }

    fn decode(&self, token: &str, alg: Algorithm, key: &DecodingKey) -> Result<Claims, JwtError> {
        let mut v = Validation::new(alg);
        let mut required = vec!["exp"];
        // Without a configured audience a token that names one is refused (RFC 7519 §4.1.3):
        // it was meant for another service.
        if let Some(aud) = &self.audience {
            v.set_audience(&[aud]);
            required.push("aud");
        }
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        v.set_required_spec_claims(&required);
        // A token must not be used before its `nbf` (RFC 7519 §4.1.5), with the same leeway.
        v.validate_nbf = true;
        v.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, key, &v)
            .map(|d| d.claims)
            .map_err(|e| fail(reason(e.kind())))
    }
}

fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "JWT is expired".into(),
        K::InvalidSignature => "invalid signature".into(),
        K::InvalidAudience => "wrong audience".into(),
        K::InvalidIssuer => "wrong issuer".into(),
        K::ImmatureSignature => "JWT is not valid yet".into(),
        K::MissingRequiredClaim(c) => format!("missing claim '{c}'"),
        K::InvalidAlgorithm => "algorithm does not match the key".into(),
        K::Json(_) => "malformed claims".into(),
        _ => "malformed token".into(),
    }
}

fn principal(c: Claims) -> Result<Principal, JwtError> {
    let subject = c
        .sub
        .filter(|s| !s.is_empty())
        .ok_or_else(|| fail("missing claim 'sub'"))?;
    let instance = c
        .instance
        .ok_or_else(|| fail("missing claim 'instance'"))
        .and_then(|i| InstanceId::parse(&i).map_err(|_| fail("invalid claim 'instance'")))?;
    Ok(Principal {
        subject,
        instance,
        scopes: Scopes::from_claim(&c.scope),
        client: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::auth::Scope;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn claims() -> Claims {
        Claims {
            sub: Some("c1".into()),
            instance: Some("acme".into()),
            scope: "targets:read openid".into(),
            exp: now() + 600,
            iat: Some(now()),
            iss: None,
            aud: None,
            client_id: None,
        }
    }

    fn verifier(iss: Option<&str>, aud: Option<&str>) -> TokenVerifier {
        TokenVerifier::new(
            SECRET.to_vec(),
            None,
            iss.map(Into::into),
            aud.map(Into::into),
        )
        .unwrap()
    }

    #[test]
    fn minted_tokens_verify() {
        let p = verifier(None, None)
            .verify(&mint(SECRET, &claims()))
            .unwrap();
        assert_eq!(p.subject, "c1");
        assert_eq!(p.instance.as_str(), "acme");
        assert!(p.scopes.contains(Scope::TargetsRead));
    }

    #[test]
    fn a_token_is_not_accepted_before_its_nbf() {
        let v = verifier(None, None);
        let token = |nbf: i64| {
            let mut c = serde_json::to_value(claims()).unwrap();
            c["nbf"] = serde_json::json!(nbf);
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &c,
                &EncodingKey::from_secret(SECRET),
            )
            .unwrap()
        };
        assert_eq!(
            v.verify(&token(now() + 3600)).unwrap_err().0,
            "JWT is not valid yet"
        );
        assert!(v.verify(&token(now() + 10)).is_ok(), "within the leeway");
        assert!(v.verify(&token(now() - 60)).is_ok());
    }

    #[test]
    fn refusals_name_their_reason() {
        let v = verifier(None, None);
        let err = |t: &str| v.verify(t).unwrap_err().0;
        assert_eq!(err("not-a-jwt"), "malformed token");
        assert_eq!(
            err(&mint(b"another-secret-another-secret-xx", &claims())),
            "invalid signature"
        );
        assert_eq!(
            err(&mint(
                SECRET,
                &Claims {
                    exp: now() - 3600,
                    ..claims()
                }
            )),
            "JWT is expired"
        );
        assert_eq!(
            err(&mint(
                SECRET,
                &Claims {
                    instance: None,
                    ..claims()
                }
            )),
            "missing claim 'instance'"
        );
        assert_eq!(
            err(&mint(
                SECRET,
                &Claims {
                    sub: None,
                    ..claims()
                }
            )),
            "missing claim 'sub'"
        );
        assert_eq!(
            err(&mint(
                SECRET,
                &Claims {
                    instance: Some("no/slash".into()),
                    ..claims()
                }
            )),
            "invalid claim 'instance'"
        );
        // A token that names an audience is refused unless one is configured.
        let with_aud = mint(
            SECRET,
            &Claims {
                aud: Some("other".into()),
                ..claims()
            },
        );
        assert_eq!(err(&with_aud), "wrong audience");
    }

    #[test]
    fn audience_and_issuer_are_checked_when_configured() {
        let v = verifier(Some("https://issuer"), Some("switchyard"));
        let good = Claims {
            iss: Some("https://issuer".into()),
            aud: Some("switchyard".into()),
            ..claims()
        };
        assert!(v.verify(&mint(SECRET, &good)).is_ok());
        let wrong_aud = Claims {
            aud: Some("other".into()),
            ..good.clone()
        };
        assert_eq!(
            v.verify(&mint(SECRET, &wrong_aud)).unwrap_err().0,
            "wrong audience"
        );
        let no_aud = Claims {
            aud: None,
            ..good.clone()
        };
        assert_eq!(
            v.verify(&mint(SECRET, &no_aud)).unwrap_err().0,
            "missing claim 'aud'"
        );
        let wrong_iss = Claims {
            iss: Some("https://evil".into()),
            ..good
        };
        assert_eq!(
            v.verify(&mint(SECRET, &wrong_iss)).unwrap_err().0,
            "wrong issuer"
        );
    }

    #[test]
    fn short_secrets_and_bad_jwks_are_refused() {
        assert!(TokenVerifier::new(b"short".to_vec(), None, None, None).is_err());
        assert!(TokenVerifier::new(SECRET.to_vec(), Some("{}"), None, None).is_err());
        assert!(TokenVerifier::new(SECRET.to_vec(), Some(r#"{"keys": []}"#), None, None).is_err());
    }

    #[test]
    fn asymmetric_tokens_without_a_jwks_are_refused() {
        // An RS256 header with garbage: no public key is configured, so nothing can accept it.
        let header = base64_url(r#"{"alg":"RS256","typ":"JWT"}"#);
        let body = base64_url(r#"{"sub":"x","instance":"acme","exp":9999999999}"#);
        let token = format!("{header}.{body}.c2ln");
        assert_eq!(
            verifier(None, None).verify(&token).unwrap_err().0,
            "no key accepts this token's algorithm"
        );
        // `alg: none` is not even parsed as a header.
        let none = format!("{}.{body}.", base64_url(r#"{"alg":"none"}"#));
        assert_eq!(
            verifier(None, None).verify(&none).unwrap_err().0,
            "malformed token"
        );
    }

    fn base64_url(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }
}
