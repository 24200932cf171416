//! Rendering check results: one module per output format (text, JSON, SARIF, GitHub Actions
//! annotations).
//!
//! Renderers write to any `io::Write`; colour is expressed as ANSI styles and the caller's
//! stream decides whether to keep them (`anstream` strips them when colour is off).

pub mod github;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::path::{Path, PathBuf};

use crate::rules::Finding;
use crate::rules::selection::relative_label;

/// The file a finding concerns, as CI services attach annotations to it: the dataset path
/// joined with the member for a folder (the zip itself for a zip), relative to the root of the
/// git repository that holds it, else to the current folder, `/`-separated.
pub fn ci_path(input: &Path, finding: &Finding) -> String {
    let file = match &finding.location.file {
        Some(member) if input.is_dir() => input.join(member),
        _ => input.to_path_buf(),
    };
    relative_to_root(&file)
}

/// `path` relative to the enclosing git repository's root (else the current folder), as
/// `/`-separated text; absolute when it lies outside both.
pub fn relative_to_root(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = git_root(&cwd).unwrap_or_else(|| cwd.clone());
    let label = relative_label(&cwd.join(path), &root);
    if label.is_empty() {
        ".".to_owned()
    } else {
        label
    }
}

/// The nearest ancestor of `dir` holding `.git` (a folder, or a file in a worktree).
fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `text` with control characters written as escapes (`\n`, `\r`, `\t`, `\0`,
/// `\u{1b}`…), for text meant for a terminal or a CI log: a file name holding a newline must not
/// start a line of its own (a forged `::error` command in a GitHub log), nor an escape
/// sequence rewrite the screen.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

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
