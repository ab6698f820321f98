//! AWS Signature Version 4 for the few JSON-protocol calls Switchyard makes (EventBridge
//! `PutEvents`, SQS `SendMessage`, STS). Written here on the hmac/sha2 the project already
//! builds rather than pulling the AWS SDK's signer and runtime crates for ~60 lines; checked
//! against the published SigV4 test suite's vector and against the reference signer.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Long-term or temporary AWS credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .finish_non_exhaustive()
    }
}

/// What one request is signed for.
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDD'T'HHMMSS'Z'` (UTC).
    pub amz_date: &'a str,
}

/// One request to sign: method, path (already URI-encoded), query (already canonical: sorted,
/// encoded) and headers (names lower-case; `host` and `x-amz-date` among them).
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, String)],
    pub body: &'a [u8],
}

/// The `Authorization` header value for `req`.
pub fn authorization(creds: &Credentials, scope: &Scope<'_>, req: &Request<'_>) -> String {
    let mut headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (*k, v.trim())).collect();
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let signed = signed.join(";");
    let mut canonical = format!("{}\n{}\n{}\n", req.method, req.path, req.query);
    for (k, v) in &headers {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed);
    canonical.push('\n');
    canonical.push_str(&hex::encode(Sha256::digest(req.body)));

    let date = &scope.amz_date[..8];
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{credential_scope}\n{}",
        scope.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = [date, scope.region, scope.service, "aws4_request"]
        .iter()
        .fold(
            format!("AWS4{}", creds.secret_access_key).into_bytes(),
            |key, part| hmac(&key, part.as_bytes()),
        );
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed}, Signature={}",
        creds.access_key_id,
        hex::encode(hmac(&key, to_sign.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `YYYYMMDD'T'HHMMSS'Z'` for a unix time in seconds.
pub fn amz_date(unix_secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    #[test]
    fn the_test_suites_get_vanilla_vector() {
        // aws-sig-v4-test-suite/get-vanilla.
        let scope = Scope {
            region: "us-east-1",
            service: "service",
            amz_date: "20150830T123600Z",
        };
        let headers = [
            ("host", "example.amazonaws.com".to_string()),
            ("x-amz-date", "20150830T123600Z".to_string()),
        ];
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            authorization(&example(), &scope, &req),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn a_signed_json_call_matches_the_reference_signer() {
        // The same request signed by the aws-sigv4 crate (1.6) with a session token.
        let creds = Credentials {
            session_token: Some("TOKEN123".into()),
            ..example()
        };
        let date = amz_date(1_795_910_400);
        let headers = [
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("host", "127.0.0.1:5000".to_string()),
            ("x-amz-date", date.clone()),
            ("x-amz-target", "AWSEvents.PutEvents".to_string()),
            ("x-amz-security-token", "TOKEN123".to_string()),
        ];
        let scope = Scope {
            region: "us-east-1",
            service: "events",
            amz_date: &date,
        };
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: br#"{"Entries":[]}"#,
        };
        assert_eq!(
            authorization(&creds, &scope, &req),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/events/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=e3079ad9bf89b9a68faa9b862e738c3e732fc0e6ce9ff44e038303bcb50d95c4"
        );
    }

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert!(!format!("{:?}", example()).contains("EXAMPLEKEY"));
    }
}
