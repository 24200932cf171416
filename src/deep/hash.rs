//! Difference hashes: 128 bits per picture that survive re-encoding, resizing and small colour
//! changes, so that the same picture is found under another name, in another clip, or as a
//! validation image.

use super::raster::Gray;

/// A picture's horizontal and vertical difference hash (each bit: is this block darker than the
/// next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PictureHash {
    pub horizontal: u64,
    pub vertical: u64,
}

/// Pictures whose 9×8 block means vary less than this (0–255) are flat (black frames, a plain
/// wall): their hashes say nothing and would match every other flat picture.
const FLAT_DEVIATION: f64 = 3.0;

impl PictureHash {
    /// The hash of `gray`, or `None` for a flat picture.
    pub fn of(gray: &Gray) -> Option<PictureHash> {
        let wide = gray.resized(9, 8);
        if wide.deviation() < FLAT_DEVIATION {
            return None;
        }
        let tall = gray.resized(8, 9);
        let mut horizontal = 0u64;
        let mut vertical = 0u64;
        for y in 0..8 {
            for x in 0..8 {
                let bit = y * 8 + x;
                if wide.px[y * 9 + x] < wide.px[y * 9 + x + 1] {
                    horizontal |= 1 << bit;
                }
                if tall.px[y * 8 + x] < tall.px[(y + 1) * 8 + x] {
                    vertical |= 1 << bit;
                }
            }
        }
        Some(PictureHash {
            horizontal,
            vertical,
        })
    }

    /// Bits that differ, 0–128.
    pub fn distance(self, other: PictureHash) -> u32 {
        (self.horizontal ^ other.horizontal).count_ones()
            + (self.vertical ^ other.vertical).count_ones()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Gray {
        let mut px = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                px.push(f(x, y));
            }
        }
        Gray {
            width: w,
            height: h,
            px,
        }
    }

    #[test]
    fn same_picture_at_another_size_hashes_alike_and_flat_pictures_not_at_all() {
        let scene = |x: usize, y: usize| (((x * 7) ^ (y * 13)) % 251) as u8;
        let big = gray(160, 90, scene);
        let small = big.resized(80, 45);
        let a = PictureHash::of(&big).unwrap();
        let b = PictureHash::of(&small).unwrap();
        assert!(a.distance(b) <= 10, "{}", a.distance(b));
        let other = gray(160, 90, |x, y| scene(y * 2, x / 2));
        assert!(a.distance(PictureHash::of(&other).unwrap()) > 30);
        assert_eq!(PictureHash::of(&gray(64, 36, |_, _| 7)), None);
    }
}
