//! The command line as a new user meets it: `--version`, "did you mean" for a mistyped command
//! or flag, shell completions, one-line errors without a backtrace (even with RUST_BACKTRACE=1),
//! `serve` refusing a bad listen address before it creates anything, and `token` / `clients`
//! refusing a data directory that holds no server.

use crate::support::TempDir;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env_remove("SWITCHYARD_CONFIG")
        .env_remove("SWITCHYARD_DATA_DIR")
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure with exactly one line on stderr, no backtrace.
fn one_line_error(o: &Output) -> String {
    assert!(!o.status.success());
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        !err.contains("Stack backtrace") && !err.contains("stack backtrace"),
        "{err}"
    );
    err
}

#[test]
fn version_suggestions_and_completions() {
    let v = run(&["--version"]);
    assert!(v.status.success());
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("switchyard {}", env!("CARGO_PKG_VERSION"))
    );
    let typo = run(&["serv"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("similar subcommand exists: 'serve'"),
        "{}",
        stderr(&typo)
    );
    let flag = run(&["serve", "--listn", "127.0.0.1:0"]);
    assert_eq!(flag.status.code(), Some(2));
    assert!(
        stderr(&flag).contains("similar argument exists: '--listen'"),
        "{}",
        stderr(&flag)
    );
    for shell in ["bash", "zsh", "fish"] {
        let c = run(&["completions", shell]);
        assert!(c.status.success(), "{shell}: {}", stderr(&c));
        let script = String::from_utf8_lossy(&c.stdout);
        assert!(
            script.contains("switchyard") && script.contains("clients"),
            "{shell}"
        );
    }
}

#[test]
fn serve_checks_the_listen_address_and_config_before_creating_anything() {
    let dir = TempDir::new();
    let data = dir.0.join("data");
    let data_arg = data.to_str().unwrap();
    let bad = run(&[
        "serve",
        "--listen",
        "not-an-address",
        "--data-dir",
        data_arg,
    ]);
    let err = one_line_error(&bad);
    assert!(
        err.starts_with("error: listen address not-an-address"),
        "{err}"
    );
    assert!(!data.exists(), "nothing created for a bad listen address");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let taken = run(&["serve", "--listen", &addr, "--data-dir", data_arg]);
    let err = one_line_error(&taken);
    assert!(
        err.contains(&addr) && err.to_lowercase().contains("in use"),
        "{err}"
    );
    assert!(!data.exists());

    let config = dir.0.join("bad.toml");
    std::fs::write(&config, "retry_schedule = \"soon\"\n").unwrap();
    let cfg = run(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    let err = one_line_error(&cfg);
    assert!(err.contains("retry_schedule"), "{err}");
    assert!(!data.exists());
}

#[test]
fn token_and_clients_refuse_a_directory_without_a_server() {
    let dir = TempDir::new();
    let missing = dir.0.join("nowhere");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["token", "--data-dir", m, "--scopes", "admin"],
        vec!["clients", "create", "--data-dir", m, "--scopes", "admin"],
        vec!["clients", "list", "--data-dir", m],
    ] {
        let err = one_line_error(&run(&args));
        assert!(err.contains("does not exist"), "{args:?}: {err}");
        assert!(!missing.exists(), "{args:?} created the directory");
    }
    let empty = dir.0.to_str().unwrap();
    let err = one_line_error(&run(&["token", "--data-dir", empty, "--scopes", "admin"]));
    assert!(
        err.contains("holds no server") && err.contains("jwt.secret"),
        "{err}"
    );
    assert!(!dir.0.join("jwt.secret").exists());
    let err = one_line_error(&run(&[
        "clients",
        "create",
        "--data-dir",
        empty,
        "--scopes",
        "admin",
    ]));
    assert!(err.contains("holds no server"), "{err}");
    assert!(!dir.0.join("master.key").exists());
}

#[test]
fn json_logs_and_a_startup_line_that_says_what_runs() {
    use std::io::{BufRead, BufReader};
    let dir = TempDir::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir.0)
        .env_remove("SWITCHYARD_CONFIG")
        .env("SWITCHYARD_LOG_FORMAT", "json")
        .env("SWITCHYARD_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut startup = None;
    for line in lines.take(50) {
        let line = line.unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if v["fields"]["listen"].is_string() {
            startup = Some(v);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let v = startup.expect("a startup line");
    let f = &v["fields"];
    assert_eq!(v["level"], "INFO");
    assert_eq!(f["version"], env!("CARGO_PKG_VERSION"));
    assert!(f["listen"].as_str().unwrap().starts_with("127.0.0.1:"));
    let storage = f["storage"].as_str().unwrap();
    assert!(
        storage.starts_with("sqlite:") && storage.ends_with("switchyard.db"),
        "{v}"
    );
    assert_eq!(f["allowed_networks"], "127.0.0.0/8");
    assert_eq!(f["workers"], 256);
}
