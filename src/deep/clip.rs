//! One pass over a clip's decoded frames: every measure of the `D` rules, computed as the frames
//! arrive, in memory that does not grow with the clip beyond a few numbers per frame.

use super::Settings;
use super::hash::PictureHash;
use super::raster::{Gray, Raster};

/// Side of the square blocks whose mean luma the motion score follows: large enough to average
/// grain and compression noise away, small enough to see a moving subject.
const BLOCK: usize = 8;
/// Frames on each side of a candidate cut that its change is measured against.
const CUT_WINDOW: usize = 8;
/// Cells (square groups of pixels) the overlay search works on.
const CELL: usize = 4;
/// Mean luma step between neighbouring pixels inside an overlay, at least: drawn edges.
const OVERLAY_EDGES: f64 = 6.0;
/// Around an overlay, the footage changes at least this many times more than inside it.
const RING_CHANGE: f64 = 4.0;
/// Frames kept across the clip for the contact sheet.
pub const STRIP_FRAMES: usize = 6;
/// Most frame hashes kept per clip for duplicate and leakage searches.
const MAX_SIGNATURE: usize = 96;

/// An image the clip's frames are compared with as they arrive (a first or last frame).
pub struct Target {
    /// The image at the clip's analysis size, in luma, every other pixel.
    sparse: Vec<u8>,
    best: Option<(u64, f64)>,
    best_frame: Option<Raster>,
}

impl Target {
    pub fn new(image_on_frame: &Raster) -> Target {
        Target {
            sparse: sparse_luma(image_on_frame),
            best: None,
            best_frame: None,
        }
    }

    /// The frame most like the image: its index and copy.
    pub fn best(&self) -> Option<(u64, &Raster)> {
        Some((self.best?.0, self.best_frame.as_ref()?))
    }
}

/// Luma of every other pixel of every other row: enough to rank frames by likeness.
fn sparse_luma(r: &Raster) -> Vec<u8> {
    let mut out = Vec::with_capacity(r.width * r.height / 4 + 1);
    for y in (0..r.height).step_by(2) {
        for x in (0..r.width).step_by(2) {
            let p = &r.rgb[(y * r.width + x) * 3..][..3];
            out.push(super::raster::luma(p[0], p[1], p[2]));
        }
    }
    out
}

/// The streaming analysis of one clip.
pub struct ClipAnalyzer<'a> {
    settings: &'a Settings,
    width: usize,
    height: usize,
    frames: u64,
    previous: Option<Gray>,
    /// The luma buffer of the frame before last, reused.
    spare: Vec<u8>,
    first: Option<Raster>,
    first_blocks: Vec<f32>,
    last: Option<Raster>,
    /// Per frame (from the second): mean absolute luma change from the frame before.
    changes: Vec<f32>,
    /// Per frame: mean absolute change of block means from the first frame.
    drift: Vec<f32>,
    /// Per frame: mean luma, and share of black pixels.
    means: Vec<f32>,
    black_shares: Vec<f32>,
    /// Per pixel: lowest and highest luma over the clip.
    low: Vec<u8>,
    high: Vec<u8>,
    hashes: Vec<Option<PictureHash>>,
    targets: Vec<Target>,
    /// Frame indices to keep for the contact sheet, and the frames kept.
    wanted: Vec<u64>,
    kept: Vec<(u64, Raster)>,
}

