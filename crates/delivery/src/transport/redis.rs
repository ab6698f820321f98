//! The Redis Streams transport (`redis://[[USER]:PASSWORD@]HOST:PORT/DB?stream=NAME[&maxlen=N]`,
//! `rediss://` over TLS): each delivery is one `XADD` (trimmed with `MAXLEN ~ N` when a cap is
//! given) whose fields are the body (`body`) and the delivery metadata (`content-type`,
//! `webhook-id`, `webhook-timestamp`, `webhook-signature` or `zitadel-signature`); the entry id
//! Redis answers is the acknowledgement.
//!
//! The `redis` crate speaks RESP and does the login (`AUTH`) and `SELECT`, but it is never let
//! resolve or connect: the socket is opened here, to the address outbound protection checked
//! (so the address checked is the address used), the TLS handshake is ours (the host's name sent and the
//! certificate verified against it, with the roots every transport trusts), and the crate is handed the finished stream. One
//! multiplexed connection per server, login and database, made on first use (concurrent first
//! sends wait for the same connection) and shared: deliveries pipeline over it. A connection
//! that failed or let a command time out is forgotten, so the next send connects again at the
//! retry schedule's pace; a refusal from the server (`WRONGTYPE`, `NOPERM`) keeps it.

use super::tls::Trust;
use super::{resolve_checked, Response, SendError};
use crate::prepare::Prepared;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, ErrorKind, RedisConnectionInfo, RedisError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::{DeliveryUrl, RedisTarget};
use switchyard_core::netguard::OutboundPolicy;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

/// What identifies a connection: where, as whom, and which database it selected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LinkKey {
    tls: bool,
    host: String,
    port: u16,
    /// Percent-decoded; empty when the URL names none.
    user: String,
    password: Option<String>,
    db: u32,
}

impl LinkKey {
    fn of(url: &DeliveryUrl, db: u32) -> Self {
        let user = url.url().username();
        Self {
            tls: url.is_tls(),
            host: url.url().host_str().unwrap_or("").to_string(),
            port: url.url().port().unwrap_or(6379),
            user: percent_encoding::percent_decode_str(user)
                .decode_utf8_lossy()
                .into_owned(),
            password: url.password(),
            db,
        }
    }

    fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The login and database the crate sends once connected (`AUTH`, `SELECT`).
    fn connection_info(&self) -> RedisConnectionInfo {
        // No `CLIENT SETINFO`: the server is told nothing but the login and the database.
        let mut info = RedisConnectionInfo::default()
            .set_db(i64::from(self.db))
            .set_skip_set_lib_name();
        if let Some(password) = &self.password {
            info = info.set_password(password);
            if !self.user.is_empty() {
                info = info.set_username(&self.user);
            }
        }
        info
    }
}

/// One server's connection: handles to it are cheap clones that share the socket.
struct Link {
    conn: MultiplexedConnection,
    /// The task that reads and writes the socket; it ends when the server closes the connection
    /// (or every handle is dropped).
    driver: JoinHandle<()>,
}

/// A connection made on first use; empty again after a failed attempt to make it.
type Slot = Arc<OnceCell<Link>>;

pub struct Redis {
    policy: Arc<OutboundPolicy>,
    trust: Arc<Trust>,
    links: Mutex<HashMap<LinkKey, Slot>>,
}

impl Redis {
    pub fn new(policy: Arc<OutboundPolicy>, trust: Arc<Trust>) -> Self {
        Self {
            policy,
            trust,
            links: Mutex::new(HashMap::new()),
        }
    }

    /// `XADD` of one entry.
    pub async fn xadd(&self, url: &DeliveryUrl, msg: Prepared, timeout: Duration) -> Response {
        let started = Instant::now();
        match self.send(url, &msg, timeout).await {
            Ok(id) => Response::acknowledged(format!("entry {id}"), started),
            Err(e) => Response::failed(e, started),
        }
    }

