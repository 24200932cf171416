//! The transport: one HTTP client for one region and host, with the key, timeouts, retries and
//! the envelopes of spec §1.3.
//!
//! Every call goes through [`Client::exchange`], which sends one request and turns whatever
//! happens into either the body of a 2xx answer or an [`ApiError`] whose text has been scrubbed
//! of the key. Calls safe to repeat wrap it in [`retry::run`]; calls that create something go
//! through [`super::create`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, DATE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{ApiError, HttpFailure, Stage, parse_error_body, shorten};
use super::events::{Event, Observer, Quiet};
use super::retry::{self, RetryPolicy};
use super::secret::{Secret, without_userinfo};
use crate::models::Region;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("wanft/", env!("CARGO_PKG_VERSION"));

/// Largest JSON answer read; listings are far smaller.
const MAX_RESPONSE_BYTES: usize = 32 << 20;
/// Characters of a body shown by `-vv`.
const BODY_LOG_CHARS: usize = 4000;

/// How to reach the API.
#[derive(Clone)]
pub struct ClientConfig {
    /// Selects the host, and the style of the file API (spec §1.2, §6.1–§6.4).
    pub region: Region,
    /// Replaces the region's host (an emulator, a proxy); the region still picks the style.
    pub base_url: Option<String>,
    pub key: Secret,
    /// Limit of each JSON call, from sending to the last byte of the answer. Uploads and
    /// downloads are watched for stalls instead.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    pub observer: Arc<dyn Observer>,
}

impl ClientConfig {
    /// Defaults: the region's host, 60 s per call, 30 s to connect, [`RetryPolicy::default`],
    /// no observer.
    pub fn new(region: Region, key: Secret) -> Self {
        ClientConfig {
            region,
            base_url: None,
            key,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            observer: Arc::new(Quiet),
        }
    }
}

/// A client of one region's API. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    region: Region,
    key: Secret,
    authorization: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    observer: Arc<dyn Observer>,
    /// The server's clock as last seen (`Date` of an answer) and when it was seen.
    server_clock: Arc<Mutex<Option<ServerDate>>>,
}

/// A server's `Date` and the local instant it arrived.
type ServerDate = (DateTime<Utc>, Instant);

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("region", &self.region)
            .field("base_url", &self.base_url())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A JSON call: where, and what to send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    /// Path segments after the host, unescaped (`["api", "v1", "fine-tunes", job_id]`).
    pub path: &'a [&'a str],
    pub query: &'a [(&'a str, String)],
    pub body: Option<&'a Value>,
    /// Extra headers (`X-DashScope-Async`).
    pub headers: &'a [(&'static str, &'static str)],
}

impl<'a> Call<'a> {
    pub fn new(method: &'a Method, path: &'a [&'a str]) -> Self {
        Call {
            method,
            path,
            query: &[],
            body: None,
            headers: &[],
        }
    }

    pub fn query(self, query: &'a [(&'a str, String)]) -> Self {
        Call { query, ..self }
    }

    pub fn body(self, body: &'a Value) -> Self {
        Call {
            body: Some(body),
            ..self
        }
    }

    pub fn headers(self, headers: &'a [(&'static str, &'static str)]) -> Self {
        Call { headers, ..self }
    }
}

/// The native success envelope `{"request_id", "output"}` (spec §1.3).
#[derive(Debug, Deserialize)]
pub(crate) struct Output<T> {
    pub output: T,
}

