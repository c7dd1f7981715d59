//! A browser for tests: keeps cookies, does not follow redirects, and knows how to read
//! Watchword's pages. Plus seeding helpers and `oathtool` for independent TOTP codes.

use std::collections::HashMap;

use watchword::auth::password::Password;
use watchword::oidc::clients::{self, CreatedClient, NewClient, RedirectUri};
use watchword::store::tenants::{self, Tenant};
use watchword::tenancy::{self, NewUser, Permission, Slug, UserKind, Username};

use crate::helpers::{T0, TestApp, http_client};

pub const REDIRECT: &str = "https://rp.example/cb";

#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub retry_after: Option<String>,
}

impl Page {
    pub fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf in {}", self.body))
    }

    /// The secret of the enrolment page's `otpauth://` link (read as a phone would).
    pub fn otpauth(&self) -> String {
        attribute_after(&self.body, "href=\"otpauth:")
            .map(|rest| format!("otpauth:{rest}"))
            .expect("otpauth link")
    }

    pub fn codes(&self) -> Vec<String> {
        self.body.split("<li><code>").skip(1).map(|s| s.split("</code>").next().unwrap().to_owned()).collect()
    }

    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// A sign-in's first page (what `/authorize` shows when the user must sign in).
    pub fn is_sign_in_page(&self) -> bool {
        self.status == 200 && self.has("name=\"password\"")
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(unescape(&body[start..end]))
}

