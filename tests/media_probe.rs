//! The media probes against real files made by ffmpeg, checked with ffprobe, and against damaged
//! and arbitrary bytes.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs::{self, File};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use support::ffprobe;
use support::fixtures::{self, Codec, ImageKind, ImageSpec, VideoContainer, VideoSpec};
use wanft::media::ffmpeg::Ffmpeg;
use wanft::media::{
    self, Container, Expect, ImageFormat, ImageInfo, MediaError, MediaInfo, VideoInfo,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn probe_file(path: &Path, expect: Expect) -> Result<MediaInfo, MediaError> {
    let len = fs::metadata(path).expect("fixture exists").len();
    media::probe(&mut File::open(path).expect("open fixture"), len, expect)
}

fn probe_bytes(bytes: &[u8], expect: Expect) -> Result<MediaInfo, MediaError> {
    media::probe(&mut Cursor::new(bytes), bytes.len() as u64, expect)
}

fn video_info(path: &Path) -> VideoInfo {
    match probe_file(path, Expect::Video) {
        Ok(MediaInfo::Video(info)) => info,
        other => panic!("{}: expected video info, got {other:?}", path.display()),
    }
}

fn image_info(path: &Path) -> ImageInfo {
    match probe_file(path, Expect::Image) {
        Ok(MediaInfo::Image(info)) => info,
        other => panic!("{}: expected image info, got {other:?}", path.display()),
    }
}

/// A probe result says the file is cut short, whether as an error or as a flag on the info.
fn says_truncated(result: &Result<MediaInfo, MediaError>) -> bool {
    match result {
        Err(MediaError::Truncated(_)) => true,
        Ok(info) => info.truncated().is_some(),
        Err(_) => false,
    }
}

/// Top-level boxes of an MP4 as (type, start, end), for tests that edit files. 32-bit sizes only:
/// that is what ffmpeg writes for small files.
fn top_level_boxes(bytes: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut boxes = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        assert!(size >= 8, "fixture box at {at} has a 32-bit size");
        let kind = bytes[at + 4..at + 8].try_into().unwrap();
        boxes.push((kind, at, at + size));
        at += size;
    }
    boxes
}

fn find_box(bytes: &[u8], kind: &[u8; 4]) -> (usize, usize) {
    top_level_boxes(bytes)
        .into_iter()
        .find(|(k, _, _)| k == kind)
        .map(|(_, start, end)| (start, end))
        .unwrap_or_else(|| panic!("no {kind:?} box"))
}

// ---------------------------------------------------------------------------------------------
// Memory: a global allocator that tracks the peak of live bytes per thread, so a test can check
// that a probe never allocates more than the file it reads (plus a little).

struct PeakTracking;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn record(delta: isize) {
    // `try_with`: allocations can happen while a thread's locals are being torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for PeakTracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: PeakTracking = PeakTracking;

/// Runs `f` and returns its result with the peak of bytes it held allocated at once.
fn peak_memory<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let result = f();
    let peak = PEAK.with(Cell::get) - base;
    (result, peak.max(0) as usize)
}

/// What a probe may hold beyond the file's own size: read-ahead, a 64 KiB header window for
/// TIFF/HEIF, an 8 KiB tail, and small parsed structures.
const MEMORY_SLACK: usize = 256 << 10;

/// Properties every successful probe has, whatever the input.
fn check_invariants(result: &Result<MediaInfo, MediaError>) -> Result<(), TestCaseError> {
    match result {
        Ok(MediaInfo::Video(video)) => {
            prop_assert!(matches!(video.rotation, 0 | 90 | 180 | 270));
            let display = if video.rotation % 180 == 90 {
                (video.coded_height, video.coded_width)
            } else {
                (video.coded_width, video.coded_height)
            };
            prop_assert_eq!((video.width, video.height), display);
            if let Some(seconds) = video.duration_s {
                prop_assert!(seconds.is_finite() && seconds > 0.0);
            }
            if let Some(fps) = video.fps {
                prop_assert!(fps.is_finite() && fps > 0.0);
            }
            for seconds in [
                video.media_duration_s,
                video.container_duration_s,
                video.leading_gap_s,
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!(seconds.is_finite() && seconds > 0.0);
            }
            if video.pixel_aspect.is_none() {
                let turned = (video.width, video.height);
                prop_assert_eq!((video.display_width, video.display_height), turned);
            }
        }
        Ok(MediaInfo::Image(image)) => {
            prop_assert!(image.width > 0 && image.height > 0);
            prop_assert!(image.exif_orientation.is_none_or(|o| (1..=8).contains(&o)));
        }
        Err(_) => {}
    }
    Ok(())
}

