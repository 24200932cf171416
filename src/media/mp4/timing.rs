//! Presentation timing: which samples of a track are shown, and for how long, once the edit list
//! (`edts/elst`) is applied.
//!
//! A lossless cut (`ffmpeg -ss A -i in.mp4 -t B -c copy`) keeps the samples back to the keyframe
//! before `A` and hides them with an edit list; the samples alone overstate the clip. The
//! figures here follow what ffprobe and ffmpeg's decoder report (spec §8.12):
//!
//! - duration: the sum of the edits' durations (empty ones included, converted from the movie
//!   timescale to the media timescale), at most the media's own duration;
//! - frames: the samples whose composition time falls inside a non-empty edit;
//! - the rate of an edit is not applied (decoders play every edit at rate 1).
//!
//! All of it works on runs of evenly spaced samples, so the cost is linear in table entries and
//! edits, never in a declared sample count.

use super::boxes::Fields;
use super::tables::Run;
use crate::media::{MediaError, array_at};

/// The `elst` entries, borrowed from the `moov` buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct EditList<'a> {
    entries: &'a [u8],
    version: u8,
}

/// One edit: `duration` in the movie timescale, `media_time` in the media timescale (`None` for
/// an empty edit, which shows nothing for its duration), and the rate in 16.16 fixed point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Edit {
    pub duration: u64,
    pub media_time: Option<i64>,
    pub rate: i32,
}

impl<'a> EditList<'a> {
    pub fn parse(body: &'a [u8]) -> Result<EditList<'a>, MediaError> {
        let mut fields = Fields::new(b"elst", body);
        let version = fields.full_box_version()?;
        let count = fields.u32()?;
        let entries = fields.table(count, Self::entry_len(version))?;
        Ok(EditList { entries, version })
    }

    fn entry_len(version: u8) -> usize {
        if version == 1 { 20 } else { 12 }
    }

    pub fn len(&self) -> usize {
        self.entries.len() / Self::entry_len(self.version)
    }

    pub fn iter(&self) -> impl Iterator<Item = Edit> + 'a {
        let version = self.version;
        self.entries
            .chunks_exact(Self::entry_len(version))
            .map(move |entry| {
                let (duration, media_time, rate_at) = if version == 1 {
                    (
                        array_at(entry, 0).map_or(0, u64::from_be_bytes),
                        array_at(entry, 8).map_or(-1, i64::from_be_bytes),
                        16,
                    )
                } else {
                    (
                        array_at(entry, 0).map_or(0, |b| u64::from(u32::from_be_bytes(b))),
                        array_at(entry, 4).map_or(-1, |b| i64::from(i32::from_be_bytes(b))),
                        8,
                    )
                };
                Edit {
                    duration,
                    media_time: (media_time != -1).then_some(media_time),
                    rate: array_at(entry, rate_at).map_or(0, i32::from_be_bytes),
                }
            })
    }
}

/// Something that passes a track's sample runs, in decode order, to a callback.
pub(super) type RunSource<'a> = dyn Fn(&mut dyn FnMut(Run)) + 'a;

/// Edits applied to the frame count at most; real files have one to three. Beyond this the frame
/// count is left unknown rather than risking a long computation.
const MAX_EDITS: usize = 1024;

/// At most this many (run, edit) pairs are compared to count the presented frames.
const WORK_BUDGET: u64 = 50_000_000;

/// Timing statistics of a track's samples, from its runs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct SampleStats {
    pub samples: u64,
    /// Sum of the sample durations, in the media timescale.
    pub total: u64,
    pub longest: u32,
    /// Samples lasting 0, not counting the last one (some writers leave the last one open).
    pub zero_length: u64,
    /// The shortest and longest duration of the samples before the last one: they differ in a
    /// variable-frame-rate track.
    pub shortest_before_last: Option<u32>,
    pub longest_before_last: Option<u32>,
    /// The earliest composition time.
    pub first_time: Option<i128>,
}

impl SampleStats {
    /// Statistics of the runs `for_each` passes to its callback.
    pub fn collect(for_each: impl FnOnce(&mut dyn FnMut(Run))) -> SampleStats {
        let mut stats = SampleStats::default();
        let mut previous: Option<Run> = None;
        for_each(&mut |run: Run| {
            if run.count == 0 {
                return;
            }
            stats.add(previous.replace(run), false);
        });
        stats.add(previous, true);
        stats
    }

