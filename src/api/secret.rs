//! The API key: a type that cannot be printed, and where the key comes from.
//!
//! The key is read from `DASHSCOPE_API_KEY`, else from a credentials file outside any project
//! (`<config dir>/wanft/credentials.toml`, or the path in `WANFT_CREDENTIALS`), so it is never
//! committed with `wanft.toml`. [`Secret`] prints as `<redacted>` however it is formatted, and
//! [`Secret::redact`] scrubs it from text that came from elsewhere (a server that echoes it, a URL
//! a user typed), so that no output, log or error of wanft can carry it.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::models::Region;

/// The environment variable holding the key (spec §1.3).
pub const KEY_ENV: &str = "DASHSCOPE_API_KEY";
/// The environment variable naming another credentials file.
pub const CREDENTIALS_ENV: &str = "WANFT_CREDENTIALS";
/// What every printed secret looks like.
pub const REDACTED: &str = "<redacted>";

/// Largest credentials file read: it holds a few short keys.
const MAX_CREDENTIALS_BYTES: u64 = 64 * 1024;

/// A secret string. Its `Debug` and `Display` never show it; only the HTTP layer reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`, which must be usable in an HTTP header: non-empty, printable ASCII, no
    /// spaces. The error never repeats the value.
    pub fn new(value: impl Into<String>) -> Result<Secret, KeyError> {
        let value = value.into();
        let value = value.trim();
        if value.is_empty() {
            return Err(KeyError::Malformed("it is empty"));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::Malformed(
                "it holds spaces, control or non-ASCII characters",
            ));
        }
        Ok(Secret(value.to_owned()))
    }

    /// The key itself, for the `Authorization` header and nothing else.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret replaced by `<redacted>`, however a server
    /// echoing it encoded it (JSON escapes, percent-encoding, base64, hex: [`super::redact`]).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        super::redact::redact(text, &self.0, REDACTED)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// `url` with any user name and password (`https://user:password@host`, or `user:pw@host`
/// without a scheme) replaced by `<redacted>`, for messages that show a URL a user typed.
pub fn without_userinfo(url: &str) -> Cow<'_, str> {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}{REDACTED}{}",
            &url[..authority_start],
            &rest[at..]
        )),
        None => Cow::Borrowed(url),
    }
}

/// Where a key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
}

/// A key and what the user should hear about how it was found.
#[derive(Debug, Clone)]
pub struct LoadedKey {
    pub secret: Secret,
    pub source: KeySource,
    /// Advice to print, e.g. a credentials file readable by other users.
    pub warnings: Vec<String>,
}

/// Why no key could be loaded. Never carries the key or the file's contents.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no API key for {region}: set {KEY_ENV}, or write `api_key = \"…\"` to {} (mode 600)",
        path.as_deref().map_or_else(|| "the credentials file".into(), |p| p.display().to_string())
    )]
    Missing {
        region: Region,
        path: Option<PathBuf>,
    },
    #[error("the API key is unusable: {0}")]
    Malformed(&'static str),
    #[error("cannot read {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// Values are never shown: they are secrets.
    #[error(
        "{}{}: {problem} (expected `api_key = \"…\"` and optional [cn-beijing] / [ap-southeast-1] tables)",
        path.display(), line.map(|l| format!(":{l}")).unwrap_or_default()
    )]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        problem: String,
    },
}

/// The credentials file wanft reads: `WANFT_CREDENTIALS`, else
/// `<config dir>/wanft/credentials.toml`.
pub fn credentials_path() -> Option<PathBuf> {
    match std::env::var_os(CREDENTIALS_ENV) {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => dirs::config_dir().map(|dir| dir.join("wanft").join("credentials.toml")),
    }
}

/// The key for `region`: `DASHSCOPE_API_KEY` when set and non-empty, else the credentials file
/// (its `[region]` table first, then its top-level `api_key`).
pub fn load_api_key(region: Region) -> Result<LoadedKey, KeyError> {
    if let Some(value) = std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) {
        let value = value
            .into_string()
            .map_err(|_| KeyError::Malformed("it is not valid UTF-8"))?;
        return Ok(LoadedKey {
            secret: Secret::new(value)?,
            source: KeySource::Environment,
            warnings: Vec::new(),
        });
    }
    let path = credentials_path();
    match &path {
        // A FIFO or device there is refused with a reason by the reader, not taken as absent.
        Some(p) if p.exists() => load_from_file(p, region),
        _ => Err(KeyError::Missing { region, path }),
    }
}

/// Reads the key for `region` from the credentials file at `path`.
pub fn load_from_file(path: &Path, region: Region) -> Result<LoadedKey, KeyError> {
    let unreadable = |reason: String| KeyError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    let text = crate::small_file::read_to_string(path, MAX_CREDENTIALS_BYTES)
        .map_err(|e| unreadable(e.to_string()))?;
    let metadata = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    let warnings = permission_warning(path, &metadata).into_iter().collect();
    let key = key_in(&text, region).map_err(|(line, problem)| match problem {
        Some(problem) => KeyError::Invalid {
            path: path.to_owned(),
            line,
            problem,
        },
        None => KeyError::Missing {
            region,
            path: Some(path.to_owned()),
        },
    })?;
    Ok(LoadedKey {
        secret: Secret::new(key)?,
        source: KeySource::File(path.to_owned()),
        warnings,
    })
}

