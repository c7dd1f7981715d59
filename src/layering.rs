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
/// segments; a `{…}` group, nested or not, gives one path per item.
fn paths_after(code: &str, prefix: &str) -> Vec<Module> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        use_tree(&code[at + prefix.len()..], &[], &mut found);
    }
    found
}

/// Reads one path (`a::b`, `a::{b, c::{d}}`, `a::B as C`) at the start of `rest` below
/// `base` into `found`; returns what follows it.
fn use_tree<'a>(mut rest: &'a str, base: &[String], found: &mut Vec<Module>) -> &'a str {
    let mut path = base.to_vec();
    loop {
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_owned());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    let Some(mut group) = rest.strip_prefix('{') else {
        found.push(path);
        return rest;
    };
    loop {
        group = use_tree(group.trim_start(), &path, found);
        // Past the item's tail (`as name`, a type) to its comma or the group's end.
        group = group.trim_start_matches(|c: char| c != ',' && c != '}' && c != '{');
        match group.chars().next() {
            Some(',') => group = &group[1..],
            Some('}') => return &group[1..],
            _ => return group,
        }
    }
}

/// The file-level import graph.
fn graph(files: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let resolve =
        |path: &[String]| (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| files.contains_key(m));
    let mut edges = BTreeMap::new();
    for (module, code) in files {
        let parent = &module[..module.len().saturating_sub(1)];
        let above = |path: Module| {
            let climbs = path.iter().take_while(|s| *s == "super").count();
            let from = &parent[..parent.len().saturating_sub(climbs)];
            [from.to_vec(), path[climbs..].to_vec()].concat()
        };
        let named = paths_after(code, "crate::")
            .into_iter()
            .chain(paths_after(code, "super::").into_iter().map(above));
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
        if ["random", "clock", "text"].contains(&top) && !targets.is_empty() {
            wrong.push(format!("{} imports {targets:?}: it sits below everything", show(module)));
        }
        let forbidden: &[&str] = match top {
            "store" | "ephemeral" => &above_store,
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

#[test]
fn nested_groups_renames_and_grandparents_are_read() {
    let module = |s: &str| s.split('/').map(str::to_owned).collect::<Module>();
    let found = paths_after("use crate::a::{b::{c, D}, e as f, G};\nlet x = crate::h::i(1);", "crate::");
    for path in ["a/b/c", "a/e", "h/i"] {
        assert!(found.contains(&module(path)), "{path} in {found:?}");
    }
    let files: BTreeMap<Module, String> =
        [("a", ""), ("a/b", ""), ("a/q", ""), ("a/b/c", "use super::super::q::{Thing, other::{More}};")]
            .into_iter()
            .map(|(m, code)| (module(m), code.to_owned()))
            .collect();
    assert_eq!(graph(&files)[&module("a/b/c")], BTreeSet::from([module("a/q")]));
}
