//! The layer rule of `src/lib.rs`, checked on the source: data flows down one layer at a time
//! (os, page, readers and store, btree, env and txn, db, scoped), so no module imports one above it, and no
//! production module reaches into `src/testing`, the test support.
//!
//! Every `crate::` path outside comments counts, in `use` lines and in code alike; a name the
//! crate root re-exports (`crate::Database`) counts as the module it comes from, read from the
//! `pub use` lines of `src/lib.rs`. The `arbor` tool (`src/bin`) is a crate of its own that
//! uses the library's public API only.
//!
//! Inside a module, its files' `super::` imports of each other form no circle: each file can
//! be read knowing only the files it names (the transaction module, for one, runs snapshot,
//! read, write, then nested, catalog and commit).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers from the bottom up. Modules in one layer may use each other.
const LAYERS: &[&[&str]] = &[
    &["error", "flags", "sync"],
    &["os"],
    &["page"],
    &["readers", "store"],
    &["btree"],
    &["env", "txn"],
    &["db"],
    &["scoped"],
];

/// Test support: may use every layer, and no layer may use it.
const TEST_SUPPORT: &str = "testing";

fn level(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn source_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

/// The code of a file without its comments (line comments and doc comments; the sources use
/// no block comments).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(start) if !line[..start].contains('"') => &line[..start],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::` path in `code`, with each item of a `crate::{..}`
/// group.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find("crate::") {
        let preceded_by_ident = rest[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[start + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').expect("a closed crate::{..} group");
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    found.push(first.to_owned());
                }
            }
            continue;
        }
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        found.push(ident);
    }
    found
}

/// The crate root's re-exports: a name like `Database` and the module it comes from.
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let code = code_of(lib);
    let mut exports = BTreeMap::new();
    let mut rest = code.as_str();
    while let Some(start) = rest.find("pub use ") {
        rest = &rest[start + "pub use ".len()..];
        let end = rest.find(';').expect("a pub use ends with ;");
        let statement: String = rest[..end].split_whitespace().collect();
        rest = &rest[end..];
        let module = statement.split("::").next().unwrap().to_owned();
        let items = match statement.find('{') {
            Some(open) => statement[open + 1..statement.len() - 1].to_owned(),
            None => statement.rsplit("::").next().unwrap().to_owned(),
        };
        for item in items.split(',').filter(|item| !item.is_empty()) {
            let name = item.split("::").last().unwrap();
            exports.insert(name.to_owned(), module.clone());
        }
    }
    exports
}

/// The library module a `src/...` file belongs to (`None` for the crate root and the tool).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "bin" => None,
        name => Some(name.trim_end_matches(".rs").to_owned()),
    }
}

