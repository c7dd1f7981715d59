//! `watchword tenant …`: create, list, rename or rebrand, and show or change a tenant's policy.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Failure, blocking, print, print_list};
use crate::store::Db;
use crate::store::tenants::Tenant;
use crate::tenancy::branding::BrandingChange;
use crate::tenancy::{self, Slug, tenant_policy};

#[derive(Debug, Subcommand)]
pub(super) enum TenantCommand {
    /// Create a tenant.
    Create {
        slug: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants.
    List,
    /// Give a tenant a new display name (the issuer authenticator apps show).
    Rename {
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// Change a tenant's branding: display name, logo, primary colour, default language.
    Update {
        slug: String,
        /// The display name: on every page, and the issuer authenticator apps show.
        #[arg(long)]
        name: Option<String>,
        /// An https URL of the logo shown on the tenant's pages ("" removes it).
        #[arg(long)]
        logo_url: Option<String>,
        /// The colour of buttons and links, #rrggbb, dark enough for white text ("" removes it).
        #[arg(long)]
        primary_colour: Option<String>,
        /// The pages' language for a browser that asks for none they have: en or de
        /// ("" removes it: English).
        #[arg(long)]
        default_language: Option<String>,
    },
    /// Show or change a tenant's TOTP policy.
    Policy(PolicyArgs),
}

#[derive(Debug, Args)]
pub(super) struct PolicyArgs {
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

pub(super) fn run(db: &Db, command: TenantCommand, json: bool, now: i64) -> Result<(), Failure> {
    match command {
        TenantCommand::Create { slug, name } => {
            let slug = Slug::parse(&slug).map_err(Failure::refused)?;
            let tenant = blocking(db, |c| tenancy::create_tenant(c, &slug, name.as_deref(), now))?;
            print(json, tenant_json(&tenant), || format!("created tenant {} ({})", tenant.slug, tenant.name));
            Ok(())
        }
        TenantCommand::List => {
            let tenants = blocking(db, tenancy::list_tenants)?;
            print_list(json, tenants.iter().map(tenant_json).collect(), || {
                tenants.iter().map(|t| format!("{}\t{}", t.slug, t.name)).collect()
            });
            Ok(())
        }
        TenantCommand::Policy(args) => tenant_policy(db, args, json, now),
        TenantCommand::Rename { slug, name } => {
            let change = BrandingChange { name: Some(name), ..BrandingChange::default() };
            let tenant = update_branding(db, &slug, &change, now)?;
            print(json, tenant_json(&tenant), || {
                format!("renamed tenant {} to {}", tenant.slug, tenant.name)
            });
            Ok(())
        }
        TenantCommand::Update { slug, name, logo_url, primary_colour, default_language } => {
            let change = BrandingChange { name, logo_url, primary_colour, default_language };
            let tenant = update_branding(db, &slug, &change, now)?;
            print(json, tenant_json(&tenant), || {
                let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
                format!(
                    "updated tenant {}: name {}, logo {}, colour {}, default language {}",
                    tenant.slug,
                    tenant.name,
                    or_none(&tenant.logo_url),
                    or_none(&tenant.primary_colour),
                    tenant.default_language.as_deref().unwrap_or("en")
                )
            });
            Ok(())
        }
    }
}

fn update_branding(db: &Db, slug: &str, change: &BrandingChange, now: i64) -> Result<Tenant, Failure> {
    let slug = Slug::parse(slug).map_err(Failure::refused)?;
    blocking(db, |c| tenancy::service::update_branding(c, &slug, change, now))
}

fn tenant_policy(db: &Db, args: PolicyArgs, json: bool, now: i64) -> Result<(), Failure> {
    let slug = Slug::parse(&args.tenant).map_err(Failure::refused)?;
    let tenant = blocking(db, |c| tenancy::service::find_tenant(c, &slug))?;
    let mut policy = tenant_policy::PolicyView::of(&tenant);
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
    let changed = policy != tenant_policy::PolicyView::of(&tenant);
    let policy = if changed {
        db.run_blocking(|c| tenant_policy::update_policy_as_operator(c, &tenant, &policy, now))
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

fn tenant_json(t: &Tenant) -> Value {
    json!({
        "id": t.id, "slug": t.slug, "name": t.name,
        "logo_url": t.logo_url, "primary_colour": t.primary_colour,
        "default_language": t.default_language,
        "totp_policy": {
            "enabled": t.totp_enabled, "enforce_internal": t.enforce_internal,
            "enforce_external": t.enforce_external, "prompt_new_users": t.prompt_new_users,
            "algorithm": t.totp_algorithm, "digits": t.totp_digits, "period": t.totp_period,
            "skew": t.totp_skew, "recovery_codes_allowed": t.recovery_codes_allowed,
        },
        "created_at": t.created_at,
    })
}
