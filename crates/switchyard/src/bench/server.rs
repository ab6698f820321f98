//! The server under test: `switchyard serve` as a child process with its own data directory
//! (kept across a restart of the node, removed with the cluster), loopback deliveries allowed,
//! and the routes the benchmark needs.

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
}

/// What the servers of one benchmark run share: the database (SQLite in each data dir when
/// `None`; on PostgreSQL a scratch database created beside the one named, so every run starts
/// empty), the master key file and the JWT secret.
pub struct Cluster {
    pub database_url: Option<String>,
    /// The binary run as the server (this one unless `--server-bin` names another).
    server_bin: std::path::PathBuf,
    /// The server URL given and the scratch database made on it.
    scratch: Option<(String, String)>,
    shared: std::path::PathBuf,
    jwt_secret: String,
}

impl Cluster {
    pub async fn new(args: &super::BenchArgs) -> anyhow::Result<Self> {
        let server_bin = match &args.server_bin {
            Some(bin) => bin.clone(),
            None => std::env::current_exe().unwrap_or_else(|_| "switchyard".into()),
        };
        let database_url = args.database_url.clone();
        let shared = std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&shared);
        std::fs::create_dir_all(&shared)?;
        let (database_url, scratch) = match database_url {
            Some(url) => {
                let name = format!("switchyard_bench_{}", std::process::id());
                let scratch_url = switchyard_store::postgres::scratch::create(&url, &name)
                    .await
                    .context("creating the benchmark's scratch database")?;
                (Some(scratch_url), Some((url, name)))
            }
            None => (None, None),
        };
        Ok(Self {
            database_url,
            server_bin,
            scratch,
            shared,
            jwt_secret: switchyard_core::crypto::random_token(36),
        })
    }

    /// Drops the scratch database (the shared files go when the cluster is dropped).
    pub async fn finish(self) -> anyhow::Result<()> {
        if let Some((url, name)) = &self.scratch {
            switchyard_store::postgres::scratch::drop(url, name).await?;
        }
        Ok(())
    }

    /// An admin token for the default instance, valid on every node.
    pub fn admin_token(&self) -> anyhow::Result<String> {
        self.token("admin")
    }

    /// A token for the default instance with `scopes`, valid on every node.
    pub fn token(&self, scopes: &str) -> anyhow::Result<String> {
        let mut config = crate::Config {
            data_dir: self.shared.clone(),
            ..crate::Config::default()
        };
        config.auth.jwt_secret = Some(self.jwt_secret.clone());
        let scopes = switchyard_core::auth::Scopes::parse(scopes).map_err(anyhow::Error::msg)?;
        crate::auth::mint_token(
            &config,
            "bench",
            &switchyard_core::InstanceId::default_instance(),
            scopes,
            Duration::from_secs(3600),
        )
    }

    /// Starts node number `node`; a `paused` node accepts events but delivers nothing.
    pub async fn start(&self, node: usize, paused: bool) -> anyhow::Result<Server> {
        self.start_with(node, paused, &[]).await
    }

    /// Like [`Cluster::start`], with extra configuration variables.
    pub async fn start_with(
        &self,
        node: usize,
        paused: bool,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let mut command = self.command(node);
        command
            .arg("serve")
            .env("SWITCHYARD_DELIVERY__PAUSED", paused.to_string())
            .envs(env.iter().copied());
        Server::start(command).await
    }

    /// The server binary configured as node `node`, for a subcommand.
    pub fn command(&self, node: usize) -> Command {
        let data_dir = self.shared.join(format!("node-{node}"));
        let mut command = Command::new(&self.server_bin);
        command
            .env("SWITCHYARD_LISTEN", "127.0.0.1:0")
            .env("SWITCHYARD_DATA_DIR", &data_dir)
            .env("SWITCHYARD_MASTER_KEY_FILE", self.shared.join("master.key"))
            .env("SWITCHYARD_AUTH__JWT_SECRET", &self.jwt_secret)
            .env(
                "SWITCHYARD_DATABASE_URL",
                self.database_url.as_deref().unwrap_or(""),
            )
            .env("SWITCHYARD_ALLOW_NETWORKS", "127.0.0.0/8")
            .env("RUST_LOG", "warn,switchyard=info");
        command
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.shared);
    }
}

impl Server {
    async fn start(mut command: Command) -> anyhow::Result<Self> {
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
        Ok(Self { child, base })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The process id, for reading its memory use.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// One HTTP subscription on `idn:identity-created` to each of `urls`, each with `policy`
    /// when given.
    pub async fn subscribe(
        &self,
        client: &reqwest::Client,
        token: &str,
        urls: &[String],
        policy: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        for (i, url) in urls.iter().enumerate() {
            let sub = client
                .post(self.url("/trigger-subscriptions/v1"))
                .bearer_auth(token)
                .json(
                    &json!({"name": format!("bench-{i}"), "triggerId": "idn:identity-created",
                              "type": "HTTP", "httpConfig": {"url": url,
                              "httpDispatchMode": "SYNC"}}),
                )
                .send()
                .await?;
            let sub = check(sub, "creating a subscription").await?;
            if let Some(policy) = &policy {
                let id = sub["id"].as_str().unwrap_or_default();
                let set = client
                    .put(self.url(&format!("/v1/subscriptions/{id}/policy")))
                    .bearer_auth(token)
                    .json(policy)
                    .send()
                    .await?;
                check(set, "setting the subscription's policy").await?;
            }
        }
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
    }
}