    fn add(&mut self, run: Option<Run>, last: bool) {
        let Some(run) = run else {
            return;
        };
        self.samples = self.samples.saturating_add(run.count);
        let length = u64::from(run.delta).saturating_mul(run.count);
        self.total = self.total.saturating_add(length);
        self.longest = self.longest.max(run.delta);
        self.first_time = Some(self.first_time.map_or(run.start, |t| t.min(run.start)));
        // The last sample of the track is set apart: writers often give it a different length.
        let before_last = if last { run.count - 1 } else { run.count };
        if before_last > 0 {
            if run.delta == 0 {
                self.zero_length = self.zero_length.saturating_add(before_last);
            }
            self.shortest_before_last = Some(
                self.shortest_before_last
                    .map_or(run.delta, |d| d.min(run.delta)),
            );
            self.longest_before_last = Some(
                self.longest_before_last
                    .map_or(run.delta, |d| d.max(run.delta)),
            );
        }
    }
}

/// A track's presented timeline.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Presentation {
    /// Presented duration, in the media timescale.
    pub duration: Option<u64>,
    /// Presented frames; `None` when they cannot be counted.
    pub frames: Option<u64>,
    /// An empty edit before the first picture, in the media timescale.
    pub leading_gap: u64,
    /// What makes no sense in the edit list, for the timing findings.
    pub problems: Vec<String>,
}

/// The inputs of [`present`] besides the samples.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timescales {
    /// `mvhd`: the unit of edit durations.
    pub movie: u32,
    /// `mdhd`: the unit of sample times and edit media times.
    pub media: u32,
}

/// Applies `edits` to the samples that `for_each_run` passes on. `media_duration` is the track's
/// own duration in the media timescale; `fragmented` lets a zero edit duration mean "to the end
/// of the media", as ISO/IEC 14496-12 allows in fragmented files.
pub(super) fn present(
    edits: &EditList<'_>,
    scales: Timescales,
    media_duration: u64,
    fragmented: bool,
    for_each_run: &RunSource<'_>,
) -> Presentation {
    let mut presentation = Presentation::default();
    if scales.movie == 0 || scales.media == 0 {
        presentation.problems.push(format!(
            "the edit list cannot be applied: the {} timescale is 0",
            if scales.movie == 0 { "movie" } else { "media" }
        ));
        return presentation;
    }
    let to_media = |movie_units: u64| -> u64 {
        let scaled = (u128::from(movie_units) * u128::from(scales.media)
            + u128::from(scales.movie) / 2)
            / u128::from(scales.movie);
        u64::try_from(scaled).unwrap_or(u64::MAX)
    };
    let mut total: u64 = 0;
    let mut ranges: Vec<(i128, i128)> = Vec::new();
    let mut seen_picture = false;
    let mut odd_rate = None;
    for (index, edit) in edits.iter().enumerate() {
        let Some(media_time) = edit.media_time else {
            let length = to_media(edit.duration);
            total = total.saturating_add(length);
            if !seen_picture {
                presentation.leading_gap = presentation.leading_gap.saturating_add(length);
            }
            continue;
        };
        seen_picture = true;
        if media_time < 0 {
            presentation.problems.push(format!(
                "edit {} starts at media time {media_time}, before the media begins",
                index + 1
            ));
        }
        if edit.rate != 1 << 16 && odd_rate.is_none() {
            odd_rate = Some(edit.rate);
        }
        let length = if edit.duration == 0 && fragmented {
            media_duration.saturating_sub(media_time.max(0) as u64)
        } else {
            to_media(edit.duration)
        };
        total = total.saturating_add(length);
        if ranges.len() < MAX_EDITS {
            let start = i128::from(media_time);
            ranges.push((start, start + i128::from(length)));
        }
    }
    if let Some(rate) = odd_rate {
        presentation.problems.push(format!(
            "the edit list asks for playback at rate {:.3}, which decoders ignore",
            f64::from(rate) / 65536.0
        ));
    }
    presentation.duration = Some(total.min(media_duration));
    if edits.len() > MAX_EDITS {
        presentation.problems.push(format!(
            "the edit list has {} entries; frames are not counted past {MAX_EDITS}",
            edits.len()
        ));
        return presentation;
    }
    let mut frames: u64 = 0;
    let mut work: u64 = 0;
    let mut over_budget = false;
    for_each_run(&mut |run: Run| {
        work = work.saturating_add(ranges.len() as u64);
        if work > WORK_BUDGET {
            over_budget = true;
            return;
        }
        for &(start, end) in &ranges {
            frames = frames.saturating_add(count_in(run, start, end));
        }
    });
    presentation.frames = (!over_budget).then_some(frames);
    if frames == 0 && !over_budget {
        presentation
            .problems
            .push("the edit list presents none of the track's frames".into());
    }
    presentation
}

