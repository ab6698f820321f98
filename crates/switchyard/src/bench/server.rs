//! The server under test: `switchyard serve` as a child process with a fresh data directory,
//! loopback deliveries allowed, and the routes the benchmark needs.

use super::check;
use anyhow::Context;
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    base: String,
    data_dir: std::path::PathBuf,
}

/// What the servers of one benchmark run share: the database (SQLite in each data dir when
/// `None`), the master key file and the JWT secret.
pub struct Cluster {
    pub database_url: Option<String>,
    shared: std::path::PathBuf,
    jwt_secret: String,
}

impl Cluster {
    pub fn new(database_url: Option<String>) -> anyhow::Result<Self> {
        let shared = std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&shared);
        std::fs::create_dir_all(&shared)?;
        Ok(Self {
            database_url,
            shared,
            jwt_secret: switchyard_core::crypto::random_token(36),
        })
    }

    /// An admin token for the default instance, valid on every node.
    pub fn admin_token(&self) -> anyhow::Result<String> {
        let mut config = crate::Config {
            data_dir: self.shared.clone(),
            ..crate::Config::default()
        };
        config.auth.jwt_secret = Some(self.jwt_secret.clone());
        let scopes = switchyard_core::auth::Scopes::parse("admin").map_err(anyhow::Error::msg)?;
        crate::auth::mint_token(
            &config,
            "bench",
            &switchyard_core::InstanceId::default_instance(),
            scopes,
            Duration::from_secs(3600),
        )
    }

    /// Starts node number `node`.
    pub async fn start(&self, node: usize) -> anyhow::Result<Server> {
        Server::start(self, node).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.shared);
    }
}

impl Server {
    async fn start(cluster: &Cluster, node: usize) -> anyhow::Result<Self> {
        let data_dir = cluster.shared.join(format!("node-{node}"));
        let exe = std::env::current_exe()?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .env("SWITCHYARD_LISTEN", "127.0.0.1:0")
            .env("SWITCHYARD_DATA_DIR", &data_dir)
            .env(
                "SWITCHYARD_MASTER_KEY_FILE",
                cluster.shared.join("master.key"),
            )
            .env("SWITCHYARD_AUTH__JWT_SECRET", &cluster.jwt_secret)
            .env(
                "SWITCHYARD_DATABASE_URL",
                cluster.database_url.as_deref().unwrap_or(""),
            )
            .env("SWITCHYARD_ALLOW_NETWORKS", "127.0.0.0/8")
            .env("RUST_LOG", "warn,switchyard=info");
        let mut child = command
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting switchyard serve")?;
        let stderr = child.stderr.take().context("server stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let base = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(pos) = line.find("listening on http://") {
                    let url = line[pos + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    return Ok::<_, anyhow::Error>(url);
                }
            }
            anyhow::bail!("server exited before listening")
        })
        .await
        .context("server did not start in 30 s")??;
        // Keep draining the log so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            base,
            data_dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A subscription on `idn:identity-created` and an execution for all events, both to `hook`.
    pub async fn setup_routes(
        &self,
        client: &reqwest::Client,
        token: &str,
        hook: &str,
    ) -> anyhow::Result<()> {
        let auth = |r: reqwest::RequestBuilder| {
            if token.is_empty() {
                r
            } else {
                r.bearer_auth(token)
            }
        };
        let sub = auth(client.post(self.url("/trigger-subscriptions/v1")))
            .json(
                &json!({"name": "bench", "triggerId": "idn:identity-created", "type": "HTTP",
                          "httpConfig": {"url": hook, "httpDispatchMode": "SYNC"}}),
            )
            .send()
            .await?;
        check(sub, "creating the subscription").await?;
        let target = auth(client.post(self.url("/v2/actions/targets")))
            .json(&json!({"name": "bench", "endpoint": hook, "timeout": "10s", "restWebhook": {"interruptOnError": false}}))
            .send()
            .await?;
        let target = check(target, "creating the target").await?;
        let id = target["id"].as_str().context("target id")?.to_string();
        let exec = auth(client.put(self.url("/v2/actions/executions")))
            .json(&json!({"condition": {"event": {"all": true}}, "targets": [id]}))
            .send()
            .await?;
        check(exec, "setting the execution").await?;
        Ok(())
    }

    /// A restCall target at `endpoint` and the execution of `method`'s requests to it.
    pub async fn setup_call_route(
        &self,
        client: &reqwest::Client,
        token: &str,
        endpoint: &str,
        method: &str,
    ) -> anyhow::Result<()> {
        let target = client
            .post(self.url("/v2/actions/targets"))
            .bearer_auth(token)
            .json(&json!({"name": "bench-call", "endpoint": endpoint, "timeout": "10s", "restCall": {"interruptOnError": true}}))
            .send()
            .await?;
        let target = check(target, "creating the restCall target").await?;
        let id = target["id"].as_str().context("target id")?.to_string();
        let exec = client
            .put(self.url("/v2/actions/executions"))
            .bearer_auth(token)
            .json(&json!({"condition": {"request": {"method": method}}, "targets": [id]}))
            .send()
            .await?;
        check(exec, "setting the execution").await?;
        Ok(())
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SIGTERM for a clean stop; the child is killed on drop if it hangs.
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
