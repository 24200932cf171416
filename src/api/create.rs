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

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::*;
    use crate::api::client::ClientConfig;
    use crate::api::error::{HttpFailure, Stage};
    use crate::api::retry::RetryPolicy;
    use crate::api::secret::Secret;
    use crate::models::Region;

    /// A creation whose sends and lookups answer from scripts.
    struct Scripted {
        sends: RefCell<VecDeque<Result<u32, ApiError>>>,
        finds: RefCell<VecDeque<Found<u32>>>,
        sent: Cell<u32>,
        surveyed: Cell<u32>,
    }

    impl Scripted {
        fn new(sends: Vec<Result<u32, ApiError>>, finds: Vec<Found<u32>>) -> Self {
            Scripted {
                sends: RefCell::new(sends.into()),
                finds: RefCell::new(finds.into()),
                sent: Cell::new(0),
                surveyed: Cell::new(0),
            }
        }
    }

    impl Creation for Scripted {
        type Created = u32;
        type Survey = ();

        async fn survey(&self, _: &Client) -> Result<(), ApiError> {
            self.surveyed.set(self.surveyed.get() + 1);
            Ok(())
        }

        async fn send(&self, _: &Client) -> Result<u32, ApiError> {
            self.sent.set(self.sent.get() + 1);
            self.sends
                .borrow_mut()
                .pop_front()
                .expect("a scripted send")
        }

        async fn find(&self, _: &Client, _: &()) -> Result<Found<u32>, ApiError> {
            Ok(self
                .finds
                .borrow_mut()
                .pop_front()
                .expect("a scripted lookup"))
        }

        fn id_of(created: &u32) -> String {
            created.to_string()
        }
    }

    fn client() -> Client {
        let mut config = ClientConfig::new(Region::CnBeijing, Secret::new("sk-unit").unwrap());
        config.base_url = Some("http://127.0.0.1:9".into());
        config.retry = RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        Client::new(config).unwrap()
    }

    fn lost() -> ApiError {
        ApiError::Transport {
            operation: "POST /x".into(),
            stage: Stage::Exchange,
            detail: "connection reset".into(),
        }
    }

    fn status(status: u16) -> ApiError {
        ApiError::Http(Box::new(HttpFailure {
            method: "POST".into(),
            path: "/x".into(),
            region: Region::CnBeijing,
            status,
            code: None,
            message: None,
            request_id: None,
            retry_after: None,
        }))
    }

    #[tokio::test]
    async fn a_lost_answer_whose_resource_exists_is_not_resent() {
        let creation = Scripted::new(vec![Err(lost())], vec![Found::Created(7)]);
        assert_eq!(
            create_once(&client(), &creation, "POST /x").await.unwrap(),
            7
        );
        assert_eq!((creation.sent.get(), creation.surveyed.get()), (1, 1));
    }

    #[tokio::test]
    async fn a_lost_request_that_created_nothing_is_resent() {
        let creation = Scripted::new(vec![Err(status(500)), Ok(8)], vec![Found::Nothing]);
        assert_eq!(
            create_once(&client(), &creation, "POST /x").await.unwrap(),
            8
        );
        assert_eq!(creation.sent.get(), 2);
    }

    #[tokio::test]
    async fn refusals_before_acting_are_retried_without_lookups() {
        let unreachable = ApiError::Transport {
            operation: "POST /x".into(),
            stage: Stage::Connect,
            detail: "refused".into(),
        };
        let creation = Scripted::new(vec![Err(unreachable), Err(status(429)), Ok(9)], vec![]);
        assert_eq!(
            create_once(&client(), &creation, "POST /x").await.unwrap(),
            9
        );
        assert_eq!(creation.sent.get(), 3);
    }

    #[tokio::test]
    async fn final_errors_and_unknowable_outcomes_stop_at_once() {
        let creation = Scripted::new(vec![Err(status(400))], vec![]);
        assert!(create_once(&client(), &creation, "POST /x").await.is_err());
        assert_eq!(creation.sent.get(), 1);

        let creation = Scripted::new(vec![Err(lost())], vec![Found::Unknowable]);
        let err = create_once(&client(), &creation, "POST /x")
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Ambiguous { .. }), "{err:?}");
        assert_eq!(creation.sent.get(), 1);
    }

    #[tokio::test]
    async fn the_last_ambiguous_failure_is_still_looked_up() {
        let sends = (0..4).map(|_| Err(lost())).collect();
        let finds = vec![
            Found::Nothing,
            Found::Nothing,
            Found::Nothing,
            Found::Created(3),
        ];
        let creation = Scripted::new(sends, finds);
        assert_eq!(
            create_once(&client(), &creation, "POST /x").await.unwrap(),
            3
        );
        assert_eq!(creation.sent.get(), 4, "retries exhausted, yet found");
    }
}
