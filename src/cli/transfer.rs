//! `watchword user import | import-totp | export-totp`: moving users and their TOTP
//! secrets in and out ([`crate::tenancy::transfer`]).

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde_json::json;

use super::{Failure, blocking, print};
use crate::config::Settings;
use crate::startup;
use crate::store::Db;
use crate::tenancy::Slug;
use crate::tenancy::transfer::{self, LineReport};

/// Reads an input file (at most 64 MiB: an import is read whole).
fn read(file: &Path) -> Result<String, Failure> {
    let meta = std::fs::metadata(file).map_err(|e| Failure::refused(format!("{}: {e}", file.display())))?;
    if meta.len() > 64 << 20 {
        return Err(Failure::refused(format!("{}: larger than 64 MiB", file.display())));
    }
    std::fs::read_to_string(file).map_err(|e| Failure::refused(format!("{}: {e}", file.display())))
}

/// Prints the per-line report; fails (exit 1) when any line failed.
fn report(reports: &[LineReport], json: bool, what: &str) -> Result<(), Failure> {
    let failed = reports.iter().filter(|r| r.status == "failed").count();
    let imported = reports.len() - failed;
    print(json, json!({ "imported": imported, "failed": failed, "lines": reports }), || {
        let mut lines: Vec<String> = reports
            .iter()
            .map(|r| {
                let who = r.username.as_deref().unwrap_or("?");
                match &r.error {
                    None => format!("line {}: {who}: imported", r.line),
                    Some(error) => format!("line {}: {who}: failed: {error}", r.line),
                }
            })
            .collect();
        lines.push(format!("{imported} {what} imported, {failed} failed"));
        lines.join("\n")
    });
    if failed > 0 {
        Err(Failure { message: format!("{failed} of {} lines failed", reports.len()), code: 1 })
    } else {
        Ok(())
    }
}

/// Which import a file is for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Import {
    Users,
    Totp,
}

/// `user import` and `user import-totp`: the file read whole, each line (or YAML entry)
/// in its own transaction, then the report.
pub(super) fn import(
    db: &Db,
    settings: &Settings,
    kind: Import,
    tenant: &str,
    file: &Path,
    json: bool,
    now: i64,
) -> Result<(), Failure> {
    let slug = Slug::parse(tenant).map_err(Failure::refused)?;
    let keyring = startup::load_keyring(settings).map_err(Failure::refused)?;
    let text = read(file)?;
    let reports = blocking(db, |c| match kind {
        Import::Users => transfer::import_users(c, &keyring, &slug, &text, now),
        Import::Totp => transfer::import_totp(c, &keyring, &slug, &text, now),
    })?;
    report(&reports, json, if matches!(kind, Import::Users) { "users" } else { "secrets" })
}

/// Creates `file` for the secrets: new, or an existing one no one else can read; 0600.
fn private_file(file: &Path) -> Result<std::fs::File, Failure> {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(file) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Failure::refused(format!(
                "{}: readable by others; give a new file or one only you can read",
                file.display()
            )));
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file).map_err(|e| Failure::refused(format!("{}: {e}", file.display())))
}

pub(super) fn export_totp(
    db: &Db,
    settings: &Settings,
    tenant: &str,
    file: &Path,
    json: bool,
    now: i64,
) -> Result<(), Failure> {
    let slug = Slug::parse(tenant).map_err(Failure::refused)?;
    let to_stdout = file == Path::new("-");
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(Failure::refused("refusing to print secrets to a terminal; give --file PATH or a pipe"));
    }
    let keyring = startup::load_keyring(settings).map_err(Failure::refused)?;
    // The secrets first, then the file: a failure on the way never truncates an earlier
    // export, and the audit line is written only once the file is.
    let (yaml, count) = blocking(db, |c| transfer::export_totp(c, &keyring, &slug))?;
    let mut out: Box<dyn Write> =
        if to_stdout { Box::new(std::io::stdout()) } else { Box::new(private_file(file)?) };
    out.write_all(yaml.as_bytes()).and_then(|()| out.flush()).map_err(Failure::refused)?;
    blocking(db, |c| transfer::record_export(c, &slug, count, now))?;
    if !to_stdout {
        print(json, json!({ "file": file.display().to_string(), "exported": count }), || {
            format!("{count} TOTP secrets written to {} (Authelia's import format)", file.display())
        });
    }
    Ok(())
}
