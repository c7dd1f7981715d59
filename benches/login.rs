//! `cargo bench --bench login`: checks the performance budget of a login — everything
//! besides the one argon2id verification must cost under 15% of it.
//!
//! Measured in-process, per login: the password check (argon2id, the baseline), then
//! the rest — two flow round trips through the ephemeral store, the TOTP secret's
//! decryption and a ±1-step check, the replay claim, and signing the ID and access
//! tokens (RS256). Exits non-zero when the budget is exceeded.

use std::hint::black_box;
use std::time::{Duration, Instant};

use watchword::auth::keyring::Keyring;
use watchword::auth::login::{Flow, load_flow, save_flow};
use watchword::auth::password::{self, Password};
use watchword::auth::totp::{self, TotpAlgorithm, TotpCode, TotpParams, TotpSecret};
use watchword::clock::{Clock, SystemClock};
use watchword::ephemeral::{Ephemeral, MemoryStore};
use watchword::oidc::keys::{self, KeySet, SigningAlg};
use watchword::store::{DatabaseUrl, Db};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::connect(&DatabaseUrl::Sqlite(dir.path().join("bench.db"))).expect("db");
    db.migrate().expect("migrations");
    let keyring = Keyring::parse("k1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=").expect("keyring");
    let now = SystemClock.now();
    let keyset = db
        .run_blocking(|conn| {
            keys::maintain(conn, &keyring, 86_400, now)?;
            KeySet::load(conn, &keyring, now)
        })
        .expect("keys");

    let pw = Password::parse("correct horse battery staple").expect("password");
    let stored = password::hash(&pw).expect("hash");
    let argon2 = time(30, || password::verify(&pw, &stored));

    let store = Ephemeral::Memory(MemoryStore::new());
    let flow = Flow::new("tenant".into(), None, None, now);
    runtime
        .block_on(store.put("flow:bench", serde_json::to_vec(&flow).expect("flow"), 600, now))
        .expect("put");
    let flows = time(200, || {
        runtime.block_on(async {
            for _ in 0..2 {
                let mut flow = load_flow(&store, "bench", now).await.expect("load").expect("flow");
                assert!(save_flow(&store, "bench", &mut flow, now).await.expect("save"));
            }
        })
    });

    let params = TotpParams { algorithm: TotpAlgorithm::Sha1, digits: 6, period: 30 };
    let secret = TotpSecret::generate(TotpAlgorithm::Sha1);
    let sealed = keyring.seal(secret.as_bytes(), b"totp:c:u");
    let code =
        TotpCode::parse(&totp::code_at_step(&secret, params, totp::step_of(now, 30)).expect("code"), 6)
            .expect("code");
    let mut n = 0u64;
    let second_factor = time(200, || {
        n += 1;
        let opened = TotpSecret::from_bytes(keyring.open(&sealed, b"totp:c:u").expect("open"));
        let step = totp::matching_step(&opened, params, &code, now, 1);
        runtime.block_on(store.claim(&format!("totp-used:c:{n}"), 90, now)).expect("claim");
        step
    });

    let claims = serde_json::json!({ "iss": "https://id.example", "sub": "user", "aud": "client", "exp": now + 900,
                                     "iat": now, "amr": ["pwd", "otp", "mfa"], "scope": "openid profile" });
    let tokens = time(200, || {
        (
            keyset.sign(SigningAlg::Rs256, "JWT", &claims).expect("id token"),
            keyset.sign(SigningAlg::Rs256, "at+jwt", &claims).expect("access"),
        )
    });
    let es256 = time(200, || keyset.sign(SigningAlg::Es256, "JWT", &claims).expect("es256"));
    let eddsa = time(200, || keyset.sign(SigningAlg::EdDsa, "JWT", &claims).expect("eddsa"));

    let rest = flows + second_factor + tokens;
    let share = rest.as_secs_f64() / argon2.as_secs_f64() * 100.0;
    println!("argon2id verify (the baseline)      {:>10.3} ms", argon2.as_secs_f64() * 1e3);
    println!("flow: 2 saves + 2 loads (memory)     {:>10.3} ms", flows.as_secs_f64() * 1e3);
    println!("TOTP: decrypt, ±1 check, replay mark {:>10.3} ms", second_factor.as_secs_f64() * 1e3);
    println!("ID + access token, RS256             {:>10.3} ms", tokens.as_secs_f64() * 1e3);
    println!("  (one ES256 signature               {:>10.3} ms)", es256.as_secs_f64() * 1e3);
    println!("  (one EdDSA signature               {:>10.3} ms)", eddsa.as_secs_f64() * 1e3);
    println!("everything else: {share:.1}% of the password hash (budget: 15%)");
    if share >= 15.0 {
        eprintln!("FAIL: over the performance budget");
        std::process::exit(1);
    }
    println!("PASS");
}
