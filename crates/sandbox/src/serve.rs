//! What every emulator does to run on its own port: bind, serve in the background, and the
//! HTTP client its webhook driver posts with.
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;

/// The client webhook drivers post with: a provider gives up on a slow endpoint too.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// Binds `addr` (port 0 works) for the `what` sandbox.
pub(crate) async fn bind(addr: &str, what: &str) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the {what} sandbox to {addr}"))?;
    let bound = listener
        .local_addr()
        .context("reading the sandbox's bound address")?;
    Ok((listener, bound))
}

/// Serves `app` on `listener` in a background task.
pub(crate) fn run(listener: TcpListener, app: Router, what: &'static str) {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, sandbox = what, "sandbox server stopped");
        }
    });
}