/// The query parameters of a URL.
pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A TOTP code computed by `oathtool`, an implementation that is not ours.
pub fn oathtool(otpauth: &str, at: i64) -> String {
    let q = query(otpauth);
    let out = std::process::Command::new("oathtool")
        .arg(format!("--totp={}", q["algorithm"].to_lowercase()))
        .arg("--base32")
        .arg(format!("--digits={}", q["digits"]))
        .arg(format!("--time-step-size={}s", q["period"]))
        .arg(format!("--now=@{at}"))
        .arg(&q["secret"])
        .output()
        .expect("oathtool is installed (Debian package oathtool; .ci/run installs it)");
    assert!(out.status.success(), "oathtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A browser: its cookies, and the sign-in it is on. A sign-in's pages carry its handle
/// in the URL (`?flow=…`); like a browser following links, this one remembers the
/// handle of the last redirect that had one and adds it to the sign-in paths a test
/// names without it (`/login`, `/login/totp`, `/authorize/resume`…).
pub struct Browser {
    client: reqwest::Client,
    base: String,
    flow: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self { client: http_client(), base: app.address.clone(), flow: Default::default() }
    }

    /// A new browser for the server at `base` (a `watchword serve` of a test's own).
    pub fn for_base(base: &str) -> Self {
        Self { client: http_client(), base: base.to_owned(), flow: Default::default() }
    }

    /// The same browser (same cookies) talking to another instance.
    pub fn at(&self, base: &str) -> Self {
        Self { client: self.client.clone(), base: base.to_owned(), flow: self.flow.clone() }
    }

    /// The handle of the sign-in this browser is on.
    pub fn flow(&self) -> Option<String> {
        self.flow.lock().unwrap().clone()
    }

    /// Switches to the sign-in `handle` (another tab).
    pub fn switch_to(&self, handle: &str) {
        *self.flow.lock().unwrap() = Some(handle.to_owned());
    }

    /// `path` with the current sign-in's handle when it is a sign-in path without one.
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            return path.to_owned();
        }
        let in_flow =
            ["/login", "/authorize/resume", "/authorize/consent"].iter().any(|p| path.starts_with(p));
        let path = match (in_flow && !path.contains("flow="), self.flow()) {
            (true, Some(handle)) => {
                let (bare, query) = path.split_once('?').unwrap_or((path, ""));
                let rest = if query.is_empty() { String::new() } else { format!("&{query}") };
                format!("{bare}?flow={handle}{rest}")
            }
            _ => path.to_owned(),
        };
        format!("{}{path}", self.base)
    }

    /// Reads a response; a `Location` with a sign-in handle is remembered, and reported
    /// without it.
    async fn page(&self, res: reqwest::Response) -> Page {
        self.page_or_none(res).await.expect("a readable response")
    }

    /// As [`Browser::get`], `None` when the server is gone.
    pub async fn try_get(&self, path: &str) -> Option<Page> {
        self.page_or_none(self.client.get(self.url(path)).send().await.ok()?).await
    }

    /// POSTs a form, `None` when the server is gone.
    pub async fn try_post(&self, path: &str, form: &[(&str, &str)]) -> Option<Page> {
        self.page_or_none(self.client.post(self.url(path)).form(form).send().await.ok()?).await
    }

    async fn page_or_none(&self, res: reqwest::Response) -> Option<Page> {
        let status = res.status().as_u16();
        let shown_by_authorize = res.url().path() == "/authorize";
        let header = |name: &str| res.headers().get(name).map(|l| l.to_str().unwrap().to_owned());
        let (mut location, retry_after) = (header("location"), header("retry-after"));
        if let Some(to) = location.clone().filter(|l| l.starts_with('/'))
            && let Some((bare, query)) = to.split_once('?')
        {
            let mut rest = Vec::new();
            for pair in query.split('&') {
                match pair.strip_prefix("flow=") {
                    Some(handle) => *self.flow.lock().unwrap() = Some(handle.to_owned()),
                    None => rest.push(pair),
                }
            }
            location =
                Some(if rest.is_empty() { bare.to_owned() } else { format!("{bare}?{}", rest.join("&")) });
        }
        let body = res.text().await.ok()?;
        // `/authorize` shows a new sign-in's first page itself: its form names the flow.
        if shown_by_authorize && let Some(handle) = attribute_after(&body, "action=\"/login/password?flow=") {
            *self.flow.lock().unwrap() = Some(handle);
        }
        Some(Page { status, location, body, retry_after })
    }

    pub async fn get(&self, path: &str) -> Page {
        self.page(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// POSTs a form and follows, as a browser would, the redirect to the page that
    /// shows its outcome (post/redirect/get): back to the sign-in page, on to
    /// `/authorize/resume` (the end of a login: the client's redirect or the consent
    /// page), or to a page that says what the form did (`?note=…`, signed out).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let page = self.page(self.client.post(self.url(path)).form(form).send().await.unwrap()).await;
        match page.location.as_deref() {
            Some(to @ "/authorize/resume") => self.get(to).await,
            Some(to) if path.starts_with("/login/") && to.starts_with("/login") => self.get(to).await,
            Some(to) if to.contains("note=") || to == "/account/signed-out" => self.get(to).await,
            _ => page,
        }
    }

    /// GETs `path` with an extra header.
    pub async fn get_with(&self, path: &str, header: (&str, &str)) -> Page {
        self.page(self.client.get(self.url(path)).header(header.0, header.1).send().await.unwrap()).await
    }

    /// POSTs a form with an extra header (and follows nothing).
    pub async fn post_with(&self, path: &str, form: &[(&str, &str)], header: (&str, &str)) -> Page {
        self.page(
            self.client.post(self.url(path)).header(header.0, header.1).form(form).send().await.unwrap(),
        )
        .await
    }

    /// `GET /authorize` for `client_id`, then the sign-in page.
    pub async fn start(&self, client_id: &str) -> Page {
        let start = self
            .get(&format!(
                "/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=st4te&nonce=n0nce",
                urlencode(REDIRECT)
            ))
            .await;
        assert!(start.is_sign_in_page(), "the sign-in page, shown by /authorize itself: {}", start.body);
        start
    }

    /// Username and password on the sign-in page; returns the page that follows.
    pub async fn password(&self, login: &Page, username: &str, password: &str) -> Page {
        let csrf = login.csrf();
        self.post("/login/password", &[("csrf", &csrf), ("username", username), ("password", password)]).await
    }

    /// Submits `code` to `path` with the CSRF token of `page`.
    pub async fn code(&self, page: &Page, path: &str, code: &str) -> Page {
        self.post(path, &[("csrf", &page.csrf()), ("code", code)]).await
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestApp {
    pub fn client(&self, tenant: &str, public: bool, require_mfa: bool) -> CreatedClient {
        self.client_with(tenant, public, require_mfa, |_| {})
    }

    /// As [`TestApp::client`], with the registration adjusted by `adjust` first.
    pub fn client_with(
        &self,
        tenant: &str,
        public: bool,
        require_mfa: bool,
        adjust: impl FnOnce(&mut NewClient),
    ) -> CreatedClient {
        self.tenant(tenant);
        let mut new = NewClient {
            tenant: Slug::parse(tenant).unwrap(),
            name: "Test RP".into(),
            redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
            post_logout_redirect_uris: vec![],
            public,
            require_mfa,
            trusted: true,
            allow_remembered_devices: true,
            remembered_device_mfa: false,
            id_token_alg: watchword::oidc::keys::SigningAlg::Rs256,
            access_token_alg: watchword::oidc::keys::SigningAlg::Rs256,
            client_scopes: vec![],
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        };
        adjust(&mut new);
        self.store.run_blocking(|c| clients::create_client(c, &new, &Default::default(), T0)).unwrap()
    }

    pub fn tenant(&self, slug: &str) -> Tenant {
        let slug = Slug::parse(slug).unwrap();
        self.store
            .run_blocking(|c| match tenancy::service::find_tenant(c, &slug) {
                Ok(t) => Ok(t),
                Err(_) => tenancy::create_tenant(c, &slug, None, T0),
            })
            .unwrap()
    }

    pub fn policy(&self, slug: &str, change: impl FnOnce(&mut Tenant)) {
        let mut tenant = self.tenant(slug);
        change(&mut tenant);
        self.store.run_blocking(|c| tenants::save_policy(c, &tenant, T0)).unwrap();
    }

    pub fn user(&self, tenant: &str, username: &str, password: &str, totp_required: bool) -> String {
        self.tenant(tenant);
        let new = NewUser {
            tenant: Slug::parse(tenant).unwrap(),
            username: Username::parse(username).unwrap(),
            password: watchword::tenancy::InitialPassword::Plain(Password::parse(password).unwrap()),
            parent: None,
            kind: UserKind::Internal,
            email: None,
            display_name: None,
            totp_required,
            permission: Permission::None,
            password_temporary: false,
        };
        self.store.run_blocking(|c| tenancy::create_user(c, &new, T0)).unwrap().user.id
    }

    /// The `amr` of the session behind an authorization code.
    pub fn amr_of_code(&self, code: &str) -> String {
        use diesel::prelude::*;
        use watchword::store::schema::{authorization_codes, sso_sessions};
        let hash = watchword::random::secret_hash(code);
        self.store
            .run_blocking(|c| -> Result<String, watchword::store::StoreError> {
                Ok(authorization_codes::table
                    .inner_join(sso_sessions::table)
                    .filter(authorization_codes::code_hash.eq(hash))
                    .select(sso_sessions::amr)
                    .first(c)?)
            })
            .unwrap()
    }

    /// Audit event names about `user_id`, oldest first.
    pub fn events_of(&self, user_id: &str) -> Vec<String> {
        use diesel::prelude::*;
        use watchword::store::schema::audit_events;
        let user_id = user_id.to_owned();
        self.store
            .run_blocking(|c| -> Result<Vec<String>, watchword::store::StoreError> {
                Ok(audit_events::table
                    .filter(audit_events::target_user_id.eq(user_id))
                    .order(audit_events::created_at)
                    .select(audit_events::event)
                    .load(c)?)
            })
            .unwrap()
    }
}