/// The native file envelope `{"request_id", "data"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Data<T> {
    pub data: T,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let raw_base = config
            .base_url
            .as_deref()
            .unwrap_or(config.region.base_url());
        let base = parse_base_url(raw_base, &config.key)?;
        // reqwest is built without a default crypto provider; install ours (a no-op when one
        // is already installed).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| ApiError::Invalid(format!("cannot set up HTTP: {e}")))?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.key.expose()))
                .map_err(|_| ApiError::Invalid("the API key cannot be sent in a header".into()))?;
        // Keeps it out of HTTP/2 header tables and hyper's debug output.
        authorization.set_sensitive(true);
        Ok(Client {
            http,
            base,
            region: config.region,
            key: config.key,
            authorization,
            timeout: config.timeout,
            retry: config.retry,
            observer: config.observer,
            server_clock: Arc::default(),
        })
    }

    /// The server's time now: the `Date` of its last answer plus the time since, or the local
    /// clock before any answer. Expiry (checkpoints, links) is judged by the server's clock,
    /// which a local clock may not match.
    pub fn server_now(&self) -> DateTime<Utc> {
        let seen = *self
            .server_clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match seen {
            Some((date, at)) => date + chrono::Duration::from_std(at.elapsed()).unwrap_or_default(),
            None => Utc::now(),
        }
    }

    fn note_server_date(&self, headers: &HeaderMap) {
        let date = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
        if let Some(date) = date {
            *self
                .server_clock
                .lock()
                .unwrap_or_else(PoisonError::into_inner) =
                Some((date.with_timezone(&Utc), Instant::now()));
        }
    }

    pub fn region(&self) -> Region {
        self.region
    }

    /// The host every path is relative to, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Limit of each JSON call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn observer(&self) -> &dyn Observer {
        self.observer.as_ref()
    }

    /// `text` without the key.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.key.redact(text).into_owned()
    }

    /// The URL of `path` (segments escaped) on the API host.
    pub(crate) fn url(&self, path: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        url
    }

    /// `METHOD /path` for messages.
    pub(crate) fn operation(&self, method: &Method, path: &[&str]) -> String {
        format!("{method} {}", self.url(path).path())
    }

    /// An authorised request without a total time limit (transfers watch for stalls instead).
    pub(crate) fn authorised(&self, method: Method, url: Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, self.authorization.clone())
    }

    /// A request to a signed download link: no key, ever (it would leave for another host).
    pub(crate) fn anonymous(&self, url: Url) -> RequestBuilder {
        self.http.get(url)
    }

    /// A request without the key, to another host that has its own credential (a signed
    /// storage policy).
    pub(crate) fn unauthenticated(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends `request` once and returns a 2xx response with its body unread; anything else is
    /// an [`ApiError`].
    pub(crate) async fn send(
        &self,
        method: &Method,
        url: &Url,
        request: RequestBuilder,
    ) -> Result<Response, ApiError> {
        let shown_url = self.redact(url.as_str());
        let operation = format!("{method} {}", url.path());
        self.observer.event(&Event::Sending {
            method: method.as_str(),
            url: &shown_url,
        });
        let started = Instant::now();
        let mut response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&operation, &e))?;
        let status = response.status();
        self.note_server_date(response.headers());
        self.observer.event(&Event::Received {
            method: method.as_str(),
            url: &shown_url,
            status: status.as_u16(),
            elapsed: started.elapsed(),
        });
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers());
        let body = self.read_body(&operation, &mut response).await?;
        let text = self.log_body(&body);
        let (code, message, request_id) = parse_error_body(text.as_bytes());
        Err(ApiError::Http(Box::new(HttpFailure {
            method: method.to_string(),
            path: url.path().to_owned(),
            region: self.region,
            status: status.as_u16(),
            code,
            message,
            request_id,
            retry_after,
        })))
    }

    /// Sends `request` once. A 2xx answer gives its body; anything else an [`ApiError`].
    pub(crate) async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        request: RequestBuilder,
    ) -> Result<Vec<u8>, ApiError> {
        let mut response = self.send(method, url, request).await?;
        let operation = format!("{method} {}", url.path());
        let body = self.read_body(&operation, &mut response).await?;
        self.log_body(&body);
        Ok(body)
    }

    /// Shows `body` to the observer (for `-vv`) and returns it as scrubbed text.
    fn log_body(&self, body: &[u8]) -> String {
        let text = self.redact(&String::from_utf8_lossy(body));
        self.observer.event(&Event::Body {
            text: &shorten(&text, BODY_LOG_CHARS),
        });
        text
    }

    /// Reads a whole answer, refusing more than [`MAX_RESPONSE_BYTES`].
    async fn read_body(
        &self,
        operation: &str,
        response: &mut Response,
    ) -> Result<Vec<u8>, ApiError> {
        let too_large = || {
            ApiError::decode(
                operation,
                format!("the answer is larger than {MAX_RESPONSE_BYTES} bytes"),
            )
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(operation, &e))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// A transport failure, described without the key.
    pub(crate) fn transport_error(&self, operation: &str, error: &reqwest::Error) -> ApiError {
        let stage = if error.is_connect() {
            Stage::Connect
        } else if error.is_timeout() {
            Stage::Timeout
        } else {
            Stage::Exchange
        };
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        ApiError::Transport {
            operation: operation.to_owned(),
            stage,
            detail: self.redact(&detail),
        }
    }

    /// Sends a JSON call once and decodes the whole answer.
    pub(crate) async fn once<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ApiError> {
        // An empty id would silently turn `…/jobs/{id}` into the listing.
        if call.path.iter().any(|segment| segment.trim().is_empty()) {
            return Err(ApiError::Invalid(format!(
                "{}: an id is empty",
                self.operation(call.method, call.path)
            )));
        }
        let url = self.url(call.path);
        let mut request = self
            .authorised(call.method.clone(), url.clone())
            .timeout(self.timeout)
            .query(call.query);
        for (name, value) in call.headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let body = self.exchange(call.method, &url, request).await?;
        self.decode(&self.operation(call.method, call.path), &body)
    }

    /// Sends a call that is safe to repeat, retrying transient failures.
    pub(crate) async fn repeatable<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T, ApiError> {
        let operation = self.operation(call.method, call.path);
        retry::run(&self.retry, self.observer(), &operation, |_| {
            self.once(call)
        })
        .await
    }

    /// `GET` of a native endpoint: the `output` of its envelope, with retries.
    pub(crate) async fn get_output<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let call = Call::new(&Method::GET, path).query(query);
        self.repeatable::<Output<T>>(call).await.map(|o| o.output)
    }

    /// `GET` of a native file endpoint: the `data` of its envelope, with retries.
    pub(crate) async fn get_data<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let call = Call::new(&Method::GET, path).query(query);
        self.repeatable::<Data<T>>(call).await.map(|d| d.data)
    }

    /// `DELETE` of a native endpoint: the `output` of its envelope, with retries.
    pub(crate) async fn delete_output<T: DeserializeOwned>(
        &self,
        path: &[&str],
    ) -> Result<T, ApiError> {
        self.repeatable::<Output<T>>(Call::new(&Method::DELETE, path))
            .await
            .map(|o| o.output)
    }

    /// A `POST` that is sent once: the `output` of its envelope.
    pub(crate) async fn post_output_once<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T, ApiError> {
        self.once::<Output<T>>(call).await.map(|o| o.output)
    }

    /// Decodes a JSON answer.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Result<T, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::decode(operation, self.redact(&e.to_string())))
    }
}

