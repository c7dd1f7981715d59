//! Tenants, the user tree inside each tenant, permissions, and (growing here) the
//! resolution of TOTP policy. Inputs are parsed into types at the edge.

pub mod admin;
pub mod branding;
pub mod creation;
pub mod devices;
pub mod explain;
pub mod naming;
pub mod passwords;
pub mod permissions;
pub mod policy;
pub mod profile;
pub mod service;
pub mod tenant_policy;
pub mod transfer;

use std::fmt;

pub use service::{
    CreatedUser, InitialPassword, NewUser, TenancyError, create_tenant, create_user, list_tenants, list_users,
};

/// A tenant's URL-safe name: 1–63 of `a-z 0-9 -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=63).contains(&raw.len())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("invalid tenant slug '{raw}': use 1-63 lowercase letters, digits or '-'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username as the user typed it; [`Username::key`] is what uniqueness compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// The longest username, an owner's name and `/` included (see [`naming`]).
    pub const MAX: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let ok = (1..=Self::MAX).contains(&raw.chars().count())
            && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("invalid username: use 1-{} characters without spaces", Self::MAX))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-folded form: usernames are unique per tenant regardless of case.
    pub fn key(&self) -> String {
        Self::key_of(&self.0)
    }

    /// The key of a name as typed (sign-in, an owner's part of a scoped name): the one
    /// definition of how names compare.
    pub fn key_of(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(
                        "invalid {} '{other}': expected one of {}",
                        stringify!($name).to_lowercase(),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Internal users are staff; external users are customers or partners. Tenants
    /// enforce TOTP for each kind separately.
    UserKind { Internal = "internal", External = "external" }
);

text_enum!(
    /// What a user may do to the users below it in the tree (ordered: none < read < create < admin).
    Permission { None = "none", Read = "read", Create = "create", Admin = "admin" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_usernames() {
        assert!(Slug::parse("acme-1").is_ok());
        for bad in ["", "Acme", "-x", "a b", &"x".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Username::parse(" Alice ").unwrap().as_str(), "Alice");
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
    }

    #[test]
    fn enums_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Ok(*p));
        }
        assert!(Permission::Admin > Permission::Create && Permission::Read > Permission::None);
        assert!(UserKind::parse("robot").unwrap_err().contains("internal, external"));
    }
}
