//! Helpers shared by the `pack_*` tests: running the binary, hashing files and folders, and
//! listing what a pack left behind.
#![allow(dead_code)] // each test binary uses a different part

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sha2::{Digest, Sha256};

/// `wanft` with no API key and a private cache folder (fixed copies go under `cache`).
pub fn wanft(cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wanft").unwrap();
    cmd.env_remove("DASHSCOPE_API_KEY")
        .env("WANFT_CACHE_DIR", cache)
        .env("NO_COLOR", "1");
    cmd
}

pub fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

/// Every file under `dir` (relative path, SHA-256 of its content), sorted: equal before and
/// after means nothing in the folder was touched.
pub fn tree_digest(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, sha256_file(e.path()))
        })
        .collect();
    out.sort();
    out
}

/// The names in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Temporary files a pack left in `dir`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.contains(".wanft-tmp-"))
        .collect()
}

/// The members of a zip, in order, with their contents.
pub fn members(zip: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut member = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            member.read_to_end(&mut bytes).unwrap();
            (
                String::from_utf8(member.name_raw().to_vec()).unwrap(),
                bytes,
            )
        })
        .collect()
}

/// A scratch folder with `out/` for zips and `cache/` for fixed copies.
pub struct Scratch {
    _dir: tempfile::TempDir,
    pub out: PathBuf,
    pub cache: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let cache = dir.path().join("cache");
        fs::create_dir_all(&out).unwrap();
        Scratch {
            _dir: dir,
            out,
            cache,
        }
    }

    pub fn zip(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    pub fn wanft(&self) -> Command {
        wanft(&self.cache)
    }
}
