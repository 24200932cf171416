//! MD5 of uploaded files (native records carry `md5`), computed off the upload's critical path.
//!
//! Hashing 1 GB with MD5 takes longer than receiving it over loopback, so uploads are answered as
//! soon as the file is on disk and hashed afterwards, once: a background task starts right after
//! the upload, and a native `GET` that needs the digest earlier waits for that same computation
//! (or starts it, e.g. after a restart interrupted it). The result is saved in the file record.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use md5::{Digest, Md5};
use tokio::sync::OnceCell;

use super::Shared;
use super::error::ApiError;

/// One digest computation per file, shared by everyone who needs it.
#[derive(Debug, Default)]
pub struct Digests {
    cells: Mutex<HashMap<String, Arc<OnceCell<String>>>>,
}

impl Digests {
    fn cell(&self, file_id: &str) -> Arc<OnceCell<String>> {
        self.cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(file_id.to_owned())
            .or_default()
            .clone()
    }

    /// Drops the cached digest of a deleted file.
    pub fn forget(&self, file_id: &str) {
        self.cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(file_id);
    }
}

/// The MD5 of stored file `file_id`: from its record, else computed (once) and recorded.
pub async fn md5_of(shared: &Shared, file_id: &str) -> Result<String, ApiError> {
    let recorded = shared
        .store
        .read(|state, _| state.file(file_id).map(|f| f.md5.clone()))?
        .ok_or_else(ApiError::not_found)?;
    if let Some(md5) = recorded {
        return Ok(md5);
    }
    let path = shared.store.blob_dir().join(file_id);
    let md5 = shared
        .digests
        .cell(file_id)
        .get_or_try_init(|| hash_in_background(path))
        .await
        .map_err(|e| ApiError::internal(format!("the file could not be hashed: {e}")))?
        .clone();
    shared.store.write(|state, _| {
        if let Some(file) = state.db.files.iter_mut().find(|f| f.id == file_id) {
            file.md5 = Some(md5.clone());
        }
        Ok(())
    })?;
    Ok(md5)
}

/// Starts hashing a freshly stored file without waiting for the result.
pub fn schedule(shared: &Arc<Shared>, file_id: String) {
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        // A file deleted meanwhile simply has no digest to record.
        let _ = md5_of(&shared, &file_id).await;
    });
}

async fn hash_in_background(path: PathBuf) -> io::Result<String> {
    tokio::task::spawn_blocking(move || hash_file(&path))
        .await
        .map_err(io::Error::other)?
}

fn hash_file(path: &std::path::Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn hashes_files_like_md5sum() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"The quick brown fox jumps over the lazy dog")
            .expect("write");
        assert_eq!(
            hash_file(file.path()).expect("hash"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
    }
}
