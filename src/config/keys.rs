//! Keys nobody reads: a typo (`"enable": true`, `tickSecond`, `polcy`) would otherwise leave a job
//! silently unmonitored. Each becomes a warning with its path and the closest known key; a
//! warning never fails a file (a config the Python tool accepts still loads).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One warning per key of `root` that the reader never asked for, in file order.
pub fn unknown_keys(root: &Value, known: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    walk(root, "", known, &mut out);
    out
}

fn walk(v: &Value, at: &str, known: &BTreeMap<String, BTreeSet<String>>, out: &mut Vec<String>) {
    match v {
        // An object the reader never looked into (wrong type, already an error) is not walked.
        Value::Object(m) => {
            let Some(keys) = known.get(at) else { return };
            for (k, x) in m {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                if keys.contains(k) {
                    walk(x, &path, known, out);
                } else {
                    out.push(warning(&path, k, keys));
                }
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{at}[{i}]"), known, out)),
        _ => {}
    }
}

/// Keys of the Python tool's format this implementation reads no value from, and why.
const PYTHON_ONLY: [(&str, &str); 1] = [("reportWhileRunning", "routine progress follows reportEverySeconds (0 disables it)")];

fn warning(path: &str, key: &str, keys: &BTreeSet<String>) -> String {
    if let Some((_, why)) = PYTHON_ONLY.iter().find(|(k, _)| *k == key) {
        return format!("{path}: from the Python format, ignored: {why}");
    }
    match closest(key, keys) {
        Some(k) => format!("{path}: unknown key, ignored; did you mean `{k}`?"),
        None => format!("{path}: unknown key, ignored (known here: {})", keys.iter().map(String::as_str).collect::<Vec<_>>().join(", ")),
    }
}

/// The known key nearest to `key` (case-insensitive edit distance counting a swap of two
/// neighbouring letters as one edit: `stauts` is `status`), when it is plausibly a typo.
fn closest<'a>(key: &str, keys: &'a BTreeSet<String>) -> Option<&'a str> {
    let lower = key.to_lowercase();
    let (dist, best) = keys.iter().map(|k| (strsim::osa_distance(&lower, &k.to_lowercase()), k.as_str())).min()?;
    (dist <= 2.max(key.chars().count() / 3)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_closest_known_key_and_strangers_get_the_list() {
        let keys: BTreeSet<String> = ["enabled", "policy", "tickSeconds", "allowedChatIds"].iter().map(|s| s.to_string()).collect();
        assert_eq!(closest("enable", &keys), Some("enabled"));
        assert_eq!(closest("polcy", &keys), Some("policy"));
        assert_eq!(closest("tickSecond", &keys), Some("tickSeconds"));
        assert_eq!(closest("allowedChatIDs", &keys), Some("allowedChatIds"));
        let commands: BTreeSet<String> = ["start", "status", "stop", "run"].iter().map(|s| s.to_string()).collect();
        assert_eq!(closest("stauts", &commands), Some("status"), "two letters swapped are one typo");
        assert_eq!(closest("description", &keys), None);
        assert!(warning("jobs[0].description", "description", &keys).contains("known here: allowedChatIds, enabled"));
    }
}
