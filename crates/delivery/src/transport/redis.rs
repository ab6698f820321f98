//! The Redis Streams transport (`redis://HOST:PORT/DB?stream=NAME[&maxlen=N]`): each delivery is
//! one `XADD` (trimmed with `MAXLEN ~ N` when a cap is given) whose fields are the body
//! (`body`) and the delivery metadata (`content-type`, `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` or `zitadel-signature`); the entry id Redis answers is the
//! acknowledgement. A password in the URL (`redis://[USER]:PASSWORD@...`) is sent with `AUTH` on
//! each new connection; `rediss://` speaks TLS. The two commands it needs (`SELECT`, `XADD`) are spoken here in RESP over a
//! few kept-alive connections per server: a connection is taken from the server's idle list for
//! one command and put back after a complete answer, so no lock is held while waiting, and one
//! that failed is dropped (the next send connects again, at the retry schedule's pace). Hosts
//! pass outbound protection before connecting, on the address used.

use super::{resolve_checked, Response, SendError};
use crate::prepare::Prepared;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::{DeliveryUrl, RedisTarget};
use switchyard_core::netguard::OutboundPolicy;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Idle connections kept per server.
const IDLE_PER_SERVER: usize = 16;
/// Longest answer line or bulk string read (an entry id or an error message).
const MAX_REPLY: usize = 64 * 1024;

/// A connection's byte stream: TCP, or TLS over it (`rediss://`).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

struct Conn {
    io: BufReader<Box<dyn Stream>>,
    db: u32,
}

pub struct Redis {
    policy: Arc<OutboundPolicy>,
    trust: Arc<super::tls::Trust>,
    idle: Mutex<HashMap<String, Vec<Conn>>>,
}

/// One RESP answer.
#[derive(Debug, PartialEq)]
enum Reply {
    Ok(String),
    /// `-ERR ...`: the server refused the command (the connection is still good).
    Refused(String),
}

impl Redis {
    pub fn new(policy: Arc<OutboundPolicy>, trust: Arc<super::tls::Trust>) -> Self {
        Self {
            policy,
            trust,
            idle: Mutex::new(HashMap::new()),
        }
    }

    /// `XADD` of one entry.
    pub async fn xadd(&self, url: &DeliveryUrl, msg: Prepared, timeout: Duration) -> Response {
        let started = Instant::now();
        let work = self.send(url, msg);
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok(id)) => Response::acknowledged(format!("entry {id}"), started),
            Ok(Err(e)) => Response::failed(e, started),
            Err(_) => Response::failed(
                SendError::TimedOut(format!(
                    "Redis: no answer within {} ms",
                    timeout.as_millis()
                )),
                started,
            ),
        }
    }

    async fn send(&self, url: &DeliveryUrl, msg: Prepared) -> Result<String, SendError> {
        if let Err(reason) = self.policy.check_url(url) {
            return Err(SendError::Refused(reason));
        }
        let target = RedisTarget::of(url.url()).map_err(SendError::Failed)?;
        let host = url.url().host_str().unwrap_or("").to_string();
        let port = url.url().port().unwrap_or(6379);
        let server = format!("{host}:{port}");
        let password = url.password();
        let user = url.url().username().to_string();
        // Idle connections are kept per server, login and TLS choice.
        let pool = format!("{} {server} {user} {password:?}", url.is_tls());
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&pool)
            .and_then(Vec::pop);
        let mut conn = match taken {
            Some(c) => c,
            None => {
                let addr = resolve_checked(&self.policy, &host, port).await?;
                let tcp = TcpStream::connect(addr)
                    .await
                    .map_err(|e| SendError::Failed(format!("Redis connect to {server}: {e}")))?;
                let _ = tcp.set_nodelay(true);
                let stream: Box<dyn Stream> =
                    if url.is_tls() {
                        Box::new(self.trust.connect(&host, tcp).await.map_err(|e| {
                            SendError::Failed(format!("Redis TLS with {server}: {e}"))
                        })?)
                    } else {
                        Box::new(tcp)
                    };
                let mut conn = Conn {
                    io: BufReader::new(stream),
                    db: 0,
                };
                if let Some(password) = &password {
                    let user = percent_encoding::percent_decode_str(&user).decode_utf8_lossy();
                    let mut args: Vec<&[u8]> = vec![b"AUTH"];
                    if !user.is_empty() {
                        args.push(user.as_bytes());
                    }
                    args.push(password.as_bytes());
                    match command(&mut conn.io, &args)
                        .await
                        .map_err(|e| SendError::Failed(format!("Redis at {server}: {e}")))?
                    {
                        Reply::Ok(_) => {}
                        Reply::Refused(e) => {
                            return Err(SendError::Failed(format!("Redis AUTH at {server}: {e}")))
                        }
                    }
                }
                conn
            }
        };
        let io_error = |e: std::io::Error| SendError::Failed(format!("Redis at {server}: {e}"));
        if conn.db != target.db {
            let db = target.db.to_string();
            match command(&mut conn.io, &[b"SELECT", db.as_bytes()])
                .await
                .map_err(io_error)?
            {
                Reply::Ok(_) => conn.db = target.db,
                Reply::Refused(e) => {
                    return Err(SendError::Failed(format!("Redis SELECT {db}: {e}")))
                }
            }
        }
        let maxlen = target.maxlen.map(|n| n.to_string());
        let mut args: Vec<&[u8]> = vec![b"XADD", target.stream.as_bytes()];
        if let Some(n) = &maxlen {
            args.extend([&b"MAXLEN"[..], b"~", n.as_bytes()]);
        }
        args.extend([&b"*"[..], b"body", &msg.body]);
        for (k, v) in &msg.headers {
            args.extend([k.as_bytes(), v.as_bytes()]);
        }
        let reply = command(&mut conn.io, &args).await.map_err(io_error)?;
        // A complete answer: the connection can serve the next delivery.
        {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let list = idle.entry(pool).or_default();
            if list.len() < IDLE_PER_SERVER {
                list.push(conn);
            }
        }
        match reply {
            Reply::Ok(id) => Ok(id),
            Reply::Refused(e) => Err(SendError::Failed(format!(
                "Redis XADD to {}: {e}",
                target.stream
            ))),
        }
    }
}

