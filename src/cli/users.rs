//! `watchword user …`: create, list, revoke a TOTP secret, reset a password.

use std::io::Read;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Failure, blocking, print, print_list};
use crate::auth::password::{self, Password};
use crate::store::Db;
use crate::store::users::User;
use crate::tenancy::{self, InitialPassword, NewUser, Permission, Slug, UserKind, Username, admin};

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Create a user (prints a generated password once unless --password-stdin).
    Create(UserCreate),
    /// List a tenant's users.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a user's TOTP secret (and sign it out everywhere).
    RevokeTotp {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a user a new temporary password, printed once (`password` with --json): it
    /// must be replaced at the next sign-in. Signs the user out everywhere; the user's
    /// TOTP stays.
    ResetPassword {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Create users from JSON lines with their existing password hashes (argon2id,
    /// bcrypt, PBKDF2-SHA256; rehashed to argon2id at the next sign-in) and TOTP secrets.
    Import {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Attach TOTP secrets to existing users, from Authelia's YAML export or a list of
    /// otpauth:// URIs.
    ImportTotp {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Write the tenant's TOTP secrets, decrypted, as Authelia's importable YAML to a new
    /// file readable by its owner only ("-": standard output, never a terminal).
    ExportTotp {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub(super) struct UserCreate {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    username: String,
    /// Read the password from standard input (one trailing newline is dropped).
    #[arg(long)]
    password_stdin: bool,
    /// The parent user (same tenant) who administers this user.
    #[arg(long)]
    parent: Option<String>,
    #[arg(long, default_value = "internal", value_parser = ["internal", "external"])]
    kind: String,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    totp_required: bool,
    #[arg(long, default_value = "none", value_parser = ["none", "read", "create", "admin"])]
    permission: String,
}

pub(super) fn run(
    db: &Db,
    settings: &crate::config::Settings,
    command: UserCommand,
    json: bool,
    now: i64,
) -> Result<(), Failure> {
    match command {
        UserCommand::Import { tenant, file } => {
            super::transfer::import(db, settings, super::transfer::Import::Users, &tenant, &file, json, now)
        }
        UserCommand::ImportTotp { tenant, file } => {
            super::transfer::import(db, settings, super::transfer::Import::Totp, &tenant, &file, json, now)
        }
        UserCommand::ExportTotp { tenant, file } => {
            super::transfer::export_totp(db, settings, &tenant, &file, json, now)
        }
        UserCommand::Create(args) => create_user(db, args, json, now),
        UserCommand::RevokeTotp { tenant, username, reason } => {
            revoke_totp(db, &tenant, &username, &reason, json, now)
        }
        UserCommand::ResetPassword { tenant, username } => reset_password(db, &tenant, &username, json, now),
        UserCommand::List { tenant } => list(db, &tenant, json),
    }
}

fn unknown(username: &Username, slug: &Slug) -> impl FnOnce(admin::AdminError) -> Failure {
    let message = format!("unknown user '{}' in tenant '{}'", username.as_str(), slug.as_str());
    move |e| match e {
        admin::AdminError::NotFound => Failure::refused(message),
        other => Failure::refused(other),
    }
}

fn revoke_totp(
    db: &Db,
    tenant: &str,
    username: &str,
    reason: &str,
    json: bool,
    now: i64,
) -> Result<(), Failure> {
    let (tenant, username, reason) = (tenant.to_owned(), username.to_owned(), reason.to_owned());
    let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
    let username = Username::parse(&username).map_err(Failure::refused)?;
    let tenant = blocking(db, |c| tenancy::service::find_tenant(c, &slug))?;
    db.run_blocking(|c| admin::revoke_totp_as_operator(c, &tenant, &username, &reason, now))
        .map_err(unknown(&username, &slug))?;
    print(
        json,
        json!({ "status": "revoked", "tenant": slug.as_str(), "username": username.as_str() }),
        || format!("revoked the TOTP secret of {} and signed it out everywhere", username.as_str()),
    );
    Ok(())
}

fn reset_password(db: &Db, tenant: &str, username: &str, json: bool, now: i64) -> Result<(), Failure> {
    let slug = Slug::parse(tenant).map_err(Failure::refused)?;
    let username = Username::parse(username).map_err(Failure::refused)?;
    let tenant = blocking(db, |c| tenancy::service::find_tenant(c, &slug))?;
    let plain = crate::random::password();
    let hash = password::hash(&Password::parse(plain.clone()).map_err(Failure::refused)?)
        .map_err(Failure::refused)?;
    let one_time = admin::OneTimePassword { plain, hash };
    let password = db
        .run_blocking(|c| {
            tenancy::passwords::reset_password_as_operator(c, &tenant, &username, one_time, now)
        })
        .map_err(unknown(&username, &slug))?;
    print(
        json,
        json!({ "status": "reset", "tenant": slug.as_str(), "username": username.as_str(), "password": password }),
        || {
            format!(
                "reset the password of {} and signed it out everywhere\ntemporary password (shown once; to be replaced at the next sign-in): {password}",
                username.as_str()
            )
        },
    );
    Ok(())
}

fn list(db: &Db, tenant: &str, json: bool) -> Result<(), Failure> {
    let tenant = tenant.to_owned();
    let slug = Slug::parse(&tenant).map_err(Failure::refused)?;
    let (users, statuses) = blocking(db, |c| {
        let tenant = tenancy::service::find_tenant(c, &slug)?;
        Ok((tenancy::list_users(c, &slug)?, crate::store::totp::statuses_in_tenant(c, &tenant.id)?))
    })?;
    let parents = |u: &User| {
        u.parent_id.as_ref().and_then(|p| users.iter().find(|x| &x.id == p)).map(|p| p.username.clone())
    };
    // The labels of each user's active authenticators, oldest first.
    let labels = |u: &User| -> Vec<String> {
        statuses
            .iter()
            .filter(|(id, status, _, _)| *id == u.id && status == crate::store::totp::ACTIVE)
            .map(|(_, _, _, label)| label.clone())
            .collect()
    };
    let values = users
        .iter()
        .map(|u| {
            let mut value = user_json(u, &slug, parents(u));
            value["authenticators"] = json!(labels(u));
            value
        })
        .collect();
    print_list(json, values, || {
        users
            .iter()
            .map(|u| {
                format!(
                    "{}\t{}\t{}\ttotp_required={}\tparent={}\tauthenticators={}{}",
                    u.username,
                    u.kind,
                    u.permission,
                    u.totp_required,
                    parents(u).unwrap_or_else(|| "-".into()),
                    labels(u).join(","),
                    if u.disabled { "\tdisabled" } else { "" }
                )
            })
            .collect()
    });
    Ok(())
}

fn create_user(db: &Db, args: UserCreate, json: bool, now: i64) -> Result<(), Failure> {
    let tenant = Slug::parse(&args.tenant).map_err(Failure::refused)?;
    let username = Username::parse(&args.username).map_err(Failure::refused)?;
    let parent = args.parent.as_deref().map(Username::parse).transpose().map_err(Failure::refused)?;
    let (password, generated) = if args.password_stdin {
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .map_err(|e| Failure::refused(format!("reading the password: {e}")))?;
        let raw = raw.strip_suffix('\n').map(|r| r.strip_suffix('\r').unwrap_or(r)).unwrap_or(&raw);
        (raw.to_owned(), false)
    } else {
        (crate::random::password(), true)
    };
    let new = NewUser {
        tenant: tenant.clone(),
        username,
        password: InitialPassword::Plain(Password::parse(password.clone()).map_err(Failure::refused)?),
        parent,
        kind: UserKind::parse(&args.kind).map_err(Failure::refused)?,
        email: args.email.filter(|e| !e.is_empty()),
        display_name: args.display_name,
        totp_required: args.totp_required,
        permission: Permission::parse(&args.permission).map_err(Failure::refused)?,
        password_temporary: generated,
    };
    let created = blocking(db, |c| tenancy::create_user(c, &new, now))?;
    let user = created.user;
    let mut out = user_json(&user, &tenant, created.parent.map(|p| p.username));
    if generated {
        out["password"] = Value::from(password.clone());
    }
    print(json, out, || {
        let mut text = format!("created user {} in tenant {}", user.username, tenant.as_str());
        if generated {
            text.push_str(&format!("\npassword (shown once): {password}"));
        }
        text
    });
    Ok(())
}

fn user_json(u: &User, tenant: &Slug, parent: Option<String>) -> Value {
    json!({
        "id": u.id, "tenant": tenant.as_str(), "username": u.username, "parent": parent,
        "kind": u.kind, "email": u.email, "display_name": u.display_name,
        "totp_required": u.totp_required, "permission": u.permission, "disabled": u.disabled,
        "created_at": u.created_at,
    })
}
