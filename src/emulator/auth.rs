//! `Authorization: Bearer <key>` on every API call (spec §1.3). The emulator is one account with
//! one key.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::Shared;
use super::error::ApiError;

/// The accepted API key. Only its SHA-256 digest is kept, so the key cannot leak through a
/// `Debug` print, an error message or the persisted state.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    digest: [u8; 32],
}

impl ApiKey {
    pub fn new(key: &str) -> Self {
        ApiKey {
            digest: Sha256::digest(key.as_bytes()).into(),
        }
    }

    /// Compares digests, so the comparison time does not depend on how much of the key matched.
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        presented
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The key presented in an `Authorization` header value, if it is a bearer token.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Middleware: 401 `InvalidApiKey` unless the request carries the accepted key.
pub async fn require_api_key(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .is_some_and(|token| shared.api_key.matches(token));
    if authorized {
        next.run(request).await
    } else {
        ApiError::invalid_api_key().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_bearer_key() {
        let key = ApiKey::new("sk-test");
        assert!(key.matches("sk-test"));
        assert!(!key.matches("sk-tes"));
        assert!(!key.matches(""));
        assert_eq!(bearer_token("Bearer sk-test"), Some("sk-test"));
        assert_eq!(bearer_token("bearer  sk-test "), Some("sk-test"));
        assert_eq!(bearer_token("Basic sk-test"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", ApiKey::new("sk-very-secret"));
        assert!(!shown.contains("sk-very-secret"));
    }
}
