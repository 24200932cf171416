//! Sample tables (the children of `stbl`): how many samples a track has and where their data lies.
//!
//! Tables stay borrowed from the `moov` buffer: nothing is allocated per sample, and every table's
//! length was checked against the bytes present when it was parsed.

use super::boxes::Fields;
use crate::media::{MediaError, array_at};

/// The tables of one track that the probe uses; any may be missing in a damaged file.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SampleTables<'a> {
    /// `stts` entries: (sample count, sample delta), 8 bytes each.
    pub time_to_sample: Option<&'a [u8]>,
    /// `ctts` entries: (sample count, composition offset), 8 bytes each. Offsets are read as
    /// signed in both versions, as decoders do: version 0 files with negative offsets exist.
    pub composition_offsets: Option<&'a [u8]>,
    pub sizes: Option<SampleSizes<'a>>,
    /// `stsc` entries: (first chunk, samples per chunk, sample description index), 12 bytes each.
    pub sample_to_chunk: Option<&'a [u8]>,
    pub chunk_offsets: Option<ChunkOffsets<'a>>,
}

impl<'a> SampleTables<'a> {
    pub fn parse_stts(body: &'a [u8]) -> Result<&'a [u8], MediaError> {
        counted_table(b"stts", body, 8)
    }

    pub fn parse_stsc(body: &'a [u8]) -> Result<&'a [u8], MediaError> {
        counted_table(b"stsc", body, 12)
    }

    pub fn parse_ctts(body: &'a [u8]) -> Result<&'a [u8], MediaError> {
        counted_table(b"ctts", body, 8)
    }

    /// The samples' timing as runs of evenly spaced composition times, in decode order: one run
    /// per stretch where both the `stts` and the `ctts` entry stay the same, so the work is linear
    /// in table entries, never in a declared sample count.
    pub fn for_each_run(&self, mut f: impl FnMut(Run)) {
        let Some(stts) = self.time_to_sample else {
            return;
        };
        let mut offsets = self
            .composition_offsets
            .unwrap_or_default()
            .chunks_exact(8)
            .map(|entry| (u64::from(be_u32(entry, 0)), be_u32(entry, 4) as i32));
        let mut offset_run = (0u64, 0i32);
        let mut dts: i128 = 0;
        for entry in stts.chunks_exact(8) {
            let (mut count, delta) = (u64::from(be_u32(entry, 0)), be_u32(entry, 4));
            while count > 0 {
                if offset_run.0 == 0 {
                    // Past the end of `ctts`, samples have no composition offset.
                    offset_run = offsets.next().unwrap_or((u64::MAX, 0));
                    if offset_run.0 == 0 {
                        continue;
                    }
                }
                let n = count.min(offset_run.0);
                f(Run {
                    start: dts + i128::from(offset_run.1),
                    delta,
                    count: n,
                });
                dts += i128::from(delta) * i128::from(n);
                count -= n;
                offset_run.0 -= n;
            }
        }
    }

    /// The number of samples: from the sample sizes, else from the time-to-sample runs.
    pub fn sample_count(&self) -> Option<u64> {
        if let Some(sizes) = self.sizes {
            return Some(sizes.count());
        }
        let runs = self.time_to_sample?;
        Some(
            runs.chunks_exact(8)
                .map(|entry| u64::from(be_u32(entry, 0)))
                .fold(0, u64::saturating_add),
        )
    }

    /// The offset just past the last byte of sample data, or `None` without the tables to tell.
    ///
    /// Chunks are walked in order; each holds the number of samples its `stsc` run gives, stored
    /// back to back from the chunk's offset. Linear in chunks plus samples.
    pub fn data_end(&self) -> Option<u64> {
        let sizes = self.sizes?;
        let offsets = self.chunk_offsets?;
        let mut runs = self
            .sample_to_chunk?
            .chunks_exact(12)
            .map(|entry| (u64::from(be_u32(entry, 0)), u64::from(be_u32(entry, 4))))
            .peekable();
        let total = sizes.count();
        let mut next_sample = 0;
        let mut samples_per_chunk = 0;
        let mut end = 0;
        for (index, offset) in offsets.iter().enumerate() {
            if next_sample == total {
                break;
            }
            // `stsc` numbers chunks from 1; a run lasts until the next run's first chunk.
            let chunk = index as u64 + 1;
            while let Some(&(first_chunk, samples)) = runs.peek() {
                if first_chunk > chunk {
                    break;
                }
                samples_per_chunk = samples;
                runs.next();
            }
            let in_chunk = samples_per_chunk.min(total - next_sample);
            if in_chunk > 0 {
                end = end.max(offset.saturating_add(sizes.total(next_sample, in_chunk)));
                next_sample += in_chunk;
            }
        }
        Some(end)
    }
}

/// `count` samples whose composition times are `start`, `start + delta`, … in the track's
/// timescale, each lasting `delta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub start: i128,
    pub delta: u32,
    pub count: u64,
}

/// Sizes of a track's samples, from `stsz` or its compact form `stz2`.
#[derive(Debug, Clone, Copy)]
pub(super) enum SampleSizes<'a> {
    /// Every sample has the same size.
    Constant { size: u32, count: u32 },
    /// One big-endian entry of `bits` (4, 8, 16 or 32) bits per sample.
    Table {
        entries: &'a [u8],
        bits: u8,
        count: u32,
    },
}

impl<'a> SampleSizes<'a> {
    pub fn parse_stsz(body: &'a [u8]) -> Result<Self, MediaError> {
        let mut fields = Fields::new(b"stsz", body);
        fields.full_box_version()?;
        let size = fields.u32()?;
        let count = fields.u32()?;
        if size != 0 {
            return Ok(SampleSizes::Constant { size, count });
        }
        let entries = fields.table(count, 4)?;
        Ok(SampleSizes::Table {
            entries,
            bits: 32,
            count,
        })
    }

