//! The server under test: its process, its CLI, and what `/proc` says of it.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::{KEYS, Res};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) binary: String,
}

impl Server {
    pub(crate) fn cli(&self, args: &[&str], stdin: Option<&str>) -> Res<Value> {
        use std::io::Write;
        let mut cmd = Command::new(&self.binary);
        cmd.args(args).arg("--json").envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(format!("watchword {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// utime + stime of `pid`, in milliseconds.
pub(crate) fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat; after the ')' they are the 12th and 13th.
    let ticks: f64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    ticks * 1000.0 / clock_ticks()
}

pub(crate) fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// VmRSS of `pid` in MB.
pub(crate) fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Samples the RSS every 5 ms while a phase runs; returns the peak.
pub(crate) struct RssWatch {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) peak: Arc<AtomicU64>,
    pub(crate) thread: std::thread::JoinHandle<()>,
}

impl RssWatch {
    pub(crate) fn start(pid: u32) -> Self {
        let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max((rss_mb(pid) * 1024.0) as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self { stop, peak, thread }
    }

    pub(crate) fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

pub(crate) fn start_server(binary: &str, dir: &std::path::Path, extra: &[(&str, String)]) -> Res<Server> {
    let mut env: Vec<(String, String)> = vec![
        ("WATCHWORD_DATA_DIR".into(), dir.display().to_string()),
        ("WATCHWORD_SECRET_KEYS".into(), KEYS.into()),
        ("WATCHWORD_LIMIT_IP_FAILURES".into(), "1000000".into()),
        ("WATCHWORD_LIMIT_FLOW_STARTS".into(), "1000000".into()),
        ("WATCHWORD_LIMIT_PASSWORD_FREE_ATTEMPTS".into(), "1000000".into()),
        ("RUST_LOG".into(), "warn".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let mut child = Command::new(binary)
        .arg("serve")
        .env("WATCHWORD_LISTEN", "127.0.0.1:0")
        .env("WATCHWORD_MANAGEMENT_LISTEN", "127.0.0.1:0")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let base = {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        loop {
            let line = lines.next().ok_or("serve exited")??;
            if let Some(address) = line.strip_prefix("Watchword is listening on ") {
                std::thread::spawn(move || for _ in lines {});
                break address.trim_end_matches('/').to_owned();
            }
        }
    };
    Ok(Server { child, base, env, binary: binary.to_owned() })
}

/// CPU of the server's argon2 worker threads (named `argon2-N`), in milliseconds: the
/// hashing the server did, measured where it ran, under the same contention.
pub(crate) fn hash_cpu_ms(pid: u32) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0.0 };
    let mut ticks = 0.0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        if !head.contains("(argon2-") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        ticks += fields.get(11).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    }
    ticks * 1000.0 / clock_ticks()
}

/// The server's CPU so far in ns, from each thread's schedstat: (outside argon2, in argon2).
pub(crate) fn thread_ns(pid: u32) -> (u64, u64) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return (0, 0) };
    let (mut other, mut hashing) = (0, 0);
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let ran: u64 = std::fs::read_to_string(task.path().join("schedstat"))
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if comm.starts_with("argon2-") { hashing += ran } else { other += ran }
    }
    (other, hashing)
}