impl<'a> ClipAnalyzer<'a> {
    /// An analyzer for frames of `width` × `height`; `expected_frames` (from the headers) places
    /// the contact sheet's frames, `strip` asks for them at all.
    pub fn new(
        settings: &'a Settings,
        width: usize,
        height: usize,
        expected_frames: Option<u64>,
        strip: bool,
        targets: Vec<Target>,
    ) -> ClipAnalyzer<'a> {
        let wanted = match (strip, expected_frames) {
            (true, Some(n)) if n > 0 => (0..STRIP_FRAMES as u64)
                .map(|k| ((2 * k + 1) * n / (2 * STRIP_FRAMES as u64)).min(n - 1))
                .collect(),
            _ => Vec::new(),
        };
        ClipAnalyzer {
            settings,
            width,
            height,
            frames: 0,
            previous: None,
            spare: Vec::new(),
            first: None,
            first_blocks: Vec::new(),
            last: None,
            changes: Vec::new(),
            drift: Vec::new(),
            means: Vec::new(),
            black_shares: Vec::new(),
            low: vec![u8::MAX; width * height],
            high: vec![0; width * height],
            hashes: Vec::new(),
            targets,
            wanted,
            kept: Vec::new(),
        }
    }

    pub fn frame_len(&self) -> usize {
        self.width * self.height * 3
    }

    /// Takes the next frame (packed RGB of the analysis size).
    pub fn push(&mut self, rgb: &[u8]) {
        let index = self.frames;
        self.frames += 1;
        let n = self.width * self.height;
        // One pass: luma, its sum, black pixels, the per-pixel range and the change from the
        // frame before (this code also runs unoptimised in tests: few passes matter).
        let mut gray = std::mem::take(&mut self.spare);
        gray.resize(n, 0);
        let black_level = self.settings.black_luma as u8;
        let (mut sum, mut black, mut change) = (0u64, 0usize, 0u64);
        let previous = self.previous.as_ref().map(|g| g.px.as_slice());
        for (i, p) in rgb.chunks_exact(3).take(n).enumerate() {
            let y = super::raster::luma(p[0], p[1], p[2]);
            gray[i] = y;
            sum += u64::from(y);
            black += usize::from(y <= black_level);
            if y < self.low[i] {
                self.low[i] = y;
            }
            if y > self.high[i] {
                self.high[i] = y;
            }
            if let Some(previous) = previous {
                change += u64::from(y.abs_diff(previous[i]));
            }
        }
        let count = n.max(1) as f32;
        self.means.push(sum as f32 / count);
        self.black_shares.push(black as f32 / count);
        if previous.is_some() {
            self.changes.push(change as f32 / count);
        }
        let gray = Gray {
            width: self.width,
            height: self.height,
            px: gray,
        };
        let blocks = block_means(&gray);
        if index == 0 {
            self.drift.push(0.0);
            self.first_blocks = blocks;
        } else {
            self.drift
                .push(mean_abs_diff(&blocks, &self.first_blocks) as f32);
        }
        self.hashes.push(PictureHash::of(&gray));

        let mut frame: Option<Raster> = None;
        let mut raster = || Raster::new(self.width, self.height, rgb[..n * 3].to_vec());
        for target in &mut self.targets {
            let mut d = 0u64;
            let mut k = 0usize;
            for y in (0..self.height).step_by(2) {
                let row = &gray.px[y * self.width..(y + 1) * self.width];
                for x in (0..self.width).step_by(2) {
                    d += u64::from(row[x].abs_diff(target.sparse[k]));
                    k += 1;
                }
            }
            let d = d as f64 / k.max(1) as f64;
            if target.best.is_none_or(|(_, best)| d < best) {
                target.best = Some((index, d));
                target.best_frame = Some(frame.get_or_insert_with(&mut raster).clone());
            }
        }
        if self.wanted.contains(&index) {
            let kept = frame.get_or_insert_with(&mut raster).clone();
            self.kept.push((index, kept));
        }
        if index == 0 {
            self.first = Some(frame.get_or_insert_with(&mut raster).clone());
        }
        // The last frame: its buffer is reused frame after frame.
        match &mut self.last {
            Some(last) => last.rgb.copy_from_slice(&rgb[..n * 3]),
            None => self.last = Some(frame.unwrap_or_else(raster)),
        }
        self.spare = self
            .previous
            .replace(gray)
            .map(|g| g.px)
            .unwrap_or_default();
    }

    /// Every measure, once the last frame is in. `seconds_per_frame` turns frame numbers into
    /// times.
    pub fn finish(self, seconds_per_frame: f64) -> ClipMeasures {
        let settings = self.settings;
        let time = |frame: u64| frame as f64 * seconds_per_frame;
        let black: Vec<bool> = self
            .black_shares
            .iter()
            .map(|&s| f64::from(s) >= settings.black_share)
            .collect();
        let black_runs = runs(&black);
        let fades = fades(&self.means, &black);
        let cuts = cuts(&self.changes, &black, settings)
            .into_iter()
            .map(|(frame, change)| Cut {
                frame,
                time_s: time(frame),
                change,
            })
            .collect();
        let motion = self.drift.iter().copied().fold(0.0f32, f32::max) as f64;
        let step = if self.changes.is_empty() {
            0.0
        } else {
            self.changes.iter().map(|&c| f64::from(c)).sum::<f64>() / self.changes.len() as f64
        };
        let bars = bars(&self.high, self.width, self.height, settings);
        let overlays = if motion > settings.static_motion {
            overlays(
                &self.low,
                &self.high,
                self.width,
                self.height,
                &bars,
                settings,
            )
        } else {
            Vec::new()
        };
        let signature = signature(&self.hashes);
        ClipMeasures {
            frames: self.frames,
            width: self.width,
            height: self.height,
            cuts,
            motion,
            mean_change: step,
            black_runs: black_runs
                .into_iter()
                .map(|(start, len)| BlackRun {
                    start,
                    frames: len,
                    start_s: time(start),
                    seconds: time(len),
                    at_start: start == 0,
                    at_end: start + len == self.frames,
                })
                .collect(),
            fades: fades
                .into_iter()
                .map(|(start, len, fade_in)| Fade {
                    start_s: time(start),
                    seconds: time(len),
                    fade_in,
                })
                .collect(),
            bars,
            overlays,
            first_hash: self.hashes.first().copied().flatten(),
            last_hash: self.hashes.last().copied().flatten(),
            signature,
            frame_hashes: self.hashes,
            first: self.first,
            last: self.last,
            targets: self.targets,
            kept: self.kept,
        }
    }
}

