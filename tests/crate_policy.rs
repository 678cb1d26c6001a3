//! The crate's own rules about code it does not hand-write: unsafe is forbidden crate-wide, and
//! system calls, randomness and HTML escaping come from kept crates (README "Dependencies").

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

/// The layers of README "How the code is laid out": the bot (src/telegram) holds no SQL and never
/// reaches back into the daemon that wires it; render, store, core and config import nothing from
/// the imperative shell above them.
#[test]
fn layers_point_down_only_and_the_bot_holds_no_sql() {
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
    for (path, text) in files("telegram") {
        for needle in sql {
            let hits: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
            assert!(hits.is_empty(), "{path}: SQL belongs in src/store ({needle}): {hits:?}");
        }
        assert!(!text.contains(&["crate::", "daemon"].concat()), "{path}: the bot must not import the daemon");
    }
    let above = |layer: &str| -> Vec<String> {
        match layer {
            "config" => vec!["core", "store", "render", "shell", "telegram", "daemon", "cli", "watch"],
            "core" => vec!["store", "render", "shell", "telegram", "daemon", "cli", "watch"],
            "store" | "render.rs" => vec!["shell", "telegram", "daemon", "cli", "watch"],
            _ => vec![],
        }
        .into_iter()
        .map(|m| format!("crate::{m}::"))
        .collect()
    };
    for layer in ["config", "core", "store", "render.rs"] {
        for (path, text) in files(layer) {
            for up in above(layer) {
                assert!(!text.contains(&up), "{path} reaches up into {up}");
            }
        }
    }
}
