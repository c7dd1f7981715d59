//! The names new users get, chosen so that creating a user tells an administrator nothing
//! about users it cannot see.
//!
//! Usernames are unique per tenant (sign-in finds a user by its name alone). If an
//! administrator could give any name, refusing a taken one would tell it that a user of
//! that name exists — perhaps outside its subtree. So names are scoped:
//!
//! - A name with a `/`, such as `alice/bob`, is *owned* by the user whose name is what
//!   comes before the last `/` (here `alice`), and it exists only in its owner's subtree.
//!   Every way of creating a user checks this — the admin pages and API, the operator's
//!   CLI and imports — and users never move or change their names, so it stays true.
//! - An administrator names a new user `owner/local`, where the owner is itself or a user
//!   below it on the way to the new user's parent; or plainly `local`, which becomes
//!   `<its own username>/local`.
//! - Only an administrator whose subtree holds every other user of the tenant (a tenant's
//!   one top-level administrator) gives plain names as they are typed; the operator does
//!   too.
//!
//! So a name an administrator is refused as taken is always held by a user it can see.
//! (Names with a `/` made before this rule are not checked again.)

use super::Username;
use super::permissions::Tree;
use crate::store::users::{self, User};
use crate::store::{DbConn, StoreError};
use crate::text::Refusal;

/// Separates an owner's name from the rest.
pub const SEPARATOR: char = '/';
/// The longest part after the owner's name, as an administrator types it.
pub const LOCAL_MAX: usize = 64;

/// The owner's name and the local part of a scoped name (`None` for a plain name).
pub fn split(name: &str) -> Option<(&str, &str)> {
    name.rsplit_once(SEPARATOR)
}

/// What `admin`'s plain names are prefixed with (`alice/`), or `None` when it names freely.
pub fn prefix_of(admin: &User, tree: &Tree) -> Option<String> {
    prefix_for(&admin.id, &admin.username, tree)
}

fn prefix_for(id: &str, username: &str, tree: &Tree) -> Option<String> {
    (!tree.holds_everyone_below(id)).then(|| format!("{username}{SEPARATOR}"))
}

/// Why a name was refused: a refusal to show, or the store failing.
#[derive(Debug)]
pub enum NameError {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for NameError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

fn invalid() -> NameError {
    NameError::Refused(Refusal::new("refusal-username"))
}

/// The name of a user that `admin` creates below `parent_id`, from what was `typed`.
pub fn child_name(
    conn: &mut DbConn,
    admin: &User,
    tree: &Tree,
    parent_id: &str,
    typed: &str,
) -> Result<Username, NameError> {
    let typed = Username::parse(typed).map_err(|_| invalid())?;
    let prefix = prefix_of(admin, tree);
    let name = match (split(typed.as_str()), &prefix) {
        (Some(_), _) => typed,
        (None, _) if !local_ok(typed.as_str()) => return Err(invalid()),
        (None, None) => return Ok(typed),
        (None, Some(prefix)) => {
            let name = format!("{prefix}{}", typed.as_str());
            Username::parse(&name)
                .map_err(|_| NameError::Refused(Refusal::new("refusal-username-long").with("name", &name)))?
        }
    };
    let (owner, local) = split(name.as_str()).ok_or_else(invalid)?;
    if owner.is_empty() || !local_ok(local) {
        return Err(invalid());
    }
    // The owner is the administrator or below it, and the new user's parent is the owner
    // or below it: any user already holding this name is one the administrator sees.
    let owner = users::find_by_username_key(conn, &admin.tenant_id, &Username::key_of(owner))?;
    let on_the_way = owner.is_some_and(|o| {
        (o.id == admin.id || tree.is_below(&o.id, &admin.id))
            && (o.id == parent_id || tree.is_below(parent_id, &o.id))
    });
    if !on_the_way {
        return Err(NameError::Refused(
            Refusal::new("refusal-username-owner").with("prefix", prefix.unwrap_or_default()),
        ));
    }
    Ok(name)
}

/// The operator's check of a name it gives (CLI, import): a scoped name only in its
/// owner's subtree.
pub fn check_owner(
    conn: &mut DbConn,
    tenant_id: &str,
    name: &Username,
    parent: Option<&User>,
) -> Result<(), NameError> {
    let Some((owner, local)) = split(name.as_str()) else {
        return Ok(());
    };
    let refused = || {
        NameError::Refused(Refusal::text(format!(
            "a username with '{SEPARATOR}' belongs to the user named before the last '{SEPARATOR}' \
             ('{owner}'): give it --parent '{owner}' or a user below it"
        )))
    };
    if owner.is_empty() || local.is_empty() {
        return Err(invalid());
    }
    let (Some(owner), Some(parent)) =
        (users::find_by_username_key(conn, tenant_id, &Username::key_of(owner))?, parent)
    else {
        return Err(refused());
    };
    if owner.id != parent.id && !Tree::new(users::tree(conn, tenant_id)?).is_below(&parent.id, &owner.id) {
        return Err(refused());
    }
    Ok(())
}

fn local_ok(local: &str) -> bool {
    (1..=LOCAL_MAX).contains(&local.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_what_comes_before_the_last_separator() {
        assert_eq!(split("bob"), None);
        assert_eq!(split("alice/bob"), Some(("alice", "bob")));
        assert_eq!(split("root/alice/bob"), Some(("root/alice", "bob")));
        assert_eq!(split("alice/"), Some(("alice", "")));
    }

    #[test]
    fn only_an_administrator_over_everyone_names_freely() {
        let tree = Tree::new([("r".to_owned(), None), ("a".to_owned(), Some("r".to_owned()))]);
        assert_eq!(prefix_for("r", "root", &tree), None);
        assert_eq!(prefix_for("a", "alice", &tree).as_deref(), Some("alice/"));
        let two_roots = Tree::new([("r".to_owned(), None), ("s".to_owned(), None)]);
        assert_eq!(prefix_for("r", "root", &two_roots).as_deref(), Some("root/"));
        let gap = Tree::new([("r".to_owned(), None), ("x".to_owned(), Some("gone".to_owned()))]);
        assert_eq!(prefix_for("r", "root", &gap).as_deref(), Some("root/"));
    }
}
