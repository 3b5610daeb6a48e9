//! A `multipart/form-data` body (the CSV upload) with the same CSRF rule as `CsrfForm`: its
//! `csrf_token` part must equal the signed-in session's token.
use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::response::{IntoResponse, Response};
use tsunagu_core::Code;

use crate::ui::auth::csrf::{csrf_rejection, tokens_match};
use crate::ui::session::Staff;
use crate::{AppState, PageError};

pub struct CsrfMultipart(pub HashMap<String, Vec<u8>>);

impl CsrfMultipart {
    pub fn text(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // The handler takes `Staff` first, which leaves it in the request's extensions.
        let expected = req
            .extensions()
            .get::<Staff>()
            .map(|s| s.csrf_token.clone());
        let bad = || PageError::from(Code::BadRequest).into_response();
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|_| bad())?;
        let mut parts = HashMap::new();
        loop {
            match mp.next_field().await {
                Ok(Some(f)) => {
                    let name = f.name().unwrap_or_default().to_string();
                    let data = f
                        .bytes()
                        .await
                        .map_err(|_| PageError::from(Code::PayloadTooLarge).into_response())?;
                    parts.insert(name, data.to_vec());
                }
                Ok(None) => break,
                Err(_) => return Err(bad()),
            }
        }
        let sent = parts
            .get("csrf_token")
            .map(|b| String::from_utf8_lossy(b).into_owned());
        if !tokens_match(expected.as_deref(), sent.as_deref()) {
            return Err(csrf_rejection());
        }
        Ok(CsrfMultipart(parts))
    }
}
