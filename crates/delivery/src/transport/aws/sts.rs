//! The two STS calls the credential chain makes: `AssumeRoleWithWebIdentity` (unsigned: the
//! token is the proof) and `AssumeRole` (signed with the source credentials). Both are Query
//! protocol calls (a form POST) answered in XML, from which only the credentials are read.

use super::credentials::keys;
use super::profile::Role;
use super::Env;
use aws_credential_types::Credentials;
use std::time::Duration;
use switchyard_core::Timestamp;

/// Temporary credentials and when they expire.
pub type Temporary = (Credentials, Option<Timestamp>);

/// `AssumeRoleWithWebIdentity` of `role` with the web identity `token`.
pub async fn with_web_identity(
    http: &reqwest::Client,
    env: &Env,
    role: &str,
    session: &str,
    token: &str,
) -> Result<Temporary, String> {
    let form = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
        ("RoleSessionName", session),
        ("WebIdentityToken", token),
    ];
    call(http, env, "AssumeRoleWithWebIdentity", &form, None).await
}

/// `AssumeRole` of `role`, signed with `base` at `now`.
pub async fn assume_role(
    http: &reqwest::Client,
    env: &Env,
    base: &Credentials,
    role: &Role,
    now: Timestamp,
) -> Result<Temporary, String> {
    let duration = role.duration_seconds.map(|d| d.to_string());
    let mut form = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role.arn.as_str()),
        ("RoleSessionName", role.session_name.as_str()),
    ];
    if let Some(id) = &role.external_id {
        form.push(("ExternalId", id));
    }
    if let Some(d) = &duration {
        form.push(("DurationSeconds", d));
    }
    call(http, env, "AssumeRole", &form, Some((base, now))).await
}

/// POSTs `form` to the STS endpoint (signed when `signer` is given) and reads the credentials.
async fn call(
    http: &reqwest::Client,
    env: &Env,
    action: &str,
    form: &[(&str, &str)],
    signer: Option<(&Credentials, Timestamp)>,
) -> Result<Temporary, String> {
    let region = env.region();
    let endpoint = env.endpoint("STS", "sts", region.as_deref());
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    // The signature covers the content type, so it is one list for both.
    let headers = [(
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    )];
    let mut req = http.post(&endpoint).timeout(Duration::from_secs(10));
    for (k, v) in &headers {
        req = req.header(*k, v);
    }
    if let Some((creds, now)) = signer {
        let url = reqwest::Url::parse(&endpoint)
            .map_err(|e| format!("invalid STS endpoint {endpoint}: {e}"))?;
        let at = std::time::UNIX_EPOCH + Duration::from_millis(now.0.max(0) as u64);
        // The global endpoint signs as us-east-1, as the SDKs do.
        let signing_region = region.as_deref().unwrap_or("us-east-1");
        let signed = super::client::sign(
            creds,
            signing_region,
            "sts",
            at,
            &url,
            &headers,
            body.as_bytes(),
        )?;
        for (k, v) in signed {
            req = req.header(k, v);
        }
    }
    let resp = req
        .body(body)
        .send()
        .await
        .map_err(|e| format!("STS {action} at {endpoint}: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("STS: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "STS {action} answered {status}: {}",
            xml_field(&text, "Message").unwrap_or_default()
        ));
    }
    let field =
        |name: &str| xml_field(&text, name).ok_or_else(|| format!("STS answer without {name}"));
    let creds = keys(
        field("AccessKeyId")?,
        field("SecretAccessKey")?,
        Some(field("SessionToken")?),
    );
    Ok((
        creds,
        xml_field(&text, "Expiration").and_then(|e| parse_time(&e)),
    ))
}

/// The text of the first `<name>…</name>` element.
fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

/// An RFC 3339 time (STS, container and instance metadata answers, credential processes).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn answers_and_encoding() {
        let xml = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>\
                   <Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey>\
                   <SessionToken>t</SessionToken><Expiration>2026-11-30T00:00:00Z</Expiration>\
                   </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        assert_eq!(xml_field(xml, "AccessKeyId").as_deref(), Some("ASIA1"));
        assert_eq!(
            parse_time("2026-11-30T00:00:00Z"),
            Some(Timestamp(1_795_996_800_000))
        );
        assert_eq!(form_encode("a b/c=d"), "a%20b%2Fc%3Dd");
    }

    /// A fake STS on loopback that answers one request with `answer` and hands back what it
    /// received.
    async fn fake_sts(answer: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // The request is small; read until its body (after the blank line) has arrived.
            while !String::from_utf8_lossy(&got).contains("Version=2011-06-15") {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            conn.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        (url, task)
    }

    #[tokio::test]
    async fn assume_role_is_signed_with_the_source_credentials() {
        let (url, request) = fake_sts(
            "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId>\
             <SecretAccessKey>rs</SecretAccessKey><SessionToken>rt</SessionToken>\
             <Expiration>2026-11-30T01:00:00Z</Expiration></Credentials></AssumeRoleResult>\
             </AssumeRoleResponse>",
        )
        .await;
        let env = Env::from_pairs([("AWS_ENDPOINT_URL_STS", url.as_str())]);
        let base = Credentials::new("AKIDBASE", "secret", None, None, "test");
        let role = Role {
            arn: "arn:aws:iam::123456789012:role/hooks".into(),
            session_name: "switchyard".into(),
            external_id: Some("ext 1".into()),
            duration_seconds: Some(900),
        };
        let (creds, expires) =
            assume_role(&reqwest::Client::new(), &env, &base, &role, Timestamp(0))
                .await
                .unwrap();
        assert_eq!(creds.access_key_id(), "ASIAROLE");
        assert_eq!(creds.session_token(), Some("rt"));
        assert!(expires.is_some());
        let request = request.await.unwrap().to_lowercase();
        assert!(
            request.contains("credential=akidbase/19700101/us-east-1/sts/aws4_request"),
            "{request}"
        );
        assert!(request.contains("action=assumerole&"), "{request}");
        assert!(request.contains("externalid=ext%201"), "{request}");
        assert!(request.contains("durationseconds=900"), "{request}");
    }
}
