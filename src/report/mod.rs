//! Rendering check results: one module per output format (text, JSON, SARIF, GitHub Actions
//! annotations).
//!
//! Renderers write to any `io::Write`; colour is expressed as ANSI styles and the caller's
//! stream decides whether to keep them (`anstream` strips them when colour is off).

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

/// `1.5 MB`-style sizes (decimal units, like the platform's limits).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `1 min 05.2 s`-style durations.
pub fn human_seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        let m = (s / 60.0).floor();
        format!("{m:.0} min {:04.1} s", s - m * 60.0)
    }
}

/// `n thing` / `n things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_073_741_824), "1.1 GB");
        assert_eq!(human_bytes(2_500_000), "2.5 MB");
        assert_eq!(human_seconds(4.25), "4.2 s");
        assert_eq!(human_seconds(65.2), "1 min 05.2 s");
        assert_eq!(plural(1, "error", "errors"), "1 error");
        assert_eq!(plural(0, "error", "errors"), "0 errors");
    }
}
