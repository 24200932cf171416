//! The dataset report: "show me what will train". One card per sample with its contact sheet
//! (the supplied first frame beside the decoded frame 0, frames across the clip, the last
//! frame), its facts, its prompt with the trigger word and the effect sentence highlighted,
//! and its findings; the summary and the plan's fee at the top; filtering and sorting by
//! finding in the page itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{escape, jpeg_uri, page};
use crate::check::CheckReport;
use crate::dataset::{PathField, Role as DatasetRole};
use crate::deep::{DeepReport, FrameCheck, Role};
use crate::media::{MediaInfo, VideoInfo};
use crate::plan::Plan;
use crate::report::{human_bytes, human_seconds};
use crate::rules::{Finding, Severity};

/// One checked dataset on the page.
pub struct Section<'a> {
    /// The dataset's path as the user gave it.
    pub label: String,
    pub report: &'a CheckReport,
    /// The trigger word to highlight, if one is configured.
    pub trigger: Option<&'a str>,
    /// `max_pixels` of the job (what the platform scales clips down to).
    pub max_pixels: u64,
}

/// The whole report.
pub struct ReportPage<'a> {
    pub title: String,
    pub sections: Vec<Section<'a>>,
    /// The plan of the job these datasets train, when it could be made.
    pub plan: Option<&'a Plan>,
    /// Why there is no plan or no fee (a missing region, say).
    pub plan_note: Option<String>,
}

/// Renders the report as one self-contained HTML page.
pub fn render(report: &ReportPage) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "<h1>{}</h1>", escape(&report.title));
    summary(&mut body, report);
    let mut codes: BTreeSet<&'static str> = BTreeSet::new();
    for section in &report.sections {
        for f in section.report.findings.iter() {
            codes.insert(f.rule.code);
        }
    }
    toolbar(&mut body, &codes);
    for (index, section) in report.sections.iter().enumerate() {
        dataset(&mut body, index, section, report.plan);
    }
    page(&report.title, &body, SCRIPT, false)
}

fn summary(out: &mut String, report: &ReportPage) {
    out.push_str("<section aria-labelledby=\"summary-title\">\n<h2 id=\"summary-title\">Summary</h2>\n<dl class=\"summary\">\n");
    let item = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(
            out,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(label),
            escape(value)
        );
    };
    let samples: usize = report
        .sections
        .iter()
        .map(|s| s.report.summary.samples)
        .sum();
    let count = |severity| -> usize {
        report
            .sections
            .iter()
            .map(|s| s.report.findings.count(severity))
            .sum()
    };
    item(out, "Datasets", &report.sections.len().to_string());
    item(out, "Samples", &samples.to_string());
    item(out, "Errors", &count(Severity::Error).to_string());
    item(out, "Warnings", &count(Severity::Warning).to_string());
    item(out, "Infos", &count(Severity::Info).to_string());
    if let Some(plan) = report.plan {
        item(out, "Model", plan.model.name);
        item(out, "Region", &plan.region.to_string());
        item(
            out,
            "Steps",
            &format!(
                "{} ({} epochs × {} per epoch)",
                plan.steps.total, plan.steps.n_epochs, plan.steps.per_epoch
            ),
        );
        item(
            out,
            "Billed video",
            &format!("{} s", plan.all_clips.billable_seconds),
        );
        item(out, "Tokens", &plan.all_clips.tokens.to_string());
        let fee = match (&plan.all_clips.fee, plan.fee_is_complete()) {
            (Some(fee), true) => fee.to_string(),
            (Some(fee), false) => format!(
                "at least {fee} ({} clip(s) of unknown duration)",
                plan.unknown_durations
            ),
            (None, _) => "unknown: no price for this model and region".to_string(),
        };
        item(out, "Fee", &fee);
    }
    out.push_str("</dl>\n");
    if let Some(note) = &report.plan_note {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", escape(note));
    }
    out.push_str("</section>\n");
}

