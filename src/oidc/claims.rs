//! The user claims Watchword releases — by scope (OpenID Connect Core §5.4) and by the
//! `claims` request parameter (§5.5), for the ID token and for userinfo alike.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::oidc::tokens::has_scope;
use crate::store::users::User;

/// Each user claim Watchword can release, and the scope that releases it.
pub const USER_CLAIMS: &[(&str, &str)] = &[
    ("name", "profile"),
    ("preferred_username", "profile"),
    ("email", "email"),
    ("email_verified", "email"),
];

/// The user claims a `claims` parameter asks for (essential or voluntary alike: each is
/// released when the user has it), for the ID token and for userinfo. Claims Watchword
/// does not release are left out, as OpenID Connect Core §5.5 allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
}

impl Requested {
    /// From the `claims` parameter as parsed JSON (an object with `id_token` and/or
    /// `userinfo` members, each an object of claim names); an error for anything else.
    pub fn from_value(parsed: Option<&Value>) -> Result<Self, &'static str> {
        let Some(parsed) = parsed else { return Ok(Self::default()) };
        let object = parsed.as_object().ok_or("the claims parameter is not a JSON object")?;
        let names = |member: &str| -> Result<Vec<String>, &'static str> {
            match object.get(member) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Object(asked)) => Ok(USER_CLAIMS
                    .iter()
                    .map(|(name, _)| *name)
                    .filter(|name| asked.contains_key(*name))
                    .map(str::to_owned)
                    .collect()),
                Some(_) => Err("the claims parameter's members must be JSON objects"),
            }
        };
        Ok(Self { id_token: names("id_token")?, userinfo: names("userinfo")? })
    }

    /// As stored with a code or a refresh token: none when nothing was asked.
    pub fn to_stored(&self) -> Option<String> {
        (self != &Self::default()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    pub fn from_stored(raw: Option<&str>) -> Self {
        raw.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default()
    }
}

/// The claims of `user` that `scope` releases, and those named in `asked`, that the
/// user has.
pub fn user_claims(user: &User, scope: &str, asked: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, by_scope) in USER_CLAIMS {
        if !has_scope(scope, by_scope) && !asked.iter().any(|a| a == name) {
            continue;
        }
        let value = match *name {
            "name" => json!(user.display_name.clone().unwrap_or_else(|| user.username.clone())),
            "preferred_username" => json!(user.username),
            "email" => match &user.email {
                Some(email) => json!(email),
                None => continue,
            },
            // Watchword does not verify addresses; it says so rather than claim it.
            "email_verified" if user.email.is_some() => json!(false),
            _ => continue,
        };
        out.insert((*name).to_owned(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_parameter_keeps_the_user_claims_asked_for() {
        let raw = r#"{"id_token":{"email":{"essential":true},"acr":null,"shoe_size":null},"userinfo":{"name":null}}"#;
        let parse = |raw: &str| Requested::from_value(Some(&serde_json::from_str(raw).unwrap()));
        let asked = parse(raw).unwrap();
        assert_eq!(asked.id_token, vec!["email".to_owned()]);
        assert_eq!(asked.userinfo, vec!["name".to_owned()]);
        assert_eq!(Requested::from_stored(asked.to_stored().as_deref()), asked);
        assert_eq!(Requested::from_value(None).unwrap().to_stored(), None);
        assert_eq!(parse(r#"{"userinfo":{"acr":null}}"#).unwrap().to_stored(), None);
        for bad in ["[1]", r#"{"id_token":["email"]}"#] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
