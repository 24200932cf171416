//! ISO base media (MP4/MOV) header reader.
//!
//! The top-level boxes are walked in file order: media data (`mdat`) and everything else is
//! skipped by seeking forward, and only `moov`, the index of the samples, is read into memory
//! (with a cap) and parsed from there. Whether `moov` comes first ("fast start") or last, a probe
//! costs a few small reads plus the size of `moov`.

mod boxes;
mod codec_config;
mod fragments;
mod movie;
mod tables;
mod timing;

use std::io::{Read, Seek};

use boxes::{BoxHeader, fourcc_name};
use movie::{Movie, Track, VisualEntry};
use tables::Run;
use timing::{SampleStats, Timescales};

use super::forward::ForwardReader;
use super::{Container, MediaError, SNIFF_LEN, Sniffed, VideoInfo, sniff};

/// The largest `moov` box read into memory. Real ones are kilobytes to a few megabytes (about 12
/// bytes per frame and track); anything near this is damage or an attack.
const MOOV_CAP: u64 = 64 << 20;

/// The most bytes of `moof` boxes read into memory. A fragment header is a few hundred bytes per
/// second or two of video; past this the fragments are left uncounted.
const FRAGMENTS_CAP: u64 = 16 << 20;

/// Reads the box structure of an MP4/MOV file of `len` bytes and describes its first video track.
///
/// The reader must be positioned at the start of the file. It is only read and seeked forward
/// (see [`super::probe`]).
pub fn probe<R: Read + Seek>(reader: &mut R, len: u64) -> Result<VideoInfo, MediaError> {
    probe_from(&mut ForwardReader::new(reader, len))
}

pub(super) fn probe_from<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
) -> Result<VideoInfo, MediaError> {
    if source.len() == 0 {
        return Err(MediaError::Empty);
    }
    // The sniffer decides what is an ISO base media file: `ftyp` with a video brand, or a classic
    // QuickTime file starting with another known box.
    let sniffed = sniff(source.peek(SNIFF_LEN)?);
    let container = match sniffed {
        Sniffed::Video(container @ (Container::Mp4 | Container::QuickTime)) => container,
        _ => {
            return Err(MediaError::Unrecognized {
                expected: "MP4/MOV",
                found: sniffed.describe().map(String::from),
            });
        }
    };
    let top_level = walk_top_level(source)?;
    let Some(moov) = &top_level.moov else {
        return Err(top_level.missing_moov());
    };
    let movie = movie::parse(moov)?;
    describe(container, &movie, &top_level, source.len())
}

/// What the walk over the top-level boxes found.
#[derive(Debug, Default)]
struct TopLevel {
    /// The body of the first `moov` box.
    moov: Option<Vec<u8>>,
    /// Why the file looks cut short, when a box runs past its end.
    cut_short: Option<String>,
    /// An `mdat` box with size 0, running to the end of the file: what a recorder leaves behind
    /// when it stops before writing the index and the real size.
    open_ended_mdat: bool,
    /// The bodies of the `moof` boxes of a fragmented file, in order, and their total size.
    fragments: Vec<Vec<u8>>,
    fragment_bytes: u64,
    /// Some `moof` boxes were skipped: [`FRAGMENTS_CAP`] was reached.
    fragments_skipped: bool,
}

impl TopLevel {
    fn missing_moov(&self) -> MediaError {
        const MISSING: &str = "no moov box (the index of the frames)";
        match &self.cut_short {
            Some(reason) => MediaError::Truncated(format!("{MISSING}: {reason}")),
            None if self.open_ended_mdat => MediaError::Truncated(format!(
                "{MISSING}: the media data runs to the end of the file, as when a recording \
                 stops before its index is written"
            )),
            None => MediaError::Malformed(format!("{MISSING} in the file")),
        }
    }
}

