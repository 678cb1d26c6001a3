//! The crate's own rules about code it does not hand-write: unsafe is forbidden crate-wide, and
//! system calls, randomness and HTML escaping come from kept crates (docs/ARCHITECTURE.md "Dependencies").

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
    }
}

#[test]
fn unsafe_is_forbidden_and_libc_is_not_called_directly() {
    let manifest = read("Cargo.toml");
    let lints = manifest.split("[lints.rust]").nth(1).expect("a [lints.rust] table");
    assert!(
        lints.lines().take_while(|l| !l.starts_with('[')).any(|l| l.replace(' ', "") == "unsafe_code=\"forbid\""),
        "unsafe_code = \"forbid\" in [lints.rust]"
    );
    assert!(!manifest.lines().any(|l| l.trim_start().starts_with("libc")), "libc is used only through crates that wrap it");
    // The needles are split so that this file does not match itself.
    let everywhere = [["libc", "::"].concat(), ["/dev/", "urandom"].concat()];
    let escaper = ["\"&", "lt;\""].concat(); // an HTML escaper's replacement string literal
    for dir in ["src", "tests", "benches"] {
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
        for (path, text) in &files {
            let needles = everywhere.iter().chain((dir == "src").then_some(&escaper));
            for needle in needles {
                let hits: Vec<&str> = text.lines().filter(|l| l.contains(needle.as_str()) && !l.trim_start().starts_with("assert")).collect();
                assert!(hits.is_empty(), "{path} hand-writes what a crate provides ({needle}): {hits:?}");
            }
        }
    }
}

/// The layers of docs/ARCHITECTURE.md, every folder of src in one: no SQL outside src/store;
/// each layer imports only those below it (the bot never reaches back into the daemon that wires
/// it; render, store, policy and config import nothing from the imperative shell above them).
#[test]
fn layers_point_down_only_and_all_sql_is_in_the_store() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = |dir: &str| {
        let mut out = Vec::new();
        let p = root.join(dir);
        if p.is_dir() {
            sources(&p, &mut out);
        } else {
            out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
        out
    };
    let sql = [".execute(", ".query_row(", ".prepare(", "rusqlite", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"];
    let mut everything = Vec::new();
    sources(&root, &mut everything);
    for (path, text) in everything.iter().filter(|(p, _)| !p.contains("/src/store/")) {
        for needle in sql {
            let hits: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
            assert!(hits.is_empty(), "{path}: SQL belongs in src/store ({needle}): {hits:?}");
        }
    }
    // Every module of src, bottom layer first; each may import only the layers below it (or
    // beside it, on the same line). docs/ARCHITECTURE.md draws the same table.
    let layers: &[&[&str]] = &[&["i18n"], &["config"], &["policy"], &["store", "render", "chart"], &["engine"], &["chat"], &["watch"], &["daemon"], &["cli"]];
    let mut modules: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| !["lib", "main", "i18n_tests"].contains(&m.as_str()))
        .collect();
    modules.sort();
    modules.dedup();
    for m in &modules {
        assert!(layers.iter().any(|l| l.contains(&m.as_str())), "src/{m} has no layer: add it to this table and to docs/ARCHITECTURE.md");
    }
    for (i, layer) in layers.iter().enumerate() {
        let above: Vec<String> = layers[i + 1..].iter().flat_map(|l| l.iter()).map(|m| format!("crate::{m}::")).collect();
        for m in layer.iter() {
            let mut texts = Vec::new();
            if root.join(m).is_dir() {
                texts.extend(files(m));
            }
            if root.join(format!("{m}.rs")).is_file() {
                texts.extend(files(&format!("{m}.rs")));
            }
            for (path, text) in texts {
                for up in &above {
                    assert!(!text.contains(up.as_str()), "{path} reaches up into {up}");
                }
            }
        }
    }
}

/// The sibling modules of `src/<dir>` that `text` names through `super::` (`super::x::f`,
/// `super::{x, y}`).
fn siblings_named(text: &str, siblings: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split("super::").skip(1) {
        let names: Vec<&str> = match part.strip_prefix('{') {
            Some(list) => list.split('}').next().unwrap_or("").split(',').map(|n| n.trim().split("::").next().unwrap_or("")).collect(),
            None => vec![part.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("")],
        };
        out.extend(names.into_iter().filter(|n| siblings.iter().any(|s| s == n)).map(String::from));
    }
    out.sort();
    out.dedup();
    out
}

/// "A press approves a request" must be findable in one place: the bot's modules import each
/// other in one direction only (routing → commands and approvals → replies), never in a circle.
#[test]
fn the_bot_modules_import_each_other_without_cycles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/chat");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    let name = |p: &str| std::path::Path::new(p).file_stem().unwrap().to_string_lossy().to_string();
    let siblings: Vec<String> = files.iter().map(|(p, _)| name(p)).filter(|n| n != "mod").collect();
    let edges: std::collections::BTreeMap<String, Vec<String>> =
        files.iter().filter(|(p, _)| name(p) != "mod").map(|(p, t)| (name(p), siblings_named(t, &siblings))).collect();
    // Depth-first search for a back edge; the path to it is the cycle.
    fn visit(n: &str, edges: &std::collections::BTreeMap<String, Vec<String>>, path: &mut Vec<String>, done: &mut Vec<String>) {
        if done.iter().any(|d| d == n) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == n) {
            panic!("import cycle in src/chat: {} → {n}", path[at..].join(" → "));
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, path, done);
        }
        path.pop();
        done.push(n.to_string());
    }
    assert!(edges.get("handlers").is_some_and(|e| e.contains(&"presses".to_string())), "the parser sees handlers → presses: {edges:?}");
    let mut done = Vec::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn every_dependency_is_named_in_the_architecture_dependencies_table() {
    let manifest = read("Cargo.toml");
    let readme = read("docs/ARCHITECTURE.md");
    let table = readme.split("## Dependencies").nth(1).and_then(|t| t.split("\n## ").next()).expect("docs/ARCHITECTURE.md has a Dependencies section");
    let mut missing = Vec::new();
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let Some((name, _)) = line.split_once('=') else { continue };
        let name = name.trim();
        if matches!(section, "[dependencies]" | "[dev-dependencies]") && !name.is_empty() && !table.contains(&format!("`{name}`")) {
            missing.push(name.to_string());
        }
    }
    assert!(missing.is_empty(), "crates without a line saying why in docs/ARCHITECTURE.md's Dependencies table: {missing:?}");
}

/// A module's name says its role and is the only one of its name: four `digest.rs` in four
/// folders made "the digest code" four places to look (docs/ARCHITECTURE.md "Names").
#[test]
fn every_module_name_is_unique_in_the_tree() {
    let mut files = Vec::new();
    sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, _) in files {
        let name = path.rsplit('/').next().unwrap().to_string();
        if name != "mod.rs" {
            seen.entry(name).or_default().push(path);
        }
    }
    let twice: Vec<_> = seen.into_iter().filter(|(_, paths)| paths.len() > 1).collect();
    assert!(twice.is_empty(), "module names used more than once: {twice:#?}");
}
