//! The toolchain the README promises is the one the locked dependencies need: `rust-version`
//! in Cargo.toml equals the highest `rust-version` among the packages a user's build compiles
//! (normal and build dependencies on this platform; dev-dependencies only build the tests).

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[test]
fn rust_version_is_what_the_locked_dependencies_need() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let host = String::from_utf8(
        Command::new("rustc")
            .args(["--print", "host-tuple"])
            .output()
            .expect("rustc runs")
            .stdout,
    )
    .unwrap();
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", host.trim()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages: HashMap<&str, &Value> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let nodes: HashMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let root = meta["resolve"]["root"].as_str().unwrap();

    // Everything a `cargo install` compiles: follow every edge that is not dev-only.
    let mut reached = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if !reached.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let kinds = dep["dep_kinds"].as_array().unwrap();
            if kinds.iter().any(|k| k["kind"].as_str() != Some("dev")) {
                stack.push(dep["pkg"].as_str().unwrap());
            }
        }
    }
    assert!(reached.len() > 50, "the dependency graph looks empty");
    let needed = reached
        .iter()
        .filter(|id| **id != root)
        .filter_map(|id| {
            let p = packages[id];
            Some((p["rust_version"].as_str()?, p["name"].as_str().unwrap()))
        })
        .max_by_key(|(v, _)| version_key(v))
        .expect("some dependency declares a rust-version");
    let ours = packages[root]["rust_version"]
        .as_str()
        .expect("Cargo.toml declares rust-version");
    assert_eq!(
        version_key(ours).get(..2),
        version_key(needed.0).get(..2),
        "Cargo.toml says rust-version {ours}, but {} needs {}: set rust-version to what the \
         locked dependencies need (and the README's install section with it)",
        needed.1,
        needed.0
    );
    let readme = include_str!("../README.md");
    let minor: Vec<String> = version_key(ours)[..2].iter().map(u64::to_string).collect();
    assert!(
        readme.contains(&format!("Rust {} or newer", minor.join("."))),
        "the README's install section must name Rust {} or newer",
        minor.join(".")
    );
}
