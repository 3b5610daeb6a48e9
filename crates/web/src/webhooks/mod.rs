//! `/webhooks/{kind}/{channel_id}`: one endpoint for every provider in the registry. It verifies
//! the provider's signature on the raw bytes, lets the adapter parse the delivery into items,
//! stores them once through the one ingest path, and answers fast. Nothing is stored for a bad
//! signature, an oversized or malformed body. The URLs a provider calls besides its events
//! (Meta's GET handshake, Twilio's status callback) are mounted as its adapter declares them.
mod channel;
mod handshake;
mod receive;

use axum::extract::{Path, RawQuery, Request, State};
use axum::routing::{get, post};
use axum::Router;
use tsunagu_channels::ChannelKind;

use crate::AppState;

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for &kind in ChannelKind::ALL {
        let routes = kind.adapter().routes();
        let events = format!("/webhooks/{}/{{channel_id}}", kind.as_str());
        let mut on = post(
            move |State(state): State<AppState>, Path(id): Path<String>, req: Request| {
                receive::receive(state, id, kind, receive::Url::Events, req)
            },
        );
        if routes.handshake {
            on = on.merge(get(
                move |State(state): State<AppState>, Path(id): Path<String>, q: RawQuery| {
                    handshake::answer(state, id, kind, q.0)
                },
            ));
        }
        router = router.route(&events, on);
        if routes.status_callback {
            // Sends carry this URL (with `?message=<our id>`): it must not change.
            let status = format!("{events}/status");
            let on = post(
                move |State(state): State<AppState>, Path(id): Path<String>, req: Request| {
                    receive::receive(state, id, kind, receive::Url::Status, req)
                },
            );
            router = router.route(&status, on);
        }
    }
    router
}
