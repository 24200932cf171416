//! EXIF orientation: the one EXIF tag that changes how an image is shown.
//!
//! An EXIF block is a small TIFF structure (JPEG `APP1` after `Exif\0\0`, PNG `eXIf`, WebP
//! `EXIF`). Only the first image file directory is read, and only for tag 0x0112. Damage here
//! loses the tag and nothing else: viewers then show the image as stored, and so does the probe.

use super::array_at;

/// The most bytes of an EXIF block read into memory. The orientation tag sits in the first
/// directory, a few dozen bytes in; thumbnails and maker notes come later.
pub(crate) const EXIF_READ_CAP: usize = 64 << 10;

/// Directory entries looked at, at most.
const MAX_ENTRIES: usize = 512;

const ORIENTATION_TAG: u16 = 0x0112;
const SHORT: u16 = 3;

/// The orientation (1–8) recorded in a TIFF-structured EXIF block, if any.
pub(crate) fn orientation(tiff: &[u8]) -> Option<u8> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        array_at(tiff, at).map(|b| {
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        })
    };
    let u32_at = |at: usize| {
        array_at(tiff, at).map(|b| {
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
    };
    let directory = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(directory)?).min(MAX_ENTRIES);
    (0..count).find_map(|i| {
        let entry = directory.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? != ORIENTATION_TAG || u16_at(entry + 2)? != SHORT {
            return None;
        }
        // A single SHORT sits left-justified in the 4-byte value field.
        let value = u16_at(entry + 8)?;
        u8::try_from(value).ok().filter(|v| (1..=8).contains(v))
    })
}

/// The orientation of a JPEG `APP1` body (`Exif\0\0` then TIFF), if it is an EXIF one.
pub(crate) fn orientation_of_app1(body: &[u8]) -> Option<u8> {
    orientation(body.strip_prefix(b"Exif\0\0")?)
}

/// True for the orientations that turn the picture by 90° (5–8): width and height swap.
pub fn swaps_sides(orientation: u8) -> bool {
    (5..=8).contains(&orientation)
}

/// What an orientation does, for messages.
pub fn describe(orientation: u8) -> &'static str {
    match orientation {
        1 => "as stored",
        2 => "mirrored",
        3 => "turned 180°",
        4 => "flipped upside down",
        5 => "mirrored and turned 90° counter-clockwise",
        6 => "turned 90° clockwise",
        7 => "mirrored and turned 90° clockwise",
        8 => "turned 90° counter-clockwise",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff(big_endian: bool, entries: &[(u16, u16, u32, u16)]) -> Vec<u8> {
        let u16b = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u32b = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut out = if big_endian {
            b"MM\0*".to_vec()
        } else {
            b"II*\0".to_vec()
        };
        out.extend_from_slice(&u32b(8));
        out.extend_from_slice(&u16b(entries.len() as u16));
        for &(tag, kind, count, value) in entries {
            out.extend_from_slice(&u16b(tag));
            out.extend_from_slice(&u16b(kind));
            out.extend_from_slice(&u32b(count));
            out.extend_from_slice(&u16b(value));
            out.extend_from_slice(&[0, 0]);
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn reads_the_tag_in_both_byte_orders_among_others() {
        for big_endian in [true, false] {
            let block = tiff(big_endian, &[(0x010F, 2, 4, 0), (0x0112, 3, 1, 6)]);
            assert_eq!(orientation(&block), Some(6), "big endian {big_endian}");
        }
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff(true, &[(0x0112, 3, 1, 8)]));
        assert_eq!(orientation_of_app1(&app1), Some(8));
        assert_eq!(orientation_of_app1(b"http://ns.adobe.com/xap/1.0/\0"), None);
    }

    #[test]
    fn damage_loses_the_tag_and_nothing_else() {
        assert_eq!(orientation(&tiff(true, &[(0x0112, 3, 1, 9)])), None);
        assert_eq!(orientation(&tiff(true, &[(0x0112, 4, 1, 6)])), None);
        assert_eq!(orientation(&tiff(true, &[])), None);
        let mut pointing_away = tiff(true, &[(0x0112, 3, 1, 6)]);
        pointing_away[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(orientation(&pointing_away), None);
        let cut = tiff(true, &[(0x0112, 3, 1, 6)]);
        for len in 0..cut.len() {
            let _ = orientation(&cut[..len]);
        }
        assert_eq!(orientation(b"not tiff"), None);
    }

    #[test]
    fn which_orientations_swap_sides() {
        assert!(!swaps_sides(1) && !swaps_sides(3) && !swaps_sides(4));
        assert!(swaps_sides(5) && swaps_sides(6) && swaps_sides(8));
    }
}
