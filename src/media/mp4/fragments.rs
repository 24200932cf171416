//! Movie fragments (`moof`): in a fragmented file the `moov` lists few or no samples, and each
//! fragment describes the samples of the `mdat` that follows it.

use super::boxes::{Fields, children};
use super::tables::Run;
use crate::media::MediaError;

// `tfhd` flags: which optional fields are present.
const BASE_DATA_OFFSET: u32 = 0x01;
const SAMPLE_DESCRIPTION_INDEX: u32 = 0x02;
const DEFAULT_SAMPLE_DURATION: u32 = 0x08;

// `trun` flags.
const DATA_OFFSET: u32 = 0x001;
const FIRST_SAMPLE_FLAGS: u32 = 0x004;
const SAMPLE_DURATION: u32 = 0x100;
const SAMPLE_COMPOSITION_OFFSET: u32 = 0x800;
/// Per-sample duration, size, flags and composition offset: 4 bytes each when present.
const PER_SAMPLE_FIELDS: u32 = 0xF00;

/// Passes the samples of track `track_id` in the bodies of `moof` boxes to `f`, as runs of
/// evenly spaced composition times. `trex_duration` is the sample duration the movie declares
/// for fragments that give none; `start` is the decode time of the first fragment's first sample
/// when its `tfdt` does not say.
///
/// Runs with per-sample records give one run per record, so the work is bounded by the bytes of
/// the fragments; runs without records give one run for all their samples.
pub(super) fn for_each_run(
    moofs: &[Vec<u8>],
    track_id: u32,
    trex_duration: u32,
    start: i128,
    f: &mut dyn FnMut(Run),
) -> Result<(), MediaError> {
    let mut dts = start;
    for moof in moofs {
        for child in children(b"moof", moof) {
            let (kind, traf) = child?;
            if &kind == b"traf" {
                track_fragment(traf, track_id, trex_duration, &mut dts, f)?;
            }
        }
    }
    Ok(())
}

