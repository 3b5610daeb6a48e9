//! A webhook endpoint on 127.0.0.1 that keeps every delivery an emulator's driver posts, as the
//! web layer receives it: the URL it was posted to, headers and exact bytes.
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};

use super::kit::{Hook, Posted};

#[derive(Clone)]
pub struct Hooks {
    base: String,
    posted: Arc<Mutex<Vec<Posted>>>,
}

impl Hooks {
    pub async fn start() -> Self {
        let posted = Arc::new(Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (sink, at) = (posted.clone(), base.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (sink, at) = (sink.clone(), at.clone());
            async move {
                sink.lock()
                    .unwrap()
                    .push(received(&at, &uri, headers, body));
                "ok"
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, posted }
    }

    /// The absolute URL of `path` on this endpoint.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The latest delivery.
    pub fn last(&self) -> Posted {
        let all = self.posted.lock().unwrap();
        all.last().cloned().expect("the emulator posted no webhook")
    }
}

/// `…/status?message=<id>` is the status callback URL, as the web layer routes it.
fn received(base: &str, uri: &Uri, headers: HeaderMap, body: Bytes) -> Posted {
    let hook = if uri.path().ends_with("/status") {
        let query = uri.query().unwrap_or_default().as_bytes();
        let message = url::form_urlencoded::parse(query)
            .find(|(k, _)| k == "message")
            .map(|(_, v)| v.into_owned());
        Hook::Status { message }
    } else {
        Hook::Events
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Posted {
        name: format!("the emulator's delivery to {path}"),
        url: format!("{base}{path}"),
        hook,
        headers,
        body: body.to_vec(),
    }
}
