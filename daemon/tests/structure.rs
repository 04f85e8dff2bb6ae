//! The daemon's shape, checked on every test run so that it cannot erode
//! silently (docs/architecture.md):
//!
//! - one outside crate, one module: only `http/` knows warp, only `store/`
//!   SurrealDB, only `tls/` rustls and ACME, only `ocr/` ocrs, rten and the
//!   image codecs;
//! - modules depend downwards only, as the design's table says;
//! - no two files of one module import each other, directly or round about.
//!
//! It reads the sources as text: `use` lines and `crate::`/`super::` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Outside crates and the one top-level module allowed to name them.
const OWNERS: &[(&str, &str)] = &[
    ("warp", "http"),
    ("surrealdb", "store"),
    ("rustls", "tls"),
    ("tokio_rustls", "tls"),
    ("acme_lib", "tls"),
    ("openssl", "tls"),
    ("rcgen", "tls"),
    ("x509_parser", "tls"),
    ("ocrs", "ocr"),
    ("rten", "ocr"),
    ("rten_tensor", "ocr"),
    ("rten_imageproc", "ocr"),
    ("image", "ocr"),
    ("tiff", "ocr"),
    ("csv", "import"),
    ("quick_xml", "import"),
    ("encoding_rs", "import"),
    ("tar", "archive"),
    ("zstd", "archive"),
    ("age", "archive"),
    ("regex", "domain"),
    // The `config` crate shares its name with fin's own `config` module, so
    // it cannot be told apart by text; `modules_depend_downwards_only` keeps
    // everything below `app` from reading `config` at all.
];

/// Which top-level modules each may use (besides itself and `support`, the
/// small helpers every layer shares). `app` is the composition root and may
/// use every module; `main` and `lib` only start it.
const ALLOWED: &[(&str, &[&str])] = &[
    ("http", &["service", "ratelimit", "domain"]),
    ("admin", &["service", "domain"]),
    ("jobs", &["service", "ocr", "domain"]),
    ("service", &["store", "ocr", "import", "archive", "domain"]),
    ("store", &["domain"]),
    ("ocr", &["domain"]),
    ("import", &["domain"]),
    ("archive", &["domain"]),
    ("config", &["domain"]),
    ("tls", &["domain"]),
    ("metrics", &[]),
    ("telemetry", &[]),
    ("ratelimit", &[]),
    ("domain", &[]),
    ("support", &[]),
];

struct Source {
    /// Module path, e.g. `["http", "auth"]` for `http/auth.rs`.
    module: Vec<String>,
    /// The text without comments (doc comments name modules freely).
    code: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).expect("under src");
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            Source {
                module,
                code: without_comments(&text),
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a file names: every `a::b::c` chain, with `use` groups
/// (`use x::{a, b::c}`) expanded. Enough for this crate's style.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        if let Some(rest) = statement
            .strip_prefix("pub(crate) use ")
            .or_else(|| statement.strip_prefix("pub use "))
            .or_else(|| statement.strip_prefix("use "))
        {
            expand(rest.trim(), &mut Vec::new(), &mut out);
        }
    }
    // Paths written inline, e.g. `crate::store::Store::open(...)`.
    let bytes = code.as_bytes();
    for (i, _) in code.match_indices("::") {
        let start = code[..i]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |p| p + 1);
        if start < i && (start == 0 || bytes[start - 1] != b':') {
            let end = code[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |p| start + p);
            let chain: Vec<String> = code[start..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if chain.len() > 1 {
                out.push(chain);
            }
        }
    }
    out
}

fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree.find('{') {
        Some(open) => {
            let head = tree[..open].trim_end_matches("::");
            let pushed: Vec<String> = head
                .split("::")
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_string())
                .collect();
            let count = pushed.len();
            prefix.extend(pushed);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            for part in split_top_level(inner) {
                expand(part.trim(), prefix, out);
            }
            prefix.truncate(prefix.len() - count);
        }
        None => {
            let name = tree.split(" as ").next().unwrap_or("").trim();
            if name.is_empty() {
                return;
            }
            let mut path = prefix.clone();
            path.extend(name.split("::").map(|s| s.trim().to_string()));
            out.push(path);
        }
    }
}