    async fn send(
        &self,
        url: &DeliveryUrl,
        msg: &Prepared,
        timeout: Duration,
    ) -> Result<String, SendError> {
        if let Err(reason) = self.policy.check_url(url) {
            return Err(SendError::Refused(reason));
        }
        let target = RedisTarget::of(url.url()).map_err(SendError::Failed)?;
        let key = LinkKey::of(url, target.db);
        let deadline = tokio::time::Instant::now() + timeout;
        let no_answer = || {
            SendError::TimedOut(format!(
                "Redis: no answer within {} ms",
                timeout.as_millis()
            ))
        };
        let slot = self.slot(&key);
        let mut conn =
            tokio::time::timeout_at(deadline, slot.get_or_try_init(|| self.connect(&key)))
                .await
                .map_err(|_| no_answer())??
                .conn
                .clone();
        match tokio::time::timeout_at(deadline, xadd_command(&target, msg).query_async(&mut conn))
            .await
        {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) if is_server_refusal(&e) => Err(SendError::Failed(format!(
                "Redis XADD to {}: {}",
                target.stream,
                server_words(&e)
            ))),
            Ok(Err(e)) => {
                self.forget(&key, &slot);
                Err(SendError::Failed(format!("Redis at {}: {e}", key.server())))
            }
            // The connection may be half-open: the next send makes a new one (commands still
            // in flight on this one finish or fail on their own).
            Err(_) => {
                self.forget(&key, &slot);
                Err(no_answer())
            }
        }
    }

    /// Opens a socket to a checked address (TLS over it for `rediss://`) and hands it to the crate,
    /// which logs in and selects the database.
    async fn connect(&self, key: &LinkKey) -> Result<Link, SendError> {
        let server = key.server();
        let addr = resolve_checked(&self.policy, &key.host, key.port).await?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| SendError::Failed(format!("Redis connect to {server}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let info = key.connection_info();
        let made = if key.tls {
            let tls = self
                .trust
                .connect(&key.host, tcp)
                .await
                .map_err(|e| SendError::Failed(format!("Redis TLS with {server}: {e}")))?;
            multiplex(&info, tls).await
        } else {
            multiplex(&info, tcp).await
        };
        made.map_err(|e| match e.kind() {
            ErrorKind::AuthenticationFailed => {
                SendError::Failed(format!("Redis AUTH at {server}: {}", server_words(&e)))
            }
            _ => SendError::Failed(format!("Redis at {server}: {e}")),
        })
    }

    /// The key's slot; a new one when the cached connection is known to be closed.
    fn slot(&self, key: &LinkKey) -> Slot {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let slot = links.entry(key.clone()).or_default();
        if slot.get().is_some_and(|link| link.driver.is_finished()) {
            *slot = Slot::default();
        }
        slot.clone()
    }

    /// Drops the key's connection, unless it was already replaced by a newer one.
    fn forget(&self, key: &LinkKey, used: &Slot) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        if links.get(key).is_some_and(|slot| Arc::ptr_eq(slot, used)) {
            links.remove(key);
        }
    }
}

/// The crate's connection over `stream`, its driver running on tokio.
async fn multiplex<S>(info: &RedisConnectionInfo, stream: S) -> Result<Link, RedisError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Each delivery is bounded by its own timeout (the route's), not the crate's default.
    let config = AsyncConnectionConfig::new().set_response_timeout(None);
    let (conn, driver) = MultiplexedConnection::new_with_config(info, stream, config).await?;
    Ok(Link {
        conn,
        driver: tokio::spawn(driver),
    })
}

/// `XADD stream [MAXLEN ~ N] * body <body> <name> <value> ...`: one entry, the fields in the
/// message's order.
fn xadd_command(target: &RedisTarget, msg: &Prepared) -> Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(&target.stream);
    if let Some(n) = target.maxlen {
        cmd.arg("MAXLEN").arg("~").arg(n);
    }
    cmd.arg("*").arg("body").arg(&msg.body);
    for (name, value) in &msg.headers {
        cmd.arg(*name).arg(value);
    }
    cmd
}

/// Whether the server answered with an error (the connection is still good), as opposed to a
/// connection, protocol or client failure.
fn is_server_refusal(e: &RedisError) -> bool {
    matches!(e.kind(), ErrorKind::Server(_) | ErrorKind::Extension)
}