/// Every import against the rule, as "file: module uses target".
fn violations(src: &Path) -> Vec<String> {
    let exports = root_exports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    source_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let Some(module) = module_of(src, &file) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for path in crate_paths(&code) {
            let target = exports.get(&path).cloned().unwrap_or(path.clone());
            if target == module || module == TEST_SUPPORT {
                continue;
            }
            let shown = file.strip_prefix(src.parent().unwrap()).unwrap().display();
            if target == TEST_SUPPORT {
                found.push(format!(
                    "{shown}: {module} uses the test support (crate::{path})"
                ));
                continue;
            }
            let (Some(from), Some(to)) = (level(&module), level(&target)) else {
                // External re-exports (`crate::byteorder`) and names the table does not know.
                assert!(
                    exports.contains_key(&path) || path == "byteorder",
                    "{shown}: crate::{path} names no module the layer table knows"
                );
                continue;
            };
            if to > from {
                found.push(format!(
                    "{shown}: {module} uses {target} (crate::{path}), a layer above it"
                ));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_module_imports_a_layer_above_it_or_the_test_support() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports against the layer rule of src/lib.rs:\n{}",
        found.join("\n")
    );
}

/// The files of module directory `dir` each file names through `super::`, by file stem.
fn sibling_imports(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = Vec::new();
    source_files(dir, &mut files);
    let stems: Vec<String> = files
        .iter()
        .filter(|file| file.parent() == Some(dir))
        .map(|file| file.file_stem().unwrap().to_str().unwrap().to_owned())
        .filter(|stem| stem != "mod")
        .collect();
    let mut graph = BTreeMap::new();
    for stem in &stems {
        let code = code_of(&std::fs::read_to_string(dir.join(format!("{stem}.rs"))).unwrap());
        let mut named: Vec<String> = Vec::new();
        let mut rest = code.as_str();
        while let Some(start) = rest.find("super::") {
            rest = &rest[start + "super::".len()..];
            let group = rest.strip_prefix('{');
            let items: Vec<&str> = match group {
                Some(group) => group[..group.find('}').unwrap_or(group.len())]
                    .split(',')
                    .collect(),
                None => vec![rest],
            };
            for item in items {
                let ident: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if stems.contains(&ident) && ident != *stem && !named.contains(&ident) {
                    named.push(ident);
                }
            }
        }
        graph.insert(stem.clone(), named);
    }
    graph
}

/// A circle of files in `graph`, if there is one.
fn circle(graph: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut found = path[start..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.iter().any(|seen| seen == node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.push(node.to_owned());
        None
    }
    let mut done = Vec::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_s_files_import_each_other_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let dir = entry.unwrap().path();
        if dir.is_dir() && dir.file_name().unwrap() != "bin" {
            if let Some(circle) = circle(&sibling_imports(&dir)) {
                found.push(format!(
                    "src/{}: {}",
                    dir.file_name().unwrap().to_str().unwrap(),
                    circle.join(" -> ")
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "files importing each other in a circle:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_circle_check_finds_a_circle_and_passes_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("mod.rs", "mod read; mod write; mod commit;");
    write(
        "read.rs",
        "use super::snapshot::Snapshot; // super::write in a comment",
    );
    write("write.rs", "use super::read::RoTxn;");
    write("commit.rs", "use super::{read::RoTxn, write::RwTxn};");
    write("snapshot.rs", "");
    assert_eq!(circle(&sibling_imports(dir.path())), None);
    write(
        "read.rs",
        "use super::snapshot::Snapshot;\nfn f() { super::commit::g(); }",
    );
    let found = circle(&sibling_imports(dir.path())).expect("read -> commit -> read");
    assert!(found.contains(&"read".to_owned()) && found.contains(&"commit".to_owned()));
}

#[test]
fn the_check_sees_paths_groups_and_root_reexports() {
    let code = code_of(
        "use crate::db::Database; // crate::scoped in a comment\n\
         let x = crate::env::open();\n\
         use crate::{Env, page::id::PageId};\n\
         let s = \"crate::txn\";",
    );
    assert_eq!(
        crate_paths(&code),
        ["db", "env", "Env", "page", "txn"].map(String::from)
    );
    let exports = root_exports(
        "pub use db::{types, Database};\npub use env::{\n    Env, EnvInfo,\n};\n\
         pub use txn::RoTxn;\npub use page::meta::FORMAT_VERSION;",
    );
    assert_eq!(exports["Database"], "db");
    assert_eq!(exports["EnvInfo"], "env");
    assert_eq!(exports["RoTxn"], "txn");
    assert_eq!(exports["FORMAT_VERSION"], "page");

    // A lower layer naming a higher one, and production code naming the test support, are
    // both reported.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("page")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub use db::Database;\n").unwrap();
    std::fs::write(
        src.join("page/store.rs"),
        "use crate::Database;\nfn f() { crate::testing::count(); }\n",
    )
    .unwrap();
    std::fs::write(src.join("btree.rs"), "use crate::page::store;\n").unwrap();
    let found = violations(&src);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("page uses db"), "{found:?}");
    assert!(found[1].contains("page uses the test support"), "{found:?}");
}