    pub fn parse_stz2(body: &'a [u8]) -> Result<Self, MediaError> {
        let mut fields = Fields::new(b"stz2", body);
        fields.full_box_version()?;
        fields.skip(3)?;
        let bits = fields.u8()?;
        let count = fields.u32()?;
        let entries = match bits {
            // Two 4-bit entries per byte.
            4 => fields.table(count.div_ceil(2), 1)?,
            8 => fields.table(count, 1)?,
            16 => fields.table(count, 2)?,
            _ => {
                return Err(MediaError::Malformed(format!(
                    "the 'stz2' box has an invalid field size of {bits} bits"
                )));
            }
        };
        Ok(SampleSizes::Table {
            entries,
            bits,
            count,
        })
    }

    pub fn count(&self) -> u64 {
        match *self {
            SampleSizes::Constant { count, .. } | SampleSizes::Table { count, .. } => {
                u64::from(count)
            }
        }
    }

    /// The total size of `n` samples starting at index `first`, saturating.
    fn total(&self, first: u64, n: u64) -> u64 {
        match *self {
            SampleSizes::Constant { size, .. } => n.saturating_mul(u64::from(size)),
            SampleSizes::Table { entries, bits, .. } => (first..first.saturating_add(n))
                .map(|index| table_entry(entries, bits, index))
                .fold(0, u64::saturating_add),
        }
    }
}

/// Entry `index` of a size table; 0 past its end (the count was checked against the bytes when
/// the table was parsed, so that only happens for indices the caller should not ask for).
fn table_entry(entries: &[u8], bits: u8, index: u64) -> u64 {
    let Ok(index) = usize::try_from(index) else {
        return 0;
    };
    let at = |offset: Option<usize>| offset.and_then(|o| entries.get(o).copied());
    let value = match bits {
        4 => at(Some(index / 2)).map(|byte| {
            if index % 2 == 0 {
                u32::from(byte >> 4)
            } else {
                u32::from(byte & 0x0F)
            }
        }),
        8 => at(Some(index)).map(u32::from),
        16 => index
            .checked_mul(2)
            .and_then(|o| array_at(entries, o))
            .map(|b| u32::from(u16::from_be_bytes(b))),
        _ => index
            .checked_mul(4)
            .and_then(|o| array_at(entries, o))
            .map(u32::from_be_bytes),
    };
    u64::from(value.unwrap_or(0))
}

/// Chunk offsets from `stco` (32-bit) or `co64` (64-bit).
#[derive(Debug, Clone, Copy)]
pub(super) struct ChunkOffsets<'a> {
    entries: &'a [u8],
    width: usize,
}

