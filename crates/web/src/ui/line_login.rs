//! The patient's side of LINE Login's add-friend option for inflow sources (流入経路): public
//! pages, no staff session. `/s/{source}` is what a source's QR code holds once its LINE channel
//! has a Login channel linked (redirects to LINE Login, or to the prefilled message without a
//! link); `/line-login/callback` is where LINE Login sends the patient back. Both answer in the
//! browser's language with a calm page under the strict CSP; the domain is
//! `automation::line_login`.
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tsunagu_accounts::throttle;
use tsunagu_automation::line_login::{self, callback};

use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::auth::browser_lang;
use crate::ui::render;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/s/{source}", get(visit))
        // = line_login::CALLBACK_PATH (a literal: the route scan in the boundary tests reads it)
        .route("/line-login/callback", get(back))
}

/// The one page: a heading and a sentence, and that it may be closed.
fn page(
    state: &AppState,
    lang: &str,
    status: StatusCode,
    ok: bool,
    title: &str,
    body: &str,
) -> Response {
    let ctx = minijinja::context! {
        lang, ok, title => text(lang, title), body => text(lang, body),
        close => text(lang, "line_login.close"),
    };
    match render(state, "line_login/page.html", ctx) {
        Ok(html) => (status, html).into_response(),
        Err(_) => status.into_response(),
    }
}

/// A source's QR code was read: on to LINE Login (or the prefilled message).
#[tracing::instrument(skip_all)]
async fn visit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(source): Path<String>,
) -> Response {
    let lang = browser_lang(&headers);
    let base = state.settings.public_base();
    match line_login::visit::begin(&state.db, &state.cipher, &source, &base, state.now_ms()).await {
        Ok(Some(to)) => Redirect::to(&to).into_response(),
        Ok(None) => {
            let (t, b) = ("line_login.not_found.title", "line_login.not_found.body");
            page(&state, lang, StatusCode::NOT_FOUND, false, t, b)
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "starting a LINE Login from a source");
            let (t, b) = ("line_login.refused.title", "line_login.refused.token");
            page(&state, lang, StatusCode::INTERNAL_SERVER_ERROR, false, t, b)
        }
    }
}

/// LINE Login sent the patient back.
#[tracing::instrument(skip_all)]
async fn back(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Query(q): Query<callback::Query>,
) -> Response {
    let lang = browser_lang(&headers);
    let failed = |status, code: &str| {
        let body = format!("line_login.refused.{code}");
        page(
            &state,
            lang,
            status,
            false,
            "line_login.refused.title",
            &body,
        )
    };
    let http = match tsunagu_channels::outbound::Outbound::from_settings(&state.settings.outbound)
        .client()
    {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "building the outbound client for LINE Login");
            return failed(StatusCode::INTERNAL_SERVER_ERROR, "token");
        }
    };
    // A code costs a call to LINE: counted per address before it is exchanged (the page links
    // to this route for anyone), the place given back when the login completes.
    let sec = &state.settings.security;
    let ticket = if q.error.is_none() && q.code.is_some() {
        let keys = throttle::Keys::line_login(ip.as_string().as_deref());
        match throttle::reserve(&state.db, sec, &keys, state.now_ms()).await {
            Ok(throttle::Reserved::Granted(t)) => Some(t),
            Ok(throttle::Reserved::Refused { .. }) => {
                tracing::info!(
                    "a LINE Login callback was refused: too many failures from its address"
                );
                return failed(StatusCode::TOO_MANY_REQUESTS, "throttled");
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "counting a LINE Login callback");
                return failed(StatusCode::INTERNAL_SERVER_ERROR, "token");
            }
        }
    } else {
        None
    };
    let base = state.settings.public_base();
    let done = callback::complete(&state.db, &state.cipher, &http, &base, &q, state.now_ms()).await;
    if let Some(t) = ticket {
        settle(&state, t, matches!(done, Ok(Err(_)))).await;
    }
    match done {
        Ok(Ok(callback::Done::Arrived)) => page(
            &state,
            lang,
            StatusCode::OK,
            true,
            "line_login.done.title",
            "line_login.done.body",
        ),
        Ok(Ok(callback::Done::AlreadyDone)) => page(
            &state,
            lang,
            StatusCode::OK,
            true,
            "line_login.done.title",
            "line_login.again.body",
        ),
        Ok(Err(refused)) => {
            tracing::info!(
                code = refused.code(),
                "a LINE Login callback changed nothing"
            );
            failed(StatusCode::BAD_REQUEST, refused.code())
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "completing a LINE Login");
            failed(StatusCode::INTERNAL_SERVER_ERROR, "token")
        }
    }
}

/// A refused login keeps its place on the address's counter; any other gives it back.
async fn settle(state: &AppState, ticket: throttle::Ticket, refused: bool) {
    let sec = &state.settings.security;
    let settled = async {
        let mut tx = state.db.begin().await?;
        if refused {
            throttle::failed(tx.conn(), sec, ticket, state.now_ms()).await?;
        } else {
            throttle::succeeded(tx.conn(), ticket).await?;
        }
        tx.commit().await
    };
    if let Err(e) = settled.await {
        tracing::warn!(error = %format!("{e:#}"), "settling a LINE Login callback's count");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_callback_route_is_the_path_registered_with_line() {
        assert_eq!(
            tsunagu_automation::line_login::CALLBACK_PATH,
            "/line-login/callback"
        );
    }
}
