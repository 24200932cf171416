//! Is a supplied first (or last) frame image the clip's frame? If not, the likely cause: another
//! frame of the clip, a crop, a resize that changed the shape, a colour grade, or another
//! picture altogether.

use super::Settings;
use super::raster::{Gray, Raster, Region, correlation, ssim};

/// Aspect ratios within this factor of each other are the same shape.
const SAME_SHAPE: f64 = 1.03;
/// Width of the coarse pictures that crop candidates are ranked on.
const SEARCH_WIDTH: usize = 32;
/// Luma correlation above which two pictures show the same thing in other colours.
const SAME_STRUCTURE: f64 = 0.9;

/// Why an image is not its frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// It shows another frame of the clip.
    OtherFrame {
        frame: u64,
        time_s: f64,
        similarity: f64,
    },
    /// It shows a part of the frame (fractions of the frame).
    Crop { region: Region, similarity: f64 },
    /// It is the frame squeezed or stretched into another shape.
    Stretched {
        image_aspect: f64,
        frame_aspect: f64,
    },
    /// It is the frame at a much lower resolution, enlarged (the details are gone).
    Blurred { similarity: f64 },
    /// It is the frame with other colours (graded, white-balanced, another colour space).
    Colour {
        image_mean: [f64; 3],
        frame_mean: [f64; 3],
    },
    /// It matches a frame of another clip of the set (found after every clip is decoded).
    OtherClip { clip: String },
    /// Nothing found: another picture, or edited beyond recognition.
    Unknown,
}

impl Cause {
    /// A short label for reports: other frame, crop, resize, colour…
    pub fn label(&self) -> &'static str {
        match self {
            Cause::OtherFrame { .. } => "other frame",
            Cause::Crop { .. } => "crop",
            Cause::Stretched { .. } | Cause::Blurred { .. } => "resize",
            Cause::Colour { .. } => "colour",
            Cause::OtherClip { .. } => "other clip",
            Cause::Unknown => "different picture",
        }
    }
}

/// How an image compares with its frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// SSIM of the image (brought to the frame's size) and the frame, 0–1.
    pub similarity: f64,
    /// Mean absolute RGB difference, 0–255.
    pub colour_difference: f64,
    /// `None` when the image is the frame.
    pub cause: Option<Cause>,
}

/// Compares `image` with `frame` (both as displayed: rotation, pixel aspect and EXIF
/// orientation applied). `best` is the frame of the clip most like the image, found while
/// decoding, with its index and time.
pub fn compare(
    image: &Raster,
    frame: &Raster,
    best: Option<(u64, f64, &Raster)>,
    frame_index: u64,
    settings: &Settings,
) -> Comparison {
    let on_frame = image.resized(frame.width, frame.height);
    let (ig, fg) = (on_frame.gray(), frame.gray());
    let similarity = ssim(&ig, &fg);
    // Colours are compared on block means: a grade shifts them, while the detail that
    // compression and chroma subsampling disturb averages out.
    let (cw, ch) = coarse_size(frame);
    let colour_difference = on_frame
        .resized(cw, ch)
        .colour_difference(&frame.resized(cw, ch));
    let image_aspect = image.aspect();
    let frame_aspect = frame.aspect();
    let same_shape = ratio(image_aspect, frame_aspect) <= SAME_SHAPE;
    let mut result = Comparison {
        similarity,
        colour_difference,
        cause: None,
    };
    let threshold = settings.frame_similarity;
    if similarity >= threshold {
        result.cause = if !same_shape {
            Some(Cause::Stretched {
                image_aspect,
                frame_aspect,
            })
        } else if colour_difference > settings.frame_colour_difference {
            Some(colour(&on_frame, frame))
        } else {
            None
        };
        return result;
    }
    if same_shape && correlation(&ig, &fg) >= SAME_STRUCTURE {
        result.cause = Some(colour(&on_frame, frame));
        return result;
    }
    if let Some((index, time_s, best)) = best.filter(|(index, ..)| *index != frame_index) {
        let s = ssim(&image.resized(best.width, best.height).gray(), &best.gray());
        if s >= threshold {
            result.cause = Some(Cause::OtherFrame {
                frame: index,
                time_s,
                similarity: s,
            });
            return result;
        }
    }
    if let Some((region, s)) = find_crop(image, frame).filter(|&(_, s)| s >= threshold) {
        result.cause = Some(Cause::Crop {
            region,
            similarity: s,
        });
        return result;
    }
    if same_shape {
        // Compared at a quarter of the size, a blurred copy matches again.
        let (w, h) = ((frame.width / 4).max(8), (frame.height / 4).max(8));
        let coarse = ssim(&ig.resized(w, h), &fg.resized(w, h));
        if coarse >= threshold.max(0.85) {
            result.cause = Some(Cause::Blurred { similarity: coarse });
            return result;
        }
    }
    result.cause = Some(Cause::Unknown);
    result
}

