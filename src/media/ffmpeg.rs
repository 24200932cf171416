//! The optional ffmpeg integration: deep decode checks and media fixes.
//!
//! Headers are read in pure Rust elsewhere in [`crate::media`]; ffmpeg is only needed when the user
//! asks for a full decode or for a fix that re-encodes. Every invocation goes through
//! [`Ffmpeg::run`], which captures the output and turns a missing binary into a clear error.

use std::env;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Environment variable naming the ffmpeg binary to use instead of the one on `PATH`.
pub const FFMPEG_ENV: &str = "WANFT_FFMPEG";

/// At most this many error lines are returned by [`Ffmpeg::decode_check`]; a badly damaged file can
/// produce thousands of them, and the first ones say what is wrong.
const MAX_REPORTED_ERRORS: usize = 50;

/// An ffmpeg binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ffmpeg {
    path: PathBuf,
}

/// What one ffmpeg run printed, and how it ended.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ffmpeg {
    /// Finds ffmpeg: the binary named by `WANFT_FFMPEG` if set (a path, or a name looked up on
    /// `PATH`), else `ffmpeg` on `PATH`. `None` when it cannot be found; an override that points
    /// nowhere is not silently replaced by another ffmpeg.
    pub fn find() -> Option<Ffmpeg> {
        locate(env::var_os(FFMPEG_ENV), env::var_os("PATH")).map(Ffmpeg::at)
    }

    /// An ffmpeg at a known path (not checked until it is run).
    pub fn at(path: impl Into<PathBuf>) -> Ffmpeg {
        Ffmpeg { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version ffmpeg reports, e.g. `5.1.6-0+deb12u1` (the first line of `ffmpeg -version` if
    /// it is not in the usual form).
    pub fn version(&self) -> io::Result<String> {
        let output = self.run(["-hide_banner", "-version"])?;
        let first_line = output.stdout.lines().next().unwrap_or_default().trim();
        if !output.status.success() || first_line.is_empty() {
            return Err(io::Error::other(format!(
                "{} -version failed ({})",
                self.path.display(),
                output.status
            )));
        }
        let version = first_line
            .strip_prefix("ffmpeg version ")
            .and_then(|rest| rest.split_whitespace().next());
        Ok(version.unwrap_or(first_line).to_string())
    }

    /// Decodes every audio and video stream of `file` and returns the errors ffmpeg reports;
    /// empty means the file decoded cleanly.
    ///
    /// Decoding does not stop at the first error, so that one call shows everything that is wrong
    /// (up to a limit: the last line then says how many more there were). A failure with no
    /// message is reported with the exit status.
    pub fn decode_check(&self, file: &Path) -> io::Result<Vec<String>> {
        self.decode(file, false).map(|decoded| decoded.errors)
    }

    /// Like [`Ffmpeg::decode_check`], and with `frames` also times the decoded frames of the
    /// first video stream, in the same decode: the ground truth for the headers' frame count,
    /// duration and frame rate.
    pub fn decode(&self, file: &Path, frames: bool) -> io::Result<Decoded> {
        self.decode_input(&file_url(file), frames)
    }

    /// [`Ffmpeg::decode`] of bytes `start..start + len` of `file`, read in place (a stored zip
    /// member) through ffmpeg's `subfile` protocol: nothing is copied. `InvalidInput` when the
    /// path cannot be written in that protocol's syntax.
    pub fn decode_range(
        &self,
        file: &Path,
        start: u64,
        len: u64,
        frames: bool,
    ) -> io::Result<Decoded> {
        self.decode_input(&range_url(file, start, len)?, frames)
    }

    fn decode_input(&self, input: &OsStr, frames: bool) -> io::Result<Decoded> {
        let mut args = decode_args(input, &[]);
        if frames {
            args.extend(frame_timing_output("0:v:0?", "pipe:1".into()));
        }
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (timing, stderr) = std::thread::scope(|scope| {
            let stderr = scope.spawn(|| read_all(stderr));
            let timing = stdout.map(|out| FrameTiming::read(io::BufReader::new(out)));
            (timing, stderr.join().unwrap_or_default())
        });
        let status = child.wait()?;
        let mut errors = error_lines(&stderr);
        if errors.is_empty() && !status.success() {
            errors.push(format!("ffmpeg failed to decode the file ({status})"));
        }
        Ok(Decoded {
            errors,
            frames: timing.transpose()?.filter(|t| frames && t.count > 0),
        })
    }

    /// One decode of `input` (an ffmpeg URL, see [`file_url`]) that does everything `--deep`
    /// needs: ffmpeg's error lines for every video and audio stream, the timing of the first
    /// video stream's frames (with `request.timing`), and those frames scaled to
    /// `request.width` × `request.height` as packed RGB, handed to `on_frame` one at a time so
    /// that memory stays constant whatever the clip's length.
    pub fn decode_frames(
        &self,
        input: &OsStr,
        request: &FrameRequest,
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> io::Result<Decoded> {
        let timing_file = match request.timing {
            true => Some(
                tempfile::Builder::new()
                    .prefix("wanft-frames-")
                    .tempfile()?,
            ),
            false => None,
        };
        let scale = format!(
            "scale={}:{}:flags=area,format=rgb24",
            request.width, request.height
        );
        // The timing goes to the (empty) temporary file made for it (`-y`). One thread per
        // file: files are decoded in parallel, one per core.
        let mut input_options = vec!["-y", "-threads", "1"];
        if !request.autorotate {
            input_options.push("-noautorotate");
        }
        let mut args = decode_args(input, &input_options);
        if let Some(file) = &timing_file {
            args.extend(frame_timing_output("0:v:0", file_url(file.path())));
        }
        args.extend(["-map", "0:v:0", "-fps_mode", "passthrough", "-vf"].map(OsString::from));
        args.push(scale.into());
        args.extend(["-f", "rawvideo", "pipe:1"].map(OsString::from));
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let frame_len = request.width as usize * request.height as usize * 3;
        let (read, stderr) = std::thread::scope(|scope| {
            let stderr = scope.spawn(|| read_all(stderr));
            let read = stdout.map(|out| read_frames(out, frame_len, on_frame));
            (read, stderr.join().unwrap_or_default())
        });
        let status = child.wait()?;
        if let Some(read) = read {
            read?;
        }
        let mut errors = error_lines(&stderr);
        if errors.is_empty() && !status.success() {
            errors.push(format!("ffmpeg failed to decode the file ({status})"));
        }
        let frames = match &timing_file {
            Some(file) => Some(FrameTiming::read(io::BufReader::new(file.reopen()?))?),
            None => None,
        };
        Ok(Decoded {
            errors,
            frames: frames.filter(|t| t.count > 0),
        })
    }

    /// Runs ffmpeg with `args` (stdin closed) and captures its output. A binary that cannot be
    /// found is an error naming it and the way to point at another one.
    pub fn run<I, S>(&self, args: I) -> io::Result<RunOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .command(args)
            .output()
            .map_err(|e| self.spawn_error(e))?;
        Ok(RunOutput {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Like [`Ffmpeg::run`], but kills ffmpeg as soon as `cancel` is set and then returns an
    /// `Interrupted` error, so that a long encode does not outlive a Ctrl-C or SIGTERM sent to
    /// wanft alone.
    pub fn run_cancellable<I, S>(&self, args: I, cancel: &AtomicBool) -> io::Result<RunOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // The pipes are drained on their own threads so that a chatty ffmpeg never blocks on a
        // full pipe while this thread watches the flag.
        std::thread::scope(|scope| {
            let stdout = scope.spawn(|| read_all(stdout));
            let stderr = scope.spawn(|| read_all(stderr));
            let status = loop {
                if let Some(status) = child.try_wait()? {
                    break status;
                }
                if cancel.load(Ordering::Relaxed) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        "cancelled; ffmpeg was stopped",
                    ));
                }
                std::thread::sleep(CANCEL_POLL);
            };
            Ok(RunOutput {
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
            })
        })
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.path);
        command.args(args).stdin(Stdio::null());
        command
    }

    fn spawn_error(&self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::NotFound {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "ffmpeg not found at {}: install ffmpeg or set {FFMPEG_ENV} to its path",
                    self.path.display()
                ),
            )
        } else {
            io::Error::new(
                e.kind(),
                format!("could not run {}: {e}", self.path.display()),
            )
        }
    }
}

