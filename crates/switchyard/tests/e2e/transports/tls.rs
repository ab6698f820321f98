//! Destinations behind a private CA. Each test makes a CA and a certificate naming only
//! `localhost` (openssl), starts the server with `ca_file` naming that CA, and starts its own
//! TLS endpoint on a free port with the certificate: Mosquitto (`mqtts://`), nats-server
//! (`tls://`), redis-server (`rediss://`), a TLS terminator written here in front of the
//! machine's RabbitMQ (`amqps://`) and an HTTPS receiver written here. Two targets share
//! one event: the one addressed as `localhost` is delivered over TLS; the one addressed by the
//! IP literal the name resolves to reaches the same socket and fails with a certificate error,
//! which shows the certificate is checked against the URL's host although every transport opens
//! its socket to the address outbound protection checked.

use super::free_port;
use crate::delivery::{
    execution, invocation_for, publish, target, wait_invocation, wait_status, WAIT,
};
use crate::support::{TempDir, TestServer};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A private CA and a server certificate for `localhost`, in a temporary directory.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Self {
        let pki = Pki {
            dir: TempDir::new(),
        };
        let ext = pki.path("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let p = |f: &str| pki.path(f).to_string_lossy().into_owned();
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        openssl(&format!(
            "req -x509 {ec} -keyout {} -out {} -days 2 -subj /CN=switchyard-test-ca \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
            p("ca.key"),
            p("ca.pem")
        ));
        openssl(&format!(
            "req {ec} -keyout {} -out {} -subj /CN=localhost",
            p("server.key"),
            p("server.csr")
        ));
        openssl(&format!(
            "x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -out {} -days 2 -extfile {}",
            p("server.csr"),
            p("ca.pem"),
            p("ca.key"),
            p("server.pem"),
            p("server.ext")
        ));
        // Mosquitto started as root reads its files as its own user.
        use std::os::unix::fs::PermissionsExt;
        let readable = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(pki.path("server.key"), readable).unwrap();
        pki
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.0.join(file)
    }

    fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    fn cert(&self) -> String {
        self.path("server.pem").to_string_lossy().into_owned()
    }

    fn key(&self) -> String {
        self.path("server.key").to_string_lossy().into_owned()
    }
}

