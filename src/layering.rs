//! The import rules of `docs/ARCHITECTURE.md`, checked over the source: no two files
//! import each other, directly or round a longer circle; `store` and `ephemeral` import
//! nothing above them; the domain (`auth`, `oidc`, `tenancy`) imports neither the
//! handlers nor the CLI, nor actix. A file's imports are the `crate::…` and `super::…`
//! paths outside its comments and tests; a path into a parent module (a `mod.rs`, which
//! only re-exports) is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every source file under `src/`, by module path, with its code (comments and tests dropped).
fn sources() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, into: &mut BTreeMap<Module, String>, root: &Path) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, into, root);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut module: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if module.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let code: Vec<&str> =
                    code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect();
                into.insert(module, code.join("\n"));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    walk(&root, &mut files, &root);
    files
}

fn is_ident(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// The module paths `code` names after `prefix` (`crate::` or `super::`), each as its
/// segments; a `{…}` group gives one path per item.
fn paths_after(code: &str, prefix: &str) -> Vec<Module> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let mut segments: Module = Vec::new();
        let mut rest = &code[at + prefix.len()..];
        loop {
            let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            segments.push(rest[..end].to_owned());
            rest = &rest[end..];
            match rest.strip_prefix("::") {
                Some(after) => rest = after,
                None => break,
            }
        }
        if let Some(group) = rest.strip_prefix('{') {
            for item in group.split('}').next().unwrap_or_default().split(',') {
                let first = item.trim().split("::").next().unwrap_or_default();
                if !first.is_empty() && first.chars().all(is_ident) {
                    found.push([segments.clone(), vec![first.to_owned()]].concat());
                }
            }
        }
        found.push(segments);
    }
    found
}

/// The file-level import graph.
fn graph(files: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let resolve =
        |path: &[String]| (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| files.contains_key(m));
    let mut edges = BTreeMap::new();
    for (module, code) in files {
        let parent = &module[..module.len().saturating_sub(1)];
        let named = paths_after(code, "crate::")
            .into_iter()
            .chain(paths_after(code, "super::").into_iter().map(|p| [parent.to_vec(), p].concat()));
        let targets: BTreeSet<Module> =
            named.filter_map(|p| resolve(&p)).filter(|target| !module.starts_with(target)).collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

fn show(module: &[String]) -> String {
    if module.is_empty() { "lib".to_owned() } else { module.join("/") }
}

/// A circle through `from`, if any: depth first, `path` the files on the way.
fn circle(
    edges: &BTreeMap<Module, BTreeSet<Module>>,
    at: &Module,
    path: &mut Vec<Module>,
    done: &mut BTreeSet<Module>,
) -> Option<Vec<Module>> {
    if let Some(start) = path.iter().position(|m| m == at) {
        return Some(path[start..].to_vec());
    }
    if !done.insert(at.clone()) {
        return None;
    }
    path.push(at.clone());
    for next in &edges[at] {
        if let Some(found) = circle(edges, next, path, done) {
            return Some(found);
        }
    }
    path.pop();
    None
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let edges = graph(&sources());
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        if let Some(found) = circle(&edges, module, &mut Vec::new(), &mut done) {
            let names: Vec<String> = found.iter().map(|m| show(m)).collect();
            panic!("an import circle: {} → {}", names.join(" → "), names[0]);
        }
    }
}

#[test]
fn layers_import_only_below_them() {
    let files = sources();
    let edges = graph(&files);
    let above_store = ["auth", "oidc", "tenancy", "rewrap", "http", "cli", "startup"];
    let above_domain = ["http", "cli", "startup"];
    let mut wrong = Vec::new();
    for (module, targets) in &edges {
        let top = module.first().map(String::as_str).unwrap_or_default();
        let forbidden: &[&str] = match top {
            "store" | "ephemeral" | "random" | "clock" | "text" => &above_store,
            "auth" | "oidc" | "tenancy" | "rewrap" => &above_domain,
            _ => &[],
        };
        for target in targets {
            if target.first().is_some_and(|t| forbidden.contains(&t.as_str())) {
                wrong.push(format!("{} → {}", show(module), show(target)));
            }
        }
        if !forbidden.is_empty() && files[module].contains("actix") {
            wrong.push(format!("{} uses actix", show(module)));
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn the_check_sees_imports() {
    // The rules above hold only if imports are found at all: a sample of known ones.
    let edges = graph(&sources());
    let has = |from: &str, to: &str| {
        let split = |s: &str| s.split('/').map(str::to_owned).collect::<Module>();
        edges[&split(from)].contains(&split(to))
    };
    assert!(has("rewrap", "store/sealed"), "a `use crate::a::{{b}}` group");
    assert!(has("rewrap", "oidc/keys"), "a path in an expression");
    assert!(has("auth/credentials/views", "store/totp"), "a `use crate::…` line");
    assert!(has("store/tokens", "store/schema"), "a `super::` path");
    let circle_found = {
        let mut fake = edges.clone();
        fake.get_mut(&vec!["store".to_owned(), "schema".to_owned()])
            .unwrap()
            .insert(vec!["store".to_owned(), "tokens".to_owned()]);
        let mut done = BTreeSet::new();
        fake.keys().any(|m| circle(&fake, m, &mut Vec::new(), &mut done).is_some())
    };
    assert!(circle_found, "a circle added by hand is found");
}