/// Mean luma of each `BLOCK`×`BLOCK` block.
fn block_means(gray: &Gray) -> Vec<f32> {
    let bw = gray.width.div_ceil(BLOCK);
    let bh = gray.height.div_ceil(BLOCK);
    let mut sums = vec![0u32; bw * bh];
    let mut counts = vec![0u32; bw * bh];
    for y in 0..gray.height {
        let row = &gray.px[y * gray.width..(y + 1) * gray.width];
        for (x, &p) in row.iter().enumerate() {
            let b = (y / BLOCK) * bw + x / BLOCK;
            sums[b] += u32::from(p);
            counts[b] += 1;
        }
    }
    sums.iter()
        .zip(&counts)
        .map(|(&s, &c)| s as f32 / c.max(1) as f32)
        .collect()
}

fn mean_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum::<f64>()
        / a.len() as f64
}

/// Runs of `true`: (start, length).
fn runs(flags: &[bool]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s as u64, (i - s) as u64));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s as u64, (flags.len() - s) as u64));
    }
    out
}

/// Fades from or to black at either end: frames, past any black ones, that stay darker than
/// half the clip's typical brightness while brightening (in) or darkening (out) steadily.
/// (start, length, fade in).
fn fades(means: &[f32], black: &[bool]) -> Vec<(u64, u64, bool)> {
    let n = means.len();
    if n < 8 {
        return Vec::new();
    }
    let mut sorted: Vec<f32> = means.to_vec();
    sorted.sort_by(f32::total_cmp);
    let typical = sorted[n / 2];
    if typical < 16.0 {
        return Vec::new();
    }
    let dark = |i: usize| means[i] < typical * 0.5;
    let mut out = Vec::new();
    // In: skip black frames, then count dark frames that keep brightening.
    let lead = black.iter().take_while(|&&b| b).count();
    let mut end = lead;
    while end < n && dark(end) && (end == lead || means[end] >= means[end - 1] - 0.5) {
        end += 1;
    }
    if end - lead >= 3 && end < n && means[end - 1] > means[lead] + 4.0 {
        out.push((lead as u64, (end - lead) as u64, true));
    }
    let tail = black.iter().rev().take_while(|&&b| b).count();
    let stop = n - tail;
    let mut start = stop;
    while start > 0 && dark(start - 1) && (start == stop || means[start - 1] >= means[start] - 0.5)
    {
        start -= 1;
    }
    if stop - start >= 3 && start > end && means[start] > means[stop - 1] + 4.0 {
        out.push((start as u64, (stop - start) as u64, false));
    }
    out
}

