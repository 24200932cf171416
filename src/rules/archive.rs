//! `Z` rules: the structure of a zip, held to what careful extractors accept.
//!
//! The directory's problems ([`zip_index::Problem`]) are found when the zip is opened, and a zip
//! with any is not read further; damaged data (CRC-32, sizes) is found while members are read.

use super::{Finding, Findings, Location, Rule, Severity::*};
use crate::dataset::Source;
use crate::dataset::zip_index::{
    MAX_DIRECTORY_BYTES, MAX_INFLATED_BYTES, MAX_MEMBERS, MAX_NAME_BYTES, MAX_RATIO, Problem,
};

pub const OVERLAP: Rule = Rule {
    code: "Z001",
    name: "zip-overlapping-members",
    severity: Error,
    summary: "Two zip members share bytes of the archive, or a member runs into the central \
              directory.",
    why: "This is how zip bombs make one small deflate stream inflate once per member; \
          extractors (Info-ZIP's unzip) refuse such archives, and what each member holds is not \
          what its entry says.",
    fix: "Rebuild the zip from the dataset folder (`wanft pack`).",
};

pub const NAME_MISMATCH: Rule = Rule {
    code: "Z002",
    name: "zip-name-mismatch",
    severity: Error,
    summary: "A member's local header names a different file than the central directory.",
    why: "Extractors disagree on which of the two names wins, so the platform may extract \
          another file than the one checked.",
    fix: "Rebuild the zip from the dataset folder (`wanft pack`).",
};

pub const DAMAGED: Rule = Rule {
    code: "Z003",
    name: "zip-data-damaged",
    severity: Error,
    summary: "A member's data does not match its CRC-32, or ends before (or goes on after) its \
              declared size.",
    why: "The archive is corrupt: extractors stop at the member, and what would train is not \
          what was checked.",
    fix: "Re-create the zip from the original files (`wanft pack`); if the files themselves \
          are damaged, restore them first.",
};

pub const CONTROL_CHARACTERS: Rule = Rule {
    code: "Z004",
    name: "zip-control-characters",
    severity: Error,
    summary: "A member name holds NUL or other control characters.",
    why: "Extractors cut names at NUL (`clip01.mp4\\0.txt` becomes `clip01.mp4`, overwriting \
          another member) or refuse them; control characters also rewrite terminal output.",
    fix: "Rename the file with letters, digits, `_`, `-` and `.` only, and rebuild the zip.",
};

pub const TOO_MANY_MEMBERS: Rule = Rule {
    code: "Z005",
    name: "zip-too-many-members",
    severity: Error,
    summary: "The zip has more than 100,000 members, or a central directory over 32 MiB.",
    why: "No dataset has that many files; archives like this are built to exhaust the memory of \
          whatever indexes them, so wanft does not read them.",
    fix: "Split the dataset over several zips, or remove what is not referenced \
          (`wanft pack` keeps only referenced files).",
};

pub const INFLATED_TOO_LARGE: Rule = Rule {
    code: "Z006",
    name: "zip-inflated-too-large",
    severity: Error,
    summary: "The members inflate to more than 4 GiB together.",
    why: "The upload limit is 1 GB; an archive inflating to several times that is a zip bomb or \
          cannot be uploaded anyway.",
    fix: "Trim or downscale clips (`wanft pack --fix`), or split the samples over several zips.",
};

pub const RATIO: Rule = Rule {
    code: "Z007",
    name: "zip-compression-ratio",
    severity: Error,
    summary: "A member larger than 32 MiB inflates to more than 100 times its stored size.",
    why: "Media and captions compress far less; such a ratio is a decompression bomb, which \
          extractors refuse.",
    fix: "Rebuild the zip from the dataset folder (`wanft pack`).",
};

pub const BROKEN_HEADER: Rule = Rule {
    code: "Z008",
    name: "zip-broken-member",
    severity: Error,
    summary: "A member's local header is missing or disagrees with the central directory, or \
              its data lies outside the archive.",
    why: "Extractors cannot find or trust the member's data; the platform's data processing \
          fails on it.",
    fix: "Re-create the zip from the original files (`wanft pack`).",
};

pub const NAME_TOO_LONG: Rule = Rule {
    code: "Z009",
    name: "zip-name-too-long",
    severity: Error,
    summary: "A member name is longer than 1,024 bytes.",
    why: "File systems take 255 bytes per name and 4,096 per path; extraction fails, and names \
          this long only serve to slow down whatever compares them.",
    fix: "Give the file a short name and update data.jsonl.",
};