/// About 16 pixels on the longer side.
fn coarse_size(r: &Raster) -> (usize, usize) {
    let scale = 16.0 / r.width.max(r.height).max(1) as f64;
    let fit = |v: usize| ((v as f64 * scale).round() as usize).max(1);
    (fit(r.width), fit(r.height))
}

fn ratio(a: f64, b: f64) -> f64 {
    if a > b { a / b } else { b / a }
}

fn colour(image: &Raster, frame: &Raster) -> Cause {
    Cause::Colour {
        image_mean: image.mean_rgb(),
        frame_mean: frame.mean_rgb(),
    }
}

/// The part of `frame` that `image` shows, if it shows one: candidates of the image's shape are
/// ranked by luma correlation on coarse pictures, and the best checked with SSIM at the
/// image's size.
fn find_crop(image: &Raster, frame: &Raster) -> Option<(Region, f64)> {
    let aspect = image.aspect();
    let frame_aspect = frame.aspect();
    let sw = SEARCH_WIDTH;
    let sh = ((sw as f64 / aspect).round() as usize).clamp(4, 4 * sw);
    let needle = image.gray().resized(sw, sh);
    if needle.deviation() < 4.0 {
        return None;
    }
    // The frame at twice the search resolution, sampled by nearest pixel below.
    let fw = (2 * sw).max(frame.width.min(96));
    let fh = ((fw as f64 / frame_aspect).round() as usize).max(4);
    let hay = frame.gray().resized(fw, fh);
    // A region of width share `w` has height share `w × frame_aspect / aspect`.
    let max_w = (aspect / frame_aspect).min(1.0);
    let mut best: Option<(f64, Region)> = None;
    let mut consider = |region: Region| {
        if region.x < -1e-9
            || region.y < -1e-9
            || region.x + region.w > 1.0 + 1e-9
            || region.y + region.h > 1.0 + 1e-9
        {
            return;
        }
        let c = correlation(&needle, &sample(&hay, region, sw, sh));
        if best.as_ref().is_none_or(|(b, _)| c > *b) {
            best = Some((c, region));
        }
    };
    let mut w = max_w;
    while w >= 0.3 {
        let h = w * frame_aspect / aspect;
        let steps = 16;
        for iy in 0..=steps {
            for ix in 0..=steps {
                let x = (1.0 - w) * ix as f64 / steps as f64;
                let y = (1.0 - h) * iy as f64 / steps as f64;
                consider(Region { x, y, w, h });
            }
        }
        w -= 0.05;
    }
    let (_, coarse) = best?;
    // Refine around the best candidate.
    let mut best_fine = (f64::MIN, coarse);
    for dw in [-0.03, -0.015, 0.0, 0.015, 0.03] {
        let w = (coarse.w + dw).min(max_w);
        let h = w * frame_aspect / aspect;
        for dy in -3..=3 {
            for dx in -3..=3 {
                let region = Region {
                    x: coarse.x + coarse.w / 2.0 - w / 2.0 + f64::from(dx) * 0.01,
                    y: coarse.y + coarse.h / 2.0 - h / 2.0 + f64::from(dy) * 0.01,
                    w,
                    h,
                };
                if region.x < 0.0 || region.y < 0.0 || region.x + w > 1.0 || region.y + h > 1.0 {
                    continue;
                }
                let c = correlation(&needle, &sample(&hay, region, sw, sh));
                if c > best_fine.0 {
                    best_fine = (c, region);
                }
            }
        }
    }
    let region = best_fine.1;
    // The whole frame is not a crop.
    if region.w > 0.97 && region.h > 0.97 {
        return None;
    }
    let cut = frame.resample(region, image.width, image.height);
    Some((region, ssim(&image.gray(), &cut.gray())))
}

