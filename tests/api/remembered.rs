//! Remember this device through the real server: the code step skipped on a browser
//! that asked for it, with an honest `amr`/`acr`; every way back to the code (clients
//! that ask for more, `max_age`, another user, forgetting, revoking, a password change,
//! disabling).

use diesel::prelude::*;
use watchword::auth::login::{ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR};
use watchword::store::schema::remembered_devices;

use crate::browser::{Browser, Page, REDIRECT, oathtool, query, urlencode};
use crate::conformance::claims;
use crate::helpers::{TestApp, http_client, spawn_app};
use crate::login::enrol_for;

const PASSWORD: &str = "pw-alice";
const REMEMBER_TEXT: &str = "ask for a code on this device for 30 days";

impl TestApp {
    /// How many remembered devices `user_id` has.
    pub fn devices_of(&self, user_id: &str) -> i64 {
        let user_id = user_id.to_owned();
        self.store
            .run_blocking(move |c| -> Result<i64, watchword::store::StoreError> {
                Ok(remembered_devices::table
                    .filter(remembered_devices::user_id.eq(user_id))
                    .count()
                    .get_result(c)?)
            })
            .unwrap()
    }
}

impl Browser {
    /// A new sign-in for `client_id` even when signed in (`prompt=login`), with `extra`
    /// query parameters; returns the sign-in page.
    async fn sign_in_again(&self, client_id: &str, extra: &str) -> Page {
        let start = self
            .get(&format!(
                "/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=st4te&nonce=n0nce&prompt=login{extra}",
                urlencode(REDIRECT)
            ))
            .await;
        assert!(start.is_sign_in_page(), "{} {}", start.status, start.body);
        start
    }
}

/// The code a finished sign-in sent back to the client.
fn code_of(page: &Page) -> String {
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location.clone().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    query(&location)["code"].clone()
}

fn is_code_page(page: &Page) -> bool {
    page.status == 200 && page.has("autocomplete=\"one-time-code\"") && page.has("action=\"/login/totp?flow=")
}

/// A tenant that remembers devices for 30 days and alice, enrolled; returns her id, the
/// client id and secret, and her otpauth URI.
async fn remembering_app() -> (TestApp, String, (String, String), String) {
    let app = spawn_app().await;
    app.policy("acme", |t| {
        t.prompt_new_users = false;
        t.remember_device_days = Some(30);
    });
    let client = app.client("acme", false, false);
    let alice = app.user("acme", "alice", PASSWORD, true);
    let (otpauth, _) = enrol_for(&app, &client.client.id, "alice", PASSWORD).await;
    (app, alice, (client.client.id, client.secret.unwrap()), otpauth)
}

/// Signs alice in on `browser` with a code and "don't ask again" ticked.
async fn remember(app: &TestApp, browser: &Browser, client_id: &str, otpauth: &str) {
    app.clock.advance(30);
    let login = browser.sign_in_again(client_id, "").await;
    let page = browser.password(&login, "alice", PASSWORD).await;
    assert!(is_code_page(&page) && page.has(REMEMBER_TEXT), "{}", page.body);
    let code = oathtool(otpauth, app.clock_now());
    let done = browser
        .post("/login/totp", &[("csrf", &page.csrf()), ("code", &code), ("remember_device", "on")])
        .await;
    assert_eq!(app.amr_of_code(&code_of(&done)), "pwd otp mfa");
}