/// What a full decode found.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// ffmpeg's error lines; empty when the file decoded cleanly.
    pub errors: Vec<String>,
    /// The decoded frames of the first video stream, when asked for and there were any.
    pub frames: Option<FrameTiming>,
}

/// The decoded frames of a video stream and their timestamps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameTiming {
    pub count: u64,
    /// From the first frame's start to the last frame's end, in seconds.
    pub span_s: f64,
    /// The shortest and longest interval between consecutive frames, in seconds (equal for a
    /// constant frame rate; `None` for a single frame).
    pub shortest_interval_s: Option<f64>,
    pub longest_interval_s: Option<f64>,
}

impl FrameTiming {
    /// Reads ffmpeg's `framecrc` output: `#tb 0: 1/24`, then one `stream, dts, pts, duration,
    /// size, crc` line per frame, in presentation order. Memory stays constant whatever the
    /// number of frames.
    fn read(out: impl io::BufRead) -> io::Result<FrameTiming> {
        let (mut numerator, mut denominator) = (1f64, 1f64);
        let mut timing = FrameTiming {
            count: 0,
            span_s: 0.0,
            shortest_interval_s: None,
            longest_interval_s: None,
        };
        let (mut first, mut previous, mut end): (Option<i64>, Option<i64>, i64) = (None, None, 0);
        let mut shortest: Option<i64> = None;
        let mut longest: Option<i64> = None;
        for line in out.lines() {
            let line = line?;
            if let Some(base) = line.strip_prefix("#tb 0: ") {
                if let Some((n, d)) = base.trim().split_once('/') {
                    numerator = n.parse().unwrap_or(1.0);
                    denominator = d.parse().unwrap_or(1.0);
                }
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let (Some(pts), Some(duration)) = (
                fields.get(2).and_then(|f| f.parse::<i64>().ok()),
                fields.get(3).and_then(|f| f.parse::<i64>().ok()),
            ) else {
                continue;
            };
            timing.count += 1;
            first.get_or_insert(pts);
            if let Some(previous) = previous {
                let interval = pts.saturating_sub(previous);
                shortest = Some(shortest.map_or(interval, |s| s.min(interval)));
                longest = Some(longest.map_or(interval, |l| l.max(interval)));
            }
            previous = Some(pts);
            end = end.max(pts.saturating_add(duration));
        }
        let seconds = |ticks: i64| ticks as f64 * numerator / denominator;
        if let Some(first) = first {
            timing.span_s = seconds(end.saturating_sub(first));
        }
        timing.shortest_interval_s = shortest.map(seconds);
        timing.longest_interval_s = longest.map(seconds);
        Ok(timing)
    }

    /// True when frame intervals differ by more than a tenth (timestamps round, rates do not).
    pub fn variable_rate(&self) -> bool {
        match (self.shortest_interval_s, self.longest_interval_s) {
            (Some(shortest), Some(longest)) => longest - shortest > 0.1 * longest.max(1e-9),
            _ => false,
        }
    }
}

/// What [`Ffmpeg::decode_frames`] hands over besides the errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRequest {
    /// Size of the frames handed over (the picture is scaled to it, whatever its shape).
    pub width: u32,
    pub height: u32,
    /// Apply the stream's rotation (videos); images are turned by their EXIF orientation by
    /// the caller instead.
    pub autorotate: bool,
    /// Also time the frames (for [`Decoded::frames`]).
    pub timing: bool,
}

