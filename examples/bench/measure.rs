//! One phase of operations and its line of figures; the per-request table of a
//! sequential login (`BENCH_STEPS=1`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::server::{RssWatch, Server, cpu_ms, hash_cpu_ms, rss_mb, thread_ns};
use crate::walk::{Rp, attribute, authorize_url, client};

#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) latencies: Vec<f64>,
    pub(crate) non_2xx: usize,
    pub(crate) server_errors: usize,
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Per-request server CPU, when `BENCH_STEPS=1`: (label, ns outside argon2, ns in argon2, count).
pub(crate) static STEPS: std::sync::Mutex<Vec<(String, u64, u64, u64)>> = std::sync::Mutex::new(Vec::new());
pub(crate) static STEPS_PID: AtomicU64 = AtomicU64::new(0);

pub(crate) fn steps_wanted() -> bool {
    std::env::var("BENCH_STEPS").is_ok_and(|v| v == "1")
}

/// Awaits one request and, in a `BENCH_STEPS=1` run (sequential logins), charges the
/// server's CPU meanwhile to `label`. Threads that exit meanwhile are not counted.
pub(crate) async fn step<T>(label: &str, request: impl std::future::Future<Output = T>) -> T {
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
pub(crate) fn print_steps() {
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
pub(crate) async fn print_warm_and_idle(base: &str, rp: &Rp, pid: u32) {
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

/// Runs `ops` operations, `level` at a time, and prints one line; returns the server's
/// CPU per operation and, of it, the part its argon2 threads spent (both ms).
pub(crate) async fn phase<F, Fut>(server: &Server, name: &str, level: usize, ops: usize, op: F) -> (f64, f64)
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
pub(crate) fn report_failure(what: &str) {
    static REPORTED: AtomicUsize = AtomicUsize::new(0);
    if REPORTED.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!("failed: {what}");
    }
}

/// Operations that did not succeed, outside the flood (where 503 is the design):
/// a benchmark of failing requests measures nothing, so the run fails.
pub(crate) static FAILED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