/// Frames that start a new shot: a change far above the `CUT_WINDOW` frames around it, and
/// above the absolute threshold. Changes into or out of black frames are fades, not cuts.
fn cuts(changes: &[f32], black: &[bool], settings: &Settings) -> Vec<(u64, f64)> {
    let mut out: Vec<(u64, f64)> = Vec::new();
    for (i, &change) in changes.iter().enumerate() {
        let change = f64::from(change);
        if change < settings.cut_difference {
            continue;
        }
        let frame = i + 1; // changes[i] is frame i + 1 against frame i
        if black.get(frame).copied().unwrap_or(false) || black.get(i).copied().unwrap_or(false) {
            continue;
        }
        let lo = i.saturating_sub(CUT_WINDOW);
        let hi = (i + CUT_WINDOW + 1).min(changes.len());
        let mut around: Vec<f32> = changes[lo..hi]
            .iter()
            .enumerate()
            .filter(|&(j, _)| lo + j != i)
            .map(|(_, &c)| c)
            .collect();
        let typical = if around.is_empty() {
            0.0
        } else {
            around.sort_by(f32::total_cmp);
            f64::from(around[around.len() / 2])
        };
        if change < settings.cut_ratio * typical.max(1.0) {
            continue;
        }
        // A flash (one odd frame) changes twice in a row: keep the first change only.
        if out.last().is_some_and(|&(f, _)| frame as u64 - f <= 2) {
            continue;
        }
        out.push((frame as u64, change));
    }
    out
}

/// Dark bars along the edges.
fn bars(high: &[u8], width: usize, height: usize, settings: &Settings) -> Bars {
    let dark = |p: u8| f64::from(p) <= settings.bar_luma;
    let row_dark = |y: usize| high[y * width..(y + 1) * width].iter().all(|&p| dark(p));
    let col_dark = |x: usize| (0..height).all(|y| dark(high[y * width + x]));
    let top = (0..height).take_while(|&y| row_dark(y)).count();
    let bottom = (0..height).rev().take_while(|&y| row_dark(y)).count();
    let left = (0..width).take_while(|&x| col_dark(x)).count();
    let right = (0..width).rev().take_while(|&x| col_dark(x)).count();
    // A picture that is dark everywhere has no bars, it is black (D005).
    if top >= height || left >= width {
        return Bars::default();
    }
    let min_rows = settings.bar_min_share * height as f64;
    let min_cols = settings.bar_min_share * width as f64;
    let keep = |n: usize, min: f64| if (n as f64) >= min.max(1.0) { n } else { 0 };
    Bars {
        top: keep(top, min_rows) as f64 / height as f64,
        bottom: keep(bottom, min_rows) as f64 / height as f64,
        left: keep(left, min_cols) as f64 / width as f64,
        right: keep(right, min_cols) as f64 / width as f64,
    }
}

