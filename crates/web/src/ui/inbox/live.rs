//! `GET /app/live`: server-sent events for open inbox pages, only about the staff member's current
//! clinic. An event names a conversation and what happened, never patient data; the page then
//! fetches the re-rendered fragments, which are checked and audited like any page. `resync` tells
//! it to reload everything (events were lost); the stream ends when the server stops.
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use tokio_stream::StreamExt;
use tsunagu_core::Permission;
use tsunagu_inbox::live::Update;

use crate::ui::session::Staff;
use crate::{AppState, PageError};

pub async fn stream(
    staff: Staff,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, PageError> {
    staff.require(Permission::ReadPatients)?;
    let clinic = staff.clinic.id.clone();
    let updates = futures::stream::unfold(state.live.feed(), |mut feed| async move {
        feed.next().await.map(|u| (u, feed))
    });
    let events = updates.filter_map(move |u| match u {
        Update::Event(e) if e.clinic_id == clinic => serde_json::to_string(&e)
            .ok()
            .map(|json| Ok::<_, Infallible>(Event::default().event("inbox").data(json))),
        Update::Event(_) => None,
        // Events may have been lost: the page reloads its lists and the open conversation.
        Update::Resync => Some(Ok(Event::default().event("resync").data("{}"))),
    });
    let sse = Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    );
    // Proxies such as nginx would otherwise hold events back in their buffers.
    Ok((
        [(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        )],
        sse,
    ))
}
