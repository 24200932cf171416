//! What the client tells its caller while it works: requests for `-v` logs, retries and
//! recoveries for everyone. The library never prints; the CLI decides what to show.

use std::time::Duration;

/// Something worth telling the user about.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A request is about to be sent (`url` is scrubbed of the key).
    Sending { method: &'a str, url: &'a str },
    /// A response arrived.
    Received {
        method: &'a str,
        url: &'a str,
        status: u16,
        elapsed: Duration,
    },
    /// The body of a response, scrubbed and shortened (for `-vv`).
    Body { text: &'a str },
    /// A call failed in a way worth another try, which starts after `delay`.
    Retrying {
        operation: &'a str,
        reason: &'a str,
        delay: Duration,
        retry: u32,
        retries: u32,
    },
    /// A create call may have succeeded without an answer: looking for what it created.
    LookingUp { operation: &'a str },
    /// The lookup found the resource, so the create is not sent again.
    Recovered { operation: &'a str, id: &'a str },
}

/// Receives [`Event`]s. Called from the client's task; keep it cheap.
pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// Ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _event: &Event<'_>) {}
}