/// A server's error as the server wrote it (`WRONGTYPE Operation against a key ...`); any other
/// failure as the crate describes it.
fn server_words(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) if is_server_refusal(e) => format!("{code} {detail}"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A transport allowed to reach loopback, and a stream URL on `port`.
    fn local(port: u16) -> (Redis, DeliveryUrl) {
        let policy = OutboundPolicy::new("127.0.0.0/8", false).unwrap();
        let url = format!("redis://127.0.0.1:{port}/0?stream=s");
        (
            Redis::new(Arc::new(policy), Arc::new(Trust::public())),
            DeliveryUrl::parse("url", &url).unwrap(),
        )
    }

    /// A server on loopback that reports each connection it accepts, reads one command on it,
    /// then writes `answer` and closes it, or (`None`) holds it open without a word.
    async fn fake_server(answer: Option<&'static [u8]>) -> (u16, tokio::sync::mpsc::Receiver<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (accepted, accepts) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let _ = accepted.send(()).await;
                tokio::spawn(async move {
                    let mut buf = [0; 4096];
                    let _ = socket.read(&mut buf).await;
                    match answer {
                        // Answers, then closes the connection.
                        Some(answer) => {
                            let _ = socket.write_all(answer).await;
                        }
                        // Holds the connection open without a word.
                        None => std::future::pending::<()>().await,
                    }
                });
            }
        });
        (port, accepts)
    }

    fn cached(redis: &Redis, url: &DeliveryUrl) -> bool {
        let links = redis.links.lock().unwrap();
        links.contains_key(&LinkKey::of(url, 0))
    }

    #[tokio::test]
    async fn a_silent_server_times_out_and_the_next_send_connects_again() {
        let (port, mut accepts) = fake_server(None).await;
        let (redis, url) = local(port);
        let timeout = Duration::from_millis(200);
        let first = redis.xadd(&url, message(), timeout).await;
        match first.error {
            Some(SendError::TimedOut(e)) => assert_eq!(e, "Redis: no answer within 200 ms"),
            other => panic!("{other:?}"),
        }
        assert!(!cached(&redis, &url), "a timed-out connection is forgotten");
        let _ = redis.xadd(&url, message(), timeout).await;
        accepts.recv().await.unwrap();
        accepts.recv().await.unwrap();
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced_before_sending() {
        let (port, mut accepts) = fake_server(Some(b"$5\r\n1-0-0\r\n")).await;
        let (redis, url) = local(port);
        let timeout = Duration::from_secs(5);
        let first = redis.xadd(&url, message(), timeout).await;
        assert!(first.error.is_none(), "{:?}", first.error);
        accepts.recv().await.unwrap();
        // The server closed the connection after answering: its driver ends.
        let key = LinkKey::of(&url, 0);
        let driver_ended = || {
            let links = redis.links.lock().unwrap();
            links[&key]
                .get()
                .is_some_and(|link| link.driver.is_finished())
        };
        tokio::time::timeout(timeout, async {
            while !driver_ended() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        let second = redis.xadd(&url, message(), timeout).await;
        assert!(second.error.is_none(), "{:?}", second.error);
        assert_eq!(second.body, b"entry 1-0-0");
        accepts.recv().await.unwrap();
    }

    fn args(cmd: &Cmd) -> Vec<String> {
        cmd.args_iter()
            .map(|a| match a {
                redis::Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                _ => panic!("XADD takes no cursor argument"),
            })
            .collect()
    }

    fn message() -> Prepared {
        Prepared {
            event_type: "user.human.added".into(),
            body: br#"{"a":1}"#.to_vec(),
            headers: vec![
                ("content-type", "application/json".into()),
                ("webhook-id", "inv-1".into()),
            ],
        }
    }

    #[test]
    fn an_entry_holds_the_body_then_the_metadata() {
        let target = RedisTarget {
            db: 0,
            stream: "orders".into(),
            maxlen: None,
        };
        assert_eq!(
            args(&xadd_command(&target, &message())),
            [
                "XADD",
                "orders",
                "*",
                "body",
                r#"{"a":1}"#,
                "content-type",
                "application/json",
                "webhook-id",
                "inv-1"
            ]
        );
    }

    #[test]
    fn a_cap_trims_the_stream_approximately() {
        let target = RedisTarget {
            db: 3,
            stream: "orders".into(),
            maxlen: Some(1000),
        };
        assert_eq!(
            args(&xadd_command(&target, &message()))[..7],
            ["XADD", "orders", "MAXLEN", "~", "1000", "*", "body"]
        );
    }

    #[test]
    fn a_login_is_sent_only_with_a_password() {
        let key = |user: &str, password: Option<&str>| LinkKey {
            tls: false,
            host: "h".into(),
            port: 6379,
            user: user.into(),
            password: password.map(str::to_string),
            db: 2,
        };
        let info = key("ann", None).connection_info();
        assert_eq!(
            (info.username(), info.password(), info.db()),
            (None, None, 2)
        );
        let info = key("", Some("pw")).connection_info();
        assert_eq!((info.username(), info.password()), (None, Some("pw")));
        let info = key("ann", Some("pw")).connection_info();
        assert_eq!(
            (info.username(), info.password()),
            (Some("ann"), Some("pw"))
        );
    }

    #[test]
    fn a_server_refusal_keeps_the_connection_and_the_servers_words() {
        let refused = redis::make_extension_error(
            "WRONGTYPE".into(),
            Some("Operation against a key holding the wrong kind of value".into()),
        );
        assert!(is_server_refusal(&refused));
        assert_eq!(
            server_words(&refused),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        let dropped = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(!is_server_refusal(&dropped));
        assert_eq!(server_words(&dropped), dropped.to_string());
    }
}
