//! Profiles: users edit theirs on `/account/profile`, parents edit their children's from
//! `/admin` and the API, and the standard claims (OpenID Connect Core §5.1) reach relying
//! parties by the `profile`, `email`, `phone` and `address` scopes or by the `claims`
//! parameter — the latter only with the user's consent to the claim's scope.

use serde_json::{Value, json};
use watchword::oidc::keys::SigningAlg;

use crate::admin_pages::admin_browser;
use crate::browser::Browser;
use crate::claims::{link, userinfo};
use crate::conformance::{Rp, app_with_user, claims, code_of, sign_in};
use crate::helpers::{TestApp, spawn_app};

/// The tokens a trusted client gets for `scope` after `username` signs in afresh.
async fn tokens_for(app: &TestApp, rp: &Rp, scope: &str, username: &str) -> Value {
    let browser = Browser::new(app);
    browser.get(&link(rp, scope, None)).await;
    let (status, tokens) =
        rp.exchange(app, &code_of(&sign_in(&browser, username, &format!("pw-{username}")).await)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn account_browser(app: &TestApp, username: &str, password: &str) -> Browser {
    let browser = Browser::new(app);
    browser.get("/account?tenant=acme").await;
    let login = browser.get("/login").await;
    let done = browser.password(&login, username, password).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    browser
}

const FULL: &[(&str, &str)] = &[
    ("display_name", " Quinn Mallory "),
    ("given_name", "Quinn"),
    ("family_name", "Mallory"),
    ("email", "quinn@mallory.example"),
    ("phone_number", "+41 44 668 18 00;ext=7"),
    ("locale", "de_CH"),
    ("zoneinfo", "Europe/Zurich"),
    ("street_address", "Bahnhofstrasse 1\r\n3. Stock"),
    ("postal_code", "8001"),
    ("locality", "Zürich"),
    ("region", "ZH"),
    ("country", "Switzerland"),
];

#[tokio::test]
async fn users_edit_their_profile_and_the_scopes_release_it() {
    let app = app_with_user().await;
    let browser = account_browser(&app, "quinn", "pw-quinn").await;
    let account = browser.get("/account").await;
    assert!(
        account.has("quinn@acme.example") && account.has("href=\"/account/profile\""),
        "{}",
        account.body
    );
    let form = browser.get("/account/profile").await;
    assert!(
        form.has("value=\"quinn@acme.example\"") && form.has("autocomplete=\"given-name\""),
        "{}",
        form.body
    );
    let csrf = form.csrf();

    // No CSRF token, no change.
    let forged = browser.post("/account/profile", &[("given_name", "Mallory")]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // A refused field shows the form again with what was typed, and nothing is kept.
    let bad = browser
        .post("/account/profile", &[("csrf", &csrf), ("given_name", "Typed"), ("phone_number", "call me")])
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.has("phone_number must be a phone number") && bad.has("value=\"Typed\""), "{}", bad.body);
    assert_eq!(app.count_events("user.profile_updated"), 0);

    app.clock.advance(100);
    let edited_at = app.clock_now();
    let mut full = vec![("csrf", csrf.as_str())];
    full.extend_from_slice(FULL);
    // Saved: back to the account page, saying so.
    let saved = browser.post("/account/profile", &full).await;
    assert!(saved.has("Your profile has been saved.") && saved.has("Quinn Mallory"), "{}", saved.body);
    assert_eq!(app.count_events("user.profile_updated"), 1);
    // Saving what is already there changes nothing and records nothing.
    assert!(browser.post("/account/profile", &full).await.has("Your profile has been saved."));
    assert_eq!(app.count_events("user.profile_updated"), 1);

    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let tokens = tokens_for(&app, &rp, "openid profile email phone address", "quinn").await;
    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    let expected = json!({
        "name": "Quinn Mallory",
        "given_name": "Quinn",
        "family_name": "Mallory",
        "preferred_username": "quinn",
        "locale": "de-CH",
        "zoneinfo": "Europe/Zurich",
        "updated_at": edited_at,
        "email": "quinn@mallory.example",
        "email_verified": false,
        "phone_number": "+41 44 668 18 00;ext=7",
        "phone_number_verified": false,
        "address": {
            "street_address": "Bahnhofstrasse 1\n3. Stock",
            "postal_code": "8001",
            "locality": "Zürich",
            "region": "ZH",
            "country": "Switzerland",
            "formatted": "Bahnhofstrasse 1\n3. Stock\n8001 Zürich\nZH\nSwitzerland",
        },
    });
    for (name, value) in expected.as_object().unwrap() {
        assert_eq!(&info[name], value, "{name}: {info}");
    }

    // Only what the scopes name.
    let narrow = tokens_for(&app, &rp, "openid email", "quinn").await;
    let info = userinfo(&app, narrow["access_token"].as_str().unwrap()).await;
    assert_eq!(info["email"], "quinn@mallory.example", "{info}");
    for absent in ["given_name", "locale", "updated_at", "phone_number", "phone_number_verified", "address"] {
        assert!(info.get(absent).is_none(), "{absent}: {info}");
    }

    // Emptied fields are gone from the claims.
    let emptied = browser.post("/account/profile", &[("csrf", &csrf), ("display_name", "Q")]).await;
    assert!(emptied.has("Your profile has been saved."), "{}", emptied.body);
    let tokens = tokens_for(&app, &rp, "openid profile email phone address", "quinn").await;
    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Q", "{info}");
    for absent in ["given_name", "email", "email_verified", "phone_number", "address"] {
        assert!(info.get(absent).is_none(), "{absent}: {info}");
    }
}

#[tokio::test]
async fn a_claim_asked_for_by_name_needs_consent_to_its_scope() {
    let app = app_with_user().await;
    let browser = account_browser(&app, "quinn", "pw-quinn").await;
    let csrf = browser.get("/account/profile").await.csrf();
    let mut full = vec![("csrf", csrf.as_str())];
    full.extend_from_slice(FULL);
    assert!(browser.post("/account/profile", &full).await.has("Your profile has been saved."));

    let rp = Rp::new(&app, SigningAlg::Rs256, false, false);
    let asked = r#"{"id_token":{"address":{"essential":true}},"userinfo":{"phone_number":null}}"#;
    browser.get(&link(&rp, "openid", Some(asked))).await;
    let consent = browser.get("/authorize/resume").await;
    assert!(
        consent.has("your postal address")
            && consent.has("your phone number")
            && !consent.has("your email address"),
        "the consent names what the claims parameter asks for: {}",
        consent.body
    );
    let allowed =
        browser.post("/authorize/consent", &[("csrf", &consent.csrf()), ("decision", "allow")]).await;
    let (status, tokens) = rp.exchange(&app, &code_of(&allowed)).await;
    assert_eq!(status, 200, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["address"]["locality"], "Zürich", "{id}");
    assert!(id.get("phone_number").is_none(), "{id}");
    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["phone_number"], "+41 44 668 18 00;ext=7", "{info}");

    // Consent to those scopes is remembered; asking for another claim's scope asks again.
    code_of(&browser.get(&link(&rp, "openid", Some(asked))).await);
    let more = browser.get(&link(&rp, "openid", Some(r#"{"userinfo":{"email":null}}"#))).await;
    assert_eq!(more.location.as_deref(), Some("/authorize/resume"), "{}", more.body);
    assert!(browser.get("/authorize/resume").await.has("your email address"));
}

#[tokio::test]
async fn parents_edit_profiles_through_the_api_and_the_pages() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    // chief ── boss ── kid: boss through the API, chief through the pages.
    let chief = app.child("acme", "chief", None, "admin");
    let boss = app.child("acme", "boss", Some(&chief), "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let (token, _) = app.admin_token("boss").await;

    let profile = json!({
        "display_name": "Kid Example",
        "given_name": "Kid",
        "family_name": "Example",
        "email": "kid@acme.example",
        "phone_number": "+1 (425) 555-1212",
        "locale": "en-US",
        "zoneinfo": "America/New_York",
        "address": { "street_address": "1 Main St", "locality": "Springfield", "country": "US" },
    });
    let (status, body) =
        app.api(&token, "PUT", &format!("/users/{kid}/profile"), Some(profile.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"], profile, "{body}");
    assert_eq!(
        (body["display_name"].as_str(), body["email"].as_str()),
        (Some("Kid Example"), Some("kid@acme.example"))
    );
    assert_eq!(app.count_events("user.profile_updated"), 1);
    let (_, read) = app.api(&token, "GET", &format!("/users/{kid}"), None).await;
    assert_eq!(read["profile"], profile, "{read}");

    // A field that is no profile field, or a value a field cannot hold: 400, nothing kept.
    for bad in [
        json!({ "shoe_size": 44 }),
        json!({ "locale": "english please" }),
        json!({ "address": { "planet": "Mars" } }),
    ] {
        let (status, body) =
            app.api(&token, "PUT", &format!("/users/{kid}/profile"), Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, read) = app.api(&token, "GET", &format!("/users/{kid}"), None).await;
    assert_eq!(read["profile"], profile, "{read}");
    // The whole profile is replaced: what is left out is emptied.
    let (status, body) =
        app.api(&token, "PUT", &format!("/users/{kid}/profile"), Some(json!({ "given_name": "Kid" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["profile"]["email"].clone(), body["profile"]["address"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(app.count_events("user.profile_updated"), 2);

    // The pages: the user's page links the form; a refused value keeps what was typed.
    let browser = admin_browser(&app, "chief").await;
    let page = browser.get(&format!("/admin/users/{kid}")).await;
    assert!(page.has(&format!("href=\"/admin/users/{kid}/profile\"")), "{}", page.body);
    let form = browser.get(&format!("/admin/users/{kid}/profile")).await;
    assert!(form.has("Profile of kid") && form.has("value=\"Kid\""), "{}", form.body);
    let csrf = form.csrf();
    let path = format!("/admin/users/{kid}/profile");
    let bad = browser.post(&path, &[("csrf", &csrf), ("family_name", "Typed"), ("email", "nope")]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.has("email must be an e-mail address") && bad.has("value=\"Typed\""), "{}", bad.body);
    let saved =
        browser.post(&path, &[("csrf", &csrf), ("given_name", "Kid"), ("email", "kid@acme.example")]).await;
    assert!(saved.has("The profile has been saved.") && saved.has("kid@acme.example"), "{}", saved.body);
    assert_eq!(app.count_events("user.profile_updated"), 3);

    // The kid's own sign-in releases it.
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let tokens = tokens_for(&app, &rp, "openid profile email", "kid").await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (info["given_name"].as_str(), info["email"].as_str()),
        (Some("Kid"), Some("kid@acme.example")),
        "{info} {id}"
    );
}

#[tokio::test]
async fn two_edits_at_once_each_audit_what_they_really_changed() {
    use diesel::prelude::*;
    use watchword::store::schema::audit_events;

    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let (token, _) = app.admin_token("boss").await;
    let path = format!("/users/{kid}/profile");
    let fields_named = || {
        let details: Vec<String> = app
            .store
            .run_blocking(|c| -> Result<Vec<String>, watchword::store::StoreError> {
                Ok(audit_events::table
                    .filter(audit_events::event.eq("user.profile_updated"))
                    .select(audit_events::detail)
                    .load(c)?)
            })
            .unwrap();
        details
            .iter()
            .map(|d| serde_json::from_str::<Value>(d).unwrap()["fields"].as_array().unwrap().len())
            .sum()
    };
    for round in 0..10 {
        // Both start from an empty profile; each replaces the whole of it. Whichever is
        // second clears the first one's field as it sets its own: three fields in all.
        let before: usize = fields_named();
        let (a, b) = tokio::join!(
            app.api(&token, "PUT", &path, Some(json!({ "given_name": format!("A{round}") }))),
            app.api(&token, "PUT", &path, Some(json!({ "family_name": format!("B{round}") }))),
        );
        assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
        assert_eq!(fields_named() - before, 3, "round {round}");
        let (status, _) = app.api(&token, "PUT", &path, Some(json!({}))).await;
        assert_eq!(status, 200);
    }
}
