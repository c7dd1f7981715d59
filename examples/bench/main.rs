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
//! Run it with `scripts/bench` (which builds the release binary first). The parts:
//! [`server`] (the process and what `/proc` says of it), [`measure`] (phases and the
//! per-request table), [`walk`] (a browser's and an RP's requests), [`costs`] (the
//! crypto measured beside the server).

#![allow(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::cast_possible_truncation,
    reason = "a benchmark harness: it measures wall time and real sleeps, and a failed unwrap is a failed run"
)]

mod costs;
mod measure;
mod server;
mod walk;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use costs::{argon_ms, crypto_costs};
use measure::{FAILED, STEPS_PID, phase, print_steps, print_warm_and_idle, steps_wanted};
use server::{rss_mb, start_server};
use walk::{Rp, attribute, client, full_login, full_login_at, next_step, now_step, token};

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
    // Per kind of grant: (concurrency, CPU per operation) of each level, judged level by level.
    let mut grant_cpu: HashMap<(&str, &str), Vec<(usize, f64)>> = HashMap::new();
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
            grant_cpu.entry(("refresh", alg)).or_default().push((level, cpu));
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
            grant_cpu.entry(("client credentials", alg)).or_default().push((level, cpu));
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
    // Each level's CPU per operation against the signatures the operation makes.
    let judged = |grant: &str, alg: &str, signatures: f64| -> String {
        let (mut at, mut cpu, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for (level, ms) in grant_cpu.get(&(grant, alg)).into_iter().flatten() {
            at.push(level.to_string());
            cpu.push(format!("{ms:.2}"));
            ratio.push(format!("{:.2}", ms / signatures));
        }
        format!("at {} concurrent: {} ms = {} x", at.join(" / "), cpu.join(" / "), ratio.join(" / "))
    };
    for (alg, sig) in [("RS256", rs256), ("ES256", es256)] {
        let refresh = judged("refresh", alg, 2.0 * sig);
        println!("CPU per refresh ({alg}) {refresh} its two signatures (target <= 1.2)");
        let cc = judged("client credentials", alg, sig);
        println!("CPU per client-credentials grant ({alg}) {cc} its signature (target <= 1.2)");
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
