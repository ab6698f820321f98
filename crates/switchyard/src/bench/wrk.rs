//! Driving a load phase with `wrk` (Debian package `wrk`): one wrk process per target URL, the
//! connections split between them, the POST described by a small Lua script, and the summary
//! read back from wrk's report.

use super::load::{Limit, Load, LoadReport};
use anyhow::Context;
use std::time::Duration;
use tokio::process::Command;

pub async fn run(load: &Load<'_>) -> anyhow::Result<LoadReport> {
    let Limit::For(duration) = load.limit else {
        anyhow::bail!("wrk runs for a duration, not a number of requests");
    };
    let dir = std::env::temp_dir().join(format!("switchyard-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("post.lua");
    std::fs::write(&script, lua_script(&load.bodies[0], load.token)?)?;
    let per_url = (load.concurrency / load.urls.len()).max(1);
    let mut runs = Vec::new();
    for url in load.urls {
        let mut cmd = Command::new("wrk");
        cmd.arg(format!("-t{}", per_url.min(2)))
            .arg(format!("-c{per_url}"))
            .arg(format!("-d{}s", duration.as_secs().max(1)))
            .arg("--latency")
            .arg("-s")
            .arg(&script)
            .arg(url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        // Spawned now, so all of them run at once.
        runs.push(cmd.spawn().context("starting wrk")?);
    }
    let mut reports = Vec::new();
    for child in runs {
        let out = child.wait_with_output().await.context("running wrk")?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            anyhow::bail!(
                "wrk failed: {}{}",
                text,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        reports.push(parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Several nodes: the sums of the counts; the worst of the percentiles.
    let mut total = reports.pop().context("no wrk report")?;
    for r in reports {
        total.ok += r.ok;
        total.failed += r.failed;
        total.elapsed = total.elapsed.max(r.elapsed);
        total.p50 = total.p50.max(r.p50);
        total.p99 = total.p99.max(r.p99);
        total.max = total.max.max(r.max);
    }
    Ok(total)
}

/// A wrk script that POSTs `body` as JSON, with a bearer token when given.
fn lua_script(body: &[u8], token: Option<&str>) -> anyhow::Result<String> {
    let body = std::str::from_utf8(body).context("the body must be UTF-8")?;
    if body.contains("]==]") {
        anyhow::bail!("the body cannot be quoted for wrk");
    }
    let mut s = String::from(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
    );
    if let Some(t) = token {
        s.push_str(&format!(
            "wrk.headers[\"Authorization\"] = \"Bearer {t}\"\n"
        ));
    }
    s.push_str(&format!("wrk.body = [==[{body}]==]\n"));
    Ok(s)
}

/// Reads requests, duration, non-2xx answers, the 50th/99th latency percentiles and the
/// slowest answer.
fn parse(text: &str) -> anyhow::Result<LoadReport> {
    let mut total = None;
    let mut elapsed = None;
    let mut failed = 0;
    let (mut p50, mut p99, mut max) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for line in text.lines().map(str::trim) {
        if let Some((count, rest)) = line.split_once(" requests in ") {
            total = count.trim().parse::<u64>().ok();
            elapsed = rest.split(',').next().and_then(parse_time);
        } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            failed = n.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Latency ") {
            // Avg, Stdev, Max, +/- Stdev.
            // ("Latency Distribution" follows and has none.)
            if let Some(m) = v.split_whitespace().nth(2).and_then(parse_time) {
                max = m;
            }
        } else if let Some(v) = line.strip_prefix("50%") {
            p50 = parse_time(v.trim()).unwrap_or_default();
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = parse_time(v.trim()).unwrap_or_default();
        }
    }
    let total = total.context("no request count")?;
    Ok(LoadReport {
        tool: "wrk",
        elapsed: elapsed.context("no duration")?,
        ok: total.saturating_sub(failed),
        failed,
        p50,
        p99,
        max,
    })
}

/// wrk's times: `812.00us`, `1.23ms`, `20.00s`, `1.50m`.
fn parse_time(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let text = "Running 20s test @ http://127.0.0.1:1/v1/events
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.20ms    2.01ms  40.00ms   80.00%
    Req/Sec     5.20k   300.00     6.00k    70.00%
  Latency Distribution
     50%    5.90ms
     75%    7.00ms
     90%    8.50ms
     99%   14.32ms
  207000 requests in 20.01s, 40.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  10344.83
Transfer/sec:      2.00MB
";
        let r = parse(text).unwrap();
        assert_eq!((r.ok, r.failed), (206_988, 12));
        assert_eq!(r.p50, Duration::from_micros(5900));
        assert_eq!(r.p99, Duration::from_micros(14320));
        assert_eq!(r.max, Duration::from_millis(40));
        assert!((r.elapsed.as_secs_f64() - 20.01).abs() < 1e-9);
        assert_eq!(parse_time("812.00us"), Some(Duration::from_micros(812)));
        assert!(lua_script(b"{\"a\":1}", Some("t"))
            .unwrap()
            .contains("Bearer t"));
    }
}
