//! wanft's cache folder, shared by every command that keeps something between runs: the upload
//! ledger, fixed media copies, zips packed for upload.

use std::path::PathBuf;

/// Environment variable naming the cache folder.
pub const CACHE_ENV: &str = "WANFT_CACHE_DIR";

/// `$WANFT_CACHE_DIR`, else the user's cache folder (`~/.cache/wanft` on Linux); `None` when
/// neither is known.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_ENV) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|dir| dir.join("wanft")),
    }
}
