//! The accept loop: one hyper HTTP/1.1 connection per socket, each with a kill switch.
//!
//! `axum::serve` cannot drop a single connection on purpose, and two faults need exactly that:
//! cutting an upload mid-body and losing the response of a create call. Every request therefore
//! carries a [`ConnectionControl`] in its extensions; aborting it resets the TCP connection
//! (`SO_LINGER` 0, so the peer sees a reset rather than a clean end of stream).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::error::ApiError;

/// Lets a handler abort the connection its request arrived on.
#[derive(Debug, Clone)]
pub struct ConnectionControl {
    abort: CancellationToken,
}

impl ConnectionControl {
    /// Resets the connection; the handler that calls this is dropped with it.
    pub fn abort(&self) {
        self.abort.cancel();
    }
}

/// Aborts the connection of a request; never returns when there is one.
///
/// Without a [`ConnectionControl`] (the router driven in-process, not through [`accept_loop`])
/// there is no connection to cut: the error says so, and the caller answers it.
pub async fn abort_connection(control: Option<&ConnectionControl>) -> ApiError {
    match control {
        Some(control) => {
            control.abort();
            std::future::pending().await
        }
        None => {
            ApiError::internal("the connection cannot be aborted outside the emulator's server")
        }
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then drops every connection.
pub async fn accept_loop(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router, shutdown: CancellationToken) {
    // Small JSON responses must not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let abort = CancellationToken::new();
    let control = ConnectionControl {
        abort: abort.clone(),
    };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(control.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(Body::new)).await;
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let mut connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let aborted = tokio::select! {
        _ = &mut connection => false,
        _ = abort.cancelled() => true,
        _ = shutdown.cancelled() => false,
    };
    if aborted {
        let stream = connection.into_parts().io.into_inner();
        let _ = stream.set_zero_linger();
        drop(stream);
    }
}