fn walk_top_level<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
) -> Result<TopLevel, MediaError> {
    let len = source.len();
    let mut found = TopLevel::default();
    while source.remaining() > 0 {
        let at = source.position();
        if source.remaining() < 8 {
            found.cut_short = Some(format!(
                "the file ends {} bytes into a box header at byte {at}",
                source.remaining()
            ));
            break;
        }
        let start = source.read_array::<8>()?;
        let header = BoxHeader::decode(start, || source.read_array())?;
        let kind = fourcc_name(&header.kind);
        let end = match header.size {
            None => {
                found.open_ended_mdat |= &header.kind == b"mdat";
                len
            }
            // No real file comes near 2^63 bytes; such sizes cannot even be seeked to.
            Some(size) if size > i64::MAX as u64 => {
                return Err(MediaError::Malformed(format!(
                    "the '{kind}' box at byte {at} declares an impossible size of {size} bytes"
                )));
            }
            Some(size) => at.saturating_add(size),
        };
        if end > len {
            let reason = format!(
                "the '{kind}' box at byte {at} runs to byte {end}, past the end of the file \
                 ({len} bytes)"
            );
            if &header.kind == b"moov" {
                return Err(MediaError::Truncated(reason));
            }
            found.cut_short = Some(reason);
            break;
        }
        let body_len = end - source.position();
        match &header.kind {
            b"moov" if found.moov.is_none() => {
                if body_len > MOOV_CAP {
                    return Err(MediaError::Malformed(format!(
                        "moov box of {body_len} bytes is too large"
                    )));
                }
                found.moov = Some(source.read_vec(body_len)?);
            }
            b"moof" if !found.fragments_skipped => {
                if found.fragment_bytes + body_len <= FRAGMENTS_CAP {
                    found.fragments.push(source.read_vec(body_len)?);
                    found.fragment_bytes += body_len;
                } else {
                    found.fragments_skipped = true;
                    source.skip_to(end)?;
                }
            }
            _ => source.skip_to(end)?,
        }
    }
    Ok(found)
}

/// Describes the first video track, and checks every track's sample data against the file length.
fn describe(
    container: Container,
    movie: &Movie<'_>,
    top_level: &TopLevel,
    len: u64,
) -> Result<VideoInfo, MediaError> {
    let track = movie
        .tracks
        .iter()
        .find(|track| track.is_video())
        .ok_or(MediaError::NoVideoTrack)?;
    let entry = match track.sample_entry {
        Some((kind, body)) => Some(VisualEntry::parse(&kind, body)?),
        None => None,
    };
    // The sample entry has the coded size; the track header is the fallback for damaged entries.
    let (coded_width, coded_height) = match &entry {
        Some(entry) if entry.width > 0 && entry.height > 0 => {
            (u32::from(entry.width), u32::from(entry.height))
        }
        _ => track.header_size,
    };
    let turned = |w: u32, h: u32| {
        if track.rotation % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        }
    };
    let (width, height) = turned(coded_width, coded_height);
    let pixel_aspect = entry.as_ref().and_then(|entry| entry.pixel_aspect);
    // Players stretch the width by the pixel aspect ratio, then turn the picture.
    let stretched_width = match pixel_aspect {
        Some((h, v)) => {
            let scaled = (u64::from(coded_width) * u64::from(h) + u64::from(v) / 2) / u64::from(v);
            u32::try_from(scaled).unwrap_or(u32::MAX)
        }
        None => coded_width,
    };
    let (display_width, display_height) = turned(stretched_width, coded_height);
    let timing = track_timing(movie, track, top_level)?;
    let truncated = top_level.cut_short.clone().or_else(|| {
        let data_end = movie
            .tracks
            .iter()
            .filter_map(|track| track.tables.data_end())
            .max()?;
        (data_end > len).then(|| format!("sample data ends at byte {data_end}, file has {len}"))
    });
    Ok(VideoInfo {
        container,
        codec_fourcc: entry.as_ref().map(|entry| entry.codec.clone()),
        coded_width,
        coded_height,
        width,
        height,
        display_width,
        display_height,
        pixel_aspect: pixel_aspect.map(|(h, v)| [h, v]),
        rotation: track.rotation,
        duration_s: timing.duration_s,
        frame_count: timing.frames,
        fps: timing.fps,
        sample_count: timing.samples,
        media_duration_s: timing.media_duration_s,
        container_duration_s: container_seconds(movie, top_level),
        leading_gap_s: timing.leading_gap_s,
        variable_frame_rate: timing.variable_frame_rate,
        timing_problems: timing.problems,
        codec_config_problem: entry.as_ref().and_then(|e| e.config_problem.clone()),
        truncated,
        encrypted: entry.is_some_and(|entry| entry.encrypted),
    })
}

/// The presented timing of a track and what is wrong with it.
#[derive(Debug, Default)]
struct TrackTiming {
    duration_s: Option<f64>,
    frames: Option<u64>,
    samples: Option<u64>,
    fps: Option<f64>,
    media_duration_s: Option<f64>,
    leading_gap_s: Option<f64>,
    variable_frame_rate: bool,
    problems: Vec<String>,
}