/// Nearest-pixel sample of `region` of `g` at `w` × `h`: cheap enough for the search.
fn sample(g: &Gray, region: Region, w: usize, h: usize) -> Gray {
    let mut px = Vec::with_capacity(w * h);
    for j in 0..h {
        let y = ((region.y + region.h * (j as f64 + 0.5) / h as f64) * g.height as f64) as usize;
        let row = y.min(g.height - 1) * g.width;
        for i in 0..w {
            let x = ((region.x + region.w * (i as f64 + 0.5) / w as f64) * g.width as f64) as usize;
            px.push(g.px[row + x.min(g.width - 1)]);
        }
    }
    Gray {
        width: w,
        height: h,
        px,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A detailed, non-repeating scene.
    fn scene(w: usize, h: usize, shift: f64) -> Raster {
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f64 / w as f64 + shift, y as f64 / h as f64);
                let v = 128.0
                    + 60.0 * (fx * 17.0).sin() * (fy * 11.0).cos()
                    + 50.0 * (fx * fy * 40.0).sin();
                let v = v.clamp(0.0, 255.0) as u8;
                rgb.extend([v, v.wrapping_add(30), 255 - v]);
            }
        }
        Raster::new(w, h, rgb)
    }

    #[test]
    fn the_frame_itself_matches() {
        let frame = scene(160, 90, 0.0);
        let c = compare(
            &frame.resized(320, 180),
            &frame,
            None,
            0,
            &Settings::default(),
        );
        assert_eq!(c.cause, None, "{c:?}");
        assert!(c.similarity > 0.9);
    }

    #[test]
    fn causes_are_told_apart() {
        let settings = Settings::default();
        let frame = scene(160, 90, 0.0);
        // A crop of the middle.
        let region = Region {
            x: 0.25,
            y: 0.25,
            w: 0.5,
            h: 0.5,
        };
        let crop = frame.resample(region, 160, 90);
        let c = compare(&crop, &frame, None, 0, &settings);
        match c.cause {
            Some(Cause::Crop { region: r, .. }) => {
                assert!(
                    (r.x - 0.25).abs() < 0.04 && (r.w - 0.5).abs() < 0.05,
                    "{r:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        // Squeezed into a square.
        let c = compare(&frame.resized(90, 90), &frame, None, 0, &settings);
        assert!(matches!(c.cause, Some(Cause::Stretched { .. })), "{c:?}");
        // Another frame, found while decoding.
        let later = scene(160, 90, 0.3);
        let c = compare(&later, &frame, Some((30, 1.25, &later)), 0, &settings);
        assert!(
            matches!(c.cause, Some(Cause::OtherFrame { frame: 30, .. })),
            "{c:?}"
        );
        // Colours shifted.
        let mut tinted = frame.clone();
        for p in tinted.rgb.chunks_exact_mut(3) {
            p[0] = p[0].saturating_add(50);
            p[2] = p[2].saturating_sub(50);
        }
        let c = compare(&tinted, &frame, None, 0, &settings);
        assert!(matches!(c.cause, Some(Cause::Colour { .. })), "{c:?}");
        // Something else.
        let other = scene(160, 90, 0.5).oriented(3);
        let c = compare(&other, &frame, None, 0, &settings);
        assert_eq!(c.cause, Some(Cause::Unknown), "{c:?}");
    }
}
