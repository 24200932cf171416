//! Minting identifiers in the platform's shapes (spec §1.3), from a seeded generator.
//!
//! Clients must not parse these ids; the emulator mints the same shapes anyway so that a client
//! that accidentally relies on a shape fails here first rather than in production.

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

use super::clock::EmuTime;

/// Source of every random identifier. Seeded, so runs with the same `--seed` mint the same ids.
#[derive(Debug)]
pub struct IdMinter {
    rng: StdRng,
}

impl IdMinter {
    pub fn new(seed: u64) -> Self {
        IdMinter {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn hex(&mut self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        self.rng.fill_bytes(&mut buf);
        hex::encode(buf)
    }

    /// A random (version 4) UUID: native file ids, task ids, request ids.
    pub fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }

    /// Compatible-mode file id: `file-ft-<hex>`.
    pub fn compatible_file_id(&mut self) -> String {
        format!("file-ft-{}", self.hex(16))
    }

    /// Job id: `ft-<yyyyMMddHHmm>-<4 chars>`, stamped with the emulated creation time.
    pub fn job_id(&mut self, created: EmuTime) -> String {
        format!("ft-{}-{}", created.id_stamp(), self.hex(2))
    }

    /// Workspace id: `llm-<chars>`.
    pub fn workspace_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let chars: String = (0..16)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect();
        format!("llm-{chars}")
    }

    /// A numeric account id such as `1234567890123456`.
    pub fn account_number(&mut self) -> String {
        self.rng
            .random_range(1_000_000_000_000_000u64..10_000_000_000_000_000)
            .to_string()
    }

    /// A secret for signing blob URLs.
    pub fn secret(&mut self) -> String {
        self.hex(32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_the_spec() {
        let mut ids = IdMinter::new(7);
        let file = ids.compatible_file_id();
        assert!(
            file.starts_with("file-ft-") && file.len() == 8 + 32,
            "{file}"
        );
        let job = ids.job_id(EmuTime::from_millis(1_762_860_142_294));
        assert!(
            job.starts_with("ft-202511111122-") && job.len() == 20,
            "{job}"
        );
        let uuid = ids.uuid();
        assert_eq!(
            uuid::Uuid::parse_str(&uuid).map(|u| u.get_version_num()),
            Ok(4)
        );
        let ws = ids.workspace_id();
        assert!(ws.starts_with("llm-") && ws.len() == 20, "{ws}");
        assert_eq!(ids.account_number().len(), 16);
    }

    #[test]
    fn same_seed_same_ids() {
        let mut a = IdMinter::new(42);
        let mut b = IdMinter::new(42);
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.compatible_file_id(), b.compatible_file_id());
        assert_ne!(a.uuid(), IdMinter::new(43).uuid());
    }
}