/// Applies the track's edit list to its samples (those `moov` lists, then those of every
/// fragment), and checks that the sample timing makes sense.
fn track_timing(
    movie: &Movie<'_>,
    track: &Track<'_>,
    top_level: &TopLevel,
) -> Result<TrackTiming, MediaError> {
    let mut timing = TrackTiming::default();
    let media_scale = track.media_header.map_or(0, |header| header.timescale);
    let movie_scale = movie.header.map_or(0, |header| header.timescale);
    if movie.fragmented && top_level.fragments_skipped {
        // Too many fragments to read: the declared duration stands in, frames stay unknown.
        timing.duration_s = movie
            .fragment_duration
            .and_then(|duration| movie::seconds(duration, movie_scale));
        return Ok(timing);
    }
    let trex_duration = movie
        .default_sample_durations
        .iter()
        .find(|(id, _)| *id == track.id)
        .map_or(0, |&(_, duration)| duration);
    let listed = SampleStats::collect(|f| track.tables.for_each_run(f));
    let fragments_start = listed.first_time.map_or(0, |_| i128::from(listed.total));
    let fragment_runs = |f: &mut dyn FnMut(Run)| {
        fragments::for_each_run(
            &top_level.fragments,
            track.id,
            trex_duration,
            fragments_start,
            f,
        )
    };
    if movie.fragmented {
        // Damage in the fragments is an error once, here; the passes below see the same bytes.
        fragment_runs(&mut |_| {})?;
    }
    let all_runs = |f: &mut dyn FnMut(Run)| {
        track.tables.for_each_run(&mut *f);
        if movie.fragmented {
            let _ = fragment_runs(f);
        }
    };
    let stats = SampleStats::collect(all_runs);
    let declared = track.media_header.and_then(|header| header.duration);
    let media_duration = match declared {
        Some(duration) if duration > 0 && !movie.fragmented => duration,
        _ => stats.total,
    };
    let samples = if movie.fragmented {
        stats.samples
    } else {
        track.tables.sample_count().unwrap_or(stats.samples)
    };
    timing.samples = (samples > 0).then_some(samples);
    let seconds = |units: u64| movie::seconds(units, media_scale);
    timing.media_duration_s = seconds(media_duration);
    timing.fps = match seconds(stats.total) {
        Some(total) if stats.samples > 0 => Some(stats.samples as f64 / total),
        _ => None,
    };
    timing.variable_frame_rate = matches!(
        (stats.shortest_before_last, stats.longest_before_last),
        (Some(shortest), Some(longest)) if shortest != longest
    );
    timing.duration_s = seconds(media_duration);
    timing.frames = timing.samples;
    if let Some(edits) = track.edits.as_ref().filter(|edits| edits.len() > 0) {
        let scales = Timescales {
            movie: movie_scale,
            media: media_scale,
        };
        let presented = timing::present(edits, scales, media_duration, movie.fragmented, &all_runs);
        let presented_s = presented.duration.and_then(seconds);
        if movie.fragmented {
            // ffmpeg (and so ffprobe, and the tools built on it) applies no edit list to the
            // samples of fragments: they all play. Say so when the edit list would change that.
            if let (Some(edited), Some(played)) = (presented_s, timing.duration_s)
                && (edited - played).abs() > 0.5
            {
                timing.problems.push(format!(
                    "the edit list presents {edited:.2} s, but decoders such as ffmpeg \
                         apply no edit list to a fragmented file and play all {played:.2} s \
                         (billed as {played:.2} s)"
                ));
            }
        } else if presented.duration.is_some() {
            timing.duration_s = presented_s;
            timing.frames = presented.frames;
            timing.leading_gap_s = seconds(presented.leading_gap);
            timing.problems.extend(presented.problems);
        } else {
            timing.problems.extend(presented.problems);
        }
    }
    if media_scale == 0 {
        timing.problems.push(
            "the video track's media header gives a timescale of 0 (units per second)".into(),
        );
        // The movie header may still tell the length.
        timing.duration_s = movie.header.and_then(|header| header.seconds());
    }
    timing.problems.extend(sample_problems(
        &stats,
        declared,
        samples,
        movie,
        media_scale,
    ));
    Ok(timing)
}

