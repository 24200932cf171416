//! The `moov` box tree: movie header, tracks, and for each track what the probe needs.

use super::boxes::{Fields, FourCc, children, find_child, fourcc_name};
use super::codec_config;
use super::tables::{ChunkOffsets, SampleSizes, SampleTables};
use super::timing::EditList;
use crate::media::MediaError;

/// What the probe reads from a `moov` box. Slices borrow from the `moov` buffer.
#[derive(Debug, Default)]
pub(super) struct Movie<'a> {
    /// `mvhd`.
    pub header: Option<TimeHeader>,
    /// `mvex` is present: the file is fragmented, and samples also live in `moof` boxes.
    pub fragmented: bool,
    /// `mvex/mehd`: the duration of a fragmented file, in the movie timescale.
    pub fragment_duration: Option<u64>,
    /// `mvex/trex`: per track id, the sample duration fragments use when they give none.
    pub default_sample_durations: Vec<(u32, u32)>,
    pub tracks: Vec<Track<'a>>,
}

/// A timescale (units per second) and a duration in those units, from `mvhd` or `mdhd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TimeHeader {
    pub timescale: u32,
    /// `None` when the header says the duration is unknown (all ones).
    pub duration: Option<u64>,
}

impl TimeHeader {
    /// The duration in seconds, when it is known and not zero.
    pub fn seconds(&self) -> Option<f64> {
        seconds(self.duration?, self.timescale)
    }

    /// `mvhd` and `mdhd` start alike: times, then timescale and duration, 32- or 64-bit.
    fn parse(kind: &FourCc, body: &[u8]) -> Result<TimeHeader, MediaError> {
        let mut fields = Fields::new(kind, body);
        let version = fields.full_box_version()?;
        fields.time(version)?; // creation time
        fields.time(version)?; // modification time
        let timescale = fields.u32()?;
        let duration = fields.time(version)?;
        let unknown = if version == 1 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        Ok(TimeHeader {
            timescale,
            duration: (duration != unknown).then_some(duration),
        })
    }
}

/// `duration / timescale`, when both make sense.
pub(super) fn seconds(duration: u64, timescale: u32) -> Option<f64> {
    (duration > 0 && timescale > 0).then(|| duration as f64 / f64::from(timescale))
}

#[derive(Debug, Default)]
pub(super) struct Track<'a> {
    /// `tkhd`: the id that fragments refer to the track by, clockwise rotation from the matrix and the width and height (integer part).
    pub id: u32,
    pub rotation: u16,
    pub header_size: (u32, u32),
    /// `mdia/hdlr`: `vide`, `soun`…
    pub handler: Option<FourCc>,
    /// `mdia/mdhd`.
    pub media_header: Option<TimeHeader>,
    /// The first entry of `stsd`: its type and body.
    pub sample_entry: Option<(FourCc, &'a [u8])>,
    pub tables: SampleTables<'a>,
    /// `edts/elst`: how the media timeline is presented.
    pub edits: Option<EditList<'a>>,
}

impl Track<'_> {
    pub fn is_video(&self) -> bool {
        self.handler == Some(*b"vide")
    }
}

