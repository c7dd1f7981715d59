//! The user claims Watchword releases — by scope (OpenID Connect Core §5.4) and by the
//! `claims` request parameter (§5.5), for the ID token and for userinfo alike.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::oidc::has_scope;
use crate::store::users::User;
use crate::tenancy::profile::{Address, Profile};

/// Each user claim Watchword can release, and the scope that releases it (OpenID Connect
/// Core §5.4).
pub const USER_CLAIMS: &[(&str, &str)] = &[
    ("name", "profile"),
    ("given_name", "profile"),
    ("family_name", "profile"),
    ("preferred_username", "profile"),
    ("locale", "profile"),
    ("zoneinfo", "profile"),
    ("updated_at", "profile"),
    ("email", "email"),
    ("email_verified", "email"),
    ("phone_number", "phone"),
    ("phone_number_verified", "phone"),
    ("address", "address"),
];

/// The scopes a user consents to for `scope` and the claims `asked` by name: a claim
/// asked for by name is released only with its scope's consent, as the scope would be.
pub fn consent_scope(scope: &str, asked: &Requested) -> String {
    let mut scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    for name in asked.id_token.iter().chain(&asked.userinfo) {
        if let Some((_, by_scope)) = USER_CLAIMS.iter().find(|(claim, _)| claim == name)
            && !scopes.contains(by_scope)
        {
            scopes.push(by_scope);
        }
    }
    scopes.join(" ")
}

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
    let mut released = USER_CLAIMS
        .iter()
        .filter(|(name, by_scope)| has_scope(scope, by_scope) || asked.iter().any(|a| a == name))
        .peekable();
    let mut out = Map::new();
    if released.peek().is_none() {
        // `openid` alone: no profile to read (its address is JSON to parse).
        return out;
    }
    let profile = Profile::of(user);
    for &(name, _) in released {
        let text = |value: &Option<String>| value.as_ref().map(|v| json!(v));
        let value = match name {
            "name" => Some(json!(profile.display_name.as_ref().unwrap_or(&user.username))),
            "given_name" => text(&profile.given_name),
            "family_name" => text(&profile.family_name),
            "preferred_username" => Some(json!(user.username)),
            "locale" => text(&profile.locale),
            "zoneinfo" => text(&profile.zoneinfo),
            "updated_at" => Some(json!(user.profile.profile_updated_at.unwrap_or(user.created_at))),
            "email" => text(&profile.email),
            "phone_number" => text(&profile.phone_number),
            // Watchword verifies neither; it says so rather than claim it.
            "email_verified" => profile.email.as_ref().map(|_| json!(false)),
            "phone_number_verified" => profile.phone_number.as_ref().map(|_| json!(false)),
            "address" => profile.address.as_ref().map(address_claim),
            _ => None,
        };
        if let Some(value) = value {
            out.insert(name.to_owned(), value);
        }
    }
    out
}

/// The address claim (§5.1.1): its parts, and `formatted` — the street lines, then postal
/// code and locality, region and country, a line each.
fn address_claim(address: &Address) -> Value {
    let town = [&address.postal_code, &address.locality]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    let lines: Vec<&str> = [
        address.street_address.as_deref(),
        Some(town.as_str()),
        address.region.as_deref(),
        address.country.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|line| !line.is_empty())
    .collect();
    let mut claim = serde_json::to_value(address).unwrap_or_else(|_| json!({}));
    if let Some(parts) = claim.as_object_mut() {
        parts.insert("formatted".to_owned(), json!(lines.join("\n")));
    }
    claim
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