/// Sample durations that make no sense.
fn sample_problems(
    stats: &SampleStats,
    declared: Option<u64>,
    samples: u64,
    movie: &Movie<'_>,
    media_scale: u32,
) -> Vec<String> {
    let mut problems = Vec::new();
    let seconds = |units: u64| {
        if media_scale == 0 {
            format!("{units} units")
        } else {
            format!("{:.3} s", units as f64 / f64::from(media_scale))
        }
    };
    if stats.zero_length > 0 {
        problems.push(format!(
            "{} sample(s) last 0 s (two frames at the same time)",
            stats.zero_length
        ));
    }
    if !movie.fragmented {
        if stats.samples != samples {
            problems.push(format!(
                "the sample tables disagree: {samples} sample sizes but {} sample durations",
                stats.samples
            ));
        }
        if let Some(declared) = declared.filter(|&d| d > 0) {
            if stats.samples > 1 && u64::from(stats.longest) > declared {
                problems.push(format!(
                    "one sample lasts {}, longer than the whole track ({})",
                    seconds(u64::from(stats.longest)),
                    seconds(declared)
                ));
            }
            // One frame of slack, and a tenth of a second, for writers that round.
            let slack = u64::from(stats.longest).max(u64::from(media_scale) / 10);
            if stats.total.abs_diff(declared) > slack {
                problems.push(format!(
                    "the sample durations add up to {} but the track header says {}",
                    seconds(stats.total),
                    seconds(declared)
                ));
            }
        }
    }
    problems
}

/// The container's duration: `mvhd`, else (fragmented files) `mehd`, else the longest track.
fn container_seconds(movie: &Movie<'_>, top_level: &TopLevel) -> Option<f64> {
    let movie_scale = movie.header.map_or(0, |header| header.timescale);
    if let Some(seconds) = movie.header.and_then(|header| header.seconds()) {
        return Some(seconds);
    }
    if let Some(seconds) = movie
        .fragment_duration
        .and_then(|duration| movie::seconds(duration, movie_scale))
    {
        return Some(seconds);
    }
    if !movie.fragmented || top_level.fragments_skipped {
        return None;
    }
    movie
        .tracks
        .iter()
        .filter_map(|track| {
            let trex_duration = movie
                .default_sample_durations
                .iter()
                .find(|(id, _)| *id == track.id)
                .map_or(0, |&(_, duration)| duration);
            let stats = SampleStats::collect(|f| {
                track.tables.for_each_run(&mut *f);
                let _ =
                    fragments::for_each_run(&top_level.fragments, track.id, trex_duration, 0, f);
            });
            movie::seconds(stats.total, track.media_header?.timescale)
        })
        .reduce(f64::max)
}

#[cfg(test)]
mod tests {
    use super::boxes::boxed;
    use std::io::Cursor;

    use super::*;

    fn full(version_flags: u32, fields: &[u32]) -> Vec<u8> {
        let mut body = version_flags.to_be_bytes().to_vec();
        for field in fields {
            body.extend_from_slice(&field.to_be_bytes());
        }
        body
    }

    fn ftyp() -> Vec<u8> {
        boxed(b"ftyp", b"isom\0\0\x02\0isomavc1")
    }

    /// A minimal movie: one 64x48 `avc1` track, `frames` samples of 100 bytes at 25 fps, stored
    /// in one chunk at `data_offset`.
    fn moov(frames: u32, data_offset: u32) -> Vec<u8> {
        let mvhd = boxed(b"mvhd", &full(0, &[0, 0, 1000, frames * 40]));
        let mut tkhd_body = vec![0; 40];
        for value in [1u32 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30] {
            tkhd_body.extend_from_slice(&value.to_be_bytes());
        }
        tkhd_body.extend_from_slice(&(64u32 << 16).to_be_bytes());
        tkhd_body.extend_from_slice(&(48u32 << 16).to_be_bytes());
        let tkhd = boxed(b"tkhd", &tkhd_body);
        let mdhd = boxed(b"mdhd", &full(0, &[0, 0, 25, frames]));
        let hdlr = boxed(
            b"hdlr",
            &full(0, &[0, u32::from_be_bytes(*b"vide"), 0, 0, 0]),
        );
        let mut entry_body = vec![0; 24];
        entry_body.extend_from_slice(&64u16.to_be_bytes());
        entry_body.extend_from_slice(&48u16.to_be_bytes());
        entry_body.resize(78, 0);
        let stsd_body = [full(0, &[1]), boxed(b"avc1", &entry_body)].concat();
        let stbl = boxed(
            b"stbl",
            &[
                boxed(b"stsd", &stsd_body),
                boxed(b"stts", &full(0, &[1, frames, 1])),
                boxed(b"stsz", &full(0, &[100, frames])),
                boxed(b"stsc", &full(0, &[1, 1, frames, 1])),
                boxed(b"stco", &full(0, &[1, data_offset])),
            ]
            .concat(),
        );
        let minf = boxed(b"minf", &stbl);
        let mdia = boxed(b"mdia", &[mdhd, hdlr, minf].concat());
        let trak = boxed(b"trak", &[tkhd, mdia].concat());
        boxed(b"moov", &[mvhd, trak].concat())
    }