/// Reads the movie from the body of a `moov` box.
pub(super) fn parse(moov: &[u8]) -> Result<Movie<'_>, MediaError> {
    let mut movie = Movie::default();
    for child in children(b"moov", moov) {
        let (kind, body) = child?;
        match &kind {
            b"mvhd" => movie.header = Some(TimeHeader::parse(&kind, body)?),
            b"trak" => movie.tracks.push(parse_track(body)?),
            b"mvex" => parse_movie_extends(body, &mut movie)?,
            b"cmov" => {
                return Err(MediaError::Malformed(
                    "the movie header is compressed ('cmov'), which is not supported".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(movie)
}

fn parse_movie_extends(mvex: &[u8], movie: &mut Movie<'_>) -> Result<(), MediaError> {
    movie.fragmented = true;
    for child in children(b"mvex", mvex) {
        let (kind, body) = child?;
        let mut fields = Fields::new(&kind, body);
        match &kind {
            b"mehd" => {
                let version = fields.full_box_version()?;
                movie.fragment_duration = Some(fields.time(version)?);
            }
            b"trex" => {
                fields.version_and_flags()?;
                let track_id = fields.u32()?;
                fields.skip(4)?; // default sample description index
                movie
                    .default_sample_durations
                    .push((track_id, fields.u32()?));
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_track(trak: &[u8]) -> Result<Track<'_>, MediaError> {
    let mut track = Track::default();
    for child in children(b"trak", trak) {
        let (kind, body) = child?;
        match &kind {
            b"tkhd" => parse_track_header(body, &mut track)?,
            b"mdia" => parse_media(body, &mut track)?,
            b"edts" => {
                if let Some(elst) = find_child(&kind, body, b"elst")? {
                    track.edits = Some(EditList::parse(elst)?);
                }
            }
            _ => {}
        }
    }
    Ok(track)
}

fn parse_track_header(tkhd: &[u8], track: &mut Track<'_>) -> Result<(), MediaError> {
    let mut fields = Fields::new(b"tkhd", tkhd);
    let version = fields.full_box_version()?;
    fields.time(version)?; // creation time
    fields.time(version)?; // modification time
    track.id = fields.u32()?;
    fields.skip(4)?; // reserved
    fields.time(version)?; // duration
    fields.skip(16)?; // reserved, layer, alternate group, volume, reserved
    // The matrix is stored row by row: a b u / c d v / x y w.
    let a = fields.i32()?;
    let b = fields.i32()?;
    fields.skip(4)?;
    let c = fields.i32()?;
    let d = fields.i32()?;
    fields.skip(16)?;
    track.rotation = rotation(a, b, c, d);
    // 16.16 fixed point.
    track.header_size = (fields.u32()? >> 16, fields.u32()? >> 16);
    Ok(())
}

/// Clockwise rotation of a display matrix, for the four right-angle rotations; anything else
/// (a mirror, a skew) leaves the picture as coded.
fn rotation(a: i32, b: i32, c: i32, d: i32) -> u16 {
    match (a.signum(), b.signum(), c.signum(), d.signum()) {
        (0, 1, -1, 0) => 90,
        (-1, 0, 0, -1) => 180,
        (0, -1, 1, 0) => 270,
        _ => 0,
    }
}

fn parse_media<'a>(mdia: &'a [u8], track: &mut Track<'a>) -> Result<(), MediaError> {
    for child in children(b"mdia", mdia) {
        let (kind, body) = child?;
        match &kind {
            b"mdhd" => track.media_header = Some(TimeHeader::parse(&kind, body)?),
            b"hdlr" => {
                let mut fields = Fields::new(&kind, body);
                // Version and flags, then `pre_defined` (QuickTime: the component type).
                fields.skip(8)?;
                track.handler = Some(fields.array()?);
            }
            b"minf" => {
                if let Some(stbl) = find_child(&kind, body, b"stbl")? {
                    parse_sample_table(stbl, track)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_sample_table<'a>(stbl: &'a [u8], track: &mut Track<'a>) -> Result<(), MediaError> {
    let tables = &mut track.tables;
    for child in children(b"stbl", stbl) {
        let (kind, body) = child?;
        match &kind {
            b"stsd" => {
                let mut fields = Fields::new(&kind, body);
                fields.full_box_version()?;
                let entry_count = fields.u32()?;
                if entry_count > 0 {
                    track.sample_entry = children(&kind, fields.rest()).next().transpose()?;
                }
            }
            b"stts" => tables.time_to_sample = Some(SampleTables::parse_stts(body)?),
            b"ctts" => tables.composition_offsets = Some(SampleTables::parse_ctts(body)?),
            b"stsz" => tables.sizes = Some(SampleSizes::parse_stsz(body)?),
            b"stz2" => tables.sizes = Some(SampleSizes::parse_stz2(body)?),
            b"stsc" => tables.sample_to_chunk = Some(SampleTables::parse_stsc(body)?),
            b"stco" => tables.chunk_offsets = Some(ChunkOffsets::parse_stco(body)?),
            b"co64" => tables.chunk_offsets = Some(ChunkOffsets::parse_co64(body)?),
            _ => {}
        }
    }
    Ok(())
}

/// What a visual sample entry (`avc1`, `hvc1`, `encv`…) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct VisualEntry {
    /// The codec's four-character code; for `encv`, the original format when `sinf/frma` names it.
    pub codec: String,
    pub encrypted: bool,
    pub width: u16,
    pub height: u16,
    /// `pasp`: horizontal and vertical spacing of the pixels, when not square (1:1).
    pub pixel_aspect: Option<(u32, u32)>,
    /// Why the decoder configuration (`avcC`, `hvcC`) cannot be read, when it cannot.
    pub config_problem: Option<String>,
}

/// Where the child boxes of a visual sample entry start: after the fixed fields (reserved bytes,
/// data reference index, sizes, resolutions, compressor name, depth…).
const VISUAL_ENTRY_FIXED_LEN: usize = 78;

impl VisualEntry {
    pub fn parse(kind: &FourCc, body: &[u8]) -> Result<VisualEntry, MediaError> {
        let mut fields = Fields::new(kind, body);
        // Reserved, data reference index, version/revision/vendor, temporal and spatial quality.
        fields.skip(24)?;
        let width = fields.u16()?;
        let height = fields.u16()?;
        let encrypted = kind == b"encv";
        let boxes = body.get(VISUAL_ENTRY_FIXED_LEN..).unwrap_or_default();
        let original = if encrypted {
            original_format(kind, boxes)
        } else {
            None
        };
        let codec = original.unwrap_or(*kind);
        let mut entry = VisualEntry {
            codec: fourcc_name(&codec),
            encrypted,
            width,
            height,
            pixel_aspect: None,
            config_problem: None,
        };
        // Damage among the child boxes loses only what they would have told; the sample entry
        // itself stays usable, as it does for decoders.
        for child in children(kind, boxes) {
            let Ok((child_kind, child_body)) = child else {
                break;
            };
            match &child_kind {
                b"pasp" => entry.pixel_aspect = pixel_aspect(child_body),
                b"avcC" | b"hvcC" => {
                    entry.config_problem = codec_config::problem(&child_kind, child_body);
                }
                _ => {}
            }
        }
        Ok(entry)
    }
}

/// `pasp`: horizontal and vertical spacing; `None` for square pixels or values that say nothing
/// (0), as decoders read them.
fn pixel_aspect(body: &[u8]) -> Option<(u32, u32)> {
    let mut fields = Fields::new(b"pasp", body);
    let (h, v) = (fields.u32().ok()?, fields.u32().ok()?);
    (h > 0 && v > 0 && h != v).then_some((h, v))
}

/// The `sinf/frma` original format of a protected sample entry. Damage here only loses the name,
/// so errors are ignored.
fn original_format(kind: &FourCc, boxes: &[u8]) -> Option<FourCc> {
    let sinf = find_child(kind, boxes, b"sinf").ok()??;
    let frma = find_child(b"sinf", sinf, b"frma").ok()??;
    Fields::new(b"frma", frma).array().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::mp4::boxes::boxed;

    fn matrix_tkhd(version: u8, matrix: [i32; 9], width: u32, height: u32) -> Vec<u8> {
        let mut body = vec![version, 0, 0, 0];
        let time_len = if version == 1 { 8 } else { 4 };
        body.extend(vec![0; 2 * time_len + 8 + time_len + 16]);
        for value in matrix {
            body.extend_from_slice(&value.to_be_bytes());
        }
        body.extend_from_slice(&(width << 16).to_be_bytes());
        body.extend_from_slice(&(height << 16).to_be_bytes());
        body
    }

    const ONE: i32 = 1 << 16;

    #[test]
    fn rotation_from_matrices() {
        for (version, matrix, expected) in [
            (0, [ONE, 0, 0, 0, ONE, 0, 0, 0, 1 << 30], 0),
            (0, [0, ONE, 0, -ONE, 0, 0, 0, 0, 1 << 30], 90),
            (1, [-ONE, 0, 0, 0, -ONE, 0, 0, 0, 1 << 30], 180),
            (0, [0, -ONE, 0, ONE, 0, 0, 0, 0, 1 << 30], 270),
            // A horizontal mirror is not a rotation.
            (0, [-ONE, 0, 0, 0, ONE, 0, 0, 0, 1 << 30], 0),
        ] {
            let mut track = Track::default();
            parse_track_header(&matrix_tkhd(version, matrix, 640, 360), &mut track).unwrap();
            assert_eq!(track.rotation, expected, "{matrix:?}");
            assert_eq!(track.header_size, (640, 360));
        }
    }

    #[test]
    fn time_headers_of_both_versions() {
        let mut v0 = vec![0; 12];
        v0.extend_from_slice(&600u32.to_be_bytes());
        v0.extend_from_slice(&1500u32.to_be_bytes());
        let header = TimeHeader::parse(b"mdhd", &v0).unwrap();
        assert_eq!(header.seconds(), Some(2.5));
        let mut v1 = vec![1, 0, 0, 0];
        v1.extend(vec![0; 16]);
        v1.extend_from_slice(&1000u32.to_be_bytes());
        v1.extend_from_slice(&u64::MAX.to_be_bytes());
        let unknown = TimeHeader::parse(b"mvhd", &v1).unwrap();
        assert_eq!(unknown.duration, None);
        assert_eq!(unknown.seconds(), None);
    }

    #[test]
    fn encrypted_entries_name_their_original_format() {
        let frma = boxed(b"frma", b"avc1");
        let sinf = boxed(b"sinf", &frma);
        let mut body = vec![0; 24];
        body.extend_from_slice(&320u16.to_be_bytes());
        body.extend_from_slice(&240u16.to_be_bytes());
        body.resize(VISUAL_ENTRY_FIXED_LEN, 0);
        body.extend(sinf);
        let entry = VisualEntry::parse(b"encv", &body).unwrap();
        assert_eq!(
            entry,
            VisualEntry {
                codec: "avc1".into(),
                encrypted: true,
                width: 320,
                height: 240,
                pixel_aspect: None,
                config_problem: None,
            }
        );
        // Without `sinf` the entry type is all there is.
        let plain = VisualEntry::parse(b"encv", &body[..VISUAL_ENTRY_FIXED_LEN]).unwrap();
        assert_eq!(plain.codec, "encv");
    }

    #[test]
    fn compressed_movie_headers_are_refused() {
        let moov = boxed(b"cmov", &[0; 8]);
        assert!(matches!(parse(&moov), Err(MediaError::Malformed(_))));
    }
}
