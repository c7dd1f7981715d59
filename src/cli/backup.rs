//! `backup` and `restore` of the embedded database. A backup is a consistent online copy
//! (SQLite's `VACUUM INTO`, safe while the server writes); a restore goes into an empty
//! data dir and is kept only when the keyring opens every secret in it. PostgreSQL has
//! its own tools: the commands say which.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use serde_json::json;

use super::{Failure, print};
use crate::config::Settings;
use crate::rewrap;
use crate::store::{DatabaseUrl, Db};

const KEEP_THE_KEYS: &str = "KEEP THE SECRET KEYS WITH IT: TOTP secrets and signing keys in a backup are \
     encrypted under the keyring (WATCHWORD_SECRET_KEYS, or the file secret-keys in the data dir). \
     Back the keys up too, somewhere else: without them the backup cannot be opened, and with \
     them anyone holding the backup can read the secrets.";

const POSTGRES: &str = "the database is PostgreSQL: back it up with pg_dump (pg_dump --format=custom \
     --file=watchword.dump \"$WATCHWORD_DATABASE_URL\") and restore it with pg_restore into an empty \
     database; keep the secret keys (WATCHWORD_SECRET_KEYS) with it";

fn sqlite_path(settings: &Settings) -> Result<&Path, Failure> {
    match &settings.database_url {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => Err(Failure::refused(POSTGRES)),
    }
}

/// A new file only its owner can read; refused when `path` exists.
fn create_private(path: &Path) -> Result<(), Failure> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))
}

/// `watchword backup --to FILE`.
pub(super) fn backup(settings: &Settings, to: &Path, json: bool) -> Result<(), Failure> {
    let from = sqlite_path(settings)?;
    if !from.exists() {
        return Err(Failure::refused(format!("there is no database at {}", from.display())));
    }
    // SQLite names the copy by text: a path that is not UTF-8 would name another file.
    let Some(to_text) = to.to_str() else {
        return Err(Failure::refused(format!("{} is not a UTF-8 path", to.display())));
    };
    create_private(to)?;
    let copied = (|| -> Result<(), String> {
        let mut conn = SqliteConnection::establish(&from.to_string_lossy()).map_err(|e| e.to_string())?;
        // The server may be writing: wait for it rather than fail.
        diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn).map_err(|e| e.to_string())?;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(to_text)
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(())
    })();
    if let Err(reason) = copied {
        let _ = std::fs::remove_file(to);
        return Err(Failure::refused(format!("backup failed, nothing was kept: {reason}")));
    }
    let size = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    let _ = writeln!(std::io::stderr(), "watchword: {KEEP_THE_KEYS}");
    print(json, json!({ "backup": to.display().to_string(), "bytes": size }), || {
        format!("backed up {} to {} ({size} bytes)", from.display(), to.display())
    });
    Ok(())
}

/// The keyring a restore must use: never a new one (that could open nothing).
fn existing_keyring(settings: &Settings) -> Result<crate::auth::keyring::Keyring, Failure> {
    let file = settings.data_dir.join(crate::auth::keyring::KEY_FILE);
    if settings.secret_keys.is_none() && !file.exists() {
        return Err(Failure::refused(format!(
            "no secret keys: put the backed-up key file at {} or set WATCHWORD_SECRET_KEYS first",
            file.display()
        )));
    }
    crate::startup::load_keyring(settings).map_err(Failure::refused)
}

/// Removes a database file and its WAL companions.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// `watchword restore --from FILE`, into a data dir without a database.
pub(super) fn restore(settings: &Settings, from: &Path, json: bool) -> Result<(), Failure> {
    let to = sqlite_path(settings)?;
    if to.exists() {
        return Err(Failure::refused(format!(
            "there is a database at {} already: restore goes into an empty data dir",
            to.display()
        )));
    }
    if !from.is_file() {
        return Err(Failure::refused(format!("{} is not a backup file", from.display())));
    }
    let keyring = existing_keyring(settings)?;
    crate::auth::keyring::create_private_dir(&settings.data_dir)
        .map_err(|e| Failure::refused(format!("{}: {e}", settings.data_dir.display())))?;
    create_private(to)?;
    let checked = (|| -> Result<rewrap::Rewrapped, String> {
        std::fs::copy(from, to).map_err(|e| e.to_string())?;
        // `copy` carries the source's mode over: the database is the owner's alone.
        std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        let db = Db::connect(&DatabaseUrl::Sqlite(to.to_owned())).map_err(|e| e.to_string())?;
        db.migrate().map_err(|e| e.to_string())?;
        db.run_blocking(|conn| rewrap::check_all(conn, &keyring)).map_err(|e| e.to_string())
    })();
    match checked {
        Ok(opened) => {
            let _ = writeln!(std::io::stderr(), "watchword: {KEEP_THE_KEYS}");
            let out = json!({
                "restored": to.display().to_string(),
                "totp_secrets": opened.totp_secrets,
                "signing_keys": opened.signing_keys,
            });
            print(json, out, || {
                format!(
                    "restored {} to {}: the keyring opens all {} TOTP secrets and {} signing keys",
                    from.display(),
                    to.display(),
                    opened.totp_secrets,
                    opened.signing_keys
                )
            });
            Ok(())
        }
        Err(reason) => {
            remove_database(to);
            Err(Failure::refused(format!("restore refused, the data dir is left empty: {reason}")))
        }
    }
}
