//! Packing a dataset folder for upload into wanft's cache (`<cache>/packed/`), so that `upload`
//! and `run` can take a folder: one zip per folder (named after it, plus a tag of its absolute
//! path so that two folders of the same name do not collide), rewritten on each call. Packing
//! is deterministic, so the same folder gives the same bytes, the same SHA-256, and the upload
//! ledger recognises it.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{PackError, PackOptions, Packed, Prepared, prepare};

/// Folder of the cache holding packed zips.
pub const PACKED_DIR: &str = "packed";

/// Why a folder could not be packed into the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(
        "no cache folder to pack `{}` into (set WANFT_CACHE_DIR), or pack it yourself with \
         `wanft pack` and give the zip",
        .0.display()
    )]
    NoCache(PathBuf),
    #[error("cannot pack `{}`: {source}", path.display())]
    Pack {
        path: PathBuf,
        #[source]
        source: PackError,
    },
    #[error("cannot use `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The outcome of [`pack_into_cache`].
pub enum Cached {
    Packed(Box<Packed>),
    /// Refused (errors, or over the size limit): nothing was written; the triage says why.
    Refused(Box<Prepared>),
}

/// Where the zip of the folder at `path` goes inside `cache`.
pub fn zip_path(cache: &Path, path: &Path) -> Result<PathBuf, CacheError> {
    let canonical = path.canonicalize().map_err(|source| CacheError::Io {
        path: path.to_owned(),
        source,
    })?;
    let name = canonical
        .file_name()
        .map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
    let tag = &hex::encode(Sha256::digest(canonical.as_os_str().as_encoded_bytes()))[..12];
    Ok(cache.join(PACKED_DIR).join(format!("{name}-{tag}.zip")))
}

/// Checks and packs the folder at `path` into the cache folder `cache` (`None`: there is
/// none), with `options`.
pub fn pack_into_cache(
    path: &Path,
    cache: Option<&Path>,
    options: &PackOptions,
) -> Result<Cached, CacheError> {
    let Some(cache) = cache else {
        return Err(CacheError::NoCache(path.to_owned()));
    };
    let failed = |source| CacheError::Pack {
        path: path.to_owned(),
        source,
    };
    let prepared = prepare(path, options).map_err(failed)?;
    if !prepared.is_ready() {
        return Ok(Cached::Refused(Box::new(prepared)));
    }
    let out = zip_path(cache, path)?;
    let dir = out.parent().unwrap_or(cache);
    std::fs::create_dir_all(dir).map_err(|source| CacheError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let packed = prepared.write(&out, options).map_err(failed)?;
    Ok(Cached::Packed(Box::new(packed)))
}