fn toolbar(out: &mut String, codes: &BTreeSet<&'static str>) {
    out.push_str(
        "<div class=\"toolbar\" role=\"group\" aria-label=\"Show and order the samples\">\n\
         <label for=\"filter\">Show</label><select id=\"filter\">\n\
         <option value=\"all\">every sample</option>\n\
         <option value=\"findings\">samples with findings</option>\n\
         <option value=\"clean\">samples without findings</option>\n",
    );
    for code in codes {
        let name = crate::rules::find(code).map_or("", |r| r.name);
        let _ = writeln!(
            out,
            "<option value=\"{code}\">with {code} ({})</option>",
            escape(name)
        );
    }
    out.push_str(
        "</select>\n<label for=\"sort\">Order by</label><select id=\"sort\">\n\
         <option value=\"line\">position in the dataset</option>\n\
         <option value=\"severity\">worst finding first</option>\n\
         <option value=\"findings\">most findings first</option>\n\
         <option value=\"duration\">longest clip first</option>\n\
         <option value=\"motion\">least motion first</option>\n\
         </select>\n<p id=\"shown\" aria-live=\"polite\"></p>\n</div>\n",
    );
}

fn dataset(out: &mut String, index: usize, section: &Section, plan: Option<&Plan>) {
    let report = section.report;
    let s = &report.summary;
    let role = match report.dataset.mode.role {
        DatasetRole::Training => "Training set",
        DatasetRole::Validation => "Validation set",
    };
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"set{index}\">\n<h2 id=\"set{index}\">{role} <code>{}</code></h2>",
        escape(&section.label)
    );
    let _ = writeln!(
        out,
        "<p>{} samples · {} ({}) · {} · {} errors, {} warnings, {} infos · {} of video · \
         packed zip {}</p>",
        s.samples,
        escape(&s.mode.to_string()),
        if s.mode_inferred {
            "inferred"
        } else {
            "forced"
        },
        escape(s.model),
        s.errors,
        s.warnings,
        s.infos,
        escape(&human_seconds(s.total_duration_s)),
        escape(&human_bytes(s.zip_size)),
    );
    let samples = sample_files(report);
    // Findings not about one sample: the dataset, unreferenced files.
    let claimed: BTreeSet<&str> = samples
        .iter()
        .flat_map(|files| files.entries.iter().map(|(_, e)| e.as_str()))
        .collect();
    let general: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| owner(f, &samples).is_none())
        .filter(|f| {
            f.location
                .file
                .as_deref()
                .is_none_or(|file| !claimed.contains(file))
        })
        .collect();
    if !general.is_empty() {
        let _ = writeln!(out, "<h3>About the whole set</h3>");
        findings_list(out, &general);
    }
    let mut per_sample: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in report.findings.iter() {
        if let Some(i) = owner(f, &samples) {
            per_sample.entry(i).or_default().push(f);
        }
    }
    let _ = writeln!(out, "<div class=\"samples\">");
    for (i, files) in samples.iter().enumerate() {
        let found = per_sample.get(&i).map(Vec::as_slice).unwrap_or(&[]);
        sample(out, index, i, files, found, section, plan);
    }
    out.push_str("</div>\n</section>\n");
}

/// The files of one sample.
struct SampleFiles {
    /// Where findings about the line point (data.jsonl:N, or the anchor file).
    location: crate::rules::Location,
    entries: Vec<(PathField, String)>,
}

fn sample_files(report: &CheckReport) -> Vec<SampleFiles> {
    report
        .dataset
        .samples
        .iter()
        .enumerate()
        .map(|(i, sample)| SampleFiles {
            location: report.dataset.location_of(sample),
            entries: [
                PathField::Video,
                PathField::FirstFrame,
                PathField::LastFrame,
            ]
            .into_iter()
            .filter_map(|field| {
                report
                    .references
                    .entry_for(i, field)
                    .map(|e| (field, e.to_string()))
            })
            .collect(),
        })
        .collect()
}

/// The sample a finding is about: the one on its line, else the first whose files it names.
fn owner(f: &Finding, samples: &[SampleFiles]) -> Option<usize> {
    if f.location.line.is_some() {
        return samples.iter().position(|s| {
            s.location.file == f.location.file && s.location.line == f.location.line
        });
    }
    let file = f.location.file.as_deref()?;
    samples.iter().position(|s| {
        s.entries.iter().any(|(_, e)| e == file)
            || s.location.file.as_deref() == Some(file) && s.location.line.is_none()
    })
}

