//! Small pictures: what the analysis looks at. A decoded frame arrives as packed RGB at the
//! analysis size; comparisons work on its luma.

/// Packed 8-bit RGB, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// 8-bit luma, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub px: Vec<u8>,
}

/// A rectangle in fractions of a picture's width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Region {
    pub const WHOLE: Region = Region {
        x: 0.0,
        y: 0.0,
        w: 1.0,
        h: 1.0,
    };
}

/// Rec. 601 luma of an RGB triple, in integers.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

impl Raster {
    /// A raster of `width` × `height` from packed RGB (`rgb.len()` must be `3 × width × height`).
    pub fn new(width: usize, height: usize, rgb: Vec<u8>) -> Raster {
        debug_assert_eq!(rgb.len(), width * height * 3);
        Raster { width, height, rgb }
    }

    pub fn gray(&self) -> Gray {
        Gray {
            width: self.width,
            height: self.height,
            px: self
                .rgb
                .chunks_exact(3)
                .map(|p| luma(p[0], p[1], p[2]))
                .collect(),
        }
    }

    pub fn aspect(&self) -> f64 {
        self.width as f64 / self.height.max(1) as f64
    }

    /// `region` of this picture resampled to `width` × `height` (each output pixel the mean
    /// of the input pixels it covers).
    pub fn resample(&self, region: Region, width: usize, height: usize) -> Raster {
        let mut rgb = vec![0u8; width * height * 3];
        resample_channels(
            &self.rgb,
            3,
            self.width,
            self.height,
            region,
            width,
            height,
            &mut rgb,
        );
        Raster::new(width, height, rgb)
    }

    pub fn resized(&self, width: usize, height: usize) -> Raster {
        self.resample(Region::WHOLE, width, height)
    }

    /// The picture as a viewer shows it under EXIF orientation `orientation` (1–8).
    pub fn oriented(&self, orientation: u8) -> Raster {
        let (w, h) = (self.width, self.height);
        let swap = (5..=8).contains(&orientation);
        let (ow, oh) = if swap { (h, w) } else { (w, h) };
        let mut rgb = vec![0u8; self.rgb.len()];
        for oy in 0..oh {
            for ox in 0..ow {
                // Where the output pixel comes from in the stored picture.
                let (x, y) = match orientation {
                    2 => (w - 1 - ox, oy),
                    3 => (w - 1 - ox, h - 1 - oy),
                    4 => (ox, h - 1 - oy),
                    5 => (oy, ox),
                    6 => (oy, h - 1 - ox),
                    7 => (w - 1 - oy, h - 1 - ox),
                    8 => (w - 1 - oy, ox),
                    _ => (ox, oy),
                };
                let from = (y * w + x) * 3;
                let to = (oy * ow + ox) * 3;
                rgb[to..to + 3].copy_from_slice(&self.rgb[from..from + 3]);
            }
        }
        Raster::new(ow, oh, rgb)
    }

    /// Mean of each channel.
    pub fn mean_rgb(&self) -> [f64; 3] {
        let mut sum = [0u64; 3];
        for p in self.rgb.chunks_exact(3) {
            for c in 0..3 {
                sum[c] += u64::from(p[c]);
            }
        }
        let n = (self.width * self.height).max(1) as f64;
        sum.map(|s| s as f64 / n)
    }

    /// Mean absolute difference of every channel of every pixel (0–255); the rasters must have
    /// the same size.
    pub fn colour_difference(&self, other: &Raster) -> f64 {
        debug_assert_eq!(self.rgb.len(), other.rgb.len());
        let sum: u64 = self
            .rgb
            .iter()
            .zip(&other.rgb)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        sum as f64 / self.rgb.len().max(1) as f64
    }
}

impl Gray {
    pub fn resample(&self, region: Region, width: usize, height: usize) -> Gray {
        let mut px = vec![0u8; width * height];
        resample_channels(
            &self.px,
            1,
            self.width,
            self.height,
            region,
            width,
            height,
            &mut px,
        );
        Gray { width, height, px }
    }