/// Reads `frame_len`-byte frames until the end of `out`; a short last frame is dropped.
fn read_frames(
    mut out: impl Read,
    frame_len: usize,
    on_frame: &mut dyn FnMut(&[u8]),
) -> io::Result<()> {
    let mut frame = vec![0u8; frame_len.max(1)];
    loop {
        let mut filled = 0;
        while filled < frame.len() {
            match out.read(&mut frame[filled..]) {
                Ok(0) => return Ok(()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        on_frame(&frame);
    }
}

/// ffmpeg's non-empty error lines, at most [`MAX_REPORTED_ERRORS`] (then a count of the rest).
fn error_lines(stderr: &str) -> Vec<String> {
    let mut errors: Vec<String> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect();
    if errors.len() > MAX_REPORTED_ERRORS {
        let more = errors.len() - MAX_REPORTED_ERRORS;
        errors.truncate(MAX_REPORTED_ERRORS);
        errors.push(format!("… and {more} more errors"));
    }
    errors
}

/// How often [`Ffmpeg::run_cancellable`] looks at the cancellation flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

fn read_all(pipe: Option<impl Read>) -> String {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The ffmpeg URL of bytes `start..start + len` of `file` (ffmpeg's `subfile` protocol), read
/// in place; `InvalidInput` when the path cannot be written in that protocol's syntax.
pub fn range_url(file: &Path, start: u64, len: u64) -> io::Result<OsString> {
    let file = std::path::absolute(file)?;
    if file.to_string_lossy().contains(",,") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path cannot be given to ffmpeg's subfile protocol",
        ));
    }
    let mut input = OsString::from(format!("subfile,,start,{start},end,{},,:", start + len));
    input.push(file_url(&file));
    Ok(input)
}

/// The start of every decoding command: quiet but for errors, reporting bitstream damage and
/// checksum failures without aborting (`explode`); `input_options`, then `input`, decoded to a
/// null output for every video and audio stream so that each one's errors are reported.
fn decode_args(input: &OsStr, input_options: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-v",
        "error",
        "-err_detect",
        "crccheck+bitstream+buffer",
    ]
    .map(OsString::from)
    .to_vec();
    args.extend(input_options.iter().map(OsString::from));
    args.extend(["-i".into(), input.to_os_string()]);
    args.extend(["-map", "0:v?", "-map", "0:a?", "-f", "null", "-"].map(OsString::from));
    args
}

/// An output of one line per decoded frame of `stream` to `url`: its timestamp in the
/// stream's own time base, every frame kept (`passthrough`); `wrapped_avframe` keeps it cheap.
fn frame_timing_output(stream: &str, url: OsString) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["-map", stream, "-fps_mode", "passthrough"]
        .map(OsString::from)
        .to_vec();
    args.extend(
        [
            "-enc_time_base",
            "-1",
            "-c:v",
            "wrapped_avframe",
            "-f",
            "framecrc",
        ]
        .map(OsString::from),
    );
    args.push(url);
    args
}