    /// ftyp, moov, mdat with `frames` samples of 100 bytes.
    fn fast_start(frames: u32) -> Vec<u8> {
        let ftyp = ftyp();
        let moov_len = moov(frames, 0).len();
        let data_offset = (ftyp.len() + moov_len + 8) as u32;
        let mdat = boxed(b"mdat", &vec![0xAB; frames as usize * 100]);
        [ftyp, moov(frames, data_offset), mdat].concat()
    }

    fn probe_bytes(bytes: &[u8]) -> Result<VideoInfo, MediaError> {
        probe(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn describes_a_minimal_movie() {
        let info = probe_bytes(&fast_start(50)).unwrap();
        assert_eq!(info.container, Container::Mp4);
        assert_eq!(info.codec_fourcc.as_deref(), Some("avc1"));
        assert_eq!((info.width, info.height), (64, 48));
        assert_eq!(info.duration_s, Some(2.0));
        assert_eq!(info.frame_count, Some(50));
        assert_eq!(info.fps, Some(25.0));
        assert_eq!(info.truncated, None);
        assert!(!info.encrypted);
    }

    #[test]
    fn moov_after_mdat() {
        let ftyp = ftyp();
        let data_offset = (ftyp.len() + 8) as u32;
        let mdat = boxed(b"mdat", &[0; 1000]);
        let file = [ftyp, mdat, moov(10, data_offset)].concat();
        let info = probe_bytes(&file).unwrap();
        assert_eq!(info.frame_count, Some(10));
        assert_eq!(info.truncated, None);
    }

    #[test]
    fn an_mdat_running_past_the_end_marks_the_file_truncated() {
        let file = fast_start(50);
        let info = probe_bytes(&file[..file.len() - 1]).unwrap();
        assert!(info.truncated.unwrap().contains("'mdat'"));
    }

    #[test]
    fn sample_data_past_the_end_marks_the_file_truncated_even_with_an_open_ended_mdat() {
        let mut file = fast_start(50);
        let mdat_at = file.len() - (8 + 50 * 100);
        file[mdat_at..mdat_at + 4].copy_from_slice(&[0; 4]);
        let cut = &file[..file.len() - 150];
        let reason = probe_bytes(cut).unwrap().truncated.unwrap();
        assert!(reason.starts_with("sample data ends at byte"), "{reason}");
        assert_eq!(probe_bytes(&file).unwrap().truncated, None);
    }

    #[test]
    fn a_cut_moov_is_truncated_and_a_missing_one_depends_on_the_data() {
        let ftyp = ftyp();
        let moov = moov(10, 0);
        let cut = [ftyp.clone(), moov[..moov.len() / 2].to_vec()].concat();
        assert!(matches!(probe_bytes(&cut), Err(MediaError::Truncated(_))));

        let mdat = boxed(b"mdat", &[0; 1000]);
        let cut_data = [ftyp.clone(), mdat[..500].to_vec()].concat();
        let Err(MediaError::Truncated(reason)) = probe_bytes(&cut_data) else {
            panic!("a cut-off mdat without moov must be a truncation");
        };
        assert!(reason.starts_with("no moov box"), "{reason}");

        let open_ended = [ftyp.clone(), b"\0\0\0\0mdat".to_vec(), vec![0; 100]].concat();
        assert!(matches!(
            probe_bytes(&open_ended),
            Err(MediaError::Truncated(_))
        ));

        let complete_without_moov = [ftyp, mdat].concat();
        assert!(matches!(
            probe_bytes(&complete_without_moov),
            Err(MediaError::Malformed(_))
        ));
    }

    #[test]
    fn huge_declared_sizes_are_errors() {
        for size in [1u64 << 63, u64::MAX] {
            for kind in [b"mdat", b"moov", b"free"] {
                let mut file = ftyp();
                file.extend_from_slice(&1u32.to_be_bytes());
                file.extend_from_slice(kind);
                file.extend_from_slice(&size.to_be_bytes());
                file.extend_from_slice(&[0; 64]);
                assert!(
                    matches!(probe_bytes(&file), Err(MediaError::Malformed(_))),
                    "{kind:?} {size}"
                );
            }
        }
    }

    #[test]
    fn a_moov_larger_than_the_cap_is_refused_before_reading_it() {
        // A declared size within the file length but over the cap: error without allocation.
        let mut file = ftyp();
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"moov");
        file.extend_from_slice(&(MOOV_CAP + 17).to_be_bytes());
        let len = MOOV_CAP + 17 + file.len() as u64;
        let result = probe(&mut Cursor::new(&file), len);
        let Err(MediaError::Malformed(message)) = result else {
            panic!("{result:?}");
        };
        assert!(message.contains("too large"), "{message}");
    }

    #[test]
    fn not_a_box_structure() {
        let result = probe_bytes(b"\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR");
        assert_eq!(
            result,
            Err(MediaError::Unrecognized {
                expected: "MP4/MOV",
                found: Some("a PNG image".into())
            })
        );
        assert!(matches!(
            probe_bytes(b"\0\0\0"),
            Err(MediaError::Unrecognized { .. })
        ));
        // Four letters after a size are not enough to be a box.
        assert_eq!(
            probe_bytes(b"abcdefgh ijkl mnop"),
            Err(MediaError::Unrecognized {
                expected: "MP4/MOV",
                found: Some("text".into())
            })
        );
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(
            probe_bytes(heic),
            Err(MediaError::Unrecognized {
                expected: "MP4/MOV",
                found: Some("a HEIF image".into())
            })
        );
        assert_eq!(probe_bytes(b""), Err(MediaError::Empty));
    }

    #[test]
    fn audio_only_movies_have_no_video_track() {
        let mut file = fast_start(5);
        let at = file.windows(4).position(|w| w == b"vide").unwrap();
        file[at..at + 4].copy_from_slice(b"soun");
        assert_eq!(probe_bytes(&file), Err(MediaError::NoVideoTrack));
    }

    #[test]
    fn classic_quicktime_without_ftyp() {
        let moov_len = moov(4, 0).len();
        let data_offset = (moov_len + 8) as u32;
        let file = [moov(4, data_offset), boxed(b"mdat", &[0; 400])].concat();
        let info = probe_bytes(&file).unwrap();
        assert_eq!(info.container, Container::QuickTime);
        assert_eq!(info.frame_count, Some(4));
    }

    #[test]
    fn trailing_partial_header_marks_truncation() {
        let mut file = fast_start(5);
        file.extend_from_slice(&[0, 0, 0]);
        let reason = probe_bytes(&file).unwrap().truncated.unwrap();
        assert!(reason.contains("box header"), "{reason}");
    }

    #[test]
    fn never_seeks_backwards_and_skips_media_data() {
        struct Watch<'a> {
            inner: Cursor<&'a [u8]>,
            read: u64,
        }
        impl Read for Watch<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.inner.read(buf)?;
                self.read += n as u64;
                Ok(n)
            }
        }
        impl Seek for Watch<'_> {
            fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
                match pos {
                    std::io::SeekFrom::Current(n) if n >= 0 => self.inner.seek(pos),
                    other => panic!("seek {other:?}"),
                }
            }
        }
        let ftyp = ftyp();
        let data_offset = (ftyp.len() + 16) as u32;
        let mut mdat = 1u32.to_be_bytes().to_vec();
        mdat.extend_from_slice(b"mdat");
        mdat.extend_from_slice(&(16u64 + 200_000).to_be_bytes());
        mdat.extend(vec![0; 200_000]);
        let file = [ftyp, mdat, moov(2000, data_offset)].concat();
        let mut watch = Watch {
            inner: Cursor::new(&file),
            read: 0,
        };
        let info = probe(&mut watch, file.len() as u64).unwrap();
        assert_eq!(info.frame_count, Some(2000));
        assert!(watch.read < 10_000, "read {} bytes", watch.read);
    }
}
