//! Key pairs for the JWT profile grant: `switchyard clients create --key-file` writes the private
//! half into a ZITADEL-style key file and the server keeps only the public half.

use super::JoseError;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};

/// A fresh RSA key pair: the private key as PKCS#1 PEM (`RSA PRIVATE KEY`, as ZITADEL's key
/// files carry it) and the public key as SubjectPublicKeyInfo PEM.
pub fn generate(
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<(String, String), JoseError> {
    let bad = |e: String| JoseError::BadKey(e);
    let private =
        rsa::RsaPrivateKey::new(rng, super::web_key::RSA_BITS).map_err(|e| bad(e.to_string()))?;
    let private_pem = private
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| bad(e.to_string()))?
        .to_string();
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| bad(e.to_string()))?;
    Ok((private_pem, public_pem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};

    #[test]
    fn the_private_half_signs_what_the_public_half_verifies() {
        let (private, public) = generate(&mut rand::thread_rng()).unwrap();
        assert!(private.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        let claims = serde_json::json!({"sub": "c1", "exp": 4_000_000_000u64});
        let token = encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
        )
        .unwrap();
        let key = DecodingKey::from_rsa_pem(public.as_bytes()).unwrap();
        let got = decode::<serde_json::Value>(&token, &key, &Validation::new(Algorithm::RS256));
        assert_eq!(got.unwrap().claims["sub"], "c1");
    }
}
