//! OpenID Connect Back-Channel Logout 1.0: a client that registered a
//! `backchannel_logout_uri` and got tokens in a session receives a signed logout token
//! when that session ends — by RP-initiated logout, by a password reset from the CLI —
//! checked here as a relying party would check it; a failed delivery is retried, a
//! refused one given up and audited.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, REDIRECT, urlencode};
use crate::conformance::{Rp, VERIFIER, app_with_user, claims, code_of, header, sign_in};
use crate::helpers::{Cli, TEST_KEYS, TestApp, http_client};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A relying party's back-channel logout endpoint: answers each POST with the next
/// status of `answers` (then 200), and keeps the logout token of every POST.
#[derive(Clone)]
struct Receiver {
    url: String,
    /// (status answered, logout token) per request, in order.
    seen: Arc<Mutex<Vec<(u16, String)>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
        let this = Self {
            url,
            seen: Arc::new(Mutex::new(Vec::new())),
            answers: Arc::new(Mutex::new(answers.iter().rev().copied().collect())),
        };
        let receiver = this.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let receiver = receiver.clone();
                tokio::spawn(async move {
                    let body = read_request(&mut socket).await;
                    let token = url::form_urlencoded::parse(body.as_bytes())
                        .find(|(k, _)| k == "logout_token")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    let status = receiver.answers.lock().unwrap().pop().unwrap_or(200);
                    receiver.seen.lock().unwrap().push((status, token));
                    let answer =
                        format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        this
    }

    fn seen(&self) -> Vec<(u16, String)> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `n` requests have arrived.
    async fn wait_for(&self, n: usize) -> Vec<(u16, String)> {
        for _ in 0..200 {
            if self.seen().len() >= n {
                return self.seen();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} back-channel requests expected, {} arrived", self.seen().len());
    }
}

/// The body of one HTTP/1.1 request (headers read up to Content-Length).
async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
            }
        }
    }
    String::new()
}

fn cli(app: &TestApp) -> Cli<'_> {
    Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url }
}

fn run_cli(app: &TestApp, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = cli(app).command(&all).env("WATCHWORD_SECRET_KEYS", TEST_KEYS).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Checks `token` as a relying party must (§2.6): signed by a key in the JWKS with the
/// client's algorithm, `typ` logout+jwt, this issuer, the client as its audience, the
/// event, `sid` and `sub` of the session, and no nonce. Returns its claims.
async fn verified(app: &TestApp, token: &str, client_id: &str, alg: jsonwebtoken::Algorithm) -> Value {
    let head = header(token);
    assert_eq!(head["typ"], "logout+jwt", "{head}");
    let jwks: Value =
        http_client().get(format!("{}/jwks", app.address)).send().await.unwrap().json().await.unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == head["kid"]).expect("its key");
    let key = jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[app.issuer.as_str()]);
    validation.validate_exp = false; // the test clock is not the system clock
    validation.set_required_spec_claims(&["iss", "aud", "iat", "exp"]);
    let checked = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("the logout token verifies");
    let claims = checked.claims;
    assert_eq!(claims["aud"], client_id, "one audience, as a string");
    assert_eq!(claims["events"], json!({ EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "a logout token never carries a nonce");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16), "{claims}");
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!(iat <= app.clock_now() && exp > iat && exp - iat <= 120, "{claims}");
    claims
}