fn findings_list(out: &mut String, found: &[&Finding]) {
    out.push_str("<ul class=\"findings\">\n");
    for f in found {
        let sev = f.severity.as_str();
        let at = match &f.location.file {
            Some(_) => format!(
                " <span class=\"muted\">({})</span>",
                escape(&f.location.to_string())
            ),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "<li class=\"finding\" data-code=\"{code}\"><span class=\"sev sev-{sev}\">{sev}</span> \
             <code class=\"badge\">{code}</code> {message}{at}<br><span class=\"muted\">{hint}</span></li>",
            code = f.rule.code,
            message = escape(&f.message),
            hint = escape(f.effective_hint()),
        );
    }
    out.push_str("</ul>\n");
}

fn sample(
    out: &mut String,
    section_index: usize,
    i: usize,
    files: &SampleFiles,
    found: &[&Finding],
    section: &Section,
    plan: Option<&Plan>,
) {
    let report = section.report;
    let entry = |field| {
        files
            .entries
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.as_str())
    };
    let video = entry(PathField::Video);
    let first = entry(PathField::FirstFrame);
    let last = entry(PathField::LastFrame);
    let info = video.and_then(|v| match report.media.get(v).map(|p| &p.result) {
        Some(Ok(MediaInfo::Video(info))) => Some(info),
        _ => None,
    });
    let deep = report.deep.as_ref();
    let clip = video.and_then(|v| deep?.clips.get(v));
    let codes: BTreeSet<&str> = found.iter().map(|f| f.rule.code).collect();
    let worst = found.iter().map(|f| f.severity as u8).min().unwrap_or(3);
    let duration = info.and_then(|v| v.duration_s).unwrap_or(0.0);
    let motion = clip.map_or(-1.0, |c| c.motion);
    let title = video.or(first).unwrap_or("(no file)");
    let _ = writeln!(
        out,
        "<article class=\"sample\" id=\"s{section_index}-{n}\" data-line=\"{n}\" \
         data-codes=\"{codes}\" data-findings=\"{count}\" data-worst=\"{worst}\" \
         data-duration=\"{duration:.3}\" data-motion=\"{motion:.3}\" \
         aria-labelledby=\"s{section_index}-{n}-title\">",
        n = i + 1,
        codes = codes.iter().copied().collect::<Vec<_>>().join(" "),
        count = found.len(),
    );
    let _ = writeln!(
        out,
        "<header><h3 id=\"s{section_index}-{n}-title\">Sample {n}: <code>{}</code></h3>{}</header>",
        escape(title),
        if found.is_empty() {
            "<span class=\"ok\">no findings</span>".to_string()
        } else {
            found
                .iter()
                .map(|f| {
                    format!(
                        "<span class=\"badge sev-{}\">{}</span>",
                        f.severity.as_str(),
                        f.rule.code
                    )
                })
                .collect::<Vec<_>>()
                .join("")
        },
        n = i + 1,
    );
    sheet(out, deep, video, first, last);
    facts(out, info, video, first, last, section, plan, clip);
    prompt(out, report, i, section.trigger);
    if !found.is_empty() {
        findings_list(out, found);
    }
    out.push_str("</article>\n");
}

fn figure(out: &mut String, jpeg: Option<&[u8]>, alt: &str, caption: &str) {
    match jpeg.filter(|j| !j.is_empty()) {
        Some(jpeg) => {
            let _ = writeln!(
                out,
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                jpeg_uri(jpeg),
                escape(alt),
                escape(caption)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "<figure><figcaption>{} (not decoded)</figcaption></figure>",
                escape(caption)
            );
        }
    }
}

fn check_of<'a>(deep: &'a DeepReport, clip: &str, role: Role) -> Option<&'a FrameCheck> {
    deep.frame_checks
        .iter()
        .find(|c| c.clip == clip && c.role == role)
}