impl<'a> ChunkOffsets<'a> {
    pub fn parse_stco(body: &'a [u8]) -> Result<Self, MediaError> {
        Ok(ChunkOffsets {
            entries: counted_table(b"stco", body, 4)?,
            width: 4,
        })
    }

    pub fn parse_co64(body: &'a [u8]) -> Result<Self, MediaError> {
        Ok(ChunkOffsets {
            entries: counted_table(b"co64", body, 8)?,
            width: 8,
        })
    }

    fn iter(&self) -> impl Iterator<Item = u64> + 'a {
        self.entries
            .chunks_exact(self.width)
            .map(|entry| entry.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

/// The entries of a full box holding a 32-bit entry count and then the entries.
fn counted_table<'a>(
    kind: &[u8; 4],
    body: &'a [u8],
    entry_len: usize,
) -> Result<&'a [u8], MediaError> {
    let mut fields = Fields::new(kind, body);
    fields.full_box_version()?;
    let count = fields.u32()?;
    fields.table(count, entry_len)
}

/// A big-endian u32 inside an entry whose length `chunks_exact` guarantees.
fn be_u32(entry: &[u8], offset: usize) -> u32 {
    array_at(entry, offset).map_or(0, u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_box(entries: &[&[u32]]) -> Vec<u8> {
        let mut body = vec![0, 0, 0, 0];
        body.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for entry in entries {
            for field in *entry {
                body.extend_from_slice(&field.to_be_bytes());
            }
        }
        body
    }

    fn stsz(sizes: &[u32]) -> Vec<u8> {
        let mut body = vec![0; 8];
        body.extend_from_slice(&(sizes.len() as u32).to_be_bytes());
        for size in sizes {
            body.extend_from_slice(&size.to_be_bytes());
        }
        body
    }

    #[test]
    fn data_end_follows_chunks_and_runs() {
        // Chunks 1-2 hold 2 samples each, chunk 3 holds 1: samples of 10, 20, 30, 40, 50 bytes.
        let sizes_body = stsz(&[10, 20, 30, 40, 50]);
        let stsc_body = full_box(&[&[1, 2, 1], &[3, 1, 1]]);
        let stco_body = full_box(&[&[1000], &[100], &[5000]]);
        let tables = SampleTables {
            time_to_sample: None,
            composition_offsets: None,
            sizes: Some(SampleSizes::parse_stsz(&sizes_body).unwrap()),
            sample_to_chunk: Some(SampleTables::parse_stsc(&stsc_body).unwrap()),
            chunk_offsets: Some(ChunkOffsets::parse_stco(&stco_body).unwrap()),
        };
        // Chunk 1: 1000 + 30; chunk 2: 100 + 70; chunk 3: 5000 + 50.
        assert_eq!(tables.data_end(), Some(5050));
        assert_eq!(tables.sample_count(), Some(5));
    }

    #[test]
    fn constant_sizes_saturate_instead_of_overflowing() {
        let stsc_body = full_box(&[&[1, u32::MAX, 1]]);
        let co64_body = {
            let mut body = full_box(&[]);
            body[4..8].copy_from_slice(&1u32.to_be_bytes());
            body.extend_from_slice(&(u64::MAX - 5).to_be_bytes());
            body
        };
        let tables = SampleTables {
            time_to_sample: None,
            composition_offsets: None,
            sizes: Some(SampleSizes::Constant {
                size: u32::MAX,
                count: u32::MAX,
            }),
            sample_to_chunk: Some(SampleTables::parse_stsc(&stsc_body).unwrap()),
            chunk_offsets: Some(ChunkOffsets::parse_co64(&co64_body).unwrap()),
        };
        assert_eq!(tables.data_end(), Some(u64::MAX));
    }

    #[test]
    fn declared_counts_larger_than_the_box_are_malformed() {
        let mut lying = full_box(&[&[1, 1, 1]]);
        lying[4..8].copy_from_slice(&1_000_000u32.to_be_bytes());
        assert!(matches!(
            SampleTables::parse_stsc(&lying),
            Err(MediaError::Malformed(_))
        ));
        let mut sizes = stsz(&[1, 2]);
        sizes[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(SampleSizes::parse_stsz(&sizes).is_err());
    }

    #[test]
    fn compact_sizes() {
        // 4-bit entries 1, 2, 3 packed as 0x12 0x30.
        let body = [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0x12, 0x30];
        let sizes = SampleSizes::parse_stz2(&body).unwrap();
        assert_eq!(sizes.count(), 3);
        assert_eq!(sizes.total(0, 3), 6);
        assert_eq!(sizes.total(1, 2), 5);
        let bad_width = [0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0];
        assert!(SampleSizes::parse_stz2(&bad_width).is_err());
    }

    #[test]
    fn runs_split_where_either_table_changes() {
        let stts_body = full_box(&[&[3, 100], &[2, 50]]);
        // Offsets: one sample +200, then two at 0, then -100 for the rest (a negative v0 value).
        let ctts_body = full_box(&[&[1, 200], &[2, 0], &[5, (-100i32) as u32]]);
        let tables = SampleTables {
            time_to_sample: Some(SampleTables::parse_stts(&stts_body).unwrap()),
            composition_offsets: Some(SampleTables::parse_ctts(&ctts_body).unwrap()),
            ..SampleTables::default()
        };
        let mut runs = Vec::new();
        tables.for_each_run(|run| runs.push(run));
        let run = |start, delta, count| Run {
            start,
            delta,
            count,
        };
        assert_eq!(runs, [run(200, 100, 1), run(100, 100, 2), run(200, 50, 2)]);
        // Without ctts: one run per stts entry; a zero-count ctts entry is skipped.
        let no_offsets = SampleTables {
            composition_offsets: Some(&[0, 0, 0, 0, 0, 0, 0, 9]),
            ..tables
        };
        let mut runs = Vec::new();
        no_offsets.for_each_run(|run| runs.push(run));
        assert_eq!(runs, [run(0, 100, 3), run(300, 50, 2)]);
    }

    #[test]
    fn huge_declared_counts_make_few_runs() {
        let stts_body = full_box(&[&[u32::MAX, 1], &[u32::MAX, u32::MAX]]);
        let tables = SampleTables {
            time_to_sample: Some(SampleTables::parse_stts(&stts_body).unwrap()),
            ..SampleTables::default()
        };
        let mut runs = 0;
        tables.for_each_run(|_| runs += 1);
        assert_eq!(runs, 2);
    }

    #[test]
    fn sample_count_falls_back_to_time_to_sample() {
        let stts_body = full_box(&[&[10, 512], &[5, 1024]]);
        let tables = SampleTables {
            time_to_sample: Some(SampleTables::parse_stts(&stts_body).unwrap()),
            ..SampleTables::default()
        };
        assert_eq!(tables.sample_count(), Some(15));
        assert_eq!(tables.data_end(), None);
    }

    #[test]
    fn chunks_without_samples_do_not_count() {
        // stsc starts at chunk 2: chunk 1 has no run yet and so no samples.
        let sizes_body = stsz(&[10]);
        let stsc_body = full_box(&[&[2, 1, 1]]);
        let stco_body = full_box(&[&[900_000], &[100]]);
        let tables = SampleTables {
            time_to_sample: None,
            composition_offsets: None,
            sizes: Some(SampleSizes::parse_stsz(&sizes_body).unwrap()),
            sample_to_chunk: Some(SampleTables::parse_stsc(&stsc_body).unwrap()),
            chunk_offsets: Some(ChunkOffsets::parse_stco(&stco_body).unwrap()),
        };
        assert_eq!(tables.data_end(), Some(110));
    }
}
