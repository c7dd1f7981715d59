//! `watchword client …`: register and list relying parties.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Failure, blocking, print, print_list};
use crate::oidc::clients::{self, NewClient, RedirectUri};
use crate::oidc::keys::SigningAlg;
use crate::store::Db;
use crate::store::clients::Client;
use crate::tenancy::Slug;

#[derive(Debug, Subcommand)]
pub(super) enum ClientCommand {
    /// Register a client; prints client_id and, for a confidential client, the secret once.
    Create(ClientCreate),
    /// List a tenant's clients.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Show one client (its settings; never a secret).
    Show {
        #[arg(long)]
        tenant: String,
        /// Generated ids may begin with `-`: taken as the value, never as an option.
        #[arg(long, allow_hyphen_values = true)]
        client_id: String,
    },
    /// Give a confidential client a new secret (printed once); the old one stays valid for
    /// the grace period, so that the client's instances can change over.
    RotateSecret {
        #[arg(long)]
        tenant: String,
        /// Generated ids may begin with `-`: taken as the value, never as an option.
        #[arg(long, allow_hyphen_values = true)]
        client_id: String,
        /// Seconds the old secret stays valid (0 ends it at once; at most 30 days).
        #[arg(long, default_value_t = clients::SECRET_GRACE)]
        grace: i64,
    },
}

#[derive(Debug, Args)]
pub(super) struct ClientCreate {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    name: String,
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE required).
    #[arg(long)]
    public: bool,
    /// Every login through this client needs TOTP.
    #[arg(long)]
    require_mfa: bool,
    /// Skip the consent page for this client.
    #[arg(long)]
    trusted: bool,
    /// Its users always give a code, even on a browser the tenant lets remember them.
    #[arg(long)]
    no_remembered_devices: bool,
    /// Count a remembered device as multi-factor (acr, --require-mfa, acr_values).
    #[arg(long, conflicts_with = "no_remembered_devices")]
    remembered_device_mfa: bool,
    /// The ID token signing algorithm.
    #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256", "EdDSA"])]
    id_token_alg: String,
    /// The access token signing algorithm (ES256 and EdDSA sign 20-40× faster than
    /// RS256; choose them when the client's resource servers accept them).
    #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256", "EdDSA"])]
    access_token_alg: String,
    /// A scope it may ask for in a client_credentials grant (repeat for several; none:
    /// only tokens without a scope).
    #[arg(long = "client-scope")]
    client_scopes: Vec<String>,
}

pub(super) fn run(db: &Db, command: ClientCommand, json: bool, now: i64) -> Result<(), Failure> {
    match command {
        ClientCommand::Create(args) => create_client(db, args, json, now),
        ClientCommand::Show { tenant, client_id } => {
            let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
            let client = blocking(db, |c| clients::show_client(c, &slug, &client_id))?;
            let out = client_json(&client, &slug, None);
            print(json, out.clone(), || {
                out.as_object()
                    .map(|o| o.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            });
            Ok(())
        }
        ClientCommand::RotateSecret { tenant, client_id, grace } => {
            let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
            let (secret, until) = blocking(db, |c| clients::rotate_secret(c, &slug, &client_id, grace, now))?;
            let out =
                json!({ "client_id": client_id, "client_secret": secret, "previous_valid_until": until });
            print(json, out, || {
                format!(
                    "client_secret (shown once): {secret}\nthe previous secret works until {until} (Unix time)"
                )
            });
            Ok(())
        }
        ClientCommand::List { tenant } => {
            let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
            let list = blocking(db, |c| clients::list_clients(c, &slug))?;
            print_list(json, list.iter().map(|c| client_json(c, &slug, None)).collect(), || {
                list.iter()
                    .map(|c| {
                        let kind = if c.secret_hash.is_some() { "confidential" } else { "public" };
                        format!("{}\t{}\t{kind}\t{}", c.id, c.name, clients::redirect_uris(c).join(" "))
                    })
                    .collect()
            });
            Ok(())
        }
    }
}

fn create_client(db: &Db, args: ClientCreate, json: bool, now: i64) -> Result<(), Failure> {
    let parse_all = |raw: &[String]| -> Result<Vec<RedirectUri>, Failure> {
        raw.iter().map(|u| RedirectUri::parse(u).map_err(Failure::refused)).collect()
    };
    let tenant = Slug::parse(&args.tenant).map_err(Failure::refused)?;
    let new = NewClient {
        tenant: tenant.clone(),
        name: args.name,
        redirect_uris: parse_all(&args.redirect_uris)?,
        post_logout_redirect_uris: parse_all(&args.post_logout_redirect_uris)?,
        public: args.public,
        require_mfa: args.require_mfa,
        trusted: args.trusted,
        allow_remembered_devices: !args.no_remembered_devices,
        remembered_device_mfa: args.remembered_device_mfa,
        id_token_alg: SigningAlg::parse(&args.id_token_alg).map_err(Failure::refused)?,
        access_token_alg: SigningAlg::parse(&args.access_token_alg).map_err(Failure::refused)?,
        client_scopes: args.client_scopes,
    };
    let created = blocking(db, |c| clients::create_client(c, &new, now))?;
    let out = client_json(&created.client, &tenant, created.secret.as_deref());
    print(json, out, || {
        let mut text = format!("client_id: {}", created.client.id);
        if let Some(secret) = &created.secret {
            text.push_str(&format!("\nclient_secret (shown once): {secret}"));
        }
        text
    });
    Ok(())
}

fn client_json(c: &Client, tenant: &Slug, secret: Option<&str>) -> Value {
    let mut out = json!({
        "client_id": c.id, "tenant": tenant.as_str(), "name": c.name,
        "public": c.secret_hash.is_none(),
        "redirect_uris": clients::redirect_uris(c),
        "post_logout_redirect_uris": clients::post_logout_redirect_uris(c),
        "require_mfa": c.require_mfa, "trusted": c.trusted, "id_token_alg": c.id_token_alg,
        "access_token_alg": c.access_token_alg,
        "allow_remembered_devices": c.allow_remembered_devices,
        "remembered_device_mfa": c.remembered_device_mfa,
        "client_scopes": clients::client_scopes(c).collect::<Vec<_>>(),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        // A rotated secret still accepted until then (Unix time), if any.
        "previous_secret_valid_until": c.previous_secret_until.filter(|_| c.previous_secret_hash.is_some()),
    });
    if let Some(secret) = secret {
        out["client_secret"] = Value::from(secret);
    }
    out
}
