//! Compact JWE (RFC 7516) to a target's public key: a fresh 256-bit content key encrypts the
//! payload with `A256GCM` (the protected header, base64url, is the additional authenticated
//! data); the content key is encrypted with `RSA-OAEP-256` for RSA keys or wrapped with
//! `ECDH-ES+A256KW` for P-256 keys (ephemeral key in `epk`, Concat KDF of RFC 7518 §4.6.2 with
//! empty `apu`/`apv`). `kid` names the target key the receiver must decrypt with.

use super::{b64url, JoseError};
use crate::zitadel::public_key::PublicKeyMaterial;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::{CryptoRng, RngCore};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The content encryption every JWE here uses.
pub const CONTENT_ENCRYPTION: &str = "A256GCM";

/// Encrypts `plaintext` to `key`; the header names `kid`.
pub fn encrypt(
    plaintext: &[u8],
    key: &PublicKeyMaterial,
    kid: &str,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<String, JoseError> {
    let mut cek = [0u8; 32];
    rng.fill_bytes(&mut cek);
    let mut iv = [0u8; 12];
    rng.fill_bytes(&mut iv);
    let (header, encrypted_key) = match key {
        PublicKeyMaterial::Rsa(public) => {
            let header = json!({"alg": "RSA-OAEP-256", "enc": CONTENT_ENCRYPTION, "kid": kid});
            let padding = rsa::Oaep::new::<Sha256>();
            let ek = public
                .encrypt(rng, padding, &cek)
                .map_err(|e| JoseError::Encrypt(format!("RSA-OAEP-256: {e}")))?;
            (header, ek)
        }
        PublicKeyMaterial::EcP256(public) => {
            let ephemeral = p256::ecdh::EphemeralSecret::random(rng);
            let point = ephemeral.public_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(JoseError::Encrypt(
                    "ephemeral key has no coordinates".into(),
                ));
            };
            let header = json!({
                "alg": "ECDH-ES+A256KW", "enc": CONTENT_ENCRYPTION, "kid": kid,
                "epk": {"kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)},
            });
            let shared = ephemeral.diffie_hellman(public);
            let kek = concat_kdf(shared.raw_secret_bytes(), "ECDH-ES+A256KW", b"", b"");
            let ek = aes_kw::KekAes256::from(kek)
                .wrap_vec(&cek)
                .map_err(|e| JoseError::Encrypt(format!("A256KW: {e}")))?;
            (header, ek)
        }
    };
    let protected = b64url(header.to_string());
    let (ciphertext, tag) = seal(&protected, &cek, &iv, plaintext)?;
    Ok(format!(
        "{protected}.{}.{}.{}.{}",
        b64url(encrypted_key),
        b64url(iv),
        b64url(ciphertext),
        b64url(tag)
    ))
}

/// `A256GCM` content encryption: the ciphertext and the 16-byte tag, with the encoded protected
/// header as additional authenticated data.
pub fn seal(
    protected_b64: &str,
    cek: &[u8; 32],
    iv: &[u8; 12],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), JoseError> {
    let cipher = Aes256Gcm::new_from_slice(cek).map_err(|e| JoseError::Encrypt(e.to_string()))?;
    let mut out = cipher
        .encrypt(
            Nonce::from_slice(iv),
            Payload {
                msg: plaintext,
                aad: protected_b64.as_bytes(),
            },
        )
        .map_err(|e| JoseError::Encrypt(e.to_string()))?;
    let tag = out.split_off(out.len() - 16);
    Ok((out, tag))
}

/// The Concat KDF of NIST SP 800-56A as RFC 7518 §4.6.2 uses it, for a 256-bit key (one
/// SHA-256 round): `SHA-256(counter 1 ‖ Z ‖ AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ keydatalen)`,
/// each info field prefixed with its 32-bit big-endian length.
pub fn concat_kdf(z: &[u8], algorithm: &str, apu: &[u8], apv: &[u8]) -> [u8; 32] {
    concat_kdf_bits(z, algorithm, apu, apv, 256)
}

fn concat_kdf_bits(z: &[u8], algorithm: &str, apu: &[u8], apv: &[u8], bits: u32) -> [u8; 32] {
    let field = |h: &mut Sha256, bytes: &[u8]| {
        h.update((bytes.len() as u32).to_be_bytes());
        h.update(bytes);
    };
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    field(&mut h, algorithm.as_bytes());
    field(&mut h, apu);
    field(&mut h, apv);
    h.update(bits.to_be_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::super::unb64url;
    use super::*;
    use rsa::BigUint;
    use serde_json::Value;

    fn big(s: &str) -> BigUint {
        BigUint::from_bytes_be(&unb64url(s).unwrap())
    }

    /// Reverses [`encrypt`] with the recipient's private key: the receiver's side, so the
    /// round trip below checks every layer (the e2e tests decrypt with jwcrypto too).
    enum Private {
        Rsa(Box<rsa::RsaPrivateKey>),
        Ec(p256::SecretKey),
    }

    fn decrypt(compact: &str, key: &Private) -> (Value, Vec<u8>) {
        let parts: Vec<&str> = compact.split('.').collect();
        assert_eq!(parts.len(), 5);
        let header: Value = serde_json::from_slice(&unb64url(parts[0]).unwrap()).unwrap();
        let ek = unb64url(parts[1]).unwrap();
        let cek: Vec<u8> = match key {
            Private::Rsa(k) => k.decrypt(rsa::Oaep::new::<Sha256>(), &ek).unwrap(),
            Private::Ec(k) => {
                let epk = &header["epk"];
                let mut sec1 = vec![4u8];
                sec1.extend(unb64url(epk["x"].as_str().unwrap()).unwrap());
                sec1.extend(unb64url(epk["y"].as_str().unwrap()).unwrap());
                let ephemeral = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
                let shared =
                    p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), ephemeral.as_affine());
                let kek = concat_kdf(shared.raw_secret_bytes(), "ECDH-ES+A256KW", b"", b"");
                aes_kw::KekAes256::from(kek).unwrap_vec(&ek).unwrap()
            }
        };
        let cipher = Aes256Gcm::new_from_slice(&cek).unwrap();
        let mut sealed = unb64url(parts[3]).unwrap();
        sealed.extend(unb64url(parts[4]).unwrap());
        let iv = unb64url(parts[2]).unwrap();
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &sealed,
                    aad: parts[0].as_bytes(),
                },
            )
            .unwrap();
        (header, plain)
    }

    #[test]
    fn rsa_oaep_256_round_trip() {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let public = PublicKeyMaterial::Rsa(private.to_public_key());
        let jwe = encrypt(br#"{"a":1}"#, &public, "key-1", &mut rng).unwrap();
        let (header, plain) = decrypt(&jwe, &Private::Rsa(Box::new(private)));
        assert_eq!(header["alg"], "RSA-OAEP-256");
        assert_eq!(header["enc"], "A256GCM");
        assert_eq!(header["kid"], "key-1");
        assert_eq!(plain, br#"{"a":1}"#);
    }

    #[test]
    fn ecdh_es_a256kw_round_trip() {
        let mut rng = rand::thread_rng();
        let private = p256::SecretKey::random(&mut rng);
        let public = PublicKeyMaterial::EcP256(private.public_key());
        let jwe = encrypt(b"hello", &public, "key-2", &mut rng).unwrap();
        let (header, plain) = decrypt(&jwe, &Private::Ec(private));
        assert_eq!(header["alg"], "ECDH-ES+A256KW");
        assert_eq!(header["epk"]["crv"], "P-256");
        assert_eq!(header["kid"], "key-2");
        assert_eq!(plain, b"hello");
        // Every message has its own ephemeral key, content key and IV.
        let again = encrypt(b"hello", &public, "key-2", &mut rng).unwrap();
        assert_ne!(jwe, again);
    }

    /// RFC 7516 Appendix A.1: the content key comes out of the example's RSA-OAEP (SHA-1)
    /// encrypted key, and A256GCM over the example's header, IV and plaintext must give the
    /// example's ciphertext and tag exactly.
    #[test]
    fn rfc7516_a1_content_encryption() {
        let n = big("oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUWcJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3Spsk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2asbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMStPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2djYgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw");
        let d = big("kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5NWV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD93Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghkqDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vlt3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSndVTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ");
        let p = big("1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lffNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0");
        let q = big("wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBmUDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aXIWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc");
        let key =
            rsa::RsaPrivateKey::from_components(n, BigUint::from(65537u32), d, vec![p, q]).unwrap();
        let protected = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ";
        let encrypted_key = "OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg";
        let cek = key
            .decrypt(
                rsa::Oaep::new::<sha1::Sha1>(),
                &unb64url(encrypted_key).unwrap(),
            )
            .unwrap();
        let iv: [u8; 12] = unb64url("48V1_ALb6US04U3b").unwrap().try_into().unwrap();
        let plaintext = b"The true sign of intelligence is not knowledge but imagination.";
        let (ciphertext, tag) = seal(protected, &cek.try_into().unwrap(), &iv, plaintext).unwrap();
        assert_eq!(
            b64url(ciphertext),
            "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A"
        );
        assert_eq!(b64url(tag), "XFBoMYUZodetZdvTiFvSkQ");
    }

    /// RFC 7518 Appendix C: ECDH-ES key agreement between the example's keys and the Concat
    /// KDF for A128GCM (128 bits, apu "Alice", apv "Bob") give the example's derived key.
    #[test]
    fn rfc7518_appendix_c_key_agreement() {
        let alice_d = unb64url("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo").unwrap();
        let bob_x = unb64url("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ").unwrap();
        let bob_y = unb64url("e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck").unwrap();
        let alice = p256::SecretKey::from_slice(&alice_d).unwrap();
        let mut sec1 = vec![4u8];
        sec1.extend(bob_x);
        sec1.extend(bob_y);
        let bob = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
        let shared = p256::ecdh::diffie_hellman(alice.to_nonzero_scalar(), bob.as_affine());
        let derived = concat_kdf_bits(shared.raw_secret_bytes(), "A128GCM", b"Alice", b"Bob", 128);
        assert_eq!(b64url(&derived[..16]), "VqqN6vgjbSBcIijNcacQGg");
    }

    /// RFC 3394 §4.6: 256 bits of key data wrapped with a 256-bit KEK.
    #[test]
    fn rfc3394_a256kw() {
        let kek: [u8; 32] =
            hex::decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
                .unwrap()
                .try_into()
                .unwrap();
        let data = hex::decode("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
            .unwrap();
        let wrapped = aes_kw::KekAes256::from(kek).wrap_vec(&data).unwrap();
        assert_eq!(
            hex::encode_upper(wrapped),
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"
        );
    }
}
