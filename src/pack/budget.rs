//! The upload limit, checked on the archive's exact size before a byte is written.

use serde::Serialize;

use super::fix::{Job, Limits, Target, fitted_size};
use super::pipeline::Member;
use crate::rules::media::MAX_SIDE;
use crate::rules::size::{ZIP_LIMIT, ZIP_WARN};
use crate::rules::{self, Finding, Location};

/// How many of the largest members a refusal names.
const LARGEST_SHOWN: usize = 5;

/// An archive that would be too large to upload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverBudget {
    /// Exact size the archive would have.
    pub size: u64,
    pub limit: u64,
    /// The largest members, biggest first.
    pub largest: Vec<Contributor>,
    /// What `--fix` would change, when it was not used and would change something.
    pub fix_estimate: Option<FixEstimate>,
}

/// A member and its size in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contributor {
    pub name: String,
    pub bytes: u64,
}

/// A rough idea of what `--fix` would save: a clip's size is taken as proportional to its
/// pixels times its duration, which holds for re-encodes at a similar quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FixEstimate {
    pub clips_downscaled: usize,
    pub clips_trimmed: usize,
    pub images_downscaled: usize,
    /// Estimated bytes saved.
    pub saved: u64,
}

/// `Some` when an archive of `size` bytes holding `members` is over the limit. `unfixed_jobs`
/// are the fixes `--fix` would make (when it was not given), for the estimate.
pub fn over_budget(
    members: &[Member],
    size: u64,
    unfixed_jobs: Option<&[Job]>,
    limits: Limits,
) -> Option<OverBudget> {
    if size <= ZIP_LIMIT {
        return None;
    }
    let mut largest: Vec<Contributor> = members
        .iter()
        .map(|m| Contributor {
            name: m.planned.name.clone(),
            bytes: m.planned.compressed_size,
        })
        .collect();
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    largest.truncate(LARGEST_SHOWN);
    let fix_estimate = unfixed_jobs
        .map(|jobs| estimate(jobs, limits))
        .filter(|e| e.saved > 0);
    Some(OverBudget {
        size,
        limit: ZIP_LIMIT,
        largest,
        fix_estimate,
    })
}

/// The warning for a zip of `size` bytes between 10^9 bytes and the limit, where "1 GB" read as
/// 10^9 bytes would refuse it.
pub fn near_limit(size: u64) -> Option<Finding> {
    (size > ZIP_WARN && size <= ZIP_LIMIT).then(|| {
        Finding::new(
            &rules::size::ZIP_NEAR_LIMIT,
            Location::dataset(),
            format!("the zip will be {size} bytes, over {ZIP_WARN}"),
        )
    })
}

/// What the fixes in `jobs` would save, by the proportionality rule of [`FixEstimate`].
pub fn estimate(jobs: &[Job], limits: Limits) -> FixEstimate {
    let mut estimate = FixEstimate {
        clips_downscaled: 0,
        clips_trimmed: 0,
        images_downscaled: 0,
        saved: 0,
    };
    for job in jobs {
        let before = &job.before;
        let mut ratio = 1.0;
        if let (Some(w), Some(h)) = (before.width, before.height) {
            let max_pixels = (job.target == Target::Video).then_some(limits.max_pixels);
            let even = job.target == Target::Video;
            let (fw, fh) = fitted_size(w, h, max_pixels, MAX_SIDE, even);
            let pixels = f64::from(w) * f64::from(h);
            let fitted = f64::from(fw) * f64::from(fh);
            if fitted < pixels {
                ratio *= fitted / pixels;
                match job.target {
                    Target::Video => estimate.clips_downscaled += 1,
                    Target::Image(_) => estimate.images_downscaled += 1,
                }
            }
        }
        if let (Some(trim), Some(duration)) = (job.trim, before.duration_s)
            && duration > trim.seconds
        {
            ratio *= trim.seconds / duration;
            estimate.clips_trimmed += 1;
        }
        let after = (before.bytes as f64 * ratio) as u64;
        estimate.saved += before.bytes.saturating_sub(after);
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::fix::{MediaFacts, Trim};
    use crate::pack::layout::PlannedMember;
    use crate::pack::pipeline::Content;

    const LIMITS: Limits = Limits {
        max_pixels: 36864,
        max_seconds: 5,
    };

    fn clip_job(bytes: u64, w: u32, h: u32, seconds: f64) -> Job {
        Job {
            entry: "a.mp4".into(),
            member: "a.mp4".into(),
            renamed: "a.mp4".into(),
            target: Target::Video,
            reasons: Vec::new(),
            before: MediaFacts {
                bytes,
                format: "MP4".into(),
                codec: Some("H.264".into()),
                width: Some(w),
                height: Some(h),
                duration_s: Some(seconds),
            },
            trim: (seconds > 5.0).then(|| Trim::to(5, Some(25.0))),
            edit: Default::default(),
            derive: None,
        }
    }

    fn member(name: &str, size: u64) -> Member {
        Member {
            planned: PlannedMember::stored(name, size),
            content: Content::Entry(name.into()),
        }
    }

    #[test]
    fn estimates_scale_with_pixels_and_duration() {
        // 1920×1080 → 256×144 keeps 1/56.25 of the pixels; 10 s → 5 s halves again.
        let e = estimate(&[clip_job(112_500_000, 1920, 1080, 10.0)], LIMITS);
        assert_eq!((e.clips_downscaled, e.clips_trimmed), (1, 1));
        assert!(e.saved.abs_diff(111_500_000) <= 1, "{}", e.saved);
        let small = estimate(&[clip_job(1_000, 192, 192, 4.0)], LIMITS);
        assert_eq!(small.saved, 0);
    }

    #[test]
    fn refusals_name_the_largest_members() {
        let members: Vec<Member> = (0..8)
            .map(|i| member(&format!("clip{i}.mp4"), 200_000_000 + i))
            .collect();
        let size = crate::pack::layout::archive_size(
            &members
                .iter()
                .map(|m| m.planned.clone())
                .collect::<Vec<_>>(),
        );
        let over = over_budget(&members, size, None, LIMITS).expect("over the limit");
        let names: Vec<&str> = over.largest.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "clip7.mp4",
                "clip6.mp4",
                "clip5.mp4",
                "clip4.mp4",
                "clip3.mp4"
            ]
        );
        assert!(over_budget(&members[..5], 1_000_000_000, None, LIMITS).is_none());
    }

    #[test]
    fn zips_between_a_billion_bytes_and_the_limit_are_warned_about() {
        assert!(near_limit(ZIP_WARN).is_none());
        assert_eq!(near_limit(ZIP_WARN + 1).unwrap().rule.code, "S006");
        assert!(near_limit(ZIP_LIMIT).is_some());
        assert!(
            near_limit(ZIP_LIMIT + 1).is_none(),
            "refused, not warned about"
        );
    }
}
