//! The whole-server benchmark: starts the real release `watchword serve` (embedded
//! default, then PostgreSQL + Redis when reachable), creates its tenant, client and
//! users through the CLI, and drives full logins (authorize → password → TOTP → code
//! exchange with PKCE), rotating refreshes, client-credentials grants, introspection
//! and a flood of 1,000 concurrent wrong passwords. For each: rate, p50/p99 latency,
//! the server process's own CPU per operation (`/proc/PID/stat`), peak and final RSS,
//! non-2xx and 5xx counts — against the argon2id and signature costs measured here.
//! Each login is a browser of its own (cookies, a connection); the relying parties'
//! token and introspection requests share kept-alive connections, as an RP's server does.
//!
//! Run it with `scripts/bench` (which builds the release binary first).

#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::cast_possible_truncation,
    reason = "a benchmark harness: it measures wall time and real sleeps, and a failed unwrap is a failed run"
)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
const KEYS: &str = "bench:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// `BENCH_SMOKE=1` (run by `scripts/test` on the debug build): the same walk, a few
/// operations at low concurrency — it proves the benchmark still drives a working
/// server (it fails on any failed operation) without measuring anything.
fn smoke() -> bool {
    std::env::var("BENCH_SMOKE").is_ok_and(|v| v == "1")
}

