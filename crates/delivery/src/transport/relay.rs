//! Hands a client library a connection we opened ourselves. The MQTT client (rumqttc) resolves
//! and connects by itself, and over TLS it must be given the broker's name (for SNI and the
//! certificate check), so it would look the name up a second time, after outbound protection
//! checked it, and a name can answer differently the second time (DNS rebinding). Instead the
//! transport opens TCP to the checked address and does the TLS handshake itself, then gives the
//! client the path of a Unix socket: a listener in a fresh directory only this user can enter
//! (mode 0700), which accepts one connection, from this process only, and splices it to the
//! stream. The directory is removed as soon as that connection is accepted, or when no client
//! came within the timeout. The splice is a copy in each direction within this process.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixListener;

/// A socket the client is to connect to, and what it is spliced to.
pub(crate) struct Relay {
    pub path: PathBuf,
}

/// Listens on a fresh private socket and splices the first connection to `stream`; the client
/// must connect within `wait`.
pub(crate) fn hand_over<S>(stream: S, wait: Duration) -> std::io::Result<Relay>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let dir = std::env::temp_dir().join(format!("switchyard-relay-{:016x}", rand::random::<u64>()));
    // Fails if the path exists: nothing planted there is reused.
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let path = dir.join("s");
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    tokio::spawn(async move {
        let accepted = tokio::time::timeout(wait, listener.accept()).await;
        drop(listener);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(Ok((mut client, _))) = accepted else {
            return;
        };
        let ours = client
            .peer_cred()
            .ok()
            .and_then(|c| c.pid())
            .is_some_and(|pid| pid as u32 == std::process::id());
        if !ours {
            return;
        }
        let mut stream = stream;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut stream).await;
    });
    Ok(Relay { path })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixStream;

    #[tokio::test]
    async fn the_first_connection_is_spliced_and_the_socket_removed() {
        let (ours, mut far) = tokio::io::duplex(64);
        let relay = hand_over(ours, Duration::from_secs(5)).unwrap();
        let mut client = UnixStream::connect(&relay.path).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut got = [0; 4];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        far.write_all(b"pong").await.unwrap();
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        assert!(!relay.path.exists());
        assert!(UnixStream::connect(&relay.path).await.is_err());
    }

    #[tokio::test]
    async fn no_client_in_time_removes_the_socket() {
        let (ours, _far) = tokio::io::duplex(64);
        let relay = hand_over(ours, Duration::from_millis(10)).unwrap();
        let dir = relay.path.parent().unwrap().to_path_buf();
        for _ in 0..200 {
            if !dir.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{} still exists", dir.display());
    }
}
