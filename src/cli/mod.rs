//! The admin CLI (clap). Every command takes `--json` and then prints one JSON object
//! (an array for `list`) on stdout; errors are one line on stderr and a non-zero exit:
//! 2 for bad configuration or usage, 1 for a refused command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

mod transfer;
mod users;
use serde_json::{Value, json};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::oidc::clients::{self, NewClient, RedirectUri};
use crate::oidc::keys::{self, SigningAlg};
use crate::startup::{self, Application};
use crate::store::clients::Client;
use crate::store::tenants::Tenant;
use crate::store::{Db, DbConn, rewrap};
use crate::tenancy::{self, Slug, TenancyError, admin};

#[derive(Debug, Parser)]
#[command(
    name = "watchword",
    version,
    about = "An OpenID Connect provider whose login is password, then TOTP"
)]
struct Cli {
    /// Read settings from this TOML file (default: ./watchword.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print one JSON object (an array for list commands) on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies migrations; creates tenant `default` and user `admin` on first run).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage OIDC clients (relying parties).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the secrets keyring.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Re-encrypt every TOTP secret and signing key under the newest keyring key.
    Reencrypt,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List signing keys (next, active, retired) without their private parts.
    List,
    /// Publish a next key per algorithm; it starts signing after WATCHWORD_KEY_ROTATION_DELAY.
    Rotate {
        /// Rotate only this algorithm.
        #[arg(long, value_parser = ["RS256", "ES256", "EdDSA"])]
        alg: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        slug: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants.
    List,
    /// Show or change a tenant's TOTP policy.
    Policy(PolicyArgs),
}

#[derive(Debug, Args)]
struct PolicyArgs {
    #[arg(long)]
    tenant: String,
    /// TOTP at all in this tenant.
    #[arg(long, value_parser = ["on", "off"])]
    enabled: Option<String>,
    #[arg(long, value_parser = ["on", "off"])]
    enforce_internal: Option<String>,
    #[arg(long, value_parser = ["on", "off"])]
    enforce_external: Option<String>,
    #[arg(long, value_parser = ["on", "off"])]
    prompt_new_users: Option<String>,
    #[arg(long, value_parser = ["SHA1", "SHA256", "SHA512"])]
    algorithm: Option<String>,
    #[arg(long)]
    digits: Option<i32>,
    #[arg(long)]
    period: Option<i32>,
    #[arg(long)]
    skew: Option<i32>,
    #[arg(long, value_parser = ["on", "off"])]
    recovery_codes: Option<String>,
    /// The shortest password a user may choose (8-128; default 12).
    #[arg(long)]
    password_min_length: Option<i32>,
    /// Let a browser skip the code for N days (1-90) after "don't ask again"; 0: off.
    #[arg(long)]
    remember_device_days: Option<i32>,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client; prints client_id and, for a confidential client, the secret once.
    Create(ClientCreate),
    /// List a tenant's clients.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Args)]
struct ClientCreate {
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
}

/// A command's failure: the line to print and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn refused(message: impl std::fmt::Display) -> Self {
        Self { message: message.to_string(), code: 1 }
    }
}