fn sheet(
    out: &mut String,
    deep: Option<&DeepReport>,
    video: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) {
    let Some(deep) = deep else {
        out.push_str("<p class=\"muted\">No pictures: the files were not decoded.</p>\n");
        return;
    };
    let image = |name: Option<&str>| {
        name.and_then(|n| deep.images.get(n))
            .and_then(|i| i.thumbnail.as_deref())
    };
    let clip = video.and_then(|v| deep.clips.get(v));
    let sheet = clip.and_then(|c| c.sheet.as_ref());
    out.push_str("<div class=\"sheet\">\n");
    if let Some(first) = first {
        out.push_str("<div class=\"pair\">\n");
        let similarity = video
            .and_then(|v| check_of(deep, v, Role::First))
            .map(|c| format!(", similarity {:.2}", c.comparison.similarity))
            .unwrap_or_default();
        figure(
            out,
            image(Some(first)),
            &format!("Supplied first frame {first}"),
            &format!("supplied first frame{similarity}"),
        );
        if let (Some(video), Some(sheet)) = (video, sheet) {
            figure(
                out,
                Some(&sheet.first),
                &format!("Decoded frame 0 of {video}"),
                "decoded frame 0",
            );
        }
        out.push_str("</div>\n");
    }
    if let (Some(video), Some(sheet)) = (video, sheet) {
        for (time, jpeg) in &sheet.strip {
            figure(
                out,
                Some(jpeg),
                &format!("{video} at {time:.2} s"),
                &format!("{time:.2} s"),
            );
        }
        if last.is_some() || first.is_none() {
            out.push_str("<div class=\"pair\">\n");
            figure(
                out,
                Some(&sheet.last),
                &format!("Decoded last frame of {video}"),
                "decoded last frame",
            );
            if let Some(last) = last {
                let similarity = check_of(deep, video, Role::Last)
                    .map(|c| format!(", similarity {:.2}", c.comparison.similarity))
                    .unwrap_or_default();
                figure(
                    out,
                    image(Some(last)),
                    &format!("Supplied last frame {last}"),
                    &format!("supplied last frame{similarity}"),
                );
            }
            out.push_str("</div>\n");
        }
    }
    out.push_str("</div>\n");
}

/// Width and height after the platform scales a clip down to `max_pixels` (aspect kept).
fn trained_size(v: &VideoInfo, max_pixels: u64) -> (u32, u32) {
    let (w, h) = (v.coded_width, v.coded_height);
    let pixels = u64::from(w) * u64::from(h);
    if pixels <= max_pixels || pixels == 0 {
        return (w, h);
    }
    let scale = (max_pixels as f64 / pixels as f64).sqrt();
    (
        (f64::from(w) * scale).floor() as u32,
        (f64::from(h) * scale).floor() as u32,
    )
}

