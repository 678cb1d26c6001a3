//! The one reading of a cron expression, shared by validation (here) and the schedule math
//! (`policy::cron`), so what validate-config accepts is exactly what runs.

use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// Parses `expr` as 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds
/// first; nicknames such as `@daily` work too, a seventh (year) field does not. The error is
/// croner's reason, for a message naming the JSON path.
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    if expr.split_whitespace().count() > 6 {
        return Err("too many fields: use 5 (minute hour day month weekday) or 6 with seconds first".into());
    }
    CronParser::builder().seconds(Seconds::Optional).year(Year::Disallowed).build().parse(expr).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_or_six_fields_and_nothing_else() {
        for ok in ["30 3 * * *", "*/2 * * * * *", "0 9 1 * *", "0 7 * * MON", "@daily"] {
            assert!(parse_cron(ok).is_ok(), "{ok}: {:?}", parse_cron(ok).err());
        }
        for bad in ["", "61 * * * *", "* * * *", "0 0 0 * * * 2030", "every day", "30 3 * * * * * *"] {
            assert!(parse_cron(bad).is_err(), "{bad:?} is not a schedule");
        }
    }
}
