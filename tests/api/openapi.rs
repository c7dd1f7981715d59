//! The admin API against its own OpenAPI document: every call any test makes through
//! `TestApp::api` is checked here — the status must be documented for the operation,
//! and a JSON answer must match the documented schema (types, `nullable`, `required`,
//! `enum`, and no field the document does not declare). So the document cannot drift
//! from the answers unnoticed, whichever test exercises an endpoint.

use std::sync::LazyLock;

use serde_json::Value;

use crate::helpers::{get_json, http_client, spawn_app};

static DOC: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../src/http/openapi.json")).expect("openapi.json")
});

/// Panics, saying what differs, when `status` and `body` are not what the document
/// says `method path` (`path` under `/api/v1`, with its query) answers.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let errors = problems(method, path, status, body);
    assert!(
        errors.is_empty(),
        "{method} {path} → {status} disagrees with openapi.json:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

fn problems(method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let bare = path.split('?').next().unwrap_or(path);
    let Some((template, operation)) = operation(method, bare) else {
        return vec![format!("no operation {method} {bare} in the document")];
    };
    let responses = &operation["responses"];
    let Some(response) = responses.get(status.to_string()).or_else(|| responses.get("default")) else {
        return vec![format!(
            "status {status} is not documented for {method} {template} (documented: {:?})",
            responses.as_object().map(|r| r.keys().collect::<Vec<_>>()).unwrap_or_default()
        )];
    };
    match response.pointer("/content/application~1json/schema") {
        Some(schema) => {
            let mut errors = Vec::new();
            validate(schema, body, "$", &mut errors);
            errors
        }
        None if body.is_null() || body.as_str().is_some_and(str::is_empty) => Vec::new(),
        None => vec![format!("an answer with a body where the document declares none: {body}")],
    }
}

/// The document's operation for `method` on the path template that matches `path`.
fn operation(method: &str, path: &str) -> Option<(String, Value)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    DOC["paths"].as_object()?.iter().find_map(|(template, ops)| {
        let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
        let matches = parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(p, s)| (p.starts_with('{') && p.ends_with('}')) || p == s);
        let op = ops.get(method.to_lowercase())?;
        matches.then(|| (template.clone(), op.clone()))
    })
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(DOC.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}")))
        }
        None => schema,
    }
}

fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            validate(part, value, at, errors);
        }
    }
    if value.is_null() {
        // `nullable` on the property or on what it refers to.
        if !schema.get("nullable").and_then(Value::as_bool).unwrap_or(false) {
            errors.push(format!("{at} is null, not declared nullable"));
        }
        return;
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let fits = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            errors.push(format!("{at} is {value}, not {kind}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{at} = {value} is not one of {allowed:?}"));
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (n, item) in values.iter().enumerate() {
            validate(items, item, &format!("{at}[{n}]"), errors);
        }
    }
    let Some(object) = value.as_object() else { return };
    let properties = schema.get("properties").and_then(Value::as_object);
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let name = required.as_str().unwrap_or_default();
        if !object.contains_key(name) {
            errors.push(format!("{at}.{name} is required but absent"));
        }
    }
    // A free-form object (`additionalProperties: true`, or no properties at all) is not
    // checked field by field; otherwise every field must be declared.
    let free = schema.get("additionalProperties").is_some_and(|a| a != &Value::Bool(false));
    for (name, field) in object {
        match properties.and_then(|p| p.get(name)) {
            Some(declared) => validate(declared, field, &format!("{at}.{name}"), errors),
            None if free || properties.is_none() => {}
            None => errors.push(format!("{at}.{name} is not in the document")),
        }
    }
}

#[tokio::test]
async fn the_served_document_is_the_checked_one_and_every_ref_resolves() {
    let app = spawn_app().await;
    let served = get_json(&format!("{}/api/v1/openapi.json", app.address)).await;
    assert_eq!(served, *DOC);
    // Every $ref anywhere in the document points at something.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    out.push(r.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&DOC, &mut all);
    assert!(!all.is_empty());
    for r in all {
        assert!(DOC.pointer(r.trim_start_matches('#')).is_some(), "dangling {r}");
    }
}

/// The checker itself refuses what it should: an undocumented status, a null the
/// document does not allow, an undeclared field, a wrong type.
#[test]
fn the_checker_catches_disagreements() {
    let user = serde_json::json!({ "error": { "code": "not_found", "message": "no such user" } });
    assert!(problems("GET", "/users/x", 404, &user).is_empty());
    assert!(!problems("GET", "/users/x", 418, &user).is_empty(), "undocumented status");
    assert!(!problems("GET", "/nowhere", 200, &user).is_empty(), "unknown path");
    let bad = serde_json::json!({ "error": { "code": "teapot", "message": "x" } });
    assert!(!problems("GET", "/users/x", 404, &bad).is_empty(), "not in the enum");
    let extra = serde_json::json!({ "error": { "code": "not_found", "message": "x", "secret": 1 } });
    assert!(!problems("GET", "/users/x", 404, &extra).is_empty(), "undeclared field");
    let null = serde_json::json!({ "error": { "code": "not_found", "message": null } });
    assert!(!problems("GET", "/users/x", 404, &null).is_empty(), "null not declared nullable");
    let typed = serde_json::json!({ "error": "not_found" });
    assert!(!problems("GET", "/users/x", 404, &typed).is_empty(), "wrong type");
}

/// Refusals before any handler (an oversized body, an unreadable query) answer in the
/// API's shape with a status the document gives the operation.
#[tokio::test]
async fn refusals_before_the_handler_are_documented_too() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "root", "pw-root", false);
    let (token, _) = app.admin_token("root").await;
    let huge = serde_json::json!({ "username": "x".repeat(70 * 1024) });
    let (status, body) = app.api(&token, "POST", "/users", Some(huge)).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = app.api(&token, "GET", "/users?page=abc", None).await;
    assert_eq!(status, 400, "{body}");
    // A body that is not JSON, or not sent as JSON: 400 in the API's shape.
    let url = format!("{}/api/v1/users", app.address);
    for (content_type, text) in [("application/json", "{\"username\": "), ("text/plain", "{}")] {
        let res = http_client()
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(text)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!((status, &body["error"]["code"]), (400, &serde_json::json!("invalid_request")), "{body}");
        check("POST", "/users", status, &body);
    }
}
