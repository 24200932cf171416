//! What every API command shares: the `ApiArgs` flags, the session they open (project file,
//! region, key, client, runtime), the stderr reporter of client events, and output helpers.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::GlobalArgs;
use wanft::api::poll::Poll;
use wanft::api::secret::{self, KeySource};
use wanft::api::{Client, ClientConfig, Event, Observer, RetryPolicy, jobs};
use wanft::config::{self, Config, Endpoint, Provenance};
use wanft::models::Region;
use wanft::report::escape_controls;

/// Flags of every command that talks to the API.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "API")]
pub struct ApiArgs {
    /// Region: cn-beijing or ap-southeast-1 [default: $WANFT_REGION, else `region` of
    /// wanft.toml]. Keys and ids belong to one region; it also picks the upload style when
    /// --base-url is given.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<Region>,
    /// API host replacing the region's, e.g. a local emulator [default: $WANFT_BASE_URL, else
    /// `[api] base_url` of wanft.toml].
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Time limit of each API call (uploads and downloads are watched for stalls instead).
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Retries of a failed call that is safe to repeat (creates are never repeated blindly).
    #[arg(long, global = true, value_name = "N", default_value_t = 5)]
    pub retries: u32,
    /// Wait before the first retry; it doubles with each retry (with jitter).
    #[arg(long, global = true, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub retry_delay: Duration,
    /// Output format: text for people, json for scripts.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// An environment variable as text, if set and valid UTF-8.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `60`, `60s`, `1.5s`, `250ms`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("`{text}` is not a duration (e.g. 30s, 250ms, 2m)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 250ms, 2m)"))?;
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|_| format!("`{text}` is out of range"))
}

/// Free job slots below which commands that spend say how many are left.
const JOB_SLOTS_WORTH_A_NOTE: usize = 2;

/// An open connection to the API, with the project file it was configured from.
pub struct Session {
    pub client: Client,
    pub config: Config,
    pub format: Format,
    pub quiet: bool,
    /// What a printed next command must repeat to reach the same API.
    pub reach: Reach,
    runtime: tokio::runtime::Runtime,
}

/// The flags a printed command needs to run as printed: `--config`, `--region` and
/// `--base-url` when they were given as flags (the environment and wanft.toml supply the rest
/// again when the printed command runs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    args: Vec<String>,
}

/// The suffix of [`Reach`] for error hints, set once the session is open.
static REACH_SUFFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();

impl Reach {
    pub fn new(global: &GlobalArgs, endpoint: &Endpoint) -> Reach {
        let mut args = Vec::new();
        if let Some(path) = &global.config {
            args.extend(["--config".to_owned(), shell_word(&path.to_string_lossy())]);
        }
        if let Some((region, Provenance::Flag)) = endpoint.region {
            args.extend(["--region".to_owned(), region.id().to_owned()]);
        }
        if let Some((url, Provenance::Flag)) = &endpoint.base_url {
            args.extend(["--base-url".to_owned(), shell_word(url)]);
        }
        Reach { args }
    }

    /// ` --region cn-beijing --base-url URL`, or nothing.
    pub fn suffix(&self) -> String {
        self.args.iter().map(|a| format!(" {a}")).collect()
    }

    /// `wanft REST` with the flags it needs.
    pub fn command(&self, rest: &str) -> String {
        format!("wanft {rest}{}", self.suffix())
    }

    /// Remembers the flags for error hints printed after the command failed.
    fn publish(&self) {
        let _ = REACH_SUFFIX.set(self.suffix());
    }
}

/// Subcommands that talk to the API (their printed forms need the reach flags).
const API_COMMANDS: [&str; 9] = [
    "upload",
    "files",
    "jobs",
    "checkpoints",
    "deploy",
    "generate",
    "tasks",
    "run",
    "doctor",
];

/// `text` with every `` `wanft <api command> …` `` extended by the session's reach flags, so that
/// a hint written by the library runs as printed.
pub fn with_reach(text: &str) -> String {
    add_reach(text, REACH_SUFFIX.get().map_or("", String::as_str))
}

fn add_reach(text: &str, suffix: &str) -> String {
    if suffix.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + suffix.len());
    let mut parts = text.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    // Odd parts are inside backticks.
    for (i, part) in parts.enumerate() {
        out.push('`');
        let is_api_command = i % 2 == 0
            && part.strip_prefix("wanft ").is_some_and(|rest| {
                let sub = rest.split_whitespace().next().unwrap_or("");
                API_COMMANDS.contains(&sub)
            });
        out.push_str(part);
        if is_api_command && !part.ends_with(suffix) {
            out.push_str(suffix);
        }
    }
    out
}

