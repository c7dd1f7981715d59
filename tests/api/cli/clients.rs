//! Clients and signing keys through the CLI.

use serde_json::Value;

use super::{Fixture, assert_refused};
use crate::helpers::stdout;

#[test]
fn clients_are_created_listed_and_refused() {
    let f = Fixture::new();
    let cli = f.cli();
    cli.json(&["tenant", "create", "acme"]);

    let web = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Web app",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--redirect-uri",
        "http://127.0.0.1:3000/cb",
        "--post-logout-redirect-uri",
        "https://app.example.com/",
        "--require-mfa",
        "--trusted",
    ]);
    let secret = web["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 43, "256-bit secret: {secret}");
    assert_eq!(web["public"], false);
    assert_eq!(web["require_mfa"], true);
    assert_eq!(web["trusted"], true);
    assert_eq!(web["redirect_uris"][1], "http://127.0.0.1:3000/cb");

    let spa = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "SPA",
        "--public",
        "--redirect-uri",
        "https://spa.example.com/cb",
    ]);
    assert_eq!(spa["public"], true);
    assert!(spa.get("client_secret").is_none(), "a public client has no secret");

    let out = cli.run(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "CLI",
        "--redirect-uri",
        "https://c.example/cb",
    ]);
    let text = stdout(&out);
    assert!(text.contains("client_id: ") && text.contains("client_secret (shown once): "), "{text}");

    let list = cli.json(&["client", "list", "--tenant", "acme"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(!list.to_string().contains(secret), "a secret is shown once only");
    let text = stdout(&cli.run(&["client", "list", "--tenant", "acme"]));
    assert!(text.contains(web["client_id"].as_str().unwrap()) && text.contains("public"), "{text}");

    assert_refused(
        &cli.run(&["client", "create", "--tenant", "acme", "--name", "Bad", "--redirect-uri", "not a uri"]),
        "malformed redirect URI 'not a uri'",
    );
    // Scopes for client credentials: registered one by one, user scopes refused.
    let m2m_args = |scopes: &[&'static str]| {
        let mut args = vec!["client", "create", "--tenant", "acme", "--name", "M2M"];
        args.extend(["--redirect-uri", "https://m.example/cb"]);
        for scope in scopes {
            args.extend(["--client-scope", *scope]);
        }
        args
    };
    let m2m = cli.json(&m2m_args(&["reports:read", "reports:write"]));
    assert_eq!(m2m["client_scopes"], serde_json::json!(["reports:read", "reports:write"]));
    assert_refused(&cli.run(&m2m_args(&["openid"])), "user scope");
    assert_refused(&cli.run(&m2m_args(&["bad\\scope"])), "is not a scope");
    assert_refused(
        &cli.run(&[
            "client",
            "create",
            "--tenant",
            "acme",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://a.example/cb#x",
        ]),
        "fragment",
    );
    assert_refused(
        &cli.run(&[
            "client",
            "create",
            "--tenant",
            "ghost",
            "--name",
            "X",
            "--redirect-uri",
            "https://a.example/cb",
        ]),
        "unknown tenant 'ghost'",
    );
    // The three above and M2M: nothing refused was half-written.
    assert_eq!(cli.json(&["client", "list", "--tenant", "acme"]).as_array().unwrap().len(), 4);
}

#[test]
fn keys_are_listed_and_rotated_and_clients_choose_their_algorithm() {
    let f = Fixture::new();
    let cli = f.cli();
    cli.json(&["tenant", "create", "acme"]);
    assert_eq!(cli.json(&["keys", "list"]), Value::Array(vec![]));
    let rotated = cli.json(&["keys", "rotate"]);
    let keys = rotated["keys"].as_array().unwrap();
    let count = |status: &str| keys.iter().filter(|k| k["status"] == status).count();
    assert_eq!((count("active"), count("next")), (3, 3), "{rotated}");
    assert_eq!(rotated["activates_after_seconds"], 86_400);
    let out = cli.run(&["keys", "rotate", "--alg", "ES256"]);
    assert!(stdout(&out).contains("published next keys"), "{}", stdout(&out));
    let list = cli.json(&["keys", "list"]);
    let es_next = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["algorithm"] == "ES256" && k["status"] == "next")
        .count();
    assert_eq!(es_next, 2);
    assert!(!list.to_string().contains("private"), "no private parts listed");
    let text = stdout(&cli.run(&["keys", "list"]));
    assert!(text.contains("\tEdDSA\tactive"), "{text}");
    assert_eq!(cli.run(&["keys", "rotate", "--alg", "HS256"]).status.code(), Some(2));

    let ed = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Ed",
        "--redirect-uri",
        "https://ed.example/cb",
        "--id-token-alg",
        "EdDSA",
    ]);
    assert_eq!(ed["id_token_alg"], "EdDSA");
    let out = cli.run(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "X",
        "--redirect-uri",
        "https://x.example/cb",
        "--id-token-alg",
        "none",
    ]);
    assert_eq!(out.status.code(), Some(2), "alg none is not a choice");
}
