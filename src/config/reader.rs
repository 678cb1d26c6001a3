//! Typed getters over a JSON object that record a path-named issue for each wrong value.
//! Hand-written on purpose: serde stops at the first error, and the contract is every error of
//! a file at once, each named by its JSON path (`jobs[3].commands.status`).

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// JSON path such as `jobs[2].commands.status`, or `line 3, column 7` for syntax errors.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Collects issues while values are read; absent keys are not errors. It also remembers every
/// key it was asked for, per object, so that keys nobody reads can be named afterwards
/// ([`super::keys::unknown_keys`]) without a second list of the format to keep in step.
#[derive(Default)]
pub struct Reader {
    /// Everything found so far.
    pub issues: Vec<Issue>,
    /// JSON path of an object (`""` for the root) → the keys read from it.
    pub known: BTreeMap<String, BTreeSet<String>>,
}

impl Reader {
    /// Records one problem at `path`.
    pub fn err(&mut self, path: &str, message: impl Into<String>) {
        self.issues.push(Issue { path: path.to_string(), message: message.into() });
    }

    /// Marks the key at JSON path `at` (`jobs[0].policy.autoResume`) as part of the format.
    pub fn known(&mut self, at: &str) {
        let (parent, key) = at.rsplit_once('.').unwrap_or(("", at));
        self.known.entry(parent.to_string()).or_default().insert(key.to_string());
    }

    fn typed<'a, T>(&mut self, o: &'a Map<String, Value>, k: &str, at: &str, want: &str, f: impl Fn(&'a Value) -> Option<T>) -> Option<T> {
        self.known(at);
        let v = o.get(k)?;
        if v.is_null() {
            return None;
        }
        let got = f(v);
        if got.is_none() {
            self.err(at, format!("must be {want}, found {}", describe(v)));
        }
        got
    }

    /// A non-negative integer.
    pub fn u64(&mut self, o: &Map<String, Value>, k: &str, at: &str) -> Option<u64> {
        self.typed(o, k, at, "a non-negative integer", Value::as_u64)
    }

    /// A boolean.
    pub fn bool(&mut self, o: &Map<String, Value>, k: &str, at: &str) -> Option<bool> {
        self.typed(o, k, at, "true or false", Value::as_bool)
    }

    /// A non-empty string.
    pub fn string(&mut self, o: &Map<String, Value>, k: &str, at: &str) -> Option<String> {
        self.typed(o, k, at, "a non-empty string", |v| v.as_str().filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()))
    }

    /// An object.
    pub fn object<'a>(&mut self, o: &'a Map<String, Value>, k: &str, at: &str) -> Option<&'a Map<String, Value>> {
        self.typed(o, k, at, "an object", Value::as_object)
    }

    /// A list of integer ids (numbers or numeric strings, as openclaw.json writes them).
    pub fn ids(&mut self, o: &Map<String, Value>, k: &str, at: &str) -> Option<Vec<i64>> {
        self.typed(o, k, at, "a list of integer ids", |v| v.as_array()?.iter().map(parse_id).collect())
    }

    /// "HH:MM" as minutes after midnight.
    pub fn hhmm(&mut self, o: &Map<String, Value>, k: &str, at: &str) -> Option<u16> {
        self.known(at);
        if o.get(k).is_none_or(Value::is_null) {
            self.err(at, "is required (\"HH:MM\")");
            return None;
        }
        self.typed(o, k, at, "a time \"HH:MM\" (00:00-23:59)", |v| parse_hhmm(v.as_str()?))
    }

    /// A non-empty list of non-empty strings (an argv; no shell).
    pub fn argv(&mut self, v: &Value, at: &str) -> Option<Vec<String>> {
        let ok = v
            .as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(|x| x.as_str().filter(|s| !s.is_empty()).map(str::to_string)).collect::<Option<Vec<_>>>());
        if ok.is_none() {
            self.err(at, format!("must be a non-empty list of non-empty strings (an argv, no shell), found {}", describe(v)));
        }
        ok
    }
}

/// Parses a chat/user id given as a number or a numeric string.
pub fn parse_id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses "HH:MM" (two digits each) into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let b = s.trim().as_bytes();
    if b.len() != 5 || b[2] != b':' || !b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit()) {
        return None;
    }
    let h = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let m = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// A short description of a JSON value's type for error messages.
pub fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    // The value itself, when short: `found a string "8:00"` says what to fix.
    let shown = v.to_string();
    match v {
        Value::Null | Value::Object(_) => kind.to_string(),
        _ if shown.chars().count() <= 40 => format!("{kind} {shown}"),
        _ => kind.to_string(),
    }
}