/// `file:` keeps ffmpeg from reading a name such as `concat:a|b` or `http://…` as a protocol.
pub fn file_url(file: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(file.as_os_str());
    url
}

/// The lookup behind [`Ffmpeg::find`], with the environment passed in so it can be tested.
fn locate(override_value: Option<OsString>, path_var: Option<OsString>) -> Option<PathBuf> {
    match override_value.filter(|value| !value.is_empty()) {
        Some(value) => {
            let named = PathBuf::from(value);
            if named.components().count() > 1 {
                is_executable(&named).then_some(named)
            } else {
                search_path(named.as_os_str(), path_var?.as_os_str())
            }
        }
        None => search_path(OsStr::new("ffmpeg"), path_var?.as_os_str()),
    }
}

fn search_path(name: &OsStr, path_var: &OsStr) -> Option<PathBuf> {
    env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| executable_names(name).map(move |n| dir.join(n)))
        .find(|candidate| is_executable(candidate))
}

/// The file names an executable called `name` may have on this platform.
fn executable_names(name: &OsStr) -> impl Iterator<Item = OsString> {
    let plain = name.to_os_string();
    let with_exe = cfg!(windows).then(|| {
        let mut exe = name.to_os_string();
        exe.push(".exe");
        exe
    });
    std::iter::once(plain).chain(with_exe)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory holding a fake executable `name`.
    fn dir_with_executable(name: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    #[test]
    fn finds_ffmpeg_on_path() {
        let empty = tempfile::tempdir().unwrap();
        let bin = dir_with_executable("ffmpeg");
        let path_var = env::join_paths([empty.path(), bin.path()]).unwrap();
        assert_eq!(
            locate(None, Some(path_var.clone())),
            Some(bin.path().join("ffmpeg"))
        );
        assert_eq!(
            locate(Some(OsString::new()), Some(path_var)),
            Some(bin.path().join("ffmpeg"))
        );
        assert_eq!(locate(None, Some(empty.path().into())), None);
        assert_eq!(locate(None, None), None);
    }

    #[test]
    fn the_override_wins_and_is_not_replaced_when_missing() {
        let on_path = dir_with_executable("ffmpeg");
        let custom = dir_with_executable("ffmpeg-custom");
        let path_var = Some(on_path.path().as_os_str().to_os_string());
        let custom_path = custom.path().join("ffmpeg-custom");
        assert_eq!(
            locate(Some(custom_path.clone().into()), path_var.clone()),
            Some(custom_path)
        );
        let missing = custom.path().join("nope");
        assert_eq!(locate(Some(missing.into()), path_var.clone()), None);
        // A bare name is looked up on PATH.
        let both = env::join_paths([on_path.path(), custom.path()]).unwrap();
        assert_eq!(
            locate(Some("ffmpeg-custom".into()), Some(both)),
            Some(custom.path().join("ffmpeg-custom"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_that_are_not_executable_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ffmpeg"), "").unwrap();
        assert_eq!(locate(None, Some(dir.path().into())), None);
    }

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let missing = Ffmpeg::at("/nonexistent/wanft-test/ffmpeg");
        let error = missing.version().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(error.to_string().contains(FFMPEG_ENV), "{error}");
        assert!(missing.decode_check(Path::new("clip.mp4")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_cancelled_run_stops_the_process() {
        // A stand-in that would run for a minute: cancellation must not wait for it.
        let dir = dir_with_executable("slow");
        std::fs::write(dir.path().join("slow"), "#!/bin/sh\nexec sleep 60\n").unwrap();
        let slow = Ffmpeg::at(dir.path().join("slow"));
        let cancel = AtomicBool::new(true);
        let error = slow.run_cancellable(["x"], &cancel).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::Interrupted);
        let fine = Ffmpeg::at("/bin/echo")
            .run_cancellable(["hello"], &AtomicBool::new(false))
            .unwrap();
        assert!(fine.status.success());
        assert_eq!(fine.stdout, "hello\n");
    }

    #[test]
    fn frame_timing_from_framecrc_output() {
        let out = "#software: Lavf59.27.100\n#tb 0: 1/90000\n#media_type 0: video\n\
                   0, 0, 0, 3000, 472, 0x1\n0, 3000, 3000, 3000, 472, 0x2\n\
                   0, 6000, 6000, 6000, 472, 0x3\n0, 12000, 12000, 6000, 472, 0x4\n";
        let timing = FrameTiming::read(out.as_bytes()).unwrap();
        assert_eq!(timing.count, 4);
        assert!((timing.span_s - 0.2).abs() < 1e-9);
        assert_eq!(timing.shortest_interval_s, Some(3000.0 / 90000.0));
        assert_eq!(timing.longest_interval_s, Some(6000.0 / 90000.0));
        assert!(timing.variable_rate());
        let steady = "#tb 0: 1/24\n0, 0, 0, 1, 9, 0x1\n0, 1, 1, 1, 9, 0x1\n0, 2, 2, 1, 9, 0x1\n";
        let timing = FrameTiming::read(steady.as_bytes()).unwrap();
        assert_eq!((timing.count, timing.span_s), (3, 0.125));
        assert!(!timing.variable_rate());
        assert_eq!(FrameTiming::read("garbage\n".as_bytes()).unwrap().count, 0);
    }

    #[test]
    fn inputs_are_passed_as_file_urls() {
        assert_eq!(file_url(Path::new("concat:a|b.mp4")), "file:concat:a|b.mp4");
    }
}
