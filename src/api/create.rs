//! Create calls that never create twice.
//!
//! A job, a deployment, an export or a synthesis task must not be created twice because an
//! answer was lost: that costs money, or fails with 409 on the second try. So a create is never
//! repeated blindly. Before the first attempt the [`Creation`] surveys what already exists; after
//! an ambiguous failure (no answer, or a 5xx once the request was sent) it looks for a resource
//! the lost attempt may have made, and only sends again when there is none. Failures the server
//! answered before acting (a connection never made, a 429 rate limit) are simply retried.

use std::future::Future;

use super::client::Client;
use super::error::ApiError;
use super::events::Event;
use super::retry::{self, Verdict};

/// What a lookup after an ambiguous failure found.
#[derive(Debug)]
pub(crate) enum Found<T> {
    /// The lost attempt did create it.
    Created(T),
    /// Nothing was created: sending again is safe.
    Nothing,
    /// The resource cannot be looked up (synthesis tasks have no listing): not safe to resend.
    Unknowable,
}

/// A create call and the lookup that makes it safe to repeat.
pub(crate) trait Creation {
    type Created;
    /// What exists before the first attempt, to tell a new resource from an older twin.
    type Survey;

    fn survey(&self, client: &Client) -> impl Future<Output = Result<Self::Survey, ApiError>>;
    fn send(&self, client: &Client) -> impl Future<Output = Result<Self::Created, ApiError>>;
    /// Looks for what a lost attempt created.
    fn find(
        &self,
        client: &Client,
        survey: &Self::Survey,
    ) -> impl Future<Output = Result<Found<Self::Created>, ApiError>>;
    /// The id printed when a lost attempt is recovered.
    fn id_of(created: &Self::Created) -> String;
}

/// Creates `creation`'s resource at most once; `operation` names it in messages.
pub(crate) async fn create_once<C: Creation>(
    client: &Client,
    creation: &C,
    operation: &str,
) -> Result<C::Created, ApiError> {
    let survey = creation.survey(client).await?;
    let policy = client.retry_policy();
    let mut retry = 0;
    loop {
        let error = match creation.send(client).await {
            Ok(created) => return Ok(created),
            Err(error) => error,
        };
        let verdict = retry::classify_create(&error);
        if verdict == Verdict::Ambiguous {
            client.observer().event(&Event::LookingUp { operation });
            match creation.find(client, &survey).await? {
                Found::Created(created) => {
                    client.observer().event(&Event::Recovered {
                        operation,
                        id: &C::id_of(&created),
                    });
                    return Ok(created);
                }
                Found::Nothing => {}
                Found::Unknowable => {
                    return Err(ApiError::Ambiguous {
                        operation: operation.to_owned(),
                        detail: error.to_string(),
                    });
                }
            }
        }
        let retry_after = match verdict {
            Verdict::Final => return Err(error),
            Verdict::Retry(after) => after,
            Verdict::Ambiguous => None,
        };
        if retry >= policy.retries {
            return Err(error);
        }
        let delay = policy.delay(retry, retry_after);
        retry += 1;
        retry::announce(policy, client.observer(), operation, &error, delay, retry);
        tokio::time::sleep(delay).await;
    }
}