/// `word`, single-quoted for a POSIX shell when it needs quoting.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

impl ApiArgs {
    /// The project file and where the API is (flags, else environment, else the file), without
    /// touching the key.
    pub fn endpoint(&self, global: &GlobalArgs) -> Result<(Config, Endpoint, Region)> {
        let cwd = std::env::current_dir().context("cannot determine the current folder")?;
        let config = Config::discover(global.config.as_deref(), &cwd)?.unwrap_or_default();
        let endpoint = config.endpoint(self.region, self.base_url.as_deref(), env_var)?;
        let Some(region) = endpoint.region() else {
            bail!(
                "no region: pass --region cn-beijing|ap-southeast-1, set {} or set `region` in \
                 {} (keys, files and jobs belong to one region)",
                config::REGION_ENV,
                config::FILE_NAME
            );
        };
        Ok((config, endpoint, region))
    }

    /// Reads wanft.toml, picks the region and host, loads the key and builds the client.
    pub fn connect(&self, global: &GlobalArgs) -> Result<Session> {
        let (config, endpoint, region) = self.endpoint(global)?;
        let reach = Reach::new(global, &endpoint);
        reach.publish();
        let loaded = secret::load_api_key(region)?;
        if !global.quiet {
            for warning in &loaded.warnings {
                note("warning", warning);
            }
        }
        if global.verbose > 0
            && let KeySource::File(path) = &loaded.source
        {
            note("note", &format!("API key read from {}", path.display()));
        }
        let mut client_config = ClientConfig::new(region, loaded.secret);
        client_config.base_url = endpoint.base_url().map(str::to_owned);
        client_config.timeout = self.timeout;
        client_config.retry = RetryPolicy {
            retries: self.retries,
            base_delay: self.retry_delay,
            ..RetryPolicy::default()
        };
        client_config.observer = Arc::new(Reporter {
            quiet: global.quiet,
            verbose: global.verbose,
        });
        let client = Client::new(client_config)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Session {
            client,
            config,
            format: self.format,
            quiet: global.quiet,
            reach,
            runtime,
        })
    }
}

impl Session {
    /// `wanft REST` as it runs when printed (see [`Reach`]).
    pub fn command(&self, rest: &str) -> String {
        self.reach.command(rest)
    }

    /// Runs a future of the API to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn region(&self) -> Region {
        self.client.region()
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// A line for people on stderr (not with --quiet): what is happening, not the result.
    pub fn status(&self, message: &str) {
        if !self.quiet {
            anstream::eprintln!("{}", escape_controls(message));
        }
    }

    /// A warning on stderr (shown even with --quiet: it is about money or data).
    pub fn warn(&self, message: &str) {
        note("warning", message);
    }