/// Runs openssl with `args` (split at whitespace; the paths have none).
fn openssl(args: &str) {
    let args: Vec<&str> = args.split_whitespace().collect();
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// The address `localhost` resolves to first: the transports connect to it, so the test
/// servers listen on it.
async fn localhost() -> IpAddr {
    tokio::net::lookup_host(("localhost", 0))
        .await
        .expect("localhost resolves")
        .next()
        .expect("localhost has an address")
        .ip()
}

/// `ip` as a URL host.
fn literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Waits until something listens on `ip:port`.
async fn listening(ip: IpAddr, port: u16, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect((ip, port)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `program` with `args` (split at whitespace), killed when dropped.
fn spawn(program: &str, args: &str) -> Child {
    tokio::process::Command::new(program)
        .args(args.split_whitespace())
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is installed: {e}"))
}

/// A server trusting the test CA, retrying quickly.
async fn trusting(ca: &Path) -> TestServer {
    let ca = ca.to_path_buf();
    TestServer::start_with(move |c| {
        c.ca_file = Some(ca);
        c.retry_schedule = ["200ms"; 50].join(",");
        c.delivery.poll_interval = "100ms".into();
    })
    .await
}

/// Two targets for one event, `https://localhost…`-like and by IP literal: the invocations of
/// each. `url` builds the endpoint from the host.
async fn both(s: &TestServer, ip: IpAddr, url: impl Fn(&str) -> String) -> (String, String) {
    let kind = json!({"restWebhook": {"interruptOnError": false}});
    let (by_name, _) = target(s, "by name", &url("localhost"), kind.clone()).await;
    let (by_ip, _) = target(s, "by address", &url(&literal(ip)), kind).await;
    execution(s, "user.human.added", &[&by_name, &by_ip]).await;
    let published = publish(s, "user.human.added", json!({"userName": "tls"})).await;
    (
        invocation_for(&published, &by_name),
        invocation_for(&published, &by_ip),
    )
}

/// The invocation addressed by IP fails with a certificate error and is retried.
async fn refused_certificate(s: &TestServer, inv: &str) -> Value {
    let v = wait_invocation(s, inv, "a failed attempt", |v| {
        v["attempts"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let a = &v["attempts"][0];
    assert_eq!(a["outcome"], "retry", "{v}");
    let error = a["error"].as_str().unwrap_or("").to_lowercase();
    assert!(error.contains("certificate"), "{v}");
    assert_ne!(v["status"], "delivered", "{v}");
    v
}

#[tokio::test]
async fn mqtts_delivers_to_a_broker_behind_a_private_ca() {
    let pki = Pki::new();
    let ip = localhost().await;
    let (plain, tls) = (free_port(), free_port());
    let conf = pki.path("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "per_listener_settings false\nallow_anonymous true\n\
             listener {plain} 127.0.0.1\n\
             listener {tls} {ip}\ncafile {}\ncertfile {}\nkeyfile {}\n",
            pki.ca().display(),
            pki.cert(),
            pki.key()
        ),
    )
    .unwrap();
    let mut broker = spawn("mosquitto", &format!("-c {}", conf.display()));
    listening(ip, tls, "mosquitto").await;
    let topic = format!("sy/test/tls/{}", uuid::Uuid::new_v4().simple());
    let (_client, mut rx) = super::mqtt::subscribe(plain, &topic).await;

    let s = trusting(&pki.ca()).await;
    let (by_name, by_ip) = both(&s, ip, |host| format!("mqtts://{host}:{tls}/{topic}")).await;
    let v = wait_status(&s, &by_name, "delivered").await;
    assert_eq!(v["attempts"][0]["transport"], "mqtt", "{v}");
    let msg = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a message within the wait")
        .unwrap();
    let body: Value = serde_json::from_slice(&msg.payload).unwrap();
    assert_eq!(body["event_payload"]["userName"], "tls");
    refused_certificate(&s, &by_ip).await;
    let _ = broker.kill().await;
}

#[tokio::test]
async fn nats_tls_delivers_to_a_server_behind_a_private_ca() {
    let pki = Pki::new();
    let ip = localhost().await;
    let port = free_port();
    let mut server = spawn(
        "nats-server",
        &format!(
            "-a {ip} -p {port} --tls --tlscert {} --tlskey {}",
            pki.cert(),
            pki.key()
        ),
    );
    listening(ip, port, "nats-server").await;
    let client = async_nats::ConnectOptions::new()
        .add_root_certificates(pki.ca())
        .require_tls(true)
        .connect(format!("tls://localhost:{port}"))
        .await
        .expect("a TLS client of the test server");
    let subject = format!("sy.test.tls.{}", uuid::Uuid::new_v4().simple());
    let mut sub = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();

    let s = trusting(&pki.ca()).await;
    let (by_name, by_ip) = both(&s, ip, |host| format!("tls://{host}:{port}/{subject}")).await;
    let v = wait_status(&s, &by_name, "delivered").await;
    assert_eq!(v["attempts"][0]["transport"], "nats", "{v}");
    let msg = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("a message within the wait")
        .unwrap();
    let headers = msg.headers.expect("the delivery metadata as headers");
    assert_eq!(headers.get("webhook-id").unwrap().as_str(), by_name);
    refused_certificate(&s, &by_ip).await;
    let _ = server.kill().await;
}

#[tokio::test]
async fn rediss_delivers_to_a_server_behind_a_private_ca() {
    let pki = Pki::new();
    let ip = localhost().await;
    let (plain, tls) = (free_port(), free_port());
    // The plain port (for reading the stream back) on 127.0.0.1, TLS on localhost's address.
    let binds = if ip == IpAddr::from([127, 0, 0, 1]) {
        ip.to_string()
    } else {
        format!("127.0.0.1 {ip}")
    };
    let mut server = tokio::process::Command::new("redis-server")
        .args(["--bind", &binds])
        .args(["--port", &plain.to_string(), "--tls-port", &tls.to_string()])
        .args(["--tls-cert-file", &pki.cert(), "--tls-key-file", &pki.key()])
        .args(["--tls-ca-cert-file", &pki.ca().to_string_lossy()])
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server is installed");
    listening(ip, tls, "redis-server").await;
    let stream = format!("sy:test:tls:{}", uuid::Uuid::new_v4().simple());

    let s = trusting(&pki.ca()).await;
    let (by_name, by_ip) = both(&s, ip, |host| {
        format!("rediss://{host}:{tls}/0?stream={stream}")
    })
    .await;
    let v = wait_status(&s, &by_name, "delivered").await;
    assert_eq!(v["attempts"][0]["transport"], "redis", "{v}");
    assert_eq!(
        super::redis::first_entry(plain, &stream)["webhook-id"],
        by_name
    );
    refused_certificate(&s, &by_ip).await;
    let _ = server.kill().await;
}

#[tokio::test]
async fn https_delivers_to_a_receiver_behind_a_private_ca() {
    let pki = Pki::new();
    let ip = localhost().await;
    let (port, mut bodies) = https_receiver(&pki, ip).await;

    let s = trusting(&pki.ca()).await;
    let (by_name, by_ip) = both(&s, ip, |host| format!("https://{host}:{port}/hook")).await;
    let v = wait_status(&s, &by_name, "delivered").await;
    assert_eq!(v["attempts"][0]["transport"], "http", "{v}");
    let body = tokio::time::timeout(WAIT, bodies.recv())
        .await
        .expect("a request within the wait")
        .unwrap();
    assert_eq!(body["event_payload"]["userName"], "tls");
    refused_certificate(&s, &by_ip).await;
    // Without the CA the same receiver is refused: the trust comes from `ca_file`.
    let plain = TestServer::start().await;
    let (by_name, _) = both(&plain, ip, |host| format!("https://{host}:{port}/hook")).await;
    refused_certificate(&plain, &by_name).await;
}

#[tokio::test]
async fn amqps_delivers_to_a_broker_behind_a_private_ca() {
    let pki = Pki::new();
    let ip = localhost().await;
    let (_conn, ch) = super::amqp::channel().await;
    let queue = format!("sy.test.tls.{}", uuid::Uuid::new_v4().simple());
    super::amqp::declare_queue(&ch, &queue).await;
    let port = tls_terminator(&pki, ip, "127.0.0.1:5672").await;

    let s = trusting(&pki.ca()).await;
    let (by_name, by_ip) = both(&s, ip, |host| {
        format!("amqps://guest:guest@{host}:{port}/%2f?routingKey={queue}")
    })
    .await;
    let v = wait_status(&s, &by_name, "delivered").await;
    assert_eq!(v["attempts"][0]["transport"], "amqp", "{v}");
    let m = super::amqp::get(&ch, &queue).await;
    let body: Value = serde_json::from_slice(&m.data).unwrap();
    assert_eq!(body["event_payload"]["userName"], "tls");
    refused_certificate(&s, &by_ip).await;
    let _ = ch
        .queue_delete(queue.as_str().into(), Default::default())
        .await;
}

/// The server side of TLS with the test certificate.
fn acceptor(pki: &Pki) -> tokio_rustls::TlsAcceptor {
    let certs = CertificateDer::pem_file_iter(pki.cert())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.key()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// TLS on a free port of `ip`, forwarded in plain to `upstream`.
async fn tls_terminator(pki: &Pki, ip: IpAddr, upstream: &'static str) -> u16 {
    let acceptor = acceptor(pki);
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    port
}

/// An HTTPS receiver with the test certificate on a free port of `ip`: it answers every POST
/// with 204 and sends its JSON body on.
async fn https_receiver(pki: &Pki, ip: IpAddr) -> (u16, mpsc::UnboundedReceiver<Value>) {
    let acceptor = acceptor(pki);
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                // A refused handshake (the client's certificate check) ends here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut io = BufReader::new(tls);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if io.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end().to_ascii_lowercase();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if io.read_exact(&mut body).await.is_err() {
                    return;
                }
                let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                let answer = b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";
                let _ = io.get_mut().write_all(answer).await;
                let _ = io.get_mut().shutdown().await;
            });
        }
    });
    (port, rx)
}