/// The concurrency levels: `BENCH_LEVELS=1,1,1` (say) repeats a level, for profiling.
fn levels() -> Vec<usize> {
    let asked: Vec<usize> = std::env::var("BENCH_LEVELS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|l| l.trim().parse().ok())
        .filter(|&l| l > 0)
        .collect();
    if !asked.is_empty() {
        asked
    } else if smoke() {
        vec![1, 2]
    } else {
        vec![1, 4, 16]
    }
}

/// `n` operations, or a tenth of them in a smoke run.
fn ops(n: usize) -> usize {
    if smoke() { n.div_ceil(10) } else { n }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Server {
    child: Child,
    base: String,
    env: Vec<(String, String)>,
    binary: String,
}

impl Server {
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Res<Value> {
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

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// utime + stime of `pid`, in milliseconds.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat; after the ')' they are the 12th and 13th.
    let ticks: f64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    ticks * 1000.0 / clock_ticks()
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// VmRSS of `pid` in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Samples the RSS every 5 ms while a phase runs; returns the peak.
struct RssWatch {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl RssWatch {
    fn start(pid: u32) -> Self {
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

    fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<f64>,
    non_2xx: usize,
    server_errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs `ops` operations, `level` at a time, and prints one line.
/// CPU of the server's argon2 worker threads (named `argon2-N`), in milliseconds: the
/// hashing the server did, measured where it ran, under the same contention.
/// Per-request server CPU, when `BENCH_STEPS=1`: (label, ns outside argon2, ns in argon2, count).
static STEPS: std::sync::Mutex<Vec<(String, u64, u64, u64)>> = std::sync::Mutex::new(Vec::new());
static STEPS_PID: AtomicU64 = AtomicU64::new(0);

fn steps_wanted() -> bool {
    std::env::var("BENCH_STEPS").is_ok_and(|v| v == "1")
}

/// The server's CPU so far in ns, from each thread's schedstat: (outside argon2, in argon2).
fn thread_ns(pid: u32) -> (u64, u64) {
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

/// Awaits one request and, in a `BENCH_STEPS=1` run (sequential logins), charges the
/// server's CPU meanwhile to `label`. Threads that exit meanwhile are not counted.
async fn step<T>(label: &str, request: impl std::future::Future<Output = T>) -> T {
    let pid = STEPS_PID.load(Ordering::Relaxed) as u32;
    if pid == 0 {
        return request.await;
    }
    let before = thread_ns(pid);
    let out = request.await;
    let after = thread_ns(pid);
    let mut steps = STEPS.lock().unwrap();
    let (other, hashing) = (after.0.saturating_sub(before.0), after.1.saturating_sub(before.1));
    match steps.iter_mut().find(|s| s.0 == label) {
        Some(s) => {
            s.1 += other;
            s.2 += hashing;
            s.3 += 1;
        }
        None => steps.push((label.to_owned(), other, hashing, 1)),
    }
    out
}

/// Prints the `BENCH_STEPS` table: where a login's server CPU goes, request by request.
fn print_steps() {
    let steps = std::mem::take(&mut *STEPS.lock().unwrap());
    println!("\n| request (sequential logins) | count | server CPU outside argon2, ms | argon2, ms |");
    println!("|---|---|---|---|");
    let (mut other, mut hashing, mut logins) = (0.0, 0.0, 0);
    for (label, o, h, n) in &steps {
        println!(
            "| {label} | {n} | {:.3} | {:.3} |",
            *o as f64 / 1e6 / *n as f64,
            *h as f64 / 1e6 / *n as f64
        );
        other += *o as f64 / 1e6;
        hashing += *h as f64 / 1e6;
        if label.starts_with("POST /token") {
            logins = *n;
        }
    }
    let (other, hashing) = (other / logins.max(1) as f64, hashing / logins.max(1) as f64);
    println!(
        "| **a login** | {logins} | **{other:.3}** | {hashing:.3} ({:.3} x) |",
        (other + hashing) / hashing.max(0.001)
    );
}

/// The same requests back to back and after a pause: the server's CPU per request
/// (outside argon2) with warm caches, and when each request wakes an idle server, as
/// every request of a sequential login does. 200 of each; the sign-in page is one flow's.
async fn print_warm_and_idle(base: &str, rp: &Rp, pid: u32) {
    let http = client();
    // `/authorize` shows the sign-in page itself; its form names the flow.
    let Ok(res) = http.get(authorize_url(base, rp, "openid")).send().await else { return };
    let Ok(first) = res.text().await else { return };
    let action = attribute(&first, "<form method=\"post\" action=\"");
    let Some(handle) = action.split("flow=").nth(1).filter(|h| !h.is_empty()) else { return };
    let page = format!("{base}/login?flow={handle}");
    let pauses = [0, 1, 5, 20];
    println!("\n| server CPU per request, ms | back to back | after 1 ms idle | after 5 ms | after 20 ms |");
    println!("|---|---|---|---|---|");
    for (label, url) in [("GET /healthz", format!("{base}/healthz")), ("GET /login (sign-in page)", page)] {
        let mut row = format!("| {label} |");
        for pause in pauses {
            let (mut ns, runs) = (0, 200);
            for _ in 0..runs {
                if pause > 0 {
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                let before = thread_ns(pid).0;
                if let Ok(res) = http.get(&url).send().await {
                    let _ = res.bytes().await;
                }
                ns += thread_ns(pid).0.saturating_sub(before);
            }
            row.push_str(&format!(" {:.3} |", ns as f64 / 1e6 / runs as f64));
        }
        println!("{row}");
    }
}

fn hash_cpu_ms(pid: u32) -> f64 {
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

/// Runs one phase; returns the server's CPU per operation and, of it, the part its
/// argon2 threads spent (both ms).
async fn phase<F, Fut>(server: &Server, name: &str, level: usize, ops: usize, op: F) -> (f64, f64)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (f64, u16)>,
{
    let pid = server.pid();
    let watch = RssWatch::start(pid);
    let cpu_before = cpu_ms(pid);
    let hash_before = hash_cpu_ms(pid);
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let outcome = std::sync::Mutex::new(Outcome::default());
    let workers = (0..level).map(|_| async {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed) as usize;
            if n >= ops {
                break;
            }
            let (ms, status) = op(n).await;
            let mut o = outcome.lock().unwrap();
            o.latencies.push(ms);
            o.non_2xx += usize::from(!(200..300).contains(&status) && status != 302 && status != 303);
            o.server_errors += usize::from(status >= 500);
        }
    });
    futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (cpu_ms(pid) - cpu_before) / ops as f64;
    let hashing = (hash_cpu_ms(pid) - hash_before) / ops as f64;
    let peak = watch.finish();
    let mut o = outcome.into_inner().unwrap();
    o.latencies.sort_by(f64::total_cmp);
    println!(
        "| {name:<20} | {level:>4} | {ops:>5} | {:>8.1} | {:>7.1} | {:>7.1} | {cpu:>9.2} | {peak:>6.0} | {:>6.0} | {:>5} | {:>3} |",
        ops as f64 / elapsed,
        percentile(&o.latencies, 0.5),
        percentile(&o.latencies, 0.99),
        rss_mb(pid),
        o.non_2xx,
        o.server_errors,
    );
    if !name.contains("bad passwords") {
        FAILED.fetch_add(o.non_2xx, Ordering::Relaxed);
    }
    (cpu, hashing)
}

/// Says what the first few failed operations got, on stderr (the smoke run's log), so
/// that a failed run tells why.
fn report_failure(what: &str) {
    static REPORTED: AtomicUsize = AtomicUsize::new(0);
    if REPORTED.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!("failed: {what}");
    }
}

/// Operations that did not succeed, outside the flood (where 503 is the design):
/// a benchmark of failing requests measures nothing, so the run fails.
static FAILED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An authorization request of `rp` for `scope` (URL-encoded), with the PKCE challenge
/// of [`VERIFIER`].
fn authorize_url(base: &str, rp: &Rp, scope: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    format!(
        "{base}/authorize?client_id={}&redirect_uri={REDIRECT}&response_type=code&scope={scope}&code_challenge={challenge}&code_challenge_method=S256",
        rp.id
    )
}

/// A browser: its own cookies and connection.
fn client() -> reqwest::Client {
    watchword::install_tls_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

/// The relying parties' back ends, for the token and introspection endpoints: one
/// client whose connections stay open between requests, as an RP's server keeps them.
/// (A client and a connection per request cost the server a new connection each, and
/// the load generator, on the same two cores, several times the CPU of the request.)
/// Idle connections are dropped before the server's keep-alive (5 s) would close them.
fn backend() -> &'static reqwest::Client {
    static BACKEND: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    BACKEND.get_or_init(|| {
        watchword::install_tls_provider();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    })
}

fn attribute(body: &str, marker: &str) -> String {
    let start = body.find(marker).map_or(0, |i| i + marker.len());
    let end = body[start..].find('"').map_or(start, |i| i + start);
    body[start..end].replace("&amp;", "&").replace("&#x3D;", "=").replace("&#x2F;", "/")
}

fn now_step() -> i64 {
    std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs()) as i64 / 30
}

fn totp_at(secret_b32: &str, step: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned()).to_bytes().unwrap_or_default();
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes);
    totp.generate(u64::try_from(step * 30).unwrap_or(0))
}

/// Every user may use each TOTP step once: the next login phase uses step `used + 1`,
/// which the server accepts from one step before it begins (skew 1).
async fn next_step(used: &mut i64) -> i64 {
    let target = *used + 1;
    while now_step() + 1 < target {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    *used = target;
    target
}

struct Rp {
    id: String,
    secret: String,
}

/// One full login (enrolling when the page asks); `code` is the TOTP code of an
/// enrolled user. It walks the pages as a browser does — follows each redirect and
/// submits the first form of each page — so it stays right when the flow's pages
/// change. Returns (ms, final status, tokens).
async fn full_login(base: &str, rp: &Rp, user: &str, code: Option<&str>) -> (f64, u16, Value) {
    let started = Instant::now();
    let http = client();
    let fail = |status: u16| {
        report_failure(&format!("login of {user}: {status}"));
        (started.elapsed().as_secs_f64() * 1000.0, status, Value::Null)
    };
    let mut res =
        match step("GET /authorize", http.get(authorize_url(base, rp, "openid%20offline_access")).send())
            .await
        {
            Ok(r) => r,
            Err(_) => return fail(599),
        };
    let mut enrolled: Option<String> = None;
    let password = format!("pw-{user}");
    // A login is five requests here (more when it enrols); anything much longer is a loop.
    for _ in 0..16 {
        let status = res.status().as_u16();
        if res.status().is_redirection() {
            let Some(location) =
                res.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned)
            else {
                return fail(status);
            };
            if location.starts_with(REDIRECT) {
                return exchange(base, rp, &location, enrolled, started).await;
            }
            let label = format!("GET {}", location.split('?').next().unwrap_or(""));
            res = match step(&label, http.get(format!("{base}{location}")).send()).await {
                Ok(r) => r,
                Err(_) => return fail(599),
            };
            continue;
        }
        if status != 200 {
            let at = res.url().path().to_owned();
            let body = res.text().await.unwrap_or_default();
            report_failure(&format!(
                "login of {user}: {status} at {at}: {}",
                body.chars().take(300).collect::<String>()
            ));
            return fail(status);
        }
        let page = res.text().await.unwrap_or_default();
        let action = attribute(&page, "<form method=\"post\" action=\"");
        let csrf = attribute(&page, "name=\"csrf\" value=\"");
        let path = action.split('?').next().unwrap_or("");
        let form: Vec<(&str, String)> = match path {
            "/login/password" => vec![("username", user.to_owned()), ("password", password.clone())],
            "/login/totp" => vec![("code", code.unwrap_or("").to_owned())],
            "/login/enrol" => {
                let otpauth = attribute(&page, "href=\"otpauth:");
                let secret = otpauth.split("secret=").nth(1).unwrap_or("").split('&').next().unwrap_or("");
                enrolled = Some(secret.to_owned());
                vec![("code", totp_at(secret, now_step()))]
            }
            "/login/codes" => vec![],
            _ => return fail(status),
        };
        let mut fields = vec![("csrf", csrf)];
        fields.extend(form);
        res = match step(&format!("POST {path}"), http.post(format!("{base}{action}")).form(&fields).send())
            .await
        {
            Ok(r) => r,
            Err(_) => return fail(599),
        };
    }
    fail(508)
}

/// The code exchange that ends a login: `location` is the redirect back to the client.
async fn exchange(
    base: &str,
    rp: &Rp,
    location: &str,
    enrolled: Option<String>,
    started: Instant,
) -> (f64, u16, Value) {
    let code = url::Url::parse(location)
        .ok()
        .and_then(|u| u.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()))
        .unwrap_or_default();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let Ok(res) = step(
        "POST /token (code)",
        backend().post(format!("{base}/token")).basic_auth(&rp.id, Some(&rp.secret)).form(&form).send(),
    )
    .await
    else {
        return (started.elapsed().as_secs_f64() * 1000.0, 599, Value::Null);
    };
    let status = res.status().as_u16();
    let mut tokens: Value = res.json().await.unwrap_or(Value::Null);
    if status != 200 {
        report_failure(&format!("code exchange: {status} {tokens}"));
    }
    if let Some(secret) = enrolled {
        tokens["totp_secret"] = Value::from(secret);
    }
    (started.elapsed().as_secs_f64() * 1000.0, status, tokens)
}

async fn token(base: &str, rp: &Rp, form: &[(&str, &str)], path: &str) -> (f64, u16, Value) {
    let started = Instant::now();
    match backend().post(format!("{base}{path}")).basic_auth(&rp.id, Some(&rp.secret)).form(form).send().await
    {
        Ok(res) => {
            let status = res.status().as_u16();
            (started.elapsed().as_secs_f64() * 1000.0, status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (started.elapsed().as_secs_f64() * 1000.0, 599, Value::Null),
    }
}

fn start_server(binary: &str, dir: &std::path::Path, extra: &[(&str, String)]) -> Res<Server> {
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

/// One argon2id hash at the server's parameters, in this process (ms, mean of `n`).
fn argon_ms(n: u32) -> f64 {
    let pw =
        watchword::auth::password::Password::parse("a benchmark password").unwrap_or_else(|_| unreachable!());
    let mut blocks = watchword::auth::password::memory_block();
    let started = Instant::now();
    for _ in 0..n {
        let _ = watchword::auth::password::hash_with(&pw, &mut blocks);
    }
    started.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
}

/// The crypto the server must do, measured in this process.
fn crypto_costs() -> (f64, f64, f64) {
    let pw =
        watchword::auth::password::Password::parse("a benchmark password").unwrap_or_else(|_| unreachable!());
    let mut blocks = watchword::auth::password::memory_block();
    let _ = watchword::auth::password::hash_with(&pw, &mut blocks);
    let started = Instant::now();
    let hashes = if smoke() { 1 } else { 20 };
    for _ in 0..hashes {
        let _ = watchword::auth::password::hash_with(&pw, &mut blocks);
    }
    let argon = started.elapsed().as_secs_f64() * 1000.0 / f64::from(hashes);
    let sign = |alg: jsonwebtoken::Algorithm, key: jsonwebtoken::EncodingKey| {
        let claims = serde_json::json!({ "iss": "x", "sub": "y", "exp": 1, "scope": "openid" });
        let started = Instant::now();
        for _ in 0..200 {
            let _ = jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &key);
        }
        started.elapsed().as_secs_f64() * 1000.0 / 200.0
    };
    // RS256 through aws-lc-rs directly (what jsonwebtoken does underneath).
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .unwrap_or_else(|_| unreachable!());
    let mut signature = vec![0u8; rsa.public_modulus_len()];
    let started = Instant::now();
    for _ in 0..200 {
        let _ = rsa.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &rng,
            b"a header and claims of a token",
            &mut signature,
        );
    }
    let rs256 = started.elapsed().as_secs_f64() * 1000.0 / 200.0;
    let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap_or_else(|_| unreachable!());
    let es256 = sign(jsonwebtoken::Algorithm::ES256, jsonwebtoken::EncodingKey::from_ec_der(ec.as_ref()));
    (argon, rs256, es256)
}

async fn run(
    label: &str,
    binary: &str,
    extra: &[(&str, String)],
    users: usize,
    costs: (f64, f64, f64),
) -> Res<()> {
    let dir = tempfile::tempdir()?;
    let server = start_server(binary, dir.path(), extra)?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = server.pid();
    println!("\n### {label}\n\nidle RSS after start: {:.1} MB\n", rss_mb(pid));
    // A tenant and usernames of this run alone: a PostgreSQL database may hold an earlier run's.
    let run_id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() % 1_000_000;
    let tenant = format!("bench{run_id}");
    let tenant = tenant.as_str();
    server.cli(&["tenant", "create", tenant], None)?;
    server.cli(&["tenant", "policy", "--tenant", tenant, "--prompt-new-users", "off"], None)?;
    let mut rps = HashMap::new();
    for alg in ["RS256", "ES256"] {
        let c = server.cli(
            &[
                "client",
                "create",
                "--tenant",
                tenant,
                "--name",
                alg,
                "--redirect-uri",
                REDIRECT,
                "--trusted",
                "--id-token-alg",
                alg,
                "--access-token-alg",
                alg,
                "--client-scope",
                "api",
            ],
            None,
        )?;
        rps.insert(
            alg,
            Rp {
                id: c["client_id"].as_str().unwrap_or("").into(),
                secret: c["client_secret"].as_str().unwrap_or("").into(),
            },
        );
    }
    let names: Vec<String> = (0..users).map(|n| format!("u{n}x{run_id}")).collect();
    for name in &names {
        server.cli(
            &[
                "user",
                "create",
                "--tenant",
                tenant,
                "--username",
                name,
                "--totp-required",
                "--password-stdin",
            ],
            Some(&format!("pw-{name}\n")),
        )?;
    }
    let base = server.base.clone();
    // Enrolment (first login of each user), not measured as a login.
    let mut used = now_step();
    let mut secrets = Vec::new();
    let mut refresh_tokens = Vec::new();
    for chunk in names.chunks(8) {
        used = used.max(now_step());
        let enrolled =
            futures_util::future::join_all(chunk.iter().map(|u| full_login(&base, &rps["RS256"], u, None)))
                .await;
        for (_, _, tokens) in enrolled {
            secrets.push(tokens["totp_secret"].as_str().unwrap_or("").to_owned());
            refresh_tokens.push(tokens["refresh_token"].as_str().unwrap_or("").to_owned());
        }
    }
    println!(
        "| operation            | conc |   ops |   rate/s | p50 ms  | p99 ms  | CPU ms/op | peak MB | end MB | non2xx | 5xx |"
    );
    println!(
        "|----------------------|------|-------|----------|---------|---------|-----------|---------|--------|--------|-----|"
    );
    // Full logins: each user once per level, each level on the next TOTP step.
    // The machine's speed drifts (a shared host): the hash is measured right before and
    // after each login phase, and the phase is judged against their mean.
    let mut login_ratios = Vec::new();
    for level in levels() {
        let step = next_step(&mut used).await;
        let argon_before = argon_ms(if smoke() { 1 } else { 5 });
        let (b, rp, names, secrets) = (&base, &rps["RS256"], &names, &secrets);
        let (cpu, hashing) = phase(&server, "full login (RS256)", level, users, |n| async move {
            let (ms, status, _) = full_login_at(b, rp, &names[n], &secrets[n], step).await;
            (ms, status)
        })
        .await;
        let argon = (argon_before + argon_ms(if smoke() { 1 } else { 5 })) / 2.0;
        login_ratios.push((level, cpu, argon, hashing));
    }
    // The same logins for a client whose tokens are ES256: what the two RS256 signatures
    // cost a login, on this machine (sequential; its refresh tokens start the ES256 chains).
    let es_tokens: Vec<tokio::sync::Mutex<String>> =
        names.iter().map(|_| tokio::sync::Mutex::new(String::new())).collect();
    let es_login = {
        let step = next_step(&mut used).await;
        let (b, rp, names, secrets, es_tokens) = (&base, &rps["ES256"], &names, &secrets, &es_tokens);
        let (cpu, hashing) = phase(&server, "full login (ES256)", 1, users, |n| async move {
            let (ms, status, tokens) = full_login_at(b, rp, &names[n], &secrets[n], step).await;
            *es_tokens[n].lock().await = tokens["refresh_token"].as_str().unwrap_or("").to_owned();
            (ms, status)
        })
        .await;
        (cpu, hashing)
    };
    if steps_wanted() {
        // Sequential logins, each request's server CPU apart.
        let step_no = next_step(&mut used).await;
        STEPS_PID.store(u64::from(server.pid()), Ordering::Relaxed);
        for n in 0..users {
            full_login_at(&base, &rps["RS256"], &names[n], &secrets[n], step_no).await;
        }
        STEPS_PID.store(0, Ordering::Relaxed);
        print_steps();
        print_warm_and_idle(&base, &rps["RS256"], server.pid()).await;
    }
    if std::env::var("BENCH_ONLY").as_deref() == Ok("login") {
        // For profiling the login path alone (perf record -p on the server).
        print_login_ratios(&login_ratios, costs.1, es_login, costs.2);
        let mut server = server;
        let _ = server.child.kill();
        let _ = server.child.wait();
        return Ok(());
    }
    let mut refresh_cpu = HashMap::new();
    for alg in ["RS256", "ES256"] {
        // A chain per user; each op rotates the user's latest token.
        // Each chain is held for the whole request: two rotations of one token at once
        // would be a reuse (and end the family), which is not what is measured here.
        let chains: Vec<tokio::sync::Mutex<String>> =
            refresh_tokens.iter().cloned().map(tokio::sync::Mutex::new).collect();
        if alg == "ES256" {
            for (chain, token) in chains.iter().zip(&es_tokens) {
                *chain.lock().await = token.lock().await.clone();
            }
        }
        for level in levels() {
            let (b, rp, chains) = (&base, &rps[alg], &chains);
            // One rotation per chain per level: two at once on one chain would be a reuse.
            let (cpu, _) = phase(&server, &format!("refresh ({alg})"), level, users * 5, |n| async move {
                let mut slot = chains[n % chains.len()].lock().await;
                let (ms, status, body) =
                    token(b, rp, &[("grant_type", "refresh_token"), ("refresh_token", &slot)], "/token")
                        .await;
                if let Some(next) = body["refresh_token"].as_str() {
                    *slot = next.to_owned();
                }
                (ms, status)
            })
            .await;
            refresh_cpu.insert(alg, cpu);
        }
        for level in levels() {
            let (b, rp) = (&base, &rps[alg]);
            let (cpu, _) =
                phase(&server, &format!("client creds ({alg})"), level, ops(400), |_| async move {
                    let (ms, status, _) =
                        token(b, rp, &[("grant_type", "client_credentials"), ("scope", "api")], "/token")
                            .await;
                    (ms, status)
                })
                .await;
            refresh_cpu.insert(if alg == "RS256" { "cc RS256" } else { "cc ES256" }, cpu);
        }
    }
    let (_, _, cc) =
        token(&base, &rps["ES256"], &[("grant_type", "client_credentials"), ("scope", "api")], "/token")
            .await;
    let access = cc["access_token"].as_str().unwrap_or("").to_owned();
    for level in levels() {
        let (b, rp, access) = (&base, &rps["ES256"], &access);
        phase(&server, "introspection", level, ops(400), |_| async move {
            let (ms, status, _) = token(b, rp, &[("token", access.as_str())], "/introspect").await;
            (ms, status)
        })
        .await;
    }
    // 1,000 concurrent wrong passwords (unknown usernames): memory must stay flat.
    let flood_clients: Vec<(reqwest::Client, String, String)> = {
        let mut v = Vec::new();
        for _ in 0..ops(1000) {
            let http = client();
            let url = format!(
                "{base}/authorize?client_id={}&redirect_uri={REDIRECT}&response_type=code&scope=openid",
                rps["RS256"].id
            );
            let location = match http.get(&url).send().await {
                Ok(r) => {
                    r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("/login").to_owned()
                }
                Err(_) => "/login".to_owned(),
            };
            let body = match http.get(format!("{base}{location}")).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let action = attribute(&body, "<form method=\"post\" action=\"");
            v.push((http, attribute(&body, "name=\"csrf\" value=\""), action));
        }
        v
    };
    let flood = &flood_clients;
    let b = &base;
    println!("(the flood's 5xx are 503s with Retry-After from the full hashing queue, by design)");
    let flood_size = ops(1000);
    phase(&server, "1000 bad passwords", flood_size, flood_size, |n| async move {
        let started = Instant::now();
        let (http, csrf, action) = &flood[n];
        let form = [("csrf", csrf.as_str()), ("username", &format!("nobody{n}")), ("password", "wrong")];
        let status = match http.post(format!("{b}{action}")).form(&form).send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 599,
        };
        // 503 here is the bounded queue doing its job: counted, not hidden.
        (started.elapsed().as_secs_f64() * 1000.0, status)
    })
    .await;
    drop(flood_clients);
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!("\nRSS 10 s after the load (clients gone): {:.1} MB", rss_mb(pid));
    let (argon, rs256, es256) = costs;
    println!(
        "argon2id (m=19456 KiB, t=2, p=1) at start: {argon:.2} ms; RS256 sign {rs256:.3} ms; ES256 sign {es256:.3} ms"
    );
    print_login_ratios(&login_ratios, rs256, es_login, es256);
    for (alg, sig) in [("RS256", rs256), ("ES256", es256)] {
        let refresh = refresh_cpu.get(alg).copied().unwrap_or(0.0);
        println!(
            "CPU per refresh ({alg}) {refresh:.2} ms = {:.2} x its two signatures (target <= 1.2)",
            refresh / (2.0 * sig)
        );
        let key = if alg == "RS256" { "cc RS256" } else { "cc ES256" };
        let cc = refresh_cpu.get(key).copied().unwrap_or(0.0);
        println!(
            "CPU per client-credentials grant ({alg}) {cc:.2} ms = {:.2} x its signature (target <= 1.2)",
            cc / sig
        );
    }
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    match FAILED.load(Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(format!("{n} operations did not succeed: the figures above measure failures").into()),
    }
}

/// Each login phase against the hash as the server ran it, a hash measured beside it, and
/// the hash plus the two RS256 signatures (`rs256` ms each) a login makes; then the ES256
/// client's logins, alone and with their two signatures (`es256` ms each).
fn print_login_ratios(
    ratios: &[(usize, f64, f64, f64)],
    rs256: f64,
    (es_cpu, es_hashing): (f64, f64),
    es256: f64,
) {
    for &(level, cpu, argon, hashing) in ratios {
        println!(
            "CPU per full login at {level:>2} concurrent: {cpu:.2} ms = {:.2} x the hash as the server ran it ({hashing:.2} ms on its argon2 threads; target <= 1.15); {:.2} x one hash measured beside it ({argon:.2} ms); {:.2} x the hash and the two RS256 signatures a login makes; the rest of a login: {:.2} ms",
            cpu / hashing.max(0.001),
            cpu / argon,
            cpu / (hashing + 2.0 * rs256).max(0.001),
            cpu - hashing
        );
    }
    println!(
        "CPU per full login of an ES256 client (1 concurrent): {es_cpu:.2} ms = {:.2} x the server's own hashing ({es_hashing:.2} ms); {:.2} x the hash and its two signatures; the rest of a login: {:.2} ms",
        es_cpu / es_hashing.max(0.001),
        es_cpu / (es_hashing + 2.0 * es256).max(0.001),
        es_cpu - es_hashing
    );
}

/// A full login of an enrolled user with the code of TOTP step `step`.
async fn full_login_at(base: &str, rp: &Rp, user: &str, secret: &str, step: i64) -> (f64, u16, Value) {
    full_login(base, rp, user, Some(&totp_at(secret, step))).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let binary = args.get(1).cloned().unwrap_or_else(|| "target/release/watchword".into());
    let users: usize = std::env::var("BENCH_USERS").ok().and_then(|u| u.parse().ok()).unwrap_or(40);
    println!(
        "# Watchword whole-server benchmark\n\n{} cores; {users} users; levels {:?}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        levels()
    );
    if smoke() {
        println!(
            "\nSMOKE RUN (BENCH_SMOKE=1): a few operations to prove the walk works; the figures measure nothing"
        );
    }
    // The crypto the server must do, measured first, on an idle machine.
    let costs = crypto_costs();
    run("Embedded default (SQLite, in-process store)", &binary, &[], users, costs).await?;
    if let (Ok(pg), Ok(redis)) = (std::env::var("BENCH_DATABASE_URL"), std::env::var("BENCH_REDIS_URL")) {
        let prefix = format!("wwbench:{}:", watchword::random::token(6));
        run(
            "PostgreSQL + Redis",
            &binary,
            &[
                ("WATCHWORD_DATABASE_URL", pg),
                ("WATCHWORD_REDIS_URL", redis),
                ("WATCHWORD_REDIS_PREFIX", prefix),
            ],
            users,
            costs,
        )
        .await?;
    }
    Ok(())
}
