//! What `doctor` found, one line per finding, printed as it is found; the exit code comes from
//! the errors among them.

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Checked and fine.
    Ok,
    /// Works, but probably not as intended.
    Warn,
    /// Broken: the exit code says so.
    Error,
}

/// What doctor found, in the order checked.
#[derive(Debug, Default)]
pub struct Findings(Vec<(Level, String)>);

impl Findings {
    /// Records and prints one finding.
    pub fn add(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        let tag = match level {
            Level::Ok => "ok   ",
            Level::Warn => "WARN ",
            Level::Error => "ERROR",
        };
        say!("{tag} {text}");
        self.0.push((level, text));
    }
    /// Shorthands.
    pub fn ok(&mut self, text: impl Into<String>) {
        self.add(Level::Ok, text)
    }
    /// A warning.
    pub fn warn(&mut self, text: impl Into<String>) {
        self.add(Level::Warn, text)
    }
    /// An error.
    pub fn error(&mut self, text: impl Into<String>) {
        self.add(Level::Error, text)
    }
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.0.iter().filter(|(l, _)| *l == Level::Error).count()
    }
}