/// How many of the run's composition times lie in `[start, end)`.
fn count_in(run: Run, start: i128, end: i128) -> u64 {
    if run.count == 0 || end <= start {
        return 0;
    }
    let count = i128::from(run.count);
    if run.delta == 0 {
        return if (start..end).contains(&run.start) {
            run.count
        } else {
            0
        };
    }
    let delta = i128::from(run.delta);
    // First index i with run.start + i·delta >= start, and first one at or past end.
    let first = div_ceil(start - run.start, delta).clamp(0, count);
    let past = div_ceil(end - run.start, delta).clamp(0, count);
    u64::try_from(past - first).unwrap_or(0)
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let quotient = a.div_euclid(b);
    if a.rem_euclid(b) == 0 {
        quotient
    } else {
        quotient + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elst(version: u8, edits: &[(u64, i64, i32)]) -> Vec<u8> {
        let mut body = vec![version, 0, 0, 0];
        body.extend_from_slice(&(edits.len() as u32).to_be_bytes());
        for &(duration, media_time, rate) in edits {
            if version == 1 {
                body.extend_from_slice(&duration.to_be_bytes());
                body.extend_from_slice(&media_time.to_be_bytes());
            } else {
                body.extend_from_slice(&(duration as u32).to_be_bytes());
                body.extend_from_slice(&(media_time as i32).to_be_bytes());
            }
            body.extend_from_slice(&rate.to_be_bytes());
        }
        body
    }

    const ONE: i32 = 1 << 16;

    /// 70 frames of 512 units at 12288 per second (24 fps), starting at `offset`.
    fn frames(offset: i128) -> impl Fn(&mut dyn FnMut(Run)) {
        move |f: &mut dyn FnMut(Run)| {
            f(Run {
                start: offset,
                delta: 512,
                count: 70,
            })
        }
    }

    fn apply(edits: &[(u64, i64, i32)], version: u8) -> Presentation {
        let body = elst(version, edits);
        let list = EditList::parse(&body).unwrap();
        let scales = Timescales {
            movie: 1000,
            media: 12288,
        };
        present(&list, scales, 70 * 512, false, &frames(0))
    }

    #[test]
    fn a_lossless_cut_presents_only_the_edit() {
        // ffmpeg -ss 3.3 -t 1.6 -c copy: 1.617 s from media time 1.2999 s.
        for version in [0, 1] {
            let p = apply(&[(1617, 15974, ONE)], version);
            assert_eq!(p.duration, Some(19870)); // 1.617025 s, as ffprobe says
            assert_eq!(p.frames, Some(38)); // as ffmpeg decodes
            assert_eq!(p.leading_gap, 0);
            assert!(p.problems.is_empty(), "{:?}", p.problems);
        }
    }

    #[test]
    fn empty_edits_count_as_time_but_show_no_frames() {
        let p = apply(&[(1000, -1, ONE), (1617, 15974, ONE)], 0);
        assert_eq!(p.duration, Some(12288 + 19870));
        assert_eq!(p.frames, Some(38));
        assert_eq!(p.leading_gap, 12288);
    }

    #[test]
    fn several_segments_add_up() {
        let p = apply(&[(500, 12288, ONE), (500, 24576, ONE)], 0);
        assert_eq!(p.duration, Some(12288));
        assert_eq!(p.frames, Some(24));
    }

    #[test]
    fn edits_longer_than_the_media_stop_at_its_end() {
        let p = apply(&[(5000, 0, ONE)], 0);
        assert_eq!(p.duration, Some(70 * 512));
        assert_eq!(p.frames, Some(70));
    }

    #[test]
    fn the_rate_is_reported_not_applied() {
        let p = apply(&[(1000, 12288, 2 * ONE)], 0);
        assert_eq!((p.duration, p.frames), (Some(12288), Some(24)));
        assert!(p.problems[0].contains("rate 2.000"), "{:?}", p.problems);
    }

    #[test]
    fn edits_outside_the_media_present_nothing() {
        let p = apply(&[(1000, 70 * 512, ONE)], 0);
        assert_eq!(p.frames, Some(0));
        assert!(
            p.problems
                .iter()
                .any(|m| m.contains("none of the track's frames"))
        );
        let p = apply(&[(1000, -5, ONE)], 0);
        assert!(p.problems.iter().any(|m| m.contains("before the media")));
    }

    #[test]
    fn composition_offsets_decide_which_frames_are_in() {
        // Frames shown 2 frames late (B-frame delay); the edit starts at that delay.
        let body = elst(0, &[(1000, 1024, ONE)]);
        let list = EditList::parse(&body).unwrap();
        let scales = Timescales {
            movie: 1000,
            media: 12288,
        };
        let p = present(&list, scales, 70 * 512, false, &frames(1024));
        assert_eq!(p.frames, Some(24));
    }

    #[test]
    fn a_zero_duration_edit_in_a_fragmented_file_runs_to_the_end() {
        let body = elst(0, &[(0, 1024, ONE)]);
        let list = EditList::parse(&body).unwrap();
        let scales = Timescales {
            movie: 1000,
            media: 12288,
        };
        let p = present(&list, scales, 70 * 512 + 1024, true, &frames(1024));
        assert_eq!((p.duration, p.frames), (Some(70 * 512), Some(70)));
    }

    #[test]
    fn zero_timescales_are_problems_not_divisions() {
        let body = elst(0, &[(1000, 0, ONE)]);
        let list = EditList::parse(&body).unwrap();
        let scales = Timescales {
            movie: 0,
            media: 12288,
        };
        let p = present(&list, scales, 1000, false, &frames(0));
        assert_eq!(p.duration, None);
        assert!(p.problems[0].contains("movie timescale is 0"));
    }

    #[test]
    fn counting_in_a_run() {
        let run = Run {
            start: 100,
            delta: 10,
            count: 5,
        }; // 100, 110, 120, 130, 140
        assert_eq!(count_in(run, 0, 1000), 5);
        assert_eq!(count_in(run, 101, 131), 3);
        assert_eq!(count_in(run, 110, 130), 2);
        assert_eq!(count_in(run, 141, 200), 0);
        assert_eq!(count_in(run, -50, 100), 0);
        let still = Run {
            start: 5,
            delta: 0,
            count: u64::MAX,
        };
        assert_eq!(count_in(still, 0, 10), u64::MAX);
        let huge = Run {
            start: 0,
            delta: u32::MAX,
            count: u64::MAX,
        };
        assert_eq!(count_in(huge, 0, i128::from(u64::MAX)), (1 << 32) + 1);
    }

    #[test]
    fn sample_statistics() {
        let stats = SampleStats::collect(|f| {
            f(Run {
                start: 0,
                delta: 512,
                count: 3,
            });
            f(Run {
                start: 1536,
                delta: 0,
                count: 1,
            });
            f(Run {
                start: 1536,
                delta: 926,
                count: 1,
            });
        });
        assert_eq!(stats.samples, 5);
        assert_eq!(stats.total, 3 * 512 + 926);
        assert_eq!(stats.longest, 926);
        assert_eq!(stats.zero_length, 1);
        assert_eq!(
            (stats.shortest_before_last, stats.longest_before_last),
            (Some(0), Some(512))
        );
        assert_eq!(stats.first_time, Some(0));
    }

    #[test]
    fn a_declared_count_larger_than_the_box_is_malformed() {
        let mut body = elst(0, &[(1000, 0, ONE)]);
        body[7] = 2;
        assert!(EditList::parse(&body).is_err());
    }
}