/// Regions that never change while the rest of the picture does.
fn overlays(
    low: &[u8],
    high: &[u8],
    width: usize,
    height: usize,
    bars: &Bars,
    settings: &Settings,
) -> Vec<Overlay> {
    // The picture inside the bars, in cells.
    let x0 = (bars.left * width as f64).round() as usize;
    let x1 = width - (bars.right * width as f64).round() as usize;
    let y0 = (bars.top * height as f64).round() as usize;
    let y1 = height - (bars.bottom * height as f64).round() as usize;
    if x1 <= x0 + CELL || y1 <= y0 + CELL {
        return Vec::new();
    }
    let cw = (x1 - x0) / CELL;
    let ch = (y1 - y0) / CELL;
    let range = settings.overlay_range;
    let mut still = vec![false; cw * ch];
    for cy in 0..ch {
        for cx in 0..cw {
            let mut count = 0;
            for y in y0 + cy * CELL..y0 + (cy + 1) * CELL {
                for x in x0 + cx * CELL..x0 + (cx + 1) * CELL {
                    let i = y * width + x;
                    if f64::from(high[i].saturating_sub(low[i])) <= range {
                        count += 1;
                    }
                }
            }
            still[cy * cw + cx] = count * 2 >= CELL * CELL;
        }
    }
    // Mean luma range of each cell: how much it changes over the clip.
    let mut cell_range = vec![0f64; cw * ch];
    for cy in 0..ch {
        for cx in 0..cw {
            let mut sum = 0u32;
            for y in y0 + cy * CELL..y0 + (cy + 1) * CELL {
                for x in x0 + cx * CELL..x0 + (cx + 1) * CELL {
                    let i = y * width + x;
                    sum += u32::from(high[i] - low[i].min(high[i]));
                }
            }
            cell_range[cy * cw + cx] = f64::from(sum) / (CELL * CELL) as f64;
        }
    }
    let cells = (cw * ch) as f64;
    let still_share = still.iter().filter(|&&s| s).count() as f64 / cells;
    // Mostly still: a locked-off camera, not an overlay on moving footage.
    if still_share > 0.5 {
        return Vec::new();
    }
    let mut seen = vec![false; cw * ch];
    let mut out = Vec::new();
    for start in 0..cw * ch {
        if !still[start] || seen[start] {
            continue;
        }
        let mut stack = vec![start];
        seen[start] = true;
        let mut members = Vec::new();
        while let Some(c) = stack.pop() {
            members.push(c);
            let (cx, cy) = (c % cw, c / cw);
            let mut visit = |n: usize| {
                if still[n] && !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            };
            if cx > 0 {
                visit(c - 1);
            }
            if cx + 1 < cw {
                visit(c + 1);
            }
            if cy > 0 {
                visit(c - cw);
            }
            if cy + 1 < ch {
                visit(c + cw);
            }
        }
        let share = members.len() as f64 / cells;
        if share < settings.overlay_min_share
            || share > settings.overlay_max_share
            || members.len() < 2
        {
            continue;
        }
        // Something drawn (a logo, letters: sharp edges), not a flat or smooth patch the
        // footage happens to hold still.
        let mut edges = 0u64;
        let mut count = 0u64;
        for &c in &members {
            let (cx, cy) = (c % cw, c / cw);
            for k in 0..CELL * CELL {
                let (x, y) = (x0 + cx * CELL + k % CELL, y0 + cy * CELL + k / CELL);
                if x + 1 >= width || y + 1 >= height {
                    continue;
                }
                let i = y * width + x;
                edges += u64::from(low[i].abs_diff(low[i + 1]))
                    + u64::from(low[i].abs_diff(low[i + width]));
                count += 1;
            }
        }
        if (edges as f64) < OVERLAY_EDGES * count.max(1) as f64 {
            continue;
        }
        let (mut minx, mut miny, mut maxx, mut maxy) = (cw, ch, 0, 0);
        for &c in &members {
            let (cx, cy) = (c % cw, c / cw);
            minx = minx.min(cx);
            miny = miny.min(cy);
            maxx = maxx.max(cx);
            maxy = maxy.max(cy);
        }
        // Pasted over the footage: what lies around it changes a lot. (Footage that merely
        // holds still in places, texture moving along itself, changes little around them.)
        let mut ring: Vec<f64> = Vec::new();
        for cy in miny.saturating_sub(1)..=(maxy + 1).min(ch - 1) {
            for cx in minx.saturating_sub(1)..=(maxx + 1).min(cw - 1) {
                let c = cy * cw + cx;
                let inside = cx >= minx && cx <= maxx && cy >= miny && cy <= maxy;
                if !inside && !still[c] {
                    ring.push(cell_range[c]);
                }
            }
        }
        if ring.is_empty() {
            continue;
        }
        ring.sort_by(f64::total_cmp);
        if ring[ring.len() / 2] < RING_CHANGE * range.max(1.0) {
            continue;
        }
        let to_x = |cx: usize| (x0 + cx * CELL) as f64 / width as f64;
        let to_y = |cy: usize| (y0 + cy * CELL) as f64 / height as f64;
        out.push(Overlay {
            x: to_x(minx),
            y: to_y(miny),
            w: to_x(maxx + 1) - to_x(minx),
            h: to_y(maxy + 1) - to_y(miny),
            share,
        });
    }
    out
}

