//! Broker destinations on the machine's real services, one module per transport: each test makes
//! its own subjects, streams, exchanges, queues and topics (unique names) and removes what it
//! made. With `CI` set, a broker that cannot be reached fails the test instead of skipping it.

mod amqp;
mod credentials;
mod mqtt;
mod nats;
mod redis;
mod tls;

use std::net::SocketAddr;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A free loopback port (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP forwarder on a loopback port to a real broker: the broker "goes down" when the proxy
/// stops (its listener and every forwarded connection are closed) and "comes back" when a new
/// proxy starts on the same port. This exercises a transport's kept connections and reconnects
/// without restarting the machine's broker.
pub struct Proxy {
    tasks: JoinSet<()>,
}

impl Proxy {
    pub async fn start(port: u16, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the proxy port is free");
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Proxy { tasks }
    }

    /// Closes the listener and every forwarded connection.
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}