/// The base URL: http(s), no query or fragment. The error never shows the URL, which might
/// carry credentials.
fn parse_base_url(raw: &str, key: &Secret) -> Result<Url, ApiError> {
    let invalid = |why: &str| {
        ApiError::Invalid(format!(
            "the base URL `{}` {why}",
            key.redact(&without_userinfo(&shorten(raw, 200)))
        ))
    };
    let url = Url::parse(raw.trim()).map_err(|_| invalid("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must start with http:// or https://"));
    }
    if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must be a scheme and host, with an optional path"));
    }
    // Credentials in the URL would travel as basic auth beside the key.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not hold a user name or password"));
    }
    Ok(url)
}

/// `Retry-After` in seconds (the date form is ignored: the backoff applies instead).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        let mut config = ClientConfig::new(Region::CnBeijing, Secret::new("sk-unit").unwrap());
        config.base_url = Some(base.into());
        Client::new(config).unwrap()
    }

    #[test]
    fn paths_are_escaped_segments_under_the_base() {
        let c = client("http://127.0.0.1:9/prefix/");
        assert_eq!(
            c.url(&["api", "v1", "fine-tunes", "a/b?c"]).as_str(),
            "http://127.0.0.1:9/prefix/api/v1/fine-tunes/a%2Fb%3Fc"
        );
        assert_eq!(c.base_url(), "http://127.0.0.1:9/prefix");
        let c = client("http://127.0.0.1:9");
        assert_eq!(
            c.operation(&Method::GET, &["api", "v1", "files"]),
            "GET /api/v1/files"
        );
    }

    #[test]
    fn base_urls_are_checked_without_echoing_the_key() {
        let key = Secret::new("sk-unit").unwrap();
        assert!(parse_base_url("ftp://host", &key).is_err());
        assert!(parse_base_url("http://host/?q=1", &key).is_err());
        let err = parse_base_url("http://u:sk-unit@host", &key)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("user name") && !err.contains("sk-unit"),
            "{err}"
        );
        let err = parse_base_url("sk-unit", &key).unwrap_err().to_string();
        assert!(!err.contains("sk-unit"), "{err}");
        assert!(parse_base_url("https://dashscope.aliyuncs.com", &key).is_ok());
    }

    #[test]
    fn debug_hides_the_key() {
        let shown = format!("{:?}", client("http://127.0.0.1:9"));
        assert!(!shown.contains("sk-unit"), "{shown}");
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