/// The key for `region` in a credentials file's text: its `[region]` table's `api_key`, else the
/// top-level one. Errors give the line and the problem (`None`: no key), never a value.
fn key_in(text: &str, region: Region) -> Result<String, (Option<usize>, Option<String>)> {
    let table: toml::Table = toml::from_str(text).map_err(|err| {
        let line = err
            .span()
            .and_then(|span| text.get(..span.start))
            .map(|before| before.matches('\n').count() + 1);
        (line, Some("not valid TOML".to_owned()))
    })?;
    let line_of = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().trim_start_matches('[').starts_with(key))
            .map(|i| i + 1)
    };
    let string_key = |value: &toml::Value, key: &str| match value {
        toml::Value::String(s) => Ok(s.clone()),
        _ => Err((line_of(key), Some(format!("`{key}` must be a string")))),
    };
    let mut shared = None;
    let mut regional = None;
    for (name, value) in &table {
        if name == "api_key" {
            shared = Some(string_key(value, name)?);
            continue;
        }
        let unknown = || (line_of(name), Some(format!("unknown key `{name}`")));
        let table_region = name.parse::<Region>().map_err(|_| unknown())?;
        let toml::Value::Table(entries) = value else {
            return Err(unknown());
        };
        for (entry, value) in entries {
            if entry != "api_key" {
                return Err((
                    line_of(entry),
                    Some(format!("unknown key `{name}.{entry}`")),
                ));
            }
            if table_region == region {
                regional = Some(string_key(value, entry)?);
            }
        }
    }
    regional.or(shared).ok_or((None, None))
}

#[cfg(unix)]
fn permission_warning(path: &Path, metadata: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} is readable by other users (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn permission_warning(_path: &Path, _metadata: &std::fs::Metadata) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-unit-secret-123";

    #[test]
    fn never_printed() {
        let secret = Secret::new(KEY).unwrap();
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
        }
        assert_eq!(secret.expose(), KEY);
        assert_eq!(
            secret.redact(&format!("echo {KEY} and {KEY}")),
            "echo <redacted> and <redacted>"
        );
        assert!(matches!(secret.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn user_names_and_passwords_of_urls_are_never_shown() {
        for (typed, shown) in [
            ("https://user:hunter2@host/x", "https://<redacted>@host/x"),
            ("user:hunter2@host", "<redacted>@host"),
            (
                "http://a@b@host:8080?q=@",
                "http://<redacted>@host:8080?q=@",
            ),
            ("http://host/path@x", "http://host/path@x"),
        ] {
            assert_eq!(without_userinfo(typed), shown);
        }
    }

    #[test]
    fn refuses_header_breaking_keys() {
        assert!(Secret::new("  ").is_err());
        assert!(Secret::new("sk-a b").is_err());
        assert!(Secret::new("sk-a\nb").is_err());
        assert_eq!(Secret::new(" sk-ok \n").unwrap().expose(), "sk-ok");
    }

    fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let path = dir.join("credentials.toml");
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    #[test]
    fn regional_key_wins_over_the_shared_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "api_key = \"sk-any\"\n[cn-beijing]\napi_key = \"sk-beijing\"\n",
            0o600,
        );
        let beijing = load_from_file(&path, Region::CnBeijing).unwrap();
        assert_eq!(beijing.secret.expose(), "sk-beijing");
        assert!(beijing.warnings.is_empty());
        let singapore = load_from_file(&path, Region::ApSoutheast1).unwrap();
        assert_eq!(singapore.secret.expose(), "sk-any");
        assert_eq!(singapore.source, KeySource::File(path));
    }

    #[cfg(unix)]
    #[test]
    fn warns_about_a_world_readable_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "api_key = \"sk-x\"\n", 0o644);
        let loaded = load_from_file(&path, Region::CnBeijing).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("chmod 600"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn invalid_files_never_show_their_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "api_key = \"sk-leak\"\napi_kee = 3\n", 0o600);
        let err = load_from_file(&path, Region::CnBeijing).unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains("sk-leak"), "{shown}");
        assert!(shown.contains(":2: unknown key `api_kee`"), "{shown}");

        let path = write(dir.path(), "api_key = \"sk-leak\n", 0o600);
        let shown = load_from_file(&path, Region::CnBeijing)
            .unwrap_err()
            .to_string();
        assert!(
            !shown.contains("sk-leak") && shown.contains("not valid TOML"),
            "{shown}"
        );

        let path = write(dir.path(), "[mars]\napi_key = \"sk-leak\"\n", 0o600);
        let shown = load_from_file(&path, Region::CnBeijing)
            .unwrap_err()
            .to_string();
        assert!(
            !shown.contains("sk-leak") && shown.contains(":1"),
            "{shown}"
        );

        let path = write(dir.path(), "[ap-southeast-1]\napi_key = \"sk-sg\"\n", 0o600);
        assert!(matches!(
            load_from_file(&path, Region::CnBeijing),
            Err(KeyError::Missing { .. })
        ));
    }
}
