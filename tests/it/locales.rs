//! Locale completeness: every key exists in every locale, every key the code uses exists, and
//! every placeholder a message uses is one the code provides (a misspelt `{ $nmae }` fails here).

use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Message id → variables it references, for one .ftl file.
fn messages(src: &str) -> BTreeMap<String, BTreeSet<String>> {
    let res = fluent_syntax::parser::parse(src).unwrap_or_else(|(_, e)| panic!("ftl syntax errors: {e:?}"));
    let all: BTreeMap<String, ast::Pattern<&str>> =
        res.body.iter().filter_map(|e| if let ast::Entry::Message(m) = e { Some((m.id.name.to_string(), m.value.clone()?)) } else { None }).collect();
    all.iter()
        .map(|(id, p)| {
            let mut vars = BTreeSet::new();
            pattern_vars(p, &all, &mut vars, 0);
            (id.clone(), vars)
        })
        .collect()
}

fn pattern_vars(p: &ast::Pattern<&str>, all: &BTreeMap<String, ast::Pattern<&str>>, out: &mut BTreeSet<String>, depth: u8) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expr_vars(expression, all, out, depth);
        }
    }
}

fn expr_vars(e: &ast::Expression<&str>, all: &BTreeMap<String, ast::Pattern<&str>>, out: &mut BTreeSet<String>, depth: u8) {
    match e {
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, all, out, depth);
            for v in variants {
                pattern_vars(&v.value, all, out, depth);
            }
        }
        ast::Expression::Inline(i) => inline_vars(i, all, out, depth),
    }
}

fn inline_vars(i: &ast::InlineExpression<&str>, all: &BTreeMap<String, ast::Pattern<&str>>, out: &mut BTreeSet<String>, depth: u8) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_string());
        }
        ast::InlineExpression::MessageReference { id, .. } if depth < 4 => {
            if let Some(p) = all.get(id.name) {
                pattern_vars(p, all, out, depth + 1);
            }
        }
        ast::InlineExpression::Placeable { expression } => expr_vars(expression, all, out, depth),
        _ => {}
    }
}

fn locales() -> Vec<(String, BTreeMap<String, BTreeSet<String>>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), messages(&std::fs::read_to_string(p.join("ops.ftl")).unwrap())))
        .collect();
    out.sort();
    out
}

/// Every `t!(lang, "key", a = …, b = …)` call in src/: key and argument names.
fn call_sites() -> Vec<(String, String, BTreeSet<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (key, args) in scan(&text) {
                    out.push((p.display().to_string(), key, args));
                }
            }
        }
    }
    out
}

/// Finds `t!(` invocations and splits their top-level arguments (strings and nesting respected).
fn scan(text: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut found = Vec::new();
    for (start, _) in text.match_indices("t!(") {
        let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
        if text[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_') || line.trim_start().starts_with("//") {
            continue;
        }
        let args = top_level_args(&text[start + 3..]);
        let Some(key) = args.get(1).and_then(|k| k.trim().strip_prefix('"')).and_then(|k| k.strip_suffix('"')) else { continue };
        let names = args[2..].iter().filter_map(|a| a.split_once('=').map(|(n, _)| n.trim().to_string())).collect();
        found.push((key.to_string(), names));
    }
    found
}

fn top_level_args(s: &str) -> Vec<String> {
    let (mut depth, mut in_str, mut esc, mut cur, mut args) = (0i32, false, false, String::new(), Vec::new());
    for c in s.chars() {
        if in_str {
            cur.push(c);
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => break,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        args.push(cur);
    }
    args
}

#[test]
fn every_key_exists_in_every_locale_with_the_same_placeholders() {
    let all = locales();
    assert!(all.len() >= 2, "en and zh-CN expected: {:?}", all.iter().map(|(l, _)| l).collect::<Vec<_>>());
    let (base_name, base) = all.iter().find(|(l, _)| l == "en").expect("en locale");
    for (name, msgs) in &all {
        let missing: Vec<_> = base.keys().filter(|k| !msgs.contains_key(*k)).collect();
        let extra: Vec<_> = msgs.keys().filter(|k| !base.contains_key(*k)).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{name}: missing {missing:?}, not in {base_name}: {extra:?}");
        for (k, vars) in msgs {
            assert_eq!(vars, &base[k], "{name}/{k} uses other placeholders than {base_name}/{k}");
        }
    }
}

#[test]
fn every_key_the_code_uses_exists_and_gets_every_placeholder_it_needs() {
    let all = locales();
    let sites = call_sites();
    assert!(sites.len() > 80, "the scanner found only {} t! calls", sites.len());
    for (file, key, args) in &sites {
        for (lang, msgs) in &all {
            let vars = msgs.get(key).unwrap_or_else(|| panic!("{file}: key {key} missing in {lang}"));
            let missing: Vec<_> = vars.difference(args).collect();
            assert!(missing.is_empty(), "{file}: t!(\"{key}\") does not provide {missing:?} used by {lang}");
            let unused: Vec<_> = args.difference(vars).collect();
            assert!(unused.is_empty(), "{file}: t!(\"{key}\") passes {unused:?} which {lang} never uses (misspelt?)");
        }
    }
}

#[test]
fn the_scanner_sees_nested_calls_and_strings() {
    let found = scan(r#"let x = t!(lang, "a-b", n = f(1, 2), s = "x, y)", m = t!(lang, "c")); t!(l, "d")"#);
    let keys: Vec<_> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a-b", "c", "d"]);
    assert_eq!(found[0].1, ["m", "n", "s"].iter().map(|s| s.to_string()).collect());
}
