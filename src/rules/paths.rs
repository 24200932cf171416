//! `P` rules: paths written in data.jsonl and the names of files in the dataset.

use super::{Rule, Severity::*};

pub const NOT_FOUND: Rule = Rule {
    code: "P001",
    name: "file-not-found",
    severity: Error,
    summary: "A path in data.jsonl names no file in the dataset.",
    why: "The platform cannot load the sample; data processing fails the job.",
    fix: "Correct the path (relative to the dataset root, `/`-separated) or add the file.",
};

pub const CASE_MISMATCH: Rule = Rule {
    code: "P002",
    name: "path-case-mismatch",
    severity: Error,
    summary: "A path matches a file only when letter case is ignored.",
    why: "Paths are matched byte for byte on the platform (Linux), even if your machine's \
          file system ignores case.",
    fix: "Write the path exactly as the file is named.",
};

pub const EXTENSION_MISMATCH: Rule = Rule {
    code: "P003",
    name: "path-extension-mismatch",
    severity: Error,
    summary: "A path matches a file only up to its extension (.jpg vs .jpeg, .mp4 vs .mov).",
    why: "The platform looks for the exact name; a different extension is a missing file.",
    fix: "Use the file's real extension in data.jsonl (or rename the file).",
};

pub const ABSOLUTE: Rule = Rule {
    code: "P004",
    name: "absolute-path",
    severity: Error,
    summary: "A path is absolute (/home/…, C:\\…).",
    why: "Paths are resolved inside the zip; an absolute path never exists there.",
    fix: "Write the path relative to the dataset root.",
};

pub const PARENT_DIR: Rule = Rule {
    code: "P005",
    name: "parent-dir-path",
    severity: Error,
    summary: "A path contains a `..` component.",
    why: "Nothing outside the zip is uploaded, and archive tools treat `..` as hostile.",
    fix: "Move the file into the dataset and write a path below the root.",
};

pub const BACKSLASH: Rule = Rule {
    code: "P006",
    name: "backslash-path",
    severity: Error,
    summary: "A path uses `\\` as a separator.",
    why: "Zip member names use `/`; `video\\clip01.mp4` is one odd file name on Linux.",
    fix: "Use `/` between folders.",
};

pub const URL: Rule = Rule {
    code: "P007",
    name: "url-path",
    severity: Error,
    summary: "A path is a URL (http://, https://, oss://, file://).",
    why: "Training data must be inside the uploaded zip; URLs are not fetched.",
    fix: "Download the file into the dataset and reference it by relative path.",
};

pub const DOT_SLASH: Rule = Rule {
    code: "P008",
    name: "dot-slash-path",
    severity: Warning,
    summary: "A path starts with `./`.",
    why: "Undocumented whether the platform normalises `./`; an exact member-name match fails.",
    fix: "Drop the leading `./`.",
};

pub const UNSAFE_NAME: Rule = Rule {
    code: "P009",
    name: "unsafe-file-name",
    severity: Error,
    summary: "A file or path name uses characters other than ASCII letters, digits, `_`, `-`, \
              `.` and `/` (spaces, CJK, brackets…).",
    why: "The platform only promises to handle these characters (tool default: Beijing's wording \
          only recommends it); others break on some upload paths.",
    fix: "Rename the file with letters, digits, `_` and `-` only, and update data.jsonl.",
};

pub const SYMLINK_OUTSIDE: Rule = Rule {
    code: "P010",
    name: "symlink-outside",
    severity: Error,
    summary: "A symbolic link points outside the dataset folder (or is broken).",
    why: "Packing would copy a file from elsewhere on disk into the upload; that is rarely \
          intended and is refused for safety.",
    fix: "Copy the target file into the dataset, or remove the link.",
};

pub const REFERENCED_TWICE: Rule = Rule {
    code: "P011",
    name: "referenced-twice",
    severity: Warning,
    summary: "One media file is referenced by several lines.",
    why: "Repeated clips are trained on more often than the rest and bias the LoRA; often a \
          copy-paste slip.",
    fix: "Give each line its own files, unless the repetition is intended.",
};

pub const UNREFERENCED: Rule = Rule {
    code: "P012",
    name: "unreferenced-file",
    severity: Warning,
    summary: "A file in the dataset is not referenced by any line.",
    why: "It is uploaded for nothing (size, time), and often means a line is missing.",
    fix: "Reference it from data.jsonl or remove it; `wanft pack` leaves it out.",
};

pub const OS_DEBRIS: Rule = Rule {
    code: "P013",
    name: "os-debris",
    severity: Warning,
    summary: "The dataset contains operating-system debris (__MACOSX/, .DS_Store, Thumbs.db, \
              ._* files).",
    why: "Debris is uploaded for nothing and its `._clip.mp4` twins look like media to careless \
          tools.",
    fix: "Delete it (zip -d data.zip '__MACOSX/*' '*.DS_Store'), or let `wanft pack` build the zip.",
};

pub const SUBFOLDER_IN_I2V: Rule = Rule {
    code: "P014",
    name: "subfolder-in-i2v",
    severity: Info,
    summary: "An i2v dataset uses subfolders.",
    why: "The documented i2v layout is flat; subfolders are accepted by our tools but not shown \
          in the platform's examples.",
    fix: "Nothing is required; a flat layout matches the documentation exactly.",
};

pub const HOSTILE_MEMBER: Rule = Rule {
    code: "P015",
    name: "hostile-member-name",
    severity: Error,
    summary: "A zip member name is absolute, contains `..`, or uses `\\`.",
    why: "Such names escape the extraction folder (zip slip); the platform or its unzip may \
          reject the archive.",
    fix: "Rebuild the zip from the dataset folder (`wanft pack`).",
};

pub const WRONG_KIND: Rule = Rule {
    code: "P016",
    name: "wrong-media-kind",
    severity: Error,
    summary: "An image field names a video, or video_path names an image.",
    why: "The platform decodes first/last frames as images and video_path as a video.",
    fix: "Swap the paths into the right fields.",
};

pub const EMPTY_PATH: Rule = Rule {
    code: "P017",
    name: "empty-path",
    severity: Error,
    summary: "A path field is an empty string.",
    why: "An empty path names no file.",
    fix: "Write the file's path relative to the dataset root.",
};

pub const DUPLICATE_MEMBER: Rule = Rule {
    code: "P018",
    name: "duplicate-member",
    severity: Error,
    summary: "A zip holds two members with the same name.",
    why: "Which copy the platform extracts is undefined, so what trains is not what was checked.",
    fix: "Rebuild the zip so that each name appears once (`wanft pack`).",
};

pub const RULES: &[&Rule] = &[
    &NOT_FOUND,
    &CASE_MISMATCH,
    &EXTENSION_MISMATCH,
    &ABSOLUTE,
    &PARENT_DIR,
    &BACKSLASH,
    &URL,
    &DOT_SLASH,
    &UNSAFE_NAME,
    &SYMLINK_OUTSIDE,
    &REFERENCED_TWICE,
    &UNREFERENCED,
    &OS_DEBRIS,
    &SUBFOLDER_IN_I2V,
    &HOSTILE_MEMBER,
    &WRONG_KIND,
    &EMPTY_PATH,
    &DUPLICATE_MEMBER,
];