    /// A note on stderr (not with --quiet).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            note("note", message);
        }
    }

    /// Prints `value` with the region added, as pretty JSON on stdout.
    pub fn print_json(&self, mut value: Value) -> Result<()> {
        if let Value::Object(map) = &mut value {
            map.insert("region".into(), Value::String(self.region().id().into()));
        }
        let mut out = anstream::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
        Ok(())
    }

    /// Prints text lines on stdout.
    pub fn print_lines(&self, lines: &[String]) -> Result<()> {
        let mut out = anstream::stdout().lock();
        // Lines carry names and text from the server: none of its control characters.
        for line in lines {
            writeln!(out, "{}", escape_controls(line))?;
        }
        Ok(())
    }

    /// The check before spending: refuses (with the jobs to delete) when the job quota is
    /// full, and says so when only a few slots are left. Where the job listing is refused
    /// (console-only in some regions, spec §8.4) it notes that and lets the command go on.
    pub fn ensure_job_quota(&self) -> Result<()> {
        match self.block_on(jobs::ensure_job_quota(&self.client)) {
            Ok(quota) => {
                if quota.remaining() <= JOB_SLOTS_WORTH_A_NOTE {
                    self.note(&format!(
                        "{} of {} jobs count against the job quota; {} more can be created",
                        quota.counted.len(),
                        quota.limit,
                        quota.remaining()
                    ));
                }
                Ok(())
            }
            Err(e) if e.http().is_some_and(|f| matches!(f.status, 403 | 404)) => {
                self.note(&format!(
                    "could not count the jobs against the job quota: {e}"
                ));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sleeps between two polls.
    pub fn pause(&self, interval: Duration) {
        // The timer must be created inside the runtime.
        self.runtime
            .block_on(async move { tokio::time::sleep(interval).await });
    }

    /// Polls `fetch` until `settled` holds for the state `status` reads (quickly at first, then
    /// less often, at most `interval` apart: see [`Poll`]), printing a timestamped line for
    /// `what` at each change (on stdout as text, on stderr in JSON mode, where stdout carries
    /// only the final record). Returns the last answer.
    pub fn wait_for<T, S>(
        &self,
        what: &str,
        interval: Duration,
        mut fetch: impl FnMut() -> Result<T>,
        status: impl Fn(&T) -> (S, String),
        settled: impl Fn(&S) -> bool,
    ) -> Result<T>
    where
        S: PartialEq + std::fmt::Display,
    {
        let mut last: Option<S> = None;
        let poll = Poll::new(interval);
        loop {
            let answer = fetch()?;
            let (state, detail) = status(&answer);
            if last.as_ref() != Some(&state) {
                let line = format!(
                    "{}  {what}  {state}{detail}",
                    chrono::Local::now().format("%H:%M:%S")
                );
                // With --quiet, stdout carries only the result (an id for scripts).
                if self.json() || self.quiet {
                    self.status(&line);
                } else {
                    self.print_lines(&[line])?;
                }
            }
            if settled(&state) {
                return Ok(answer);
            }
            last = Some(state);
            self.pause(poll.next_delay());
        }
    }
}

/// `label: message` on stderr, styled like cargo's notes.
fn note(label: &str, message: &str) {
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    anstream::eprintln!("{style}{label}{style:#}: {}", escape_controls(message));
}

/// Reports client events on stderr: retries and recoveries unless `--quiet`, requests with
/// `-v`, response bodies with `-vv`. Everything it receives is already scrubbed of the key.
struct Reporter {
    quiet: bool,
    verbose: u8,
}

impl Observer for Reporter {
    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::Retrying {
                reason,
                delay,
                retry,
                retries,
                ..
            } if !self.quiet => note(
                "note",
                &format!(
                    "{reason}; retry {retry} of {retries} in {:.1} s",
                    delay.as_secs_f64()
                ),
            ),
            Event::LookingUp { operation } if !self.quiet => note(
                "note",
                &format!(
                    "no answer to {operation}; checking whether it was created before sending it again"
                ),
            ),
            Event::Recovered { operation, id } if !self.quiet => note(
                "note",
                &format!("{operation} had been carried out ({id}); not sent again"),
            ),
            Event::Sending { method, url } if self.verbose > 0 => {
                anstream::eprintln!("> {method} {url}");
            }
            Event::Received {
                method,
                url,
                status,
                elapsed,
            } if self.verbose > 0 => {
                anstream::eprintln!("< {status} {method} {url} ({} ms)", elapsed.as_millis());
            }
            Event::Body { text } if self.verbose > 1 && !text.is_empty() => {
                anstream::eprintln!("< {}", escape_controls(text));
            }
            _ => {}
        }
    }
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    wanft::plan::billing::group_thousands(&n.to_string())
}

/// An optional text, or `-`.
pub fn or_dash(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("-")
}

/// `label  value` lines, labels padded to one column.
pub fn fields(rows: &[(&str, String)]) -> Vec<String> {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("  {label:width$}  {value}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("1e400").is_err());
    }

    #[test]
    fn hints_name_commands_that_run_as_printed() {
        let suffix = " --region cn-beijing --base-url http://h:1";
        assert_eq!(
            add_reach(
                "see `wanft deploy list` or `wanft check x`; `wanft jobs get j`",
                suffix
            ),
            format!(
                "see `wanft deploy list{suffix}` or `wanft check x`; `wanft jobs get j{suffix}`"
            )
        );
        let done = format!("`wanft jobs wait j{suffix}`");
        assert_eq!(add_reach(&done, suffix), done, "never twice");
        assert_eq!(add_reach("`wanft jobs list`", ""), "`wanft jobs list`");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(
            shell_word("my project/wanft.toml"),
            "'my project/wanft.toml'"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
