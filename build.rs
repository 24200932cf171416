//! Records the commit wanft is built from, for `wanft --version` (as ripgrep does). Nothing is
//! downloaded: git is asked about the checkout, if there is one. `WANFT_BUILD_COMMIT` overrides
//! it (builds from a source archive, where there is no git).

use std::path::Path;
use std::process::Command;

fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into())
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest_dir())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=WANFT_BUILD_COMMIT");
    let commit = std::env::var("WANFT_BUILD_COMMIT").ok().or_else(|| {
        let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
        let date = git(&["show", "-s", "--format=%cs", "HEAD"])?;
        Some(format!("{hash} {date}"))
    });
    println!(
        "cargo:rustc-env=WANFT_BUILD_COMMIT={}",
        commit.as_deref().unwrap_or("unknown commit")
    );
    // Rebuild when HEAD moves: watch HEAD and the branch it points to (only files that exist:
    // a missing one would make cargo run this script on every build).
    let mut watched = Vec::new();
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watched.push(Path::new(&git_dir).join("HEAD"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(git_dir);
            let common = Path::new(&manifest_dir()).join(common);
            watched.push(common.join(branch));
            watched.push(common.join("packed-refs"));
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
