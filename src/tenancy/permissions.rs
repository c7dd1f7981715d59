//! Who may do what to whom inside a tenant: pure rules over the user tree.
//!
//! An actor acts only on its descendants (any depth), never on itself, never outside
//! its subtree or tenant. Reading needs `read`; creating users, revoking a TOTP secret,
//! resetting a password, editing a profile and turning enforcement on need `create` (or
//! `admin`); turning enforcement off, disabling or enabling users need `admin`; the
//! tenant's settings (policy, branding, clients) need `admin` on a tenant root user (one
//! without a parent).

use std::collections::HashMap;

use super::Permission;

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    /// Create a user below the target (the target may be the actor itself).
    CreateChild,
    RevokeTotp,
    /// Give the target a new temporary password (the same rights as revoking its TOTP).
    ResetPassword,
    /// Change the target's name, e-mail address and profile claims.
    EditProfile,
    EnforceOn,
    EnforceOff,
    Disable,
    Enable,
    /// Change the tenant's settings: its policy, branding and clients.
    EditPolicy,
}

impl Action {
    pub const ALL: [Self; 10] = [
        Self::Read,
        Self::CreateChild,
        Self::RevokeTotp,
        Self::ResetPassword,
        Self::EditProfile,
        Self::EnforceOn,
        Self::EnforceOff,
        Self::Disable,
        Self::Enable,
        Self::EditPolicy,
    ];

    fn needs(self) -> Permission {
        match self {
            Self::Read => Permission::Read,
            Self::CreateChild
            | Self::RevokeTotp
            | Self::ResetPassword
            | Self::EditProfile
            | Self::EnforceOn => Permission::Create,
            Self::EnforceOff | Self::Disable | Self::Enable | Self::EditPolicy => Permission::Admin,
        }
    }
}

/// Why an act is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("you cannot do this to your own account")]
    Itself,
    #[error("that user is not below you")]
    OutsideSubtree,
    #[error("your user-management permission does not allow this")]
    Permission,
    #[error("only a tenant's top-level administrators change its settings (policy, branding, clients)")]
    NotRoot,
}

/// The parent of every user of one tenant: enough to answer "is X below Y".
#[derive(Debug, Clone, Default)]
pub struct Tree {
    parents: HashMap<String, Option<String>>,
}

impl Tree {
    pub fn new(pairs: impl IntoIterator<Item = (String, Option<String>)>) -> Self {
        Self { parents: pairs.into_iter().collect() }
    }

    /// Whether `user` is strictly below `ancestor` (cycles and gaps end the walk).
    pub fn is_below(&self, user: &str, ancestor: &str) -> bool {
        let mut current = self.parents.get(user).cloned().flatten();
        for _ in 0..self.parents.len() {
            match current {
                Some(ref id) if id == ancestor => return true,
                Some(id) => current = self.parents.get(&id).cloned().flatten(),
                None => return false,
            }
        }
        false
    }

    pub fn contains(&self, user: &str) -> bool {
        self.parents.contains_key(user)
    }

    /// Whether every user of the tenant but `ancestor` itself is below it.
    pub fn holds_everyone_below(&self, ancestor: &str) -> bool {
        self.contains(ancestor) && self.descendants(ancestor).count() + 1 == self.parents.len()
    }

    /// Every user strictly below `ancestor`.
    pub fn descendants<'a>(&'a self, ancestor: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.parents.keys().map(String::as_str).filter(move |id| self.is_below(id, ancestor))
    }
}

/// The acting user.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub id: &'a str,
    pub permission: Permission,
    pub is_root: bool,
}

/// Decides `action` by `actor` on `target` (a user id of the actor's tenant, or `None`
/// for a user of another tenant or one that does not exist).
pub fn check(tree: &Tree, actor: Actor<'_>, action: Action, target: Option<&str>) -> Result<(), Denied> {
    if action == Action::EditPolicy {
        if !actor.is_root {
            return Err(Denied::NotRoot);
        }
        return if actor.permission >= Permission::Admin { Ok(()) } else { Err(Denied::Permission) };
    }
    let target = target.filter(|t| tree.contains(t)).ok_or(Denied::OutsideSubtree)?;
    let own_children = action == Action::CreateChild && target == actor.id;
    if target == actor.id && !own_children {
        return Err(Denied::Itself);
    }
    if !own_children && !tree.is_below(target, actor.id) {
        return Err(Denied::OutsideSubtree);
    }
    if actor.permission < action.needs() {
        return Err(Denied::Permission);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// root ─┬─ p ── c ── g
    ///       ├─ s
    ///       └─ o ── oc
    fn tree() -> Tree {
        let edge = |c: &str, p: Option<&str>| (c.to_owned(), p.map(str::to_owned));
        Tree::new([
            edge("root", None),
            edge("p", Some("root")),
            edge("c", Some("p")),
            edge("g", Some("c")),
            edge("s", Some("root")),
            edge("o", Some("root")),
            edge("oc", Some("o")),
        ])
    }

    #[test]
    fn the_full_matrix() {
        let tree = tree();
        // (target, is it below p?) — "x" is a user of another tenant.
        let targets = [
            ("p", false),
            ("root", false),
            ("c", true),
            ("g", true),
            ("s", false),
            ("oc", false),
            ("x", false),
        ];
        for permission in Permission::ALL {
            let actor = Actor { id: "p", permission: *permission, is_root: false };
            for action in Action::ALL {
                for (target, below) in targets {
                    let got = check(&tree, actor, action, Some(target));
                    let expected = if action == Action::EditPolicy {
                        Err(Denied::NotRoot)
                    } else if target == "p" && action != Action::CreateChild {
                        Err(Denied::Itself)
                    } else if !(below || (target == "p" && action == Action::CreateChild)) {
                        Err(Denied::OutsideSubtree)
                    } else if *permission < action.needs() {
                        Err(Denied::Permission)
                    } else {
                        Ok(())
                    };
                    assert_eq!(got, expected, "{permission:?} {action:?} {target}");
                }
            }
        }
    }

    #[test]
    fn the_policy_belongs_to_root_admins() {
        let tree = tree();
        let root = |permission| Actor { id: "root", permission, is_root: true };
        assert_eq!(check(&tree, root(Permission::Admin), Action::EditPolicy, None), Ok(()));
        assert_eq!(check(&tree, root(Permission::Create), Action::EditPolicy, None), Err(Denied::Permission));
        assert_eq!(check(&tree, root(Permission::Admin), Action::Disable, Some("oc")), Ok(()), "any depth");
    }

    #[test]
    fn descendants_and_cycles() {
        let tree = tree();
        let mut below: Vec<&str> = tree.descendants("p").collect();
        below.sort();
        assert_eq!(below, ["c", "g"]);
        let cyclic =
            Tree::new([("a".to_owned(), Some("b".to_owned())), ("b".to_owned(), Some("a".to_owned()))]);
        assert!(!cyclic.is_below("a", "z"), "a cycle ends the walk");
    }
}