    pub fn resized(&self, width: usize, height: usize) -> Gray {
        self.resample(Region::WHOLE, width, height)
    }

    pub fn mean(&self) -> f64 {
        self.px.iter().map(|&p| u64::from(p)).sum::<u64>() as f64 / self.px.len().max(1) as f64
    }

    /// Standard deviation of the pixel values.
    pub fn deviation(&self) -> f64 {
        let mean = self.mean();
        let var = self
            .px
            .iter()
            .map(|&p| (f64::from(p) - mean).powi(2))
            .sum::<f64>()
            / self.px.len().max(1) as f64;
        var.sqrt()
    }

    /// Mean absolute difference to a picture of the same size (0–255).
    pub fn difference(&self, other: &Gray) -> f64 {
        debug_assert_eq!(self.px.len(), other.px.len());
        let sum: u64 = self
            .px
            .iter()
            .zip(&other.px)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        sum as f64 / self.px.len().max(1) as f64
    }
}

/// Box-filter resampling of `region` of a `sw` × `sh` picture with `channels` interleaved
/// channels into `out` (`dw` × `dh`).
#[allow(clippy::too_many_arguments)]
fn resample_channels(
    src: &[u8],
    channels: usize,
    sw: usize,
    sh: usize,
    region: Region,
    dw: usize,
    dh: usize,
    out: &mut [u8],
) {
    if sw == 0 || sh == 0 || dw == 0 || dh == 0 {
        return;
    }
    let x0 = region.x * sw as f64;
    let y0 = region.y * sh as f64;
    let sx = region.w * sw as f64 / dw as f64;
    let sy = region.h * sh as f64 / dh as f64;
    // Source spans of each output column and row, computed once.
    let span = |start: f64, step: f64, i: usize, limit: usize| {
        let a = (start + step * i as f64).floor().max(0.0) as usize;
        let b = (start + step * (i + 1) as f64).ceil() as usize;
        let a = a.min(limit - 1);
        (a, b.clamp(a + 1, limit))
    };
    let cols: Vec<(usize, usize)> = (0..dw).map(|i| span(x0, sx, i, sw)).collect();
    let rows: Vec<(usize, usize)> = (0..dh).map(|j| span(y0, sy, j, sh)).collect();
    for (j, &(ya, yb)) in rows.iter().enumerate() {
        for (i, &(xa, xb)) in cols.iter().enumerate() {
            for c in 0..channels {
                let mut sum = 0u32;
                for y in ya..yb {
                    let row = &src[(y * sw) * channels..(y * sw + sw) * channels];
                    for x in xa..xb {
                        sum += u32::from(row[x * channels + c]);
                    }
                }
                let n = ((yb - ya) * (xb - xa)) as u32;
                out[(j * dw + i) * channels + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
}

/// Structural similarity (SSIM) of two grey pictures of the same size, over 8×8 windows
/// every 4 pixels: 1 for identical pictures, near 0 for unrelated ones.
pub fn ssim(a: &Gray, b: &Gray) -> f64 {
    debug_assert_eq!((a.width, a.height), (b.width, b.height));
    const WIN: usize = 8;
    const STEP: usize = 4;
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    let (w, h) = (a.width, a.height);
    if w < WIN || h < WIN {
        return correlation(a, b).max(0.0);
    }
    let mut total = 0.0;
    let mut windows = 0usize;
    let mut y = 0;
    while y + WIN <= h {
        let mut x = 0;
        while x + WIN <= w {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for yy in y..y + WIN {
                for xx in x..x + WIN {
                    let pa = f64::from(a.px[yy * w + xx]);
                    let pb = f64::from(b.px[yy * w + xx]);
                    sa += pa;
                    sb += pb;
                    saa += pa * pa;
                    sbb += pb * pb;
                    sab += pa * pb;
                }
            }
            let n = (WIN * WIN) as f64;
            let (ma, mb) = (sa / n, sb / n);
            let va = saa / n - ma * ma;
            let vb = sbb / n - mb * mb;
            let cov = sab / n - ma * mb;
            total += ((2.0 * ma * mb + C1) * (2.0 * cov + C2))
                / ((ma * ma + mb * mb + C1) * (va + vb + C2));
            windows += 1;
            x += STEP;
        }
        y += STEP;
    }
    total / windows.max(1) as f64
}

/// Pearson correlation of the pixel values of two grey pictures of the same size: 1 when one
/// is the other with brightness and contrast changed, 0 for unrelated pictures, 0 when either
/// is flat.
pub fn correlation(a: &Gray, b: &Gray) -> f64 {
    let n = a.px.len().min(b.px.len());
    if n == 0 {
        return 0.0;
    }
    let (ma, mb) = (a.mean(), b.mean());
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (&pa, &pb) in a.px.iter().zip(&b.px) {
        let (da, db) = (f64::from(pa) - ma, f64::from(pb) - mb);
        cov += da * db;
        va += da * da;
        vb += db * db;
    }
    if va < 1e-9 || vb < 1e-9 {
        return 0.0;
    }
    cov / (va * vb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: usize, h: usize) -> Raster {
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                rgb.extend([
                    (x * 255 / w) as u8,
                    (y * 255 / h) as u8,
                    ((x ^ y) * 8) as u8,
                ]);
            }
        }
        Raster::new(w, h, rgb)
    }

    #[test]
    fn resampling_averages_and_keeps_flat_pictures_flat() {
        let flat = Raster::new(10, 6, vec![90; 180]);
        assert_eq!(flat.resized(3, 2).rgb, vec![90; 18]);
        let two = Raster::new(2, 1, vec![0, 0, 0, 200, 100, 50]);
        assert_eq!(two.resized(1, 1).rgb, vec![100, 50, 25]);
        // A region: the right half of the two pixels is the second one.
        let right = two.resample(
            Region {
                x: 0.5,
                y: 0.0,
                w: 0.5,
                h: 1.0,
            },
            1,
            1,
        );
        assert_eq!(right.rgb, vec![200, 100, 50]);
    }

    #[test]
    fn orientation_turns_and_mirrors() {
        // 2×1: a red pixel then a blue one.
        let p = Raster::new(2, 1, vec![255, 0, 0, 0, 0, 255]);
        assert_eq!(p.oriented(1), p);
        assert_eq!(p.oriented(2).rgb, vec![0, 0, 255, 255, 0, 0]);
        let turned = p.oriented(6); // 90° clockwise: red on top
        assert_eq!((turned.width, turned.height), (1, 2));
        assert_eq!(turned.rgb, vec![255, 0, 0, 0, 0, 255]);
        let back = p.oriented(8); // 90° counter-clockwise: blue on top
        assert_eq!(back.rgb, vec![0, 0, 255, 255, 0, 0]);
    }

    #[test]
    fn similarity_measures_tell_same_from_different() {
        let a = pattern(64, 48).gray();
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-9);
        assert!((correlation(&a, &a) - 1.0).abs() < 1e-9);
        // Brighter: correlation stays 1, SSIM drops a little.
        let brighter = Gray {
            px: a.px.iter().map(|p| p.saturating_add(40).min(250)).collect(),
            ..a.clone()
        };
        assert!(correlation(&a, &brighter) > 0.95);
        assert!(ssim(&a, &brighter) < 0.99);
        // Mirrored: unrelated structure.
        let mirrored = pattern(64, 48).oriented(2).gray();
        assert!(ssim(&a, &mirrored) < 0.6, "{}", ssim(&a, &mirrored));
        assert_eq!(a.difference(&a), 0.0);
    }
}