/// Sends one command and reads its answer.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    args: &[&[u8]],
) -> std::io::Result<Reply> {
    io.get_mut().write_all(&encode(args)).await?;
    read_reply(io).await
}

/// A RESP array of bulk strings.
fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads a simple string, error, integer or bulk string answer.
async fn read_reply<R: tokio::io::AsyncBufRead + Unpin>(io: &mut R) -> std::io::Result<Reply> {
    let bad = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string());
    let mut line = Vec::new();
    (&mut *io)
        .take(MAX_REPLY as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if !line.ends_with(b"\r\n") {
        return Err(bad("connection closed or answer too long"));
    }
    line.truncate(line.len() - 2);
    let text = String::from_utf8_lossy(&line[1.min(line.len())..]).into_owned();
    match line.first() {
        Some(b'+') | Some(b':') => Ok(Reply::Ok(text)),
        Some(b'-') => Ok(Reply::Refused(text)),
        Some(b'$') => {
            let len: i64 = text.parse().map_err(|_| bad("bad bulk length"))?;
            if len < 0 {
                return Ok(Reply::Ok(String::new()));
            }
            if len as usize > MAX_REPLY {
                return Err(bad("answer too long"));
            }
            let mut buf = vec![0; len as usize + 2];
            io.read_exact(&mut buf).await?;
            buf.truncate(len as usize);
            Ok(Reply::Ok(String::from_utf8_lossy(&buf).into_owned()))
        }
        _ => Err(bad("unexpected answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            encode(&[b"XADD", b"s", b"*", b"body", b"{}"]),
            b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$4\r\nbody\r\n$2\r\n{}\r\n".to_vec()
        );
    }

    #[tokio::test]
    async fn answers() {
        let read = |b: &'static [u8]| async move { read_reply(&mut &b[..]).await };
        assert_eq!(read(b"+OK\r\n").await.unwrap(), Reply::Ok("OK".into()));
        assert_eq!(
            read(b"$15\r\n1700000000000-0\r\n").await.unwrap(),
            Reply::Ok("1700000000000-0".into())
        );
        assert_eq!(
            read(b"-WRONGTYPE Operation against a key\r\n")
                .await
                .unwrap(),
            Reply::Refused("WRONGTYPE Operation against a key".into())
        );
        assert!(read(b"+OK").await.is_err());
        assert!(read(b"*1\r\n").await.is_err());
    }
}
