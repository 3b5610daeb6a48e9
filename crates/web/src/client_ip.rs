//! The address a request came from: the socket peer, or the last untrusted hop of
//! X-Forwarded-For when the peer is a configured trusted proxy.
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

use crate::AppState;

#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub fn as_string(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

/// Whether `ip` is in the comma-separated `TSUNAGU_TRUSTED_PROXIES` list (addresses or CIDR).
pub(crate) fn trusted(list: &str, ip: IpAddr) -> bool {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .any(|entry| match entry.split_once('/') {
            None => entry.parse::<IpAddr>().is_ok_and(|t| t == ip),
            Some((base, bits)) => match (base.parse::<IpAddr>(), bits.parse::<u32>()) {
                (Ok(IpAddr::V4(b)), Ok(n)) if n <= 32 => match ip {
                    IpAddr::V4(i) => {
                        let mask = if n == 0 { 0 } else { u32::MAX << (32 - n) };
                        u32::from(b) & mask == u32::from(i) & mask
                    }
                    _ => false,
                },
                (Ok(IpAddr::V6(b)), Ok(n)) if n <= 128 => match ip {
                    IpAddr::V6(i) => {
                        let mask = if n == 0 { 0 } else { u128::MAX << (128 - n) };
                        u128::from(b) & mask == u128::from(i) & mask
                    }
                    _ => false,
                },
                _ => false,
            },
        })
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let Some(mut ip) = peer else {
            return Ok(ClientIp(None));
        };
        let list = &state.settings.trusted_proxies;
        if trusted(list, ip) {
            if let Some(xff) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
            {
                for hop in xff.rsplit(',').map(str::trim) {
                    match hop.parse::<IpAddr>() {
                        Ok(h) if trusted(list, h) => ip = h,
                        Ok(h) => {
                            ip = h;
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
        }
        Ok(ClientIp(Some(ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_ranges_and_single_addresses_are_trusted() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert!(trusted("10.0.0.0/8, 192.168.1.1", ip("10.2.3.4")));
        assert!(trusted("10.0.0.0/8, 192.168.1.1", ip("192.168.1.1")));
        assert!(!trusted("10.0.0.0/8", ip("11.0.0.1")));
        assert!(!trusted("", ip("127.0.0.1")));
    }
}