impl From<TenancyError> for Failure {
    fn from(err: TenancyError) -> Self {
        Self::refused(err)
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("watchword: {err}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(matches!(cli.command, Command::Serve));
    let result = match cli.command {
        Command::Serve => serve(&settings),
        command => with_database(&settings, |db| run(db, &settings, command, cli.json)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("watchword: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn with_database(settings: &Settings, f: impl FnOnce(&Db) -> Result<(), Failure>) -> Result<(), Failure> {
    let db = startup::open_database(settings).map_err(Failure::refused)?;
    f(&db)
}

fn serve(settings: &Settings) -> Result<(), Failure> {
    crate::memory::keep_large_blocks_mapped();
    let keyring = startup::load_keyring(settings).map_err(Failure::refused)?;
    let clock = Arc::new(SystemClock);
    let db = startup::connect_database(settings).map_err(Failure::refused)?;
    // A database that is down at start is waited for, not a reason to exit: the
    // server answers 503 (and /readyz says so) until it can migrate.
    let first_run = match startup::prepare(settings, &db, &keyring, clock.now()) {
        Ok(first_run) => Ok(first_run),
        Err(startup::StartupError::Store(crate::store::StoreError::Unavailable(reason))) => {
            tracing::warn!(%reason, "the database is unreachable; answering 503 until it is back");
            Err(())
        }
        Err(other) => return Err(Failure::refused(other)),
    };
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let wait_keyring = keyring.clone();
        let app = Application::build(settings, db.clone(), keyring, clock.clone()).map_err(Failure::refused)?;
        let issuer = app.state().issuer.clone();
        let first_run = match first_run {
            Ok(first_run) => first_run,
            Err(()) => {
                app.state().schema_ready.store(false, std::sync::atomic::Ordering::Release);
                let (ready, settings, issuer) =
                    (app.state().schema_ready.clone(), settings.clone(), issuer.clone());
                actix_web::rt::spawn(async move {
                    loop {
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                        let (settings, db, keyring, now) =
                            (settings.clone(), db.clone(), wait_keyring.clone(), clock.now());
                        let prepared =
                            tokio::task::spawn_blocking(move || startup::prepare(&settings, &db, &keyring, now))
                                .await;
                        if let Ok(Ok(first_run)) = prepared {
                            ready.store(true, std::sync::atomic::Ordering::Release);
                            tracing::info!("the database is reachable; serving");
                            print_first_run(first_run.as_ref(), &issuer);
                            break;
                        }
                    }
                });
                None
            }
        };
        tracing::info!(address = %app.addr(), %issuer, backend = app.state().db.backend(), "watchword is listening");
        if !app.state().ephemeral.is_shared() {
            tracing::warn!(
                "login flows, attempt limits and replay marks are kept in this process: \
                 valid for a single instance only (set WATCHWORD_REDIS_URL to run several)"
            );
        }
        println!("Watchword is listening on {issuer}");
        print_first_run(first_run.as_ref(), &issuer);
        app.run_until_stopped().await.map_err(Failure::refused)
    })
}

fn print_first_run(first_run: Option<&startup::FirstRun>, issuer: &url::Url) {
    if let Some(first) = first_run {
        println!("First run: created tenant '{}' and administrator '{}'.", first.tenant, first.username);
        println!("  username: {}", first.username);
        println!("  password: {}", first.password);
        println!(
            "Sign in at {issuer}account, choose your own password, then set up your authenticator app. This password is shown only once and must be replaced at the first sign-in."
        );
    }
}

fn run(db: &Db, settings: &Settings, command: Command, json: bool) -> Result<(), Failure> {
    let now = SystemClock.now();
    match command {
        Command::Serve => Ok(()),
        Command::Migrate => {
            // `open_database` has applied them; report what the schema is at.
            let applied = db.migrate().map_err(Failure::refused)?;
            print(json, json!({ "status": "ok", "backend": db.backend(), "applied": applied }), || {
                format!("database ({}) is up to date", db.backend())
            });
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { slug, name }) => {
            let slug = Slug::parse(&slug).map_err(Failure::refused)?;
            let tenant = blocking(db, |c| tenancy::create_tenant(c, &slug, name.as_deref(), now))?;
            print(json, tenant_json(&tenant), || format!("created tenant {} ({})", tenant.slug, tenant.name));
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => {
            let tenants = blocking(db, tenancy::list_tenants)?;
            print_list(json, tenants.iter().map(tenant_json).collect(), || {
                tenants.iter().map(|t| format!("{}\t{}", t.slug, t.name)).collect()
            });
            Ok(())
        }
        Command::User(command) => users::run(db, settings, command, json, now),
        Command::Tenant(TenantCommand::Policy(args)) => tenant_policy(db, args, json, now),
        Command::Client(ClientCommand::Create(args)) => create_client(db, args, json, now),
        Command::Keys(command) => keys_command(db, settings, command, json, now),
        Command::Secrets(SecretsCommand::Reencrypt) => {
            let keyring = startup::load_keyring(settings).map_err(Failure::refused)?;
            let done =
                db.run_blocking(|conn| rewrap::rewrap_all(conn, &keyring)).map_err(Failure::refused)?;
            print(
                json,
                json!({ "key_id": keyring.current_key_id(), "totp_secrets": done.totp_secrets, "signing_keys": done.signing_keys }),
                || {
                    format!(
                        "re-encrypted {} TOTP secrets and {} signing keys under key {}",
                        done.totp_secrets,
                        done.signing_keys,
                        keyring.current_key_id()
                    )
                },
            );
            Ok(())
        }
        Command::Client(ClientCommand::List { tenant }) => {
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

fn tenant_policy(db: &Db, args: PolicyArgs, json: bool, now: i64) -> Result<(), Failure> {
    let slug = Slug::parse(&args.tenant).map_err(Failure::refused)?;
    let tenant = blocking(db, |c| tenancy::service::find_tenant(c, &slug))?;
    let mut policy = admin::PolicyView::of(&tenant);
    let on = |v: &Option<String>, current: bool| v.as_deref().map_or(current, |v| v == "on");
    policy.enabled = on(&args.enabled, policy.enabled);
    policy.enforce_internal = on(&args.enforce_internal, policy.enforce_internal);
    policy.enforce_external = on(&args.enforce_external, policy.enforce_external);
    policy.prompt_new_users = on(&args.prompt_new_users, policy.prompt_new_users);
    policy.recovery_codes_allowed = on(&args.recovery_codes, policy.recovery_codes_allowed);
    policy.algorithm = args.algorithm.unwrap_or(policy.algorithm);
    policy.digits = args.digits.unwrap_or(policy.digits);
    policy.period = args.period.unwrap_or(policy.period);
    policy.skew = args.skew.unwrap_or(policy.skew);
    policy.password_min_length = args.password_min_length.or(policy.password_min_length);
    policy.remember_device_days = args.remember_device_days.or(policy.remember_device_days);
    let changed = policy != admin::PolicyView::of(&tenant);
    let policy = if changed {
        db.run_blocking(|c| admin::update_policy_as_operator(c, &tenant, &policy, now))
            .map_err(Failure::refused)?
    } else {
        policy
    };
    let value = serde_json::to_value(&policy).map_err(Failure::refused)?;
    print(json, json!({ "tenant": slug.as_str(), "totp_policy": value }), || {
        format!(
            "{}: enabled={} enforce_internal={} enforce_external={} prompt_new_users={} algorithm={} digits={} period={} skew={} recovery_codes={} password_min_length={} remember_device_days={}",
            slug.as_str(),
            policy.enabled,
            policy.enforce_internal,
            policy.enforce_external,
            policy.prompt_new_users,
            policy.algorithm,
            policy.digits,
            policy.period,
            policy.skew,
            policy.recovery_codes_allowed,
            policy.password_min_length.unwrap_or_default(),
            policy.remember_device_days.unwrap_or_default()
        )
    });
    Ok(())
}

fn keys_command(
    db: &Db,
    settings: &Settings,
    command: KeysCommand,
    json: bool,
    now: i64,
) -> Result<(), Failure> {
    let keyring = startup::load_keyring(settings).map_err(Failure::refused)?;
    if let KeysCommand::Rotate { alg } = &command {
        let algs = match alg {
            Some(a) => vec![SigningAlg::parse(a).map_err(Failure::refused)?],
            None => SigningAlg::ALL.to_vec(),
        };
        db.run_blocking(|conn| -> Result<(), keys::KeyError> {
            // Make sure there is an active key to rotate away from, then publish the next.
            keys::maintain(conn, &keyring, settings.key_rotation_delay, now)?;
            for alg in algs {
                keys::create(conn, &keyring, alg, "next", now)?;
            }
            Ok(())
        })
        .map_err(Failure::refused)?;
    }
    let rows = db.run_blocking(keys::list).map_err(Failure::refused)?;
    let values: Vec<Value> = rows
        .iter()
        .map(|k| {
            json!({ "kid": k.id, "algorithm": k.algorithm, "status": k.status, "created_at": k.created_at,
                    "activated_at": k.activated_at, "retired_at": k.retired_at })
        })
        .collect();
    let lines = || rows.iter().map(|k| format!("{}\t{}\t{}", k.id, k.algorithm, k.status)).collect();
    match command {
        KeysCommand::List => print_list(json, values, lines),
        KeysCommand::Rotate { .. } => {
            let note = format!(
                "published next keys; they sign after {} seconds (WATCHWORD_KEY_ROTATION_DELAY)",
                settings.key_rotation_delay
            );
            if json {
                println!(
                    "{}",
                    json!({ "status": "ok", "keys": values, "activates_after_seconds": settings.key_rotation_delay })
                );
            } else {
                println!("{note}");
                for line in lines() {
                    println!("{line}");
                }
            }
        }
    }
    Ok(())
}

fn blocking<T>(db: &Db, f: impl FnOnce(&mut DbConn) -> Result<T, TenancyError>) -> Result<T, Failure> {
    db.run_blocking(f).map_err(Failure::from)
}

fn print(json: bool, value: Value, text: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

fn print_list(json: bool, values: Vec<Value>, lines: impl FnOnce() -> Vec<String>) {
    if json {
        println!("{}", Value::Array(values));
    } else {
        for line in lines() {
            println!("{line}");
        }
    }
}

fn tenant_json(t: &Tenant) -> Value {
    json!({
        "id": t.id, "slug": t.slug, "name": t.name,
        "totp_policy": {
            "enabled": t.totp_enabled, "enforce_internal": t.enforce_internal,
            "enforce_external": t.enforce_external, "prompt_new_users": t.prompt_new_users,
            "algorithm": t.totp_algorithm, "digits": t.totp_digits, "period": t.totp_period,
            "skew": t.totp_skew, "recovery_codes_allowed": t.recovery_codes_allowed,
        },
        "created_at": t.created_at,
    })
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
        "created_at": c.created_at,
    });
    if let Some(secret) = secret {
        out["client_secret"] = Value::from(secret);
    }
    out
}