fn track_fragment(
    traf: &[u8],
    track_id: u32,
    trex_duration: u32,
    dts: &mut i128,
    f: &mut dyn FnMut(Run),
) -> Result<(), MediaError> {
    let mut default_duration = trex_duration;
    // Runs count once `tfhd` (which comes first) has named the track.
    let mut ours = false;
    for child in children(b"traf", traf) {
        let (kind, body) = child?;
        let mut fields = Fields::new(&kind, body);
        match &kind {
            b"tfhd" => {
                let (_, flags) = fields.version_and_flags()?;
                ours = fields.u32()? == track_id;
                if !ours {
                    return Ok(());
                }
                if flags & BASE_DATA_OFFSET != 0 {
                    fields.skip(8)?;
                }
                if flags & SAMPLE_DESCRIPTION_INDEX != 0 {
                    fields.skip(4)?;
                }
                if flags & DEFAULT_SAMPLE_DURATION != 0 {
                    default_duration = fields.u32()?;
                }
            }
            b"tfdt" if ours => {
                let version = fields.full_box_version()?;
                *dts = i128::from(fields.time(version)?);
            }
            b"trun" if ours => {
                let (_, flags) = fields.version_and_flags()?;
                let sample_count = fields.u32()?;
                if flags & DATA_OFFSET != 0 {
                    fields.skip(4)?;
                }
                if flags & FIRST_SAMPLE_FLAGS != 0 {
                    fields.skip(4)?;
                }
                let record_len = 4 * (flags & PER_SAMPLE_FIELDS).count_ones() as usize;
                let records = fields.table(sample_count, record_len)?;
                if flags & (SAMPLE_DURATION | SAMPLE_COMPOSITION_OFFSET) == 0 {
                    f(Run {
                        start: *dts,
                        delta: default_duration,
                        count: u64::from(sample_count),
                    });
                    *dts += i128::from(default_duration) * i128::from(sample_count);
                    continue;
                }
                // The composition offset is the last of the four fields, the duration the first.
                let offset_at = record_len.saturating_sub(4);
                for record in records.chunks_exact(record_len) {
                    let word = |at: usize| {
                        u32::from_be_bytes([
                            record[at],
                            record[at + 1],
                            record[at + 2],
                            record[at + 3],
                        ])
                    };
                    let delta = if flags & SAMPLE_DURATION != 0 {
                        word(0)
                    } else {
                        default_duration
                    };
                    let offset = if flags & SAMPLE_COMPOSITION_OFFSET != 0 {
                        // Signed in version 1, and read so in version 0 too, as decoders do.
                        i128::from(word(offset_at) as i32)
                    } else {
                        0
                    };
                    f(Run {
                        start: *dts + offset,
                        delta,
                        count: 1,
                    });
                    *dts += i128::from(delta);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::mp4::boxes::boxed;
    use crate::media::mp4::timing::SampleStats;

    #[derive(Debug, PartialEq, Eq)]
    struct FragmentTotals {
        samples: u64,
        duration: u64,
    }

    fn totals(
        moofs: &[Vec<u8>],
        track_id: u32,
        trex_duration: u32,
    ) -> Result<FragmentTotals, MediaError> {
        let mut result = Ok(());
        let stats = SampleStats::collect(|f| {
            result = for_each_run(moofs, track_id, trex_duration, 0, f);
        });
        result.map(|()| FragmentTotals {
            samples: stats.samples,
            duration: stats.total,
        })
    }

    fn words(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn traf(tfhd: &[u32], truns: &[Vec<u32>]) -> Vec<u8> {
        let mut body = boxed(b"tfhd", &words(tfhd));
        for trun in truns {
            body.extend(boxed(b"trun", &words(trun)));
        }
        boxed(b"traf", &body)
    }

    #[test]
    fn sums_durations_from_runs_tfhd_defaults_and_trex_defaults() {
        let moof = [
            boxed(b"mfhd", &words(&[0, 1])),
            // Track 1, default duration 512 from tfhd; a run of 3 samples with sizes only.
            traf(
                &[DEFAULT_SAMPLE_DURATION, 1, 512],
                &[vec![0x200, 3, 10, 20, 30]],
            ),
            // Track 2 is not the one asked for.
            traf(&[0, 2], &[vec![0, 100]]),
            // Track 1 again: per-sample durations and sizes, with a data offset.
            traf(&[0, 1], &[vec![0x301, 2, 8, 1000, 10, 1024, 10]]),
            // Track 1, no defaults at all: the trex duration applies.
            traf(&[0, 1], &[vec![0, 4]]),
            // No tfhd: the run belongs to no known track.
            boxed(b"traf", &boxed(b"trun", &words(&[0, 7]))),
        ]
        .concat();
        let totals = totals(&[moof], 1, 256).unwrap();
        assert_eq!(
            totals,
            FragmentTotals {
                samples: 3 + 2 + 4,
                duration: 3 * 512 + 1000 + 1024 + 4 * 256,
            }
        );
    }

    #[test]
    fn a_run_longer_than_its_box_is_malformed() {
        let moof = traf(&[0, 1], &[vec![0x100, 1_000_000, 5]]);
        assert!(matches!(
            totals(&[moof], 1, 0),
            Err(MediaError::Malformed(_))
        ));
    }

    #[test]
    fn huge_counts_without_records_saturate() {
        let moof = traf(&[0, 1], &[vec![0, u32::MAX], vec![0, u32::MAX]]);
        let totals = totals(&[moof], 1, u32::MAX).unwrap();
        assert_eq!(totals.samples, 2 * u64::from(u32::MAX));
        assert_eq!(totals.duration, u64::MAX);
    }

    #[test]
    fn decode_times_follow_tfdt_and_composition_offsets() {
        // tfdt version 1 at 1000, then two samples of 100 shown 200 late.
        let mut tfdt = vec![1, 0, 0, 0];
        tfdt.extend_from_slice(&1000u64.to_be_bytes());
        let traf = boxed(
            b"traf",
            &[
                boxed(b"tfhd", &words(&[0, 1])),
                boxed(b"tfdt", &tfdt),
                boxed(b"trun", &words(&[0x900, 2, 100, 200, 100, 200])),
            ]
            .concat(),
        );
        let mut runs = Vec::new();
        for_each_run(&[traf], 1, 0, 0, &mut |run| runs.push(run)).unwrap();
        let run = |start, delta, count| Run {
            start,
            delta,
            count,
        };
        assert_eq!(runs, [run(1200, 100, 1), run(1300, 100, 1)]);
    }
}