/// Up to `MAX_SIGNATURE` hashes spread evenly over the clip's non-flat frames.
fn signature(hashes: &[Option<PictureHash>]) -> Vec<PictureHash> {
    let all: Vec<PictureHash> = hashes.iter().flatten().copied().collect();
    if all.len() <= MAX_SIGNATURE {
        return all;
    }
    (0..MAX_SIGNATURE)
        .map(|k| all[k * all.len() / MAX_SIGNATURE])
        .collect()
}

/// A new shot starting at `frame`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub frame: u64,
    pub time_s: f64,
    /// Mean absolute luma change into the frame (0–255).
    pub change: f64,
}

/// Consecutive black frames.
#[derive(Debug, Clone, PartialEq)]
pub struct BlackRun {
    pub start: u64,
    pub frames: u64,
    pub start_s: f64,
    pub seconds: f64,
    pub at_start: bool,
    pub at_end: bool,
}

/// A fade from (in) or to (out) black.
#[derive(Debug, Clone, PartialEq)]
pub struct Fade {
    pub start_s: f64,
    pub seconds: f64,
    pub fade_in: bool,
}

/// Dark bars as shares of the picture's height (top, bottom) and width (left, right).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bars {
    pub top: f64,
    pub bottom: f64,
    pub left: f64,
    pub right: f64,
}

impl Bars {
    pub fn any(&self) -> bool {
        self.top > 0.0 || self.bottom > 0.0 || self.left > 0.0 || self.right > 0.0
    }
}

/// A still region over moving footage, in shares of the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Share of the picture it covers.
    pub share: f64,
}

impl Overlay {
    /// Where it sits, in words.
    pub fn place(&self) -> &'static str {
        let cx = self.x + self.w / 2.0;
        let cy = self.y + self.h / 2.0;
        if self.w >= 0.4 {
            return match cy {
                y if y < 0.33 => "a band across the top",
                y if y > 0.67 => "a band across the bottom (subtitles?)",
                _ => "a band across the middle",
            };
        }
        match (cx < 0.33, cx > 0.67, cy < 0.33, cy > 0.67) {
            (true, _, true, _) => "the top-left corner",
            (_, true, true, _) => "the top-right corner",
            (true, _, _, true) => "the bottom-left corner",
            (_, true, _, true) => "the bottom-right corner",
            (_, _, true, _) => "the top edge",
            (_, _, _, true) => "the bottom edge",
            (true, ..) => "the left edge",
            (_, true, ..) => "the right edge",
            _ => "the middle",
        }
    }
}