/// Signs quinn in through `rp` in `browser` (SSO after the first) and redeems the code.
async fn tokens_through(app: &TestApp, browser: &Browser, rp: &Rp, first: bool) -> Value {
    let page = browser.get(&rp.url("")).await;
    let done = if first { sign_in(browser, "quinn", "pw-quinn").await } else { page };
    let (status, tokens) = rp.exchange(app, &code_of(&done)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

#[tokio::test]
async fn each_client_that_got_tokens_in_a_session_is_told_when_it_ends() {
    let app = app_with_user().await;
    let receiver = Receiver::start(&[]).await;
    let (rs, es, quiet) = (
        Rp::new(&app, SigningAlg::Rs256, false, true),
        Rp::new(&app, SigningAlg::Es256, false, true),
        Rp::new(&app, SigningAlg::Rs256, false, true),
    );
    // Registered through the CLI: only https, or http on a loopback host.
    for rp in [&rs, &es] {
        let shown = run_cli(
            &app,
            &[
                "client",
                "update",
                "--tenant",
                "acme",
                "--client-id",
                &rp.id,
                "--backchannel-logout-uri",
                &receiver.url,
            ],
        );
        assert_eq!(shown["backchannel_logout_uri"], receiver.url.as_str());
    }
    let out = cli(&app)
        .command(&[
            "client",
            "update",
            "--tenant",
            "acme",
            "--client-id",
            &quiet.id,
            "--backchannel-logout-uri",
            "http://rp.example/logout",
        ])
        .env("WATCHWORD_SECRET_KEYS", TEST_KEYS)
        .output()
        .unwrap();
    assert!(!out.status.success(), "plain http to a remote host is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("https is required"));
    let doc = crate::helpers::get_json(&format!("{}/.well-known/openid-configuration", app.address)).await;
    assert_eq!(
        (doc["backchannel_logout_supported"].clone(), doc["backchannel_logout_session_supported"].clone()),
        (json!(true), json!(true))
    );

    // One session, tokens for three clients (the third has no back-channel URI).
    let browser = Browser::new(&app);
    let first = tokens_through(&app, &browser, &rs, true).await;
    tokens_through(&app, &browser, &es, false).await;
    tokens_through(&app, &browser, &quiet, false).await;
    let id_token = claims(first["id_token"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.seen().is_empty(), "nothing is sent while the session lives");

    // RP-initiated logout ends it: each client with a URI gets its own token.
    let bye = urlencode("https://rp.example/bye");
    let hint = first["id_token"].as_str().unwrap();
    let out = browser.get(&format!("/end_session?id_token_hint={hint}&post_logout_redirect_uri={bye}")).await;
    assert_eq!(out.location.as_deref(), Some("https://rp.example/bye"), "{}", out.body);
    let seen = receiver.wait_for(2).await;
    let mut audiences = Vec::new();
    for (status, token) in &seen {
        assert_eq!(*status, 200);
        let aud = claims(token)["aud"].as_str().unwrap().to_owned();
        let alg = if aud == rs.id { jsonwebtoken::Algorithm::RS256 } else { jsonwebtoken::Algorithm::ES256 };
        let checked = verified(&app, token, &aud, alg).await;
        assert_eq!(checked["sid"], id_token["sid"], "the session the ID tokens named");
        assert_eq!(checked["sub"], id_token["sub"]);
        audiences.push(aud);
    }
    audiences.sort();
    let mut expected = vec![rs.id.clone(), es.id.clone()];
    expected.sort();
    assert_eq!(audiences, expected, "once per client, none for the client without a URI");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.seen().len(), 2, "delivered once each");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_a_refused_one_is_given_up_and_audited() {
    let app = app_with_user().await;
    // Fails once (503), then takes the retry; later refuses (400) for good.
    let receiver = Receiver::start(&[503, 200, 400]).await;
    app.child("acme", "boss", None, "admin");
    app.user("acme", "rita", "pw-rita", false);
    let (token, _) = app.admin_token("boss").await;
    let (status, created) = app
        .api(
            &token,
            "POST",
            "/clients",
            Some(json!({
                "name": "Wiki", "redirect_uris": [REDIRECT], "trusted": true,
                "backchannel_logout_uri": receiver.url, "backchannel_logout_session_required": true,
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["backchannel_logout_session_required"], true);
    let rp = Rp {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    };
    let (status, body) = app
        .api(
            &token,
            "PATCH",
            &format!("/clients/{}", rp.id),
            Some(json!({ "backchannel_logout_uri": "ftp://x/" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // A password reset (CLI) ends quinn's session: the first delivery fails...
    let browser = Browser::new(&app);
    tokens_through(&app, &browser, &rp, true).await;
    run_cli(&app, &["user", "reset-password", "--tenant", "acme", "--username", "quinn"]);
    let seen = receiver.wait_for(1).await;
    assert_eq!(seen[0].0, 503);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.seen().len(), 1, "no retry before its time");
    // ...and is tried again ten seconds later, with a fresh token.
    app.clock.advance(10);
    let seen = receiver.wait_for(2).await;
    assert_eq!(seen[1].0, 200);
    assert_ne!(seen[0].1, seen[1].1);
    verified(&app, &seen[1].1, &rp.id, jsonwebtoken::Algorithm::RS256).await;
    assert_eq!(app.count_events("logout.backchannel_failed"), 0);

    // A refusal (400) is not retried: given up at once, and audited.
    let fresh = Browser::new(&app);
    fresh.get(&rp.url("")).await;
    let done = sign_in(&fresh, "rita", "pw-rita").await;
    let (status, tokens) = rp.exchange(&app, &code_of(&done)).await;
    assert_eq!(status, 200, "{tokens}");
    let hint = tokens["id_token"].as_str().unwrap();
    fresh.get(&format!("/end_session?id_token_hint={hint}")).await;
    let seen = receiver.wait_for(3).await;
    assert_eq!(seen[2].0, 400);
    for _ in 0..100 {
        if app.count_events("logout.backchannel_failed") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.count_events("logout.backchannel_failed"), 1);
    app.clock.advance(3600);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.seen().len(), 3, "a refused notice is not sent again");

    // The URI can be removed again; the client's notices are then pruned.
    let kept = |app: &TestApp| {
        let id = rp.id.clone();
        app.store.run_blocking(move |c| watchword::store::logouts::count_for_client(c, &id)).unwrap()
    };
    assert_eq!(kept(&app), 2, "one delivered, one given up, both kept for a day");
    let (status, shown) = app
        .api(&token, "PATCH", &format!("/clients/{}", rp.id), Some(json!({ "backchannel_logout_uri": "" })))
        .await;
    assert_eq!((status, shown["backchannel_logout_uri"].clone()), (200, Value::Null), "{shown}");
    let now = app.clock_now();
    app.store.run_blocking(move |c| watchword::store::logouts::prune(c, now)).unwrap();
    assert_eq!(kept(&app), 0);
}

/// Two instances over one database share the notices: each is sent once, whichever
/// instance takes it (an attempt is claimed with a conditional UPDATE first).
#[tokio::test]
async fn two_instances_deliver_each_notice_once() {
    let app = app_with_user().await;
    let second = app.second_instance();
    let receiver = Receiver::start(&[]).await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let client = ["client", "update", "--tenant", "acme", "--client-id", &rp.id];
    run_cli(&app, &[&client[..], &["--backchannel-logout-uri", &receiver.url]].concat());
    // Six sessions, their codes redeemed at one instance or the other: both then poll often.
    let mut sids = Vec::new();
    for n in 0..6 {
        let browser = Browser::new(&app);
        browser.get(&rp.url("")).await;
        let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
        let at = if n % 2 == 0 { app.address.clone() } else { second.clone() };
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        let res = http_client()
            .post(format!("{at}/token"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .form(&form)
            .send()
            .await
            .unwrap();
        let tokens: Value = res.json().await.unwrap();
        sids.push(claims(tokens["id_token"].as_str().unwrap())["sid"].as_str().unwrap().to_owned());
    }
    // A password reset ends all six at once: six notices fall due together.
    run_cli(&app, &["user", "reset-password", "--tenant", "acme", "--username", "quinn"]);
    receiver.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut told: Vec<String> =
        receiver.seen().iter().map(|(_, token)| claims(token)["sid"].as_str().unwrap().to_owned()).collect();
    told.sort();
    sids.sort();
    assert_eq!(told, sids, "each session's notice once, none twice");
}