pub const RULES: &[&Rule] = &[
    &OVERLAP,
    &NAME_MISMATCH,
    &DAMAGED,
    &CONTROL_CHARACTERS,
    &TOO_MANY_MEMBERS,
    &INFLATED_TOO_LARGE,
    &RATIO,
    &BROKEN_HEADER,
    &NAME_TOO_LONG,
];

/// The problems of the zip's directory, one finding each.
pub fn check(source: &Source, findings: &mut Findings) {
    for problem in source.archive_problems() {
        findings.push(finding(problem));
    }
}

/// Members found damaged while they were read.
pub fn check_damage(source: &Source, findings: &mut Findings) {
    for damage in source.damage() {
        findings.push(Finding::new(
            &DAMAGED,
            Location::file(damage.member.clone()),
            format!("the member's data is damaged: {}", damage.detail),
        ));
    }
}

fn finding(problem: &Problem) -> Finding {
    let at = problem
        .member()
        .map_or_else(Location::dataset, Location::file);
    match problem {
        Problem::TooManyMembers {
            members,
            directory_bytes,
        } => Finding::new(
            &TOO_MANY_MEMBERS,
            at,
            if *members > MAX_MEMBERS {
                format!("the zip declares {members} members; at most {MAX_MEMBERS} are read")
            } else {
                format!(
                    "the zip's central directory is {directory_bytes} bytes; at most \
                     {MAX_DIRECTORY_BYTES} are read"
                )
            },
        ),
        Problem::Overlap { member, other } => Finding::new(
            &OVERLAP,
            at,
            match other {
                Some(other) => format!("`{member}` shares bytes with `{other}`"),
                None => format!("the data of `{member}` runs into the central directory"),
            },
        ),
        Problem::NameMismatch { member, local } => Finding::new(
            &NAME_MISMATCH,
            at,
            format!("the directory names `{member}`, its local header `{local}`"),
        ),
        Problem::ControlCharacters { member } => Finding::new(
            &CONTROL_CHARACTERS,
            at,
            format!("the member name `{member}` holds control characters"),
        ),
        Problem::NameTooLong { member, bytes } => Finding::new(
            &NAME_TOO_LONG,
            at,
            format!("the member name `{member}` is {bytes} bytes; the limit is {MAX_NAME_BYTES}"),
        ),
        Problem::InflatedTooLarge { bytes } => Finding::new(
            &INFLATED_TOO_LARGE,
            at,
            format!(
                "the members inflate to {bytes} bytes together; the limit is \
                 {MAX_INFLATED_BYTES}"
            ),
        ),
        Problem::Ratio {
            member,
            compressed,
            uncompressed,
        } => Finding::new(
            &RATIO,
            at,
            format!(
                "`{member}` inflates from {compressed} to {uncompressed} bytes, more than \
                 {MAX_RATIO} times"
            ),
        ),
        Problem::BrokenHeader { member, reason } => {
            Finding::new(&BROKEN_HEADER, at, format!("`{member}`: {reason}"))
        }
    }
}

/// A zip's problems as one line, for places that cannot list findings (an error message).
pub fn summary(problems: &[Problem]) -> Option<String> {
    let first = problems.first()?;
    let f = finding(first);
    Some(match problems.len() {
        1 => format!("{} {}", f.rule.code, f.message),
        n => format!(
            "{} {} (and {} more problems)",
            f.rule.code,
            f.message,
            n - 1
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::zip_index;

    #[test]
    fn every_problem_has_its_rule() {
        let member = || "a.mp4".to_string();
        let cases = [
            (
                Problem::TooManyMembers {
                    members: MAX_MEMBERS + 1,
                    directory_bytes: 0,
                },
                "Z005",
            ),
            (
                Problem::Overlap {
                    member: member(),
                    other: None,
                },
                "Z001",
            ),
            (
                Problem::NameMismatch {
                    member: member(),
                    local: "b".into(),
                },
                "Z002",
            ),
            (Problem::ControlCharacters { member: member() }, "Z004"),
            (
                Problem::NameTooLong {
                    member: member(),
                    bytes: 2000,
                },
                "Z009",
            ),
            (Problem::InflatedTooLarge { bytes: 1 << 40 }, "Z006"),
            (
                Problem::Ratio {
                    member: member(),
                    compressed: 1,
                    uncompressed: 1 << 30,
                },
                "Z007",
            ),
            (
                Problem::BrokenHeader {
                    member: member(),
                    reason: "x".into(),
                },
                "Z008",
            ),
        ];
        for (problem, code) in cases {
            let f = finding(&problem);
            assert_eq!(f.rule.code, code);
            assert_eq!(f.location.file.as_deref(), problem.member());
        }
        assert_eq!(zip_index::escape_name("a\0b\nc"), "a\\0b\\nc");
    }
}