#[allow(clippy::too_many_arguments)]
fn facts(
    out: &mut String,
    info: Option<&VideoInfo>,
    video: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
    section: &Section,
    plan: Option<&Plan>,
    clip: Option<&crate::deep::ClipReport>,
) {
    let mut items: Vec<String> = Vec::new();
    if let Some(v) = info {
        items.push(format!(
            "duration {}",
            v.duration_s
                .map_or_else(|| "unknown".into(), |d| format!("{d:.2} s"))
        ));
        items.push(format!(
            "{} fps",
            v.fps.map_or_else(
                || "unknown".into(),
                |f| format!("{f:.3}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            )
        ));
        items.push(format!("coded {}×{}", v.coded_width, v.coded_height));
        items.push(format!(
            "displayed {}×{}",
            v.display_width, v.display_height
        ));
        let (tw, th) = trained_size(v, section.max_pixels);
        // Spec §2.6: clips above max_pixels are scaled down; that the aspect is kept is
        // undocumented, so the size is marked as an estimate.
        items.push(if (tw, th) == (v.coded_width, v.coded_height) {
            format!("max_pixels {} leaves it as is", section.max_pixels)
        } else {
            format!(
                "max_pixels {} scales it to about {tw}×{th} (aspect kept: assumed, undocumented)",
                section.max_pixels
            )
        });
    }
    if let (Some(video), Some(plan)) = (video, plan) {
        let billed = plan
            .clips
            .iter()
            .find(|c| c.path == video || c.path.ends_with(&format!("/{video}")))
            .and_then(|c| c.billable_s);
        if let Some(billed) = billed {
            items.push(format!("billed {billed} s per epoch"));
        }
    }
    if let Some(c) = clip {
        items.push(format!("motion score {:.1}", c.motion));
        if !c.cuts.is_empty() {
            items.push(format!("{} cut(s)", c.cuts.len()));
        }
    }
    for (label, name) in [
        ("video", video),
        ("first frame", first),
        ("last frame", last),
    ] {
        if let Some(name) = name {
            items.push(format!("{label} {name}"));
        }
    }
    out.push_str("<p class=\"facts\">");
    for item in items {
        let _ = write!(out, "<span>{}</span>", escape(&item));
    }
    out.push_str("</p>\n");
}

fn prompt(out: &mut String, report: &CheckReport, i: usize, trigger: Option<&str>) {
    let text = report.dataset.samples[i].prompt.text().unwrap_or("");
    let effect = report.effect_sentence.as_deref();
    let _ = writeln!(
        out,
        "<p class=\"prompt\"><span class=\"muted\">Prompt:</span> {}</p>",
        highlight(text, trigger, effect)
    );
}

/// `text`, escaped, with the effect sentence and the trigger word marked.
pub fn highlight(text: &str, trigger: Option<&str>, effect: Option<&str>) -> String {
    let spans = |needle: Option<&str>| -> Vec<(usize, usize)> {
        let Some(needle) = needle.map(str::trim).filter(|n| !n.is_empty()) else {
            return Vec::new();
        };
        text.match_indices(needle)
            .map(|(at, m)| (at, at + m.len()))
            .collect()
    };
    let effects = spans(effect);
    let triggers = spans(trigger);
    // Boundaries where a mark opens or closes, in order; a trigger inside the effect
    // sentence nests in it.
    let mut events: Vec<(usize, u8, &str)> = Vec::new();
    for (a, b) in &effects {
        events.push((*a, 1, "<mark class=\"effect\">"));
        events.push((*b, 0, "</mark>"));
    }
    for (a, b) in &triggers {
        // A trigger straddling the effect sentence's edge is not marked (it cannot nest).
        let straddles = effects
            .iter()
            .any(|(ea, eb)| (a < ea && b > ea) || (a < eb && b > eb));
        if !straddles {
            events.push((*a, 2, "<mark class=\"trigger\">"));
            events.push((*b, 0, "</mark>"));
        }
    }
    // At one position: close before open, and the effect opens before the trigger.
    events.sort_by_key(|(at, kind, _)| (*at, *kind));
    let mut out = String::new();
    let mut at = 0;
    for (pos, _, tag) in events {
        out.push_str(&escape(&text[at..pos]));
        out.push_str(tag);
        at = pos;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// Filtering and sorting. Reads `#filter=CODE&sort=KEY` from the address so a link (or a test)
/// can open the page filtered.
const SCRIPT: &str = r#"
(function () {
  var filter = document.getElementById('filter');
  var sort = document.getElementById('sort');
  var shown = document.getElementById('shown');
  var params = new URLSearchParams(location.hash.slice(1));
  function pick(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { select.value = value; }
    }
  }
  if (params.get('filter')) pick(filter, params.get('filter'));
  if (params.get('sort')) pick(sort, params.get('sort'));
  function num(el, key) { return parseFloat(el.getAttribute('data-' + key)) || 0; }
  function compare(key) {
    return function (a, b) {
      if (key === 'severity') return num(a, 'worst') - num(b, 'worst') || num(a, 'line') - num(b, 'line');
      if (key === 'findings') return num(b, 'findings') - num(a, 'findings') || num(a, 'line') - num(b, 'line');
      if (key === 'duration') return num(b, 'duration') - num(a, 'duration') || num(a, 'line') - num(b, 'line');
      if (key === 'motion') return num(a, 'motion') - num(b, 'motion') || num(a, 'line') - num(b, 'line');
      return num(a, 'line') - num(b, 'line');
    };
  }
  function apply() {
    var wanted = filter.value, total = 0, visible = 0;
    document.querySelectorAll('.samples').forEach(function (list) {
      var cards = Array.prototype.slice.call(list.querySelectorAll('.sample'));
      cards.sort(compare(sort.value)).forEach(function (card) {
        var codes = (card.getAttribute('data-codes') || '').split(' ').filter(Boolean);
        var show = wanted === 'all' || (wanted === 'findings' && codes.length > 0) ||
          (wanted === 'clean' && codes.length === 0) || codes.indexOf(wanted) >= 0;
        card.hidden = !show;
        total += 1; if (show) visible += 1;
        list.appendChild(card);
      });
    });
    shown.textContent = visible + ' of ' + total + ' samples shown';
  }
  filter.addEventListener('change', apply);
  sort.addEventListener('change', apply);
  apply();
})();
"#;

/// One dataset to report on.
pub struct Target<'a> {
    pub path: &'a std::path::Path,
    /// Forced mode, if any.
    pub mode: Option<crate::dataset::ModeChoice>,
    /// A validation set (held to the training set's effect sentence, searched for leaks).
    pub validation: bool,
}

/// What the report is made for: the job the datasets will train.
pub struct ReportOptions<'a> {
    pub model: &'static crate::models::ModelProfile,
    pub trigger: Option<String>,
    /// The job's hyper-parameters as configured (`n_epochs` unset: the plan recommends it).
    pub hyper: crate::hyper::HyperParams,
    /// The region whose prices make the fee; without one the page says why there is none.
    pub region: Option<crate::models::Region>,
    pub price_override: Option<rust_decimal::Decimal>,
    /// Thresholds of the decode-level rules.
    pub settings: crate::deep::Settings,
    pub progress: &'a dyn crate::progress::Progress,
}

/// A built report: the page and the checks behind it.
pub struct Built {
    pub html: String,
    pub reports: Vec<CheckReport>,
}

/// Checks every target with `--deep` (training sets first, then validation sets against
/// them), plans the job and renders the page. Needs ffmpeg.
pub fn build(
    title: &str,
    targets: &[Target],
    options: &ReportOptions,
) -> Result<Built, crate::check::CheckError> {
    use crate::check::{self, CheckOptions};
    let resolved = options.hyper.resolve(options.model);
    let mut reports: Vec<(usize, CheckReport)> = Vec::new();
    let mut training_effect: Option<String> = None;
    let mut training_index = None;
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by_key(|&i| targets[i].validation);
    let validation_given = targets.iter().any(|t| t.validation);
    for i in order {
        let target = &targets[i];
        let mut check_options = CheckOptions {
            mode: target.mode,
            trigger: options.trigger.clone(),
            validation_given,
            deep: true,
            progress: options.progress,
            ..CheckOptions::for_job(options.model, &resolved)
        };
        check_options.analysis = crate::deep::Options {
            settings: options.settings.clone(),
            thumbnails: true,
            training: if target.validation {
                training_index.clone()
            } else {
                None
            },
        };
        if target.validation {
            check_options.effect = training_effect.clone();
        }
        let report = check::run(target.path, &check_options)?;
        if !target.validation && training_effect.is_none() {
            training_effect = report.effect_sentence.clone();
            training_index = report.deep.as_ref().map(|d| d.index.clone());
        }
        reports.push((i, report));
    }
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<CheckReport> = reports.into_iter().map(|(_, r)| r).collect();
    let (plan, plan_note) = match options.region {
        None => (
            None,
            Some(
                "No fee: no region (pass --region cn-beijing|ap-southeast-1 or set `region` in \
                 wanft.toml)."
                    .to_string(),
            ),
        ),
        Some(region) => {
            let training = targets
                .iter()
                .zip(&reports)
                .filter(|(t, _)| !t.validation)
                .flat_map(|(_, r)| r.clips())
                .collect();
            let validation: usize = targets
                .iter()
                .zip(&reports)
                .filter(|(t, _)| t.validation)
                .map(|(_, r)| r.summary.samples)
                .sum();
            let input = crate::plan::PlanInput {
                model: options.model,
                region,
                hyper: options.hyper.clone(),
                training,
                validation_count: validation_given.then_some(validation),
                price_override: options.price_override,
            };
            (Some(crate::plan::estimate(&input)), None)
        }
    };
    let page = ReportPage {
        title: title.to_string(),
        sections: targets
            .iter()
            .zip(&reports)
            .map(|(t, report)| Section {
                label: t.path.display().to_string(),
                report,
                trigger: options.trigger.as_deref(),
                max_pixels: u64::from(resolved.max_pixels),
            })
            .collect(),
        plan: plan.as_ref(),
        plan_note,
    };
    let html = render(&page);
    Ok(Built { html, reports })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_nests_in_the_effect_sentence_and_text_stays_escaped() {
        let text = "A <cat>. Then the v7 effect begins.";
        let html = highlight(text, Some("v7"), Some("Then the v7 effect begins."));
        assert_eq!(
            html,
            "A &lt;cat&gt;. <mark class=\"effect\">Then the <mark class=\"trigger\">v7</mark> \
             effect begins.</mark>"
        );
        assert_eq!(highlight("plain", None, None), "plain");
        assert_eq!(
            highlight("v7 at start", Some("v7"), Some("missing")),
            "<mark class=\"trigger\">v7</mark> at start"
        );
    }
}
