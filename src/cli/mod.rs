//! The admin CLI (clap). Every command takes `--json` and then prints one JSON object
//! (an array for `list`) on stdout; errors are one line on stderr and a non-zero exit:
//! 2 for bad configuration or usage, 1 for a refused command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::oidc::keys::{self, SigningAlg};
use crate::rewrap;
use crate::startup::{self, Application};
use crate::store::{Db, DbConn};
use crate::tenancy::TenancyError;

mod backup;
mod clients;
mod tenants;
mod transfer;
mod users;

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
    Tenant(tenants::TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage OIDC clients (relying parties).
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the secrets keyring.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// A consistent copy of the embedded database, safe while the server runs (for
    /// PostgreSQL it says how to use pg_dump). Back up the secret keys too.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restores a backup into a data dir without a database, kept only when the secret
    /// keys open every secret in it.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
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
        // Not through `with_database`: a restore must find no database, and a backup
        // reads the file as it is.
        Command::Backup { to } => backup::backup(&settings, &to, cli.json),
        Command::Restore { from } => backup::restore(&settings, &from, cli.json),
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
    if let Some(dir) = &settings.theme_dir {
        crate::http::pages::load_theme(dir).map_err(Failure::refused)?;
    }
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

fn print_first_run(first_run: Option<&startup::FirstRun>, issuer: &crate::config::Issuer) {
    if let Some(first) = first_run {
        println!("First run: created tenant '{}' and administrator '{}'.", first.tenant, first.username);
        println!("  username: {}", first.username);
        println!("  password: {}", first.password);
        println!(
            "Sign in at {}, choose your own password, then set up your authenticator app. This password is shown only once and must be replaced at the first sign-in.",
            issuer.endpoint("/account")
        );
    }
}

fn run(db: &Db, settings: &Settings, command: Command, json: bool) -> Result<(), Failure> {
    let now = SystemClock.now();
    match command {
        Command::Serve | Command::Backup { .. } | Command::Restore { .. } => Ok(()),
        Command::Migrate => {
            // `open_database` has applied them; report what the schema is at.
            let applied = db.migrate().map_err(Failure::refused)?;
            print(json, json!({ "status": "ok", "backend": db.backend(), "applied": applied }), || {
                format!("database ({}) is up to date", db.backend())
            });
            Ok(())
        }
        Command::User(command) => users::run(db, settings, command, json, now),
        Command::Tenant(command) => tenants::run(db, command, json, now),
        Command::Client(command) => clients::run(db, command, json, now),
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
    }
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
                keys::publish_next(conn, &keyring, alg, settings.key_rotation_delay, now)?;
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