/// What one pass over a clip measured.
pub struct ClipMeasures {
    pub frames: u64,
    pub width: usize,
    pub height: usize,
    pub cuts: Vec<Cut>,
    /// Motion score: how far the picture ever moves from the first frame (0–255).
    pub motion: f64,
    /// Mean luma change from one frame to the next (0–255).
    pub mean_change: f64,
    pub black_runs: Vec<BlackRun>,
    pub fades: Vec<Fade>,
    pub bars: Bars,
    pub overlays: Vec<Overlay>,
    pub first_hash: Option<PictureHash>,
    pub last_hash: Option<PictureHash>,
    /// Hashes of frames spread over the clip (flat frames left out).
    pub signature: Vec<PictureHash>,
    /// Every frame's hash, in order.
    pub frame_hashes: Vec<Option<PictureHash>>,
    pub first: Option<Raster>,
    pub last: Option<Raster>,
    pub targets: Vec<Target>,
    /// Contact-sheet frames: index and picture.
    pub kept: Vec<(u64, Raster)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: usize, h: usize, v: u8) -> Vec<u8> {
        vec![v; w * h * 3]
    }

    /// A frame whose content moves with `t`: soft waves sliding right a pixel a frame.
    fn moving(w: usize, h: usize, t: usize) -> Vec<u8> {
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let phase = (x + t) as f64 / 5.0 + (y as f64 / 7.0).sin() * 2.0;
                let v = (128.0 + 90.0 * phase.sin()) as u8;
                rgb.extend([v, v, v]);
            }
        }
        rgb
    }

    fn analyze(frames: &[Vec<u8>], w: usize, h: usize) -> ClipMeasures {
        let settings = Settings::default();
        let mut a = ClipAnalyzer::new(&settings, w, h, Some(frames.len() as u64), true, vec![]);
        for f in frames {
            a.push(f);
        }
        a.finish(1.0 / 24.0)
    }

    #[test]
    fn a_still_clip_has_no_motion_and_a_moving_one_does() {
        let still: Vec<_> = (0..30).map(|_| moving(64, 36, 0)).collect();
        let m = analyze(&still, 64, 36);
        assert!(m.motion < 0.01 && m.cuts.is_empty(), "{}", m.motion);
        let moving_frames: Vec<_> = (0..30).map(|t| moving(64, 36, t)).collect();
        let m = analyze(&moving_frames, 64, 36);
        assert!(m.motion > 10.0, "{}", m.motion);
        assert!(m.cuts.is_empty());
        assert_eq!(m.kept.len(), STRIP_FRAMES);
    }

    #[test]
    fn black_lead_in_is_a_run_and_not_a_cut() {
        let mut frames: Vec<_> = (0..6).map(|_| solid(64, 36, 0)).collect();
        frames.extend((0..30).map(|t| moving(64, 36, t)));
        let m = analyze(&frames, 64, 36);
        assert_eq!(m.black_runs.len(), 1);
        assert!(m.black_runs[0].at_start && m.black_runs[0].frames == 6);
        assert!(m.cuts.is_empty(), "{:?}", m.cuts);
    }

    #[test]
    fn a_hard_cut_is_found_at_its_frame() {
        let mut frames: Vec<_> = (0..20).map(|t| moving(64, 36, t)).collect();
        frames.extend((0..20).map(|_| solid(64, 36, 128)));
        let m = analyze(&frames, 64, 36);
        assert_eq!(m.cuts.len(), 1, "{:?}", m.cuts);
        assert_eq!(m.cuts[0].frame, 20);
    }

    #[test]
    fn edges_dark_in_every_frame_are_bars() {
        let frames: Vec<_> = (0..10)
            .map(|t| {
                let mut f = moving(64, 36, t);
                for y in (0..4).chain(32..36) {
                    f[y * 64 * 3..(y + 1) * 64 * 3].fill(0);
                }
                f
            })
            .collect();
        let m = analyze(&frames, 64, 36);
        assert!((m.bars.top - 4.0 / 36.0).abs() < 1e-9, "{:?}", m.bars);
        assert!((m.bars.bottom - 4.0 / 36.0).abs() < 1e-9);
        assert_eq!(m.bars.left, 0.0);
    }

    #[test]
    fn a_still_logo_over_moving_footage_is_an_overlay() {
        let frames: Vec<_> = (0..20)
            .map(|t| {
                let mut f = moving(96, 64, t);
                // A 12×12 checkered logo in the top-right corner.
                for y in 4..16 {
                    for x in 80..92 {
                        let v = if (x / 3 + y / 3) % 2 == 0 { 250 } else { 20 };
                        f[(y * 96 + x) * 3..][..3].fill(v);
                    }
                }
                f
            })
            .collect();
        let m = analyze(&frames, 96, 64);
        assert_eq!(m.overlays.len(), 1, "{:?}", m.overlays);
        assert_eq!(m.overlays[0].place(), "the top-right corner");
    }
}
