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