async fn tokens(app: &TestApp, client: &(String, String), code: &str) -> serde_json::Value {
    let res = http_client()
        .post(format!("{}/token", app.address))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    claims(body["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn a_remembered_browser_skips_the_code_and_the_tokens_say_so() {
    let (app, alice, client, otpauth) = remembering_app().await;
    let browser = Browser::new(&app);
    remember(&app, &browser, &client.0, &otpauth).await;
    assert_eq!(app.devices_of(&alice), 1);
    assert!(app.events_of(&alice).contains(&"device.remembered".to_owned()));

    // The next sign-in on that browser: the password alone, and an honest amr and acr.
    let login = browser.sign_in_again(&client.0, "").await;
    let done = browser.password(&login, "alice", PASSWORD).await;
    let code = code_of(&done);
    assert_eq!(app.amr_of_code(&code), "pwd remembered_device");
    let id_token = tokens(&app, &client, &code).await;
    assert_eq!(id_token["amr"], serde_json::json!(["pwd", "remembered_device"]));
    assert_eq!(id_token["acr"], ACR_SINGLE_FACTOR);

    // Another browser still gives a code; a wrong password is still wrong.
    let other = Browser::new(&app);
    let login = other.sign_in_again(&client.0, "").await;
    assert!(is_code_page(&other.password(&login, "alice", PASSWORD).await));
    let login = browser.sign_in_again(&client.0, "").await;
    let wrong = browser.password(&login, "alice", "not her password").await;
    assert!(wrong.status == 200 && wrong.has("name=\"password\""), "{}", wrong.body);

    // The cookie is alice's: bob on the same browser gives his code.
    app.user("acme", "bob", "pw-bob", true);
    enrol_for(&app, &client.0, "bob", "pw-bob").await;
    let login = browser.sign_in_again(&client.0, "").await;
    assert!(is_code_page(&browser.password(&login, "bob", "pw-bob").await));

    // The cookie cannot be replayed into another tenant's user of the same name.
    app.policy("other", |t| {
        t.prompt_new_users = false;
        t.remember_device_days = Some(30);
    });
    let elsewhere = app.client("other", false, false);
    app.user("other", "alice", PASSWORD, true);
    enrol_for(&app, &elsewhere.client.id, "alice", PASSWORD).await;
    let login = browser.sign_in_again(&elsewhere.client.id, "").await;
    assert!(is_code_page(&browser.password(&login, "alice", PASSWORD).await));
}

#[tokio::test]
async fn clients_that_ask_for_more_and_max_age_get_the_code_step() {
    let (app, _alice, client, otpauth) = remembering_app().await;
    let browser = Browser::new(&app);
    remember(&app, &browser, &client.0, &otpauth).await;
    let skips = async |client_id: &str, extra: &str| {
        let login = browser.sign_in_again(client_id, extra).await;
        let page = browser.password(&login, "alice", PASSWORD).await;
        assert!(page.status == 302 || is_code_page(&page), "{} {}", page.status, page.body);
        page.status == 302
    };

    // A client that requires MFA, and a request that asks for it.
    let strict = app.client("acme", false, true);
    assert!(!skips(&strict.client.id, "").await);
    let asks = format!("&acr_values={}", urlencode(ACR_MULTI_FACTOR));
    assert!(!skips(&client.0, &asks).await);
    // A client that refuses remembered devices: the code, and no offer to remember.
    let refusing = app.client_with("acme", false, false, |c| c.allow_remembered_devices = false);
    let login = browser.sign_in_again(&refusing.client.id, "").await;
    let page = browser.password(&login, "alice", PASSWORD).await;
    assert!(is_code_page(&page) && !page.has("remember_device"), "{}", page.body);
    // A client that counts a remembered device as multi-factor, even when it requires MFA.
    let counting = app.client_with("acme", false, true, |c| c.remembered_device_mfa = true);
    let login = browser.sign_in_again(&counting.client.id, "").await;
    let code = code_of(&browser.password(&login, "alice", PASSWORD).await);
    let id_token = tokens(&app, &(counting.client.id.clone(), counting.secret.clone().unwrap()), &code).await;
    assert_eq!(id_token["amr"], serde_json::json!(["pwd", "remembered_device"]), "still honest");
    assert_eq!(id_token["acr"], ACR_MULTI_FACTOR);

    // max_age: shorter than the time since the code was entered on this browser.
    app.clock.advance(120);
    assert!(!skips(&client.0, "&max_age=60").await);
    assert!(skips(&client.0, "&max_age=3600").await);

    // The tenant switches remembering off: every browser gives its code again.
    app.policy("acme", |t| t.remember_device_days = None);
    assert!(!skips(&client.0, "").await);
}

#[tokio::test]
async fn forgetting_revoking_a_password_change_and_disabling_bring_the_code_back() {
    let (app, alice, client, otpauth) = remembering_app().await;
    let browser = Browser::new(&app);
    remember(&app, &browser, &client.0, &otpauth).await;

    // The account page lists the device; "Forget" ends it.
    let account = browser.get("/account").await;
    assert!(account.has("Remembered devices") && account.has("Unknown browser"), "{}", account.body);
    let id = account.body.split("action=\"/account/devices/").nth(1).unwrap().split('/').next().unwrap();
    let forgot = browser.post(&format!("/account/devices/{id}/forget"), &[("csrf", &account.csrf())]).await;
    assert!(forgot.has("Device forgotten"), "{}", forgot.body);
    assert_eq!(app.devices_of(&alice), 0);
    let login = browser.sign_in_again(&client.0, "").await;
    assert!(is_code_page(&browser.password(&login, "alice", PASSWORD).await));
    assert!(app.events_of(&alice).contains(&"device.forgotten".to_owned()));

    // "Forget all", with a CSRF token only.
    remember(&app, &browser, &client.0, &otpauth).await;
    let account = browser.get("/account").await;
    let refused = browser.post("/account/devices/forget", &[("csrf", "wrong")]).await;
    assert_ne!(refused.status, 303);
    assert_eq!(app.devices_of(&alice), 1);
    browser.post("/account/devices/forget", &[("csrf", &account.csrf())]).await;
    assert_eq!(app.devices_of(&alice), 0);

    // Changing the password forgets them.
    remember(&app, &browser, &client.0, &otpauth).await;
    let account = browser.get("/account").await;
    let new = "tapir violet quarry lantern";
    let changed = browser
        .post(
            "/account/password",
            &[
                ("csrf", &account.csrf()),
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm", new),
                ("code", &oathtool(&otpauth, app.clock_now())),
            ],
        )
        .await;
    assert!(changed.has("Your password has been changed"), "{}", changed.body);
    assert_eq!(app.devices_of(&alice), 0);
    let forgotten_all = app.events_of(&alice).iter().filter(|e| *e == "device.forgotten_all").count();
    assert_eq!(forgotten_all, 2, "\"Forget all\", then the change");
    let login = browser.sign_in_again(&client.0, "").await;
    assert!(is_code_page(&browser.password(&login, "alice", new).await));

    // Revoking the secret and disabling the user forget them too.
    let remember_with = async |password: &str| {
        app.clock.advance(30);
        let login = browser.sign_in_again(&client.0, "").await;
        let page = browser.password(&login, "alice", password).await;
        let code = oathtool(&otpauth, app.clock_now());
        let done = browser
            .post("/login/totp", &[("csrf", &page.csrf()), ("code", &code), ("remember_device", "on")])
            .await;
        code_of(&done);
    };
    remember_with(new).await;
    assert_eq!(app.devices_of(&alice), 1);
    let tenant = app.tenant("acme");
    let now = app.clock_now();
    app.store
        .run_blocking(|c| {
            let alice = watchword::tenancy::Username::parse("alice").unwrap();
            watchword::tenancy::admin::revoke_totp_as_operator(c, &tenant, &alice, "lost phone", now)
        })
        .unwrap();
    assert_eq!(app.devices_of(&alice), 0);
    assert_eq!(
        app.events_of(&alice).iter().filter(|e| *e == "device.forgotten_all").count(),
        3,
        "the revoke"
    );
    let login = browser.sign_in_again(&client.0, "").await;
    let enrol = browser.password(&login, "alice", new).await;
    assert!(enrol.has("Set up your authenticator app"), "{}", enrol.body);

    // Disabling the user (by its parent) forgets a device remembered for it.
    let root = app.child("acme", "root", None, "admin");
    let (alice2, root2) = (alice.clone(), root.clone());
    app.store
        .run_blocking(move |c| -> Result<(), watchword::tenancy::admin::AdminError> {
            use watchword::store::schema::users;
            diesel::update(users::table.find(&alice2))
                .set(users::parent_id.eq(&root2))
                .execute(c)
                .map_err(watchword::store::StoreError::from)?;
            let origin = watchword::store::audit::Origin::default();
            watchword::auth::remembered::remember(c, &tenant.id, &alice2, 30, "seeded".into(), &origin, now)?;
            let (root_user, _) = watchword::store::users::find_with_tenant(c, &root2)?.unwrap();
            let admin = watchword::tenancy::admin::Admin::load(c, root_user)?;
            watchword::tenancy::admin::set_disabled(c, &admin, &alice2, true, &origin, now)
        })
        .unwrap();
    assert_eq!(app.devices_of(&alice), 0);
}

#[tokio::test]
async fn a_parent_lists_and_forgets_a_childs_devices_through_the_api_and_the_pages() {
    let app = spawn_app().await;
    app.policy("acme", |t| {
        t.prompt_new_users = false;
        t.remember_device_days = Some(30);
    });
    let client = app.client("acme", false, false);
    let parent = app.child("acme", "parent", None, "create");
    let kid = app.child("acme", "kid", Some(&parent), "none");
    let reader = app.child("acme", "reader", Some(&parent), "read");
    app.set_totp_required(&kid);
    let (otpauth, _) = enrol_for(&app, &client.client.id, "kid", "pw-kid").await;
    let kids_browser = Browser::new(&app);
    let remember_kid = async || {
        app.clock.advance(30);
        let login = kids_browser.sign_in_again(&client.client.id, "").await;
        let page = kids_browser.password(&login, "kid", "pw-kid").await;
        let code = oathtool(&otpauth, app.clock_now());
        let form = [("csrf", page.csrf()), ("code", code), ("remember_device", "on".into())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        code_of(&kids_browser.post("/login/totp", &form).await);
    };
    remember_kid().await;

    // The API: listed (no token hash), forgotten one by one or all; the rights of revoking.
    let (token, parents_otpauth) = app.admin_token("parent").await;
    let (status, body) = app.api(&token, "GET", &format!("/users/{kid}/devices"), None).await;
    assert_eq!(status, 200, "{body}");
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["label"], "Unknown browser");
    assert!(devices[0].get("token_hash").is_none() && !body.to_string().contains("token"));
    let device = devices[0]["id"].as_str().unwrap().to_owned();
    let (reader_token, _) = app.admin_token("reader").await;
    let (status, _) = app.api(&reader_token, "GET", &format!("/users/{kid}/devices"), None).await;
    assert_eq!(status, 403, "not below a sibling");
    let (status, _) = app.api(&token, "DELETE", &format!("/users/{parent}/devices"), None).await;
    assert_eq!(status, 403, "never oneself");
    let (status, _) = app.api(&token, "DELETE", &format!("/users/{kid}/devices/no-such-device"), None).await;
    assert_eq!(status, 404);
    let (status, body) = app.api(&token, "DELETE", &format!("/users/{kid}/devices/{device}"), None).await;
    assert_eq!((status, body["forgotten"].as_i64()), (200, Some(1)));
    assert_eq!(app.devices_of(&kid), 0);
    remember_kid().await;
    let (status, body) = app.api(&token, "DELETE", &format!("/users/{kid}/devices"), None).await;
    assert_eq!((status, body["forgotten"].as_i64()), (200, Some(1)));
    assert_eq!(app.devices_of(&kid), 0);
    let events = app.events_of(&kid);
    assert!(
        events.contains(&"device.forgotten".to_owned())
            && events.contains(&"device.forgotten_all".to_owned())
    );
    let login = kids_browser.sign_in_again(&client.client.id, "").await;
    assert!(is_code_page(&kids_browser.password(&login, "kid", "pw-kid").await));
    let _ = reader;

    // The pages: the user's page lists it; "Forget all" forgets it.
    remember_kid().await;
    let admin = Browser::new(&app);
    let login = admin.account_login("acme").await;
    let code_page = admin.password(&login, "parent", "pw-parent").await;
    let signed_in = admin.code(&code_page, "/login/totp", &oathtool(&parents_otpauth, app.clock_now())).await;
    assert_eq!(signed_in.location.as_deref(), Some("/account"), "{}", signed_in.body);
    let page = admin.get(&format!("/admin/users/{kid}")).await;
    assert!(page.has("Remembered devices") && page.has("Unknown browser"), "{}", page.body);
    assert!(
        page.has("What each application asks of kid") && page.has("skip the code, single-factor"),
        "{}",
        page.body
    );
    assert!(page.has("TOTP is required for this user"), "{}", page.body);
    let done = admin.post(&format!("/admin/users/{kid}/devices/forget"), &[("csrf", &page.csrf())]).await;
    assert!(done.has("Every remembered device of this user is forgotten."), "{}", done.body);
    assert_eq!(app.devices_of(&kid), 0);
    assert!(admin.get(&format!("/admin/users/{kid}")).await.has("gives a code at every sign-in"));
}
