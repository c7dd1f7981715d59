//! The requests: a browser's full login, an RP's token requests.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::measure::{report_failure, step};
use crate::{REDIRECT, VERIFIER};

/// An authorization request of `rp` for `scope` (URL-encoded), with the PKCE challenge
/// of [`VERIFIER`].
pub(crate) fn authorize_url(base: &str, rp: &Rp, scope: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    format!(
        "{base}/authorize?client_id={}&redirect_uri={REDIRECT}&response_type=code&scope={scope}&code_challenge={challenge}&code_challenge_method=S256",
        rp.id
    )
}

/// A browser: its own cookies and connection.
pub(crate) fn client() -> reqwest::Client {
    watchword::install_tls_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
}

/// The relying parties' back ends, for the token and introspection endpoints: one
/// client whose connections stay open between requests, as an RP's server keeps them.
/// (A client and a connection per request cost the server a new connection each, and
/// the load generator, on the same two cores, several times the CPU of the request.)
/// Idle connections are dropped before the server's keep-alive (5 s) would close them.
pub(crate) fn backend() -> &'static reqwest::Client {
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

pub(crate) fn attribute(body: &str, marker: &str) -> String {
    let start = body.find(marker).map_or(0, |i| i + marker.len());
    let end = body[start..].find('"').map_or(start, |i| i + start);
    body[start..end].replace("&amp;", "&").replace("&#x3D;", "=").replace("&#x2F;", "/")
}

pub(crate) fn now_step() -> i64 {
    std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs()) as i64 / 30
}

pub(crate) fn totp_at(secret_b32: &str, step: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned()).to_bytes().unwrap_or_default();
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes);
    totp.generate(u64::try_from(step * 30).unwrap_or(0))
}

/// Every user may use each TOTP step once: the next login phase uses step `used + 1`,
/// which the server accepts from one step before it begins (skew 1).
pub(crate) async fn next_step(used: &mut i64) -> i64 {
    let target = *used + 1;
    while now_step() + 1 < target {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    *used = target;
    target
}

pub(crate) struct Rp {
    pub(crate) id: String,
    pub(crate) secret: String,
}

/// One full login (enrolling when the page asks); `code` is the TOTP code of an
/// enrolled user. It walks the pages as a browser does — follows each redirect and
/// submits the first form of each page — so it stays right when the flow's pages
/// change. Returns (ms, final status, tokens).
pub(crate) async fn full_login(base: &str, rp: &Rp, user: &str, code: Option<&str>) -> (f64, u16, Value) {
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
pub(crate) async fn exchange(
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

pub(crate) async fn token(base: &str, rp: &Rp, form: &[(&str, &str)], path: &str) -> (f64, u16, Value) {
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

/// A full login of an enrolled user with the code of TOTP step `step`.
pub(crate) async fn full_login_at(
    base: &str,
    rp: &Rp,
    user: &str,
    secret: &str,
    step: i64,
) -> (f64, u16, Value) {
    full_login(base, rp, user, Some(&totp_at(secret, step))).await
}