fn split_top_level(inner: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

/// The module a path names, from the point of view of `module`: absolute
/// for `crate::`, relative for `super::`/`self::`; `None` for outside crates.
fn resolve(module: &[String], path: &[String]) -> Option<Vec<String>> {
    match path.first()?.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "super" | "self" => {
            let mut base = module.to_vec();
            let mut rest = path;
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            Some(base)
        }
        _ => None,
    }
}

#[test]
fn each_outside_crate_is_known_to_one_module_only() {
    let mut wrong = Vec::new();
    for source in sources() {
        let top = source.module[0].as_str();
        for path in paths(&source.code) {
            let Some(first) = path.first() else { continue };
            if let Some((krate, owner)) = OWNERS.iter().find(|(k, _)| k == first)
                && top != *owner
            {
                wrong.push(format!(
                    "{}: uses {krate}, which only {owner}/ may",
                    source.module.join("/")
                ));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn modules_depend_downwards_only() {
    let tops: BTreeSet<String> = sources().iter().map(|s| s.module[0].clone()).collect();
    let mut wrong = Vec::new();
    for source in sources() {
        let top = source.module[0].as_str();
        if matches!(top, "app" | "main" | "lib") {
            continue;
        }
        let allowed = ALLOWED
            .iter()
            .find(|(m, _)| *m == top)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("{top}/ is missing from ALLOWED in this test"));
        for path in paths(&source.code) {
            let Some(target) = resolve(&source.module, &path) else {
                continue;
            };
            let Some(used) = target.first() else { continue };
            let shared = used == "support" && top != "domain" && top != "ratelimit";
            if used != top && tops.contains(used) && !shared && !allowed.contains(&used.as_str()) {
                wrong.push(format!(
                    "{} uses {used}/ (allowed: {})",
                    source.module.join("/"),
                    allowed.join(", ")
                ));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_two_files_of_a_module_import_each_other() {
    let sources = sources();
    let known: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    // Edges between sibling files: a file's use of its parent (`super::X`,
    // re-exports) or of its own children is structure, not a cycle.
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for source in &sources {
        let from = &source.module;
        if from.is_empty() {
            continue;
        }
        for path in paths(&source.code) {
            let Some(target) = resolve(from, &path) else {
                continue;
            };
            // The longest known module the path lies in.
            let Some(to) = (1..=target.len())
                .rev()
                .map(|n| target[..n].to_vec())
                .find(|m| known.contains(m))
            else {
                continue;
            };
            if to.len() == from.len() && to[..to.len() - 1] == from[..from.len() - 1] && &to != from
            {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let mut cycles = Vec::new();
    for start in edges.keys() {
        if let Some(cycle) = cycle_through(start, &edges) {
            cycles.push(cycle.join(" -> "));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// A path of imports from `start` back to itself, if there is one.
fn cycle_through(
    start: &Vec<String>,
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Option<Vec<String>> {
    let mut stack = vec![(start.clone(), vec![start.join("/")])];
    let mut seen = BTreeSet::new();
    while let Some((node, trail)) = stack.pop() {
        for next in edges.get(&node).into_iter().flatten() {
            if next == start {
                let mut cycle = trail.clone();
                cycle.push(start.join("/"));
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = trail.clone();
                longer.push(next.join("/"));
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn the_path_reader_sees_groups_inline_paths_and_super() {
    let code = "use crate::{store::Store, ocr::{self, Engine}};\nuse super::limits::Class;\nfn f() { crate::config::X::new(); }";
    let found = paths(code);
    assert!(found.contains(&vec!["crate".into(), "store".into(), "Store".into()]));
    assert!(found.contains(&vec!["crate".into(), "ocr".into(), "self".into()]));
    assert!(found.contains(&vec!["super".into(), "limits".into(), "Class".into()]));
    assert!(found.contains(&vec![
        "crate".into(),
        "config".into(),
        "X".into(),
        "new".into()
    ]));
    let module = vec!["http".to_string(), "auth".to_string()];
    assert_eq!(
        resolve(&module, &["super".into(), "limits".into(), "Class".into()]),
        Some(vec!["http".into(), "limits".into(), "Class".into()])
    );
}