/// Probes `bytes` both ways, checking memory and invariants.
fn probe_untrusted(bytes: &[u8]) -> Result<(), TestCaseError> {
    for expect in [Expect::Video, Expect::Image] {
        let (result, peak) = peak_memory(|| probe_bytes(bytes, expect));
        prop_assert!(
            peak <= bytes.len() + MEMORY_SLACK,
            "probe of {} bytes held {peak} bytes",
            bytes.len()
        );
        check_invariants(&result)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Real videos against ffprobe

fn assert_agrees_with_ffprobe(path: &Path, spec: &VideoSpec) {
    let info = video_info(path);
    let reference = ffprobe::video_stream(path);
    let name = path.display();
    let expected_container = match spec.container {
        VideoContainer::Mov => Container::QuickTime,
        _ => Container::Mp4,
    };
    assert_eq!(info.container, expected_container, "{name}");
    assert_eq!(
        (info.coded_width, info.coded_height),
        (reference.width, reference.height),
        "{name}"
    );
    assert_eq!(info.rotation, reference.rotation, "{name}");
    assert_eq!(info.rotation, spec.rotation.unwrap_or(0), "{name}");
    let display = if info.rotation % 180 == 90 {
        (reference.height, reference.width)
    } else {
        (reference.width, reference.height)
    };
    assert_eq!((info.width, info.height), display, "{name}");
    assert_eq!(
        info.codec_fourcc.as_deref(),
        Some(reference.codec_tag.as_str()),
        "{name}"
    );
    assert_eq!(info.frame_count, reference.frames, "{name}");
    let frame = 1.0 / f64::from(spec.fps);
    let duration = info.duration_s.expect("duration");
    let reference_duration = reference.duration_s.expect("ffprobe duration");
    assert!(
        (duration - reference_duration).abs() <= frame + 1e-6,
        "{name}: duration {duration} vs ffprobe {reference_duration}"
    );
    let fps = info.fps.expect("fps");
    let reference_fps = reference.avg_fps.expect("ffprobe fps");
    assert!(
        (fps - reference_fps).abs() / reference_fps < 0.05,
        "{name}: fps {fps} vs ffprobe {reference_fps}"
    );
    assert_eq!(info.truncated, None, "{name}");
    assert!(!info.encrypted, "{name}");
}

#[test]
fn videos_agree_with_ffprobe() {
    let mut specs = Vec::new();
    for container in [VideoContainer::Mp4, VideoContainer::Mov] {
        for codec in [Codec::H264, Codec::Hevc, Codec::Mpeg4] {
            for rotation in [None, Some(90)] {
                for faststart in [false, true] {
                    specs.push(VideoSpec {
                        codec,
                        container,
                        rotation,
                        faststart,
                        ..VideoSpec::default()
                    });
                }
            }
        }
    }
    for rotation in [180, 270] {
        specs.push(VideoSpec {
            rotation: Some(rotation),
            width: 96,
            height: 64,
            fps: 30,
            seconds: 2.0,
            ..VideoSpec::default()
        });
    }
    let fixtures: Vec<(PathBuf, VideoSpec)> = specs
        .par_iter()
        .map(|spec| (fixtures::video(*spec), *spec))
        .collect();
    for (path, spec) in &fixtures {
        assert_agrees_with_ffprobe(path, spec);
    }
}

#[test]
fn the_first_video_track_is_found_behind_an_audio_track() {
    let spec = VideoSpec {
        audio: true,
        fps: 25,
        ..VideoSpec::default()
    };
    let path = fixtures::video(spec);
    assert_agrees_with_ffprobe(&path, &spec);
}

#[test]
fn fragmented_files_are_counted_from_their_fragments() {
    for (container, audio) in [(VideoContainer::Mp4, false), (VideoContainer::Mov, true)] {
        let spec = VideoSpec {
            container,
            audio,
            fragmented: true,
            seconds: 2.0,
            ..VideoSpec::default()
        };
        let path = fixtures::video(spec);
        let info = video_info(&path);
        let reference = ffprobe::video_stream(&path);
        assert_eq!(info.frame_count, Some(ffprobe::decoded_frames(&path)));
        assert_eq!(info.frame_count, Some(48));
        let duration = info.duration_s.expect("duration");
        let reference_duration = reference.duration_s.expect("ffprobe duration");
        assert!(
            (duration - reference_duration).abs() < 1e-3,
            "{duration} vs {reference_duration}"
        );
        assert!((info.fps.expect("fps") - 24.0).abs() < 0.5);
        assert_eq!(info.truncated, None);
    }
}

#[test]
fn audio_only_files_have_no_video_track() {
    let path = fixtures::video(VideoSpec {
        audio_only: true,
        ..VideoSpec::default()
    });
    assert_eq!(
        probe_file(&path, Expect::Video),
        Err(MediaError::NoVideoTrack)
    );
}

#[test]
fn vp9_in_mp4_names_its_codec() {
    let path = fixtures::video(VideoSpec {
        codec: Codec::Vp9,
        ..VideoSpec::default()
    });
    let info = video_info(&path);
    assert_eq!(info.codec_fourcc.as_deref(), Some("vp09"));
    assert_eq!(info.codec_name(), "VP9");
    assert!(!info.is_h264());
}

#[test]
fn matroska_is_recognised_and_refused() {
    for codec in [Codec::H264, Codec::Vp9] {
        let path = fixtures::video(VideoSpec {
            codec,
            container: VideoContainer::Mkv,
            ..VideoSpec::default()
        });
        assert_eq!(
            probe_file(&path, Expect::Video),
            Err(MediaError::UnsupportedFormat("Matroska".into()))
        );
    }
}

#[test]
fn a_64_bit_mdat_size_is_read_and_absurd_ones_are_errors() {
    // ffmpeg leaves an 8-byte `free` box before `mdat` so that it can switch to a 64-bit size.
    let bytes = fs::read(fixtures::video(VideoSpec::default())).unwrap();
    let boxes = top_level_boxes(&bytes);
    let free = boxes.iter().position(|(k, _, _)| k == b"free").unwrap();
    let (_, free_start, _) = boxes[free];
    let (kind, _, mdat_end) = boxes[free + 1];
    assert_eq!(&kind, b"mdat");
    let with_largesize = |largesize: u64| {
        let mut edited = bytes.clone();
        edited[free_start..free_start + 8].copy_from_slice(b"\0\0\0\x01mdat");
        edited[free_start + 8..free_start + 16].copy_from_slice(&largesize.to_be_bytes());
        edited
    };
    let correct = with_largesize((mdat_end - free_start) as u64);
    let info = match probe_bytes(&correct, Expect::Video) {
        Ok(MediaInfo::Video(info)) => info,
        other => panic!("{other:?}"),
    };
    assert_eq!(info.frame_count, Some(24));
    assert_eq!(info.truncated, None);
    for absurd in [1u64 << 63, u64::MAX] {
        assert!(matches!(
            probe_bytes(&with_largesize(absurd), Expect::Video),
            Err(MediaError::Malformed(_))
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Real images against ffprobe

#[test]
fn images_of_every_format_agree_with_ffprobe() {
    for format in ImageKind::ALL {
        for (width, height) in [(320, 240), (97, 61)] {
            let path = fixtures::image(ImageSpec {
                width,
                height,
                format,
            });
            let info = image_info(&path);
            let expected = match format {
                ImageKind::Jpeg => ImageFormat::Jpeg,
                ImageKind::Png => ImageFormat::Png,
                ImageKind::Bmp => ImageFormat::Bmp,
                ImageKind::Webp => ImageFormat::Webp,
                ImageKind::Gif => ImageFormat::Gif,
                ImageKind::Tiff => ImageFormat::Tiff,
            };
            assert_eq!(info.format, expected, "{}", path.display());
            assert_eq!(
                (info.width, info.height),
                ffprobe::dimensions(&path),
                "{}",
                path.display()
            );
            assert_eq!((info.width, info.height), (width, height));
            assert_eq!(info.truncated, None, "{}", path.display());
        }
    }
}

#[test]
fn files_are_probed_as_what_they_are_not_as_what_was_expected() {
    let png = fixtures::image(ImageSpec {
        width: 64,
        height: 48,
        format: ImageKind::Png,
    });
    match probe_file(&png, Expect::Video) {
        Ok(MediaInfo::Image(info)) => assert_eq!(info.format, ImageFormat::Png),
        other => panic!("{other:?}"),
    }
    let mov = fixtures::video(VideoSpec {
        container: VideoContainer::Mov,
        ..VideoSpec::default()
    });
    match probe_file(&mov, Expect::Image) {
        Ok(MediaInfo::Video(info)) => assert_eq!(info.container, Container::QuickTime),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Damage

#[test]
fn truncated_videos_are_detected_wherever_they_are_cut() {
    for (faststart, fragmented) in [(true, false), (false, false), (false, true)] {
        let path = fixtures::video(VideoSpec {
            width: 320,
            height: 240,
            seconds: 2.0,
            faststart,
            fragmented,
            ..VideoSpec::default()
        });
        let bytes = fs::read(&path).unwrap();
        let len = bytes.len();
        assert!(!says_truncated(&probe_bytes(&bytes, Expect::Video)));
        for cut in [len / 10, len / 2, len * 9 / 10, len - 1] {
            let result = probe_bytes(&bytes[..cut], Expect::Video);
            assert!(
                says_truncated(&result),
                "{} cut at {cut} of {len}: {result:?}",
                path.display()
            );
        }
    }
}

#[test]
fn truncated_images_are_detected() {
    for format in [
        ImageKind::Jpeg,
        ImageKind::Png,
        ImageKind::Bmp,
        ImageKind::Webp,
    ] {
        let path = fixtures::image(ImageSpec {
            width: 320,
            height: 240,
            format,
        });
        let bytes = fs::read(&path).unwrap();
        let len = bytes.len();
        for cut in [len / 2, len * 9 / 10, len - 1] {
            let result = probe_bytes(&bytes[..cut], Expect::Image);
            assert!(
                says_truncated(&result),
                "{} cut at {cut} of {len}: {result:?}",
                path.display()
            );
        }
    }
}

#[test]
fn a_file_without_moov_is_malformed_unless_it_was_cut_off() {
    for faststart in [true, false] {
        let bytes = fs::read(fixtures::video(VideoSpec {
            faststart,
            ..VideoSpec::default()
        }))
        .unwrap();
        let (start, end) = find_box(&bytes, b"moov");
        let without_moov = [&bytes[..start], &bytes[end..]].concat();
        let result = probe_bytes(&without_moov, Expect::Video);
        let Err(MediaError::Malformed(message)) = &result else {
            panic!("faststart {faststart}: {result:?}");
        };
        assert!(message.contains("no moov box"), "{message}");
        // The same file cut inside its media data: a truncation, not a malformation.
        let (mdat_start, mdat_end) = find_box(&without_moov, b"mdat");
        let cut = &without_moov[..(mdat_start + mdat_end) / 2];
        assert!(matches!(
            probe_bytes(cut, Expect::Video),
            Err(MediaError::Truncated(_))
        ));
    }
}

#[test]
fn empty_files_and_random_bytes_named_like_media() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    fs::write(&empty, b"").unwrap();
    assert_eq!(probe_file(&empty, Expect::Video), Err(MediaError::Empty));
    assert_eq!(
        media::image::probe(&mut Cursor::new([]), 0),
        Err(MediaError::Empty)
    );

    let mut rng = StdRng::seed_from_u64(7);
    for (name, expect) in [("clip.mp4", Expect::Video), ("frame.jpg", Expect::Image)] {
        let mut noise = vec![0u8; 100_000];
        rng.fill_bytes(&mut noise);
        // Clear the first byte's top bits so the noise cannot start with a magic by chance.
        noise[0] = 0x03;
        let path = dir.path().join(name);
        fs::write(&path, &noise).unwrap();
        let result = probe_file(&path, expect);
        assert!(
            matches!(result, Err(MediaError::Unrecognized { found: None, .. })),
            "{name}: {result:?}"
        );
    }

    let zip = dir.path().join("clip.mp4");
    fs::write(&zip, b"PK\x03\x04\x14\0\0\0\x08\0rest of an archive").unwrap();
    assert_eq!(
        probe_file(&zip, Expect::Video),
        Err(MediaError::Unrecognized {
            expected: "video",
            found: Some("a ZIP archive".into())
        })
    );
}

// ---------------------------------------------------------------------------------------------
// ffmpeg's deep check

#[test]
fn ffmpeg_decode_check_passes_good_clips_and_reports_damaged_ones() {
    let ffmpeg = Ffmpeg::find().expect("ffmpeg is installed for the tests");
    let version = ffmpeg.version().unwrap();
    assert!(
        !version.is_empty() && !version.starts_with("ffmpeg"),
        "{version}"
    );
    let clip = fixtures::video(VideoSpec {
        width: 320,
        height: 240,
        seconds: 2.0,
        faststart: true,
        audio: true,
        ..VideoSpec::default()
    });
    assert_eq!(ffmpeg.decode_check(&clip).unwrap(), Vec::<String>::new());

    let bytes = fs::read(&clip).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A space and a colon in the name: arguments must reach ffmpeg as one file name.
    let cut = dir.path().join("cut clip:1.mp4");
    fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let errors = ffmpeg.decode_check(&cut).unwrap();
    assert!(!errors.is_empty());

    let mut corrupted = bytes.clone();
    let (mdat_start, mdat_end) = find_box(&corrupted, b"mdat");
    let middle = (mdat_start + mdat_end) / 2;
    StdRng::seed_from_u64(1).fill_bytes(&mut corrupted[middle..middle + 3000]);
    let corrupt = dir.path().join("corrupt.mp4");
    fs::write(&corrupt, &corrupted).unwrap();
    assert!(!ffmpeg.decode_check(&corrupt).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Cost: a probe reads a small part of the file and never seeks back.

struct CountingReader<R> {
    inner: R,
    bytes_read: u64,
    reads: u32,
    backward_seeks: u32,
}

impl<R> CountingReader<R> {
    fn new(inner: R) -> Self {
        CountingReader {
            inner,
            bytes_read: 0,
            reads: 0,
            backward_seeks: 0,
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes_read += n as u64;
        self.reads += 1;
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        if !matches!(pos, SeekFrom::Current(n) if n >= 0) {
            self.backward_seeks += 1;
        }
        self.inner.seek(pos)
    }
}

#[test]
fn a_probe_reads_a_small_fraction_of_a_one_megabyte_clip() {
    for faststart in [false, true] {
        let path = fixtures::video(VideoSpec {
            width: 854,
            height: 480,
            seconds: 5.0,
            fps: 24,
            bitrate_kbps: Some(1600),
            faststart,
            ..VideoSpec::default()
        });
        let len = fs::metadata(&path).unwrap().len();
        assert!(
            len > 800_000,
            "the clip should be about 1 MB, is {len} bytes"
        );
        let mut reader = CountingReader::new(File::open(&path).unwrap());
        let result = media::probe(&mut reader, len, Expect::Video);
        assert!(matches!(result, Ok(MediaInfo::Video(_))), "{result:?}");
        assert!(
            reader.bytes_read < len / 10,
            "read {} of {len} bytes",
            reader.bytes_read
        );
        assert_eq!(reader.backward_seeks, 0);
    }
}

#[test]
fn a_probe_reads_only_the_ends_of_a_large_image() {
    let path = fixtures::image(ImageSpec {
        width: 1600,
        height: 1200,
        format: ImageKind::Jpeg,
    });
    let len = fs::metadata(&path).unwrap().len();
    let mut reader = CountingReader::new(File::open(&path).unwrap());
    let info = media::image::probe(&mut reader, len).unwrap();
    assert_eq!(
        (info.width, info.height, info.truncated),
        (1600, 1200, None)
    );
    assert!(
        reader.bytes_read <= 16 << 10,
        "read {} of {len}",
        reader.bytes_read
    );
    assert_eq!(reader.backward_seeks, 0);
}

// ---------------------------------------------------------------------------------------------
// Arbitrary and damaged input: never a panic, never unbounded memory.

/// An EXIF block (big-endian TIFF) holding one orientation tag.
fn exif_block(orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0; 6]);
    tiff
}

/// Real files whose timing goes through the edit-list and composition-offset code (a lossless
/// cut, B-frames, a fragmented cut with composition offsets) and images carrying EXIF in each
/// of the three places it is read from.
static TIMING_AND_EXIF_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let bframes = fixtures::made_with(
        "bframes",
        "mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=32x24:rate=24:duration=3",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-bf",
            "2",
            "-g",
            "24",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let source = bframes.to_str().unwrap();
    let cut = fixtures::made_with(
        "bframes-cut",
        "mp4",
        &["-ss", "1.3", "-i", source, "-t", "1", "-c", "copy"],
    );
    let fragmented_cut = fixtures::made_with(
        "bframes-cut-fragmented",
        "mp4",
        &[
            "-ss",
            "1.3",
            "-i",
            source,
            "-t",
            "1",
            "-c",
            "copy",
            "-movflags",
            "+frag_keyframe+delay_moov+default_base_moof",
        ],
    );
    let late = fixtures::made_with(
        "bframes-late",
        "mov",
        &["-itsoffset", "0.5", "-i", source, "-c", "copy"],
    );
    let image = |format| {
        fs::read(fixtures::image(ImageSpec {
            width: 32,
            height: 24,
            format,
        }))
        .unwrap()
    };
    let jpeg = image(ImageKind::Jpeg);
    let mut app1 = vec![0xFF, 0xE1, 0, 0];
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend(exif_block(6));
    let app1_len = (app1.len() - 2) as u16;
    app1[2..4].copy_from_slice(&app1_len.to_be_bytes());
    let jpeg_exif = [&jpeg[..2], &app1[..], &jpeg[2..]].concat();
    let png = image(ImageKind::Png);
    let exif = exif_block(8);
    let mut chunk = (exif.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"eXIf");
    chunk.extend_from_slice(&exif);
    chunk.extend_from_slice(&[0; 4]);
    let png_exif = [&png[..33], &chunk[..], &png[33..]].concat();
    let webp = image(ImageKind::Webp);
    let mut body = b"WEBPVP8X".to_vec();
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(&[0x08, 0, 0, 0, 31, 0, 0, 23, 0, 0]);
    body.extend_from_slice(&webp[12..]);
    body.extend_from_slice(b"EXIF");
    body.extend_from_slice(&(exif.len() as u32).to_le_bytes());
    body.extend_from_slice(&exif);
    let mut webp_exif = b"RIFF".to_vec();
    webp_exif.extend_from_slice(&(body.len() as u32).to_le_bytes());
    webp_exif.extend(body);
    let mut seeds: Vec<Vec<u8>> = [bframes, cut, fragmented_cut, late]
        .iter()
        .map(|path| fs::read(path).unwrap())
        .collect();
    seeds.extend([jpeg_exif, png_exif, webp_exif]);
    seeds
});

/// Where the edit-list, composition-offset, fragment-timing and EXIF parsers read.
const TIMING_AND_EXIF_MARKERS: &[&[u8; 4]] = &[
    b"elst", b"ctts", b"stts", b"trun", b"tfdt", b"tfhd", b"mdhd", b"mvhd", b"Exif", b"eXIf",
    b"EXIF", b"VP8X",
];

/// Small real files of every kind the probes parse deeply.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let videos = [
        VideoSpec::default(),
        VideoSpec {
            faststart: true,
            audio: true,
            ..VideoSpec::default()
        },
        VideoSpec {
            container: VideoContainer::Mov,
            codec: Codec::Mpeg4,
            rotation: Some(90),
            ..VideoSpec::default()
        },
        VideoSpec {
            fragmented: true,
            audio: true,
            ..VideoSpec::default()
        },
    ];
    let images = [
        ImageKind::Jpeg,
        ImageKind::Png,
        ImageKind::Bmp,
        ImageKind::Webp,
    ]
    .map(|format| ImageSpec {
        width: 32,
        height: 24,
        format,
    });
    let paths = videos
        .into_iter()
        .map(fixtures::video)
        .chain(images.into_iter().map(fixtures::image));
    let mut seeds: Vec<Vec<u8>> = paths.map(|path| fs::read(path).unwrap()).collect();
    seeds.extend(TIMING_AND_EXIF_SEEDS.iter().cloned());
    seeds
});

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: prop::sample::Index,
        bit: u8,
    },
    /// A value typical of size and count fields, written big-endian.
    WriteU32 {
        at: prop::sample::Index,
        value: u32,
    },
    Truncate {
        at: prop::sample::Index,
    },
    /// Copies a range of the file over another place (boxes in the wrong order or nested oddly).
    Splice {
        from: prop::sample::Index,
        to: prop::sample::Index,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        Just(0u32),
        Just(1),
        Just(7),
        Just(8),
        Just(0x7FFF_FFFF),
        Just(u32::MAX),
        any::<u32>()
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<prop::sample::Index>(), interesting)
            .prop_map(|(at, value)| Mutation::WriteU32 { at, value }),
        any::<prop::sample::Index>().prop_map(|at| Mutation::Truncate { at }),
        (
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            1usize..512
        )
            .prop_map(|(from, to, len)| Mutation::Splice { from, to, len }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match mutation {
        Mutation::FlipBit { at, bit } => {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::WriteU32 { at, value } => {
            let i = at.index(bytes.len());
            let end = (i + 4).min(bytes.len());
            bytes[i..end].copy_from_slice(&value.to_be_bytes()[..end - i]);
        }
        Mutation::Truncate { at } => bytes.truncate(at.index(bytes.len())),
        Mutation::Splice { from, to, len } => {
            let from = from.index(bytes.len());
            let piece: Vec<u8> = bytes[from..(from + len).min(bytes.len())].to_vec();
            let to = to.index(bytes.len());
            let end = (to + piece.len()).min(bytes.len());
            bytes[to..end].copy_from_slice(&piece[..end - to]);
        }
    }
}

/// Beginnings that lead arbitrary bytes into each parser rather than to "unrecognised".
const PREFIXES: &[&[u8]] = &[
    b"",
    b"\0\0\0\x18ftypisom\0\0\x02\0isomavc1",
    b"\0\0\0\x14ftypqt  \0\0\0\0qt  ",
    b"\0\0\0\x08wide",
    b"\xFF\xD8\xFF",
    b"\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR",
    b"BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0",
    b"RIFF\0\0\0\0WEBPVP8X",
    b"GIF89a",
    b"II*\0",
    b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_nor_hold_unbounded_memory(
        prefix in prop::sample::select(PREFIXES),
        tail in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        probe_untrusted(&[prefix, &tail[..]].concat())?;
    }

    /// Mutations aimed at the bytes the edit-list, timing and EXIF parsers read.
    #[test]
    fn damaged_edit_lists_timing_and_exif_never_panic_nor_hold_unbounded_memory(
        seed in any::<prop::sample::Index>(),
        marker in any::<prop::sample::Index>(),
        occurrence in any::<prop::sample::Index>(),
        edits in prop::collection::vec((0usize..96, any::<u32>(), 0u8..3), 1..6),
    ) {
        let mut bytes = TIMING_AND_EXIF_SEEDS[seed.index(TIMING_AND_EXIF_SEEDS.len())].clone();
        let marker = TIMING_AND_EXIF_MARKERS[marker.index(TIMING_AND_EXIF_MARKERS.len())];
        let found: Vec<usize> = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == marker)
            .map(|(i, _)| i)
            .collect();
        if !found.is_empty() {
            let base = found[occurrence.index(found.len())];
            for &(offset, value, style) in &edits {
                let at = (base + offset).min(bytes.len().saturating_sub(1));
                match style {
                    // A typical count, size or time field.
                    0 => {
                        let end = (at + 4).min(bytes.len());
                        bytes[at..end].copy_from_slice(&value.to_be_bytes()[..end - at]);
                    }
                    1 => bytes[at] ^= value as u8,
                    _ => bytes.truncate(at.max(1)),
                }
            }
        }
        probe_untrusted(&bytes)?;
    }

    #[test]
    fn damaged_real_files_never_panic_nor_hold_unbounded_memory(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = SEEDS[seed.index(SEEDS.len())].clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        probe_untrusted(&bytes)?;
    }
}
