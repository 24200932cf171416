//! The rule engine: a registry of rules with stable codes, and the checks that emit findings.
//!
//! Codes are grouped by family, one module each:
//!
//! | prefix | family | module |
//! |---|---|---|
//! | `J` | `data.jsonl` and layout | [`manifest`] |
//! | `P` | paths and archive members | [`paths`] |
//! | `M` | media files | [`media`] |
//! | `D` | decoded pictures (`--deep`) | [`deep`] |
//! | `T` | prompts | [`prompts`] |
//! | `S` | sample counts and sizes | [`size`] |
//! | `H` | hyper-parameters | [`hyper`] |
//! | `Z` | zip archive structure | [`archive`] |

pub mod archive;
pub mod baseline;
pub mod deep;
mod finding;
pub mod hyper;
pub mod manifest;
pub mod media;
pub mod paths;
pub mod prompts;
pub mod selection;
pub mod size;

pub use finding::{Finding, Findings, Location, MAX_PER_RULE, Rule, Severity};
pub use selection::{RuleSelection, Selector, Suppression};

/// Every rule, in code order.
pub fn all() -> Vec<&'static Rule> {
    let mut rules: Vec<&'static Rule> = manifest::RULES
        .iter()
        .chain(paths::RULES)
        .chain(media::RULES)
        .chain(deep::RULES)
        .chain(prompts::RULES)
        .chain(size::RULES)
        .chain(hyper::RULES)
        .chain(archive::RULES)
        .copied()
        .collect();
    rules.sort_by_key(|r| (family_rank(r.code), r.code));
    rules
}

fn family_rank(code: &str) -> usize {
    "JPMDTSHZ".find(&code[..1]).unwrap_or(usize::MAX)
}

/// The rule reference as Markdown (`docs/rules.md` is this text; a test keeps them equal).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules\n\nEvery check wanft runs, by code. Codes are stable: a code never changes \
         meaning, and a retired code is not reused. `wanft explain CODE` prints one entry; \
         `wanft rules --format json` lists them for tools.\n\n\
         Severities: **error**, the platform rejects the dataset or the training is wasted \
         (exit status 1); **warning**, the result is degraded or money is spent for nothing \
         (exit status 1 with `--strict`); **info**, worth knowing.\n",
    );
    let families = [
        ('J', "data.jsonl and layout"),
        ('P', "Paths and archive members"),
        ('M', "Media files"),
        ('D', "Decoded pictures (`wanft check --deep`)"),
        ('T', "Prompts"),
        ('S', "Sample counts and sizes"),
        ('H', "Hyper-parameters (`wanft plan`, `wanft jobs create`)"),
        ('Z', "Zip archive structure"),
    ];
    let rules = all();
    for (prefix, title) in families {
        out.push_str(&format!(
            "\n## {prefix}: {title}\n\n| code | name | severity | checks |\n|---|---|---|---|\n"
        ));
        for r in rules.iter().filter(|r| r.code.starts_with(prefix)) {
            out.push_str(&format!(
                "| [{code}](#{anchor}) | `{name}` | {sev} | {summary} |\n",
                code = r.code,
                anchor = r.code.to_lowercase(),
                name = r.name,
                sev = r.severity,
                summary = r.summary.replace('|', "\\|"),
            ));
        }
    }
    for r in &rules {
        out.push_str(&format!(
            "\n### {}\n\n`{}`, {}. {}\n\n**Why:** {}\n\n**Fix:** {}\n",
            r.code, r.name, r.severity, r.summary, r.why, r.fix
        ));
        let thresholds = crate::deep::Settings::default().lines_of(r.code);
        if !thresholds.is_empty() {
            let shown: Vec<String> = thresholds.iter().map(|l| format!("`{l}`")).collect();
            out.push_str(&format!(
                "\n**Thresholds** (`[deep]` in wanft.toml, defaults): {}\n",
                shown.join(", ")
            ));
        }
    }
    out
}

/// Finds a rule by code (`J009`, case-insensitive) or by name (`invalid-json`).
pub fn find(key: &str) -> Option<&'static Rule> {
    all()
        .into_iter()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let rules = all();
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for r in &rules {
            assert!(codes.insert(r.code), "duplicate code {}", r.code);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert_eq!(r.code.len(), 4, "{}", r.code);
            assert!(
                r.code[1..].chars().all(|c| c.is_ascii_digit()),
                "{}",
                r.code
            );
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.name
            );
            for text in [r.summary, r.why, r.fix] {
                assert!(!text.trim().is_empty(), "{} lacks documentation", r.code);
            }
        }
    }

    #[test]
    fn rules_reference_page_is_current() {
        // Regenerate with: cargo run -- rules --format markdown > docs/rules.md
        let page = include_str!("../../docs/rules.md");
        assert!(page == markdown(), "docs/rules.md is stale: regenerate it");
    }

    #[test]
    fn lookup_by_code_or_name() {
        let r = all()[0];
        assert_eq!(find(&r.code.to_lowercase()), Some(r));
        assert_eq!(find(r.name), Some(r));
        assert_eq!(find("X999"), None);
    }
}
