//! `watchword client …`: register, list, show, change, rotate, disable and delete
//! relying parties.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Failure, blocking, print, print_list};
use crate::oidc::client_settings::{self, ClientChanges, Registration};
use crate::oidc::clients;
use crate::store::Db;
use crate::store::audit::Origin;
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
    /// Change a client's settings; what is not given stays as it is.
    Update(ClientUpdate),
    /// Disable a client: refused everywhere from then on (on a running server within 30 s),
    /// its refresh tokens revoked.
    Disable(ClientRef),
    /// Enable a disabled client again (its users sign in afresh).
    Enable(ClientRef),
    /// Delete a client with its codes, refresh tokens and consents; cannot be undone.
    Delete {
        #[command(flatten)]
        client: ClientRef,
        /// Confirms the deletion.
        #[arg(long)]
        yes: bool,
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

/// One client of one tenant.
#[derive(Debug, Args)]
pub(super) struct ClientRef {
    #[arg(long)]
    tenant: String,
    /// Generated ids may begin with `-`: taken as the value, never as an option.
    #[arg(long, allow_hyphen_values = true)]
    client_id: String,
}

#[derive(Debug, Args)]
pub(super) struct ClientUpdate {
    #[command(flatten)]
    client: ClientRef,
    #[arg(long)]
    name: Option<String>,
    /// Replaces the redirect URIs (repeat for several).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Replaces the post-logout redirect URIs (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Removes every post-logout redirect URI.
    #[arg(long, conflicts_with = "post_logout_redirect_uris")]
    no_post_logout_redirect_uris: bool,
    #[arg(long, value_name = "true|false")]
    require_mfa: Option<bool>,
    #[arg(long, value_name = "true|false")]
    trusted: Option<bool>,
    /// Whether its users may skip the code on a remembered device (tenant permitting).
    #[arg(long, value_name = "true|false")]
    remembered_devices: Option<bool>,
    #[arg(long, value_name = "true|false")]
    remembered_device_mfa: Option<bool>,
    #[arg(long, value_parser = ["RS256", "ES256", "EdDSA"])]
    id_token_alg: Option<String>,
    #[arg(long, value_parser = ["RS256", "ES256", "EdDSA"])]
    access_token_alg: Option<String>,
    /// Replaces the client_credentials scopes (repeat for several).
    #[arg(long = "client-scope")]
    client_scopes: Vec<String>,
    /// Removes every client_credentials scope.
    #[arg(long, conflicts_with = "client_scopes")]
    no_client_scopes: bool,
    /// Where it is told that a session it got tokens in has ended (https; "" removes it).
    #[arg(long, value_name = "URI")]
    backchannel_logout_uri: Option<String>,
    #[arg(long, value_name = "true|false")]
    backchannel_logout_session_required: Option<bool>,
}

impl ClientUpdate {
    fn changes(self) -> ClientChanges {
        let list = |given: Vec<String>, cleared: bool| (cleared || !given.is_empty()).then_some(given);
        ClientChanges {
            name: self.name,
            redirect_uris: list(self.redirect_uris, false),
            post_logout_redirect_uris: list(
                self.post_logout_redirect_uris,
                self.no_post_logout_redirect_uris,
            ),
            require_mfa: self.require_mfa,
            trusted: self.trusted,
            allow_remembered_devices: self.remembered_devices,
            remembered_device_mfa: self.remembered_device_mfa,
            id_token_alg: self.id_token_alg,
            access_token_alg: self.access_token_alg,
            client_scopes: list(self.client_scopes, self.no_client_scopes),
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
        }
    }
}

/// The tenant's id, and the client's settings printed as JSON or `key: value` lines.
fn tenant_id(db: &Db, slug: &Slug) -> Result<String, Failure> {
    Ok(blocking(db, |c| crate::tenancy::service::find_tenant(c, slug))?.id)
}

fn print_client(json: bool, client: &Client, slug: &Slug) {
    let out = client_json(client, slug, None);
    print(json, out.clone(), || {
        out.as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    });
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
    /// Where it is told, by a signed logout token, that a session it got tokens in has
    /// ended (OpenID Connect Back-Channel Logout; https, http only on a loopback host).
    #[arg(long, value_name = "URI")]
    backchannel_logout_uri: Option<String>,
    /// It needs the session id (`sid`) in logout tokens (always sent).
    #[arg(long, requires = "backchannel_logout_uri")]
    backchannel_logout_session_required: bool,
}

pub(super) fn run(db: &Db, command: ClientCommand, json: bool, now: i64) -> Result<(), Failure> {
    match command {
        ClientCommand::Create(args) => create_client(db, args, json, now),
        ClientCommand::Show { tenant, client_id } => {
            let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
            let client = blocking(db, |c| clients::show_client(c, &slug, &client_id))?;
            print_client(json, &client, &slug);
            Ok(())
        }
        ClientCommand::Update(args) => {
            let slug = Slug::parse(&args.client.tenant).map_err(Failure::refused)?;
            let (tenant, client_id) = (tenant_id(db, &slug)?, args.client.client_id.clone());
            let changes = args.changes();
            let client = blocking(db, |c| {
                client_settings::update_client(c, &tenant, &client_id, &changes, &Origin::default(), now)
            })?;
            print_client(json, &client, &slug);
            Ok(())
        }
        ClientCommand::Disable(which) => set_disabled(db, &which, true, json, now),
        ClientCommand::Enable(which) => set_disabled(db, &which, false, json, now),
        ClientCommand::Delete { client, yes } => {
            if !yes {
                return Err(Failure::refused(
                    "deleting a client ends its tokens and consents and cannot be undone; add --yes to confirm",
                ));
            }
            let slug = Slug::parse(&client.tenant).map_err(Failure::refused)?;
            let tenant = tenant_id(db, &slug)?;
            blocking(db, |c| {
                client_settings::delete_client(c, &tenant, &client.client_id, &Origin::default(), now)
            })?;
            print(json, json!({ "client_id": client.client_id, "deleted": true }), || {
                format!("client {} deleted", client.client_id)
            });
            Ok(())
        }
        ClientCommand::RotateSecret { tenant, client_id, grace } => {
            let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
            let tenant = tenant_id(db, &slug)?;
            let (secret, until) = blocking(db, |c| {
                clients::rotate_secret(c, &tenant, &client_id, grace, &Origin::default(), now)
            })?;
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

fn set_disabled(db: &Db, which: &ClientRef, disabled: bool, json: bool, now: i64) -> Result<(), Failure> {
    let slug = Slug::parse(&which.tenant).map_err(Failure::refused)?;
    let tenant = tenant_id(db, &slug)?;
    let client = blocking(db, |c| {
        client_settings::set_disabled(c, &tenant, &which.client_id, disabled, &Origin::default(), now)
    })?;
    print_client(json, &client, &slug);
    Ok(())
}

fn create_client(db: &Db, args: ClientCreate, json: bool, now: i64) -> Result<(), Failure> {
    let tenant = Slug::parse(&args.tenant).map_err(Failure::refused)?;
    let new = Registration {
        name: args.name,
        redirect_uris: args.redirect_uris,
        post_logout_redirect_uris: args.post_logout_redirect_uris,
        public: args.public,
        require_mfa: args.require_mfa,
        trusted: args.trusted,
        allow_remembered_devices: !args.no_remembered_devices,
        remembered_device_mfa: args.remembered_device_mfa,
        id_token_alg: args.id_token_alg,
        access_token_alg: args.access_token_alg,
        client_scopes: args.client_scopes,
        backchannel_logout_uri: args.backchannel_logout_uri,
        backchannel_logout_session_required: args.backchannel_logout_session_required,
    }
    .into_new(tenant.clone())?;
    let created = blocking(db, |c| clients::create_client(c, &new, &Origin::default(), now))?;
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
    let mut out = client_settings::view(c, tenant.as_str());
    if let Some(secret) = secret {
        out["client_secret"] = Value::from(secret);
    }
    out
}
