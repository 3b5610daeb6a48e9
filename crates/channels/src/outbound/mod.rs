//! The one gate for tsunagu's own outgoing HTTP. Every call to a provider (sends, profiles,
//! media, templates) and any future outgoing webhook goes through the `reqwest::Client` built by
//! [`Outbound::client`], and every address an administrator types is checked up front with
//! [`Outbound::check_url`].
//!
//! The rule: only public addresses are called, and only over https. Private, loopback,
//! link-local, CGNAT, unique-local, multicast, documentation and other special-purpose
//! addresses (and IPv4-mapped or NAT64 forms of them) are refused before a byte is sent:
//! - when a channel's base URL is saved (`check_url`: scheme, literal address, every address
//!   the name resolves to);
//! - on every connection: the client's resolver drops non-public addresses (none left: the call
//!   fails with [`Refused`]), and a connector layer checks the peer a socket actually reached,
//!   which also covers literal IPs (reqwest does not ask the resolver for those) and anything
//!   stored before this check existed; the connection is closed before the request is written;
//! - on redirects: each target is checked like a saved URL (https, literal address) before it
//!   is followed, and its name goes through the same resolver.
//!
//! Every call is sent with [`send`], which traces it (provider, operation, status, latency;
//! never the URL or a body).
//!
//! `[outbound] allow_private_addresses = true` turns the rule off (and allows plain http) for
//! provider emulators on this machine: the demo and the tests. The client connects directly:
//! an HTTP proxy would resolve and connect out of the guard's sight, so proxy settings in the
//! environment are ignored.
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tsunagu_core::config::OutboundSettings;
use url::{Host, Url};

/// The stable code for a refused address: API errors, failed jobs, the settings page.
pub const REFUSED_CODE: &str = "outbound_address_refused";

const USER_AGENT: &str = concat!("tsunagu/", env!("CARGO_PKG_VERSION"));
/// reqwest's default.
const MAX_REDIRECTS: usize = 10;
/// How long saving a channel waits for its API host's addresses.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

type BoxError = Box<dyn StdError + Send + Sync>;

/// The outbound policy, from `[outbound]`.
#[derive(Clone, Debug, Default)]
pub struct Outbound {
    allow_private: bool,
    /// Unit tests only: exact socket addresses treated as public, so a redirect from an
    /// "allowed" first hop can be exercised on loopback.
    #[cfg(test)]
    exempt: Vec<SocketAddr>,
}

/// Why an outbound address was refused. Reaches callers inside a `reqwest::Error` (find it with
/// [`refusal`]) or directly from [`Outbound::check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not an http(s) URL with a host.
    NotHttp { url: String },
    /// Plain http while private addresses are not allowed.
    PlainHttp { url: String },
    /// `host` is, or resolves to, `addr`, which is not a public address.
    NotPublic { host: String, addr: IpAddr },
    /// Checking a URL before saving it: the name has no address (or the lookup timed out).
    Unresolved { host: String },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const OFF: &str = "[outbound] allow_private_addresses is off";
        match self {
            Refused::NotHttp { url } => write!(f, "{url} is not an http(s) URL"),
            Refused::PlainHttp { url } => write!(
                f,
                "{url} is plain http: providers are called over https only ({OFF})"
            ),
            Refused::NotPublic { host, addr } => {
                if host.trim_matches(['[', ']']) == addr.to_string() {
                    write!(f, "{addr} is not a public address")?;
                } else {
                    write!(f, "{host} is {addr}, not a public address")?;
                }
                write!(
                    f,
                    ": tsunagu does not call private, loopback, link-local or other \
                     non-public addresses ({OFF})"
                )
            }
            Refused::Unresolved { host } => write!(f, "{host} could not be resolved"),
        }
    }
}

impl StdError for Refused {}

/// The [`Refused`] somewhere in an error's chain (a `reqwest::Error` wraps it), if any.
pub fn refusal<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a Refused> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        next = err.source();
    }
    None
}

impl Outbound {
    pub fn new(allow_private_addresses: bool) -> Self {
        Self {
            allow_private: allow_private_addresses,
            #[cfg(test)]
            exempt: Vec::new(),
        }
    }

    pub fn from_settings(s: &OutboundSettings) -> Self {
        Self::new(s.allow_private_addresses)
    }

    /// The shared client for every outgoing call: the resolver, connector check and redirect
    /// policy above, no proxy. Per-request timeouts stay with the callers.
    pub fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        let guard = self.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match guard.check_target(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(r) => attempt.error(r),
            }
        });
        reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .no_proxy()
            .dns_resolver(Arc::new(PublicResolver(self.clone())))
            .connector_layer(PeerCheckLayer(self.clone()))
            .redirect(redirects)
            .build()
    }

    /// Checks a URL without looking anything up: http(s) with a host, a literal IP host must be
    /// public, and https unless private addresses are allowed. Redirect targets get this.
    pub fn check_target(&self, url: &Url) -> Result<(), Refused> {
        self.check_address(url)?;
        self.check_https(url)
    }

    /// Checks an address before it is stored (a channel's API base): as [`Self::check_target`],
    /// and unless private addresses are allowed, every address its name resolves to must be
    /// public (one private answer is enough to refuse it). The address is judged before the
    /// scheme, so `http://127.0.0.1` is refused for its address.
    pub async fn check_url(&self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw.trim()).map_err(|_| Refused::NotHttp {
            url: raw.trim().to_string(),
        })?;
        self.check_address(&url)?;
        if let (Some(Host::Domain(name)), false) = (url.host(), self.allow_private) {
            self.check_name(name, url.port_or_known_default().unwrap_or(443))
                .await?;
        }
        self.check_https(&url)?;
        Ok(url)
    }

    /// http(s) with a host; a literal IP host must be allowed.
    fn check_address(&self, url: &Url) -> Result<(), Refused> {
        let not_http = || Refused::NotHttp {
            url: url.to_string(),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(not_http());
        }
        let ip = match url.host() {
            None => return Err(not_http()),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        };
        let port = url.port_or_known_default().unwrap_or(0);
        if self.allows(SocketAddr::new(ip, port)) {
            Ok(())
        } else {
            Err(Refused::NotPublic {
                host: url.host_str().unwrap_or_default().to_string(),
                addr: ip,
            })
        }
    }

    /// Plain http only when private addresses are allowed.
    fn check_https(&self, url: &Url) -> Result<(), Refused> {
        if url.scheme() == "http" && !self.allow_private {
            return Err(Refused::PlainHttp {
                url: url.to_string(),
            });
        }
        Ok(())
    }

    /// Every address `name` resolves to must be allowed.
    async fn check_name(&self, name: &str, port: u16) -> Result<(), Refused> {
        let unresolved = || Refused::Unresolved {
            host: name.to_string(),
        };
        let addrs: Vec<SocketAddr> = match tokio::time::timeout(
            RESOLVE_TIMEOUT,
            tokio::net::lookup_host((name, port)),
        )
        .await
        {
            Ok(Ok(addrs)) => addrs.collect(),
            _ => return Err(unresolved()),
        };
        if addrs.is_empty() {
            return Err(unresolved());
        }
        match addrs.iter().find(|a| !self.allows(**a)) {
            Some(a) => Err(Refused::NotPublic {
                host: name.to_string(),
                addr: a.ip(),
            }),
            None => Ok(()),
        }
    }

    fn allows(&self, addr: SocketAddr) -> bool {
        #[cfg(test)]
        if self.exempt.contains(&addr) {
            return true;
        }
        self.allow_private || is_public(addr.ip())
    }

    /// The resolver has no port: an address is kept if it may be reached on some port (the
    /// peer check then sees the port).
    fn allows_ip(&self, ip: IpAddr) -> bool {
        #[cfg(test)]
        if self.exempt.iter().any(|a| a.ip() == ip) {
            return true;
        }
        self.allow_private || is_public(ip)
    }
}

/// Whether `ip` is a public unicast address: not private, loopback, link-local, CGNAT,
/// unspecified, multicast, broadcast, documentation, benchmarking or otherwise reserved
/// (IANA's special-purpose registries). IPv6 is public only inside global unicast 2000::/3
/// and outside its special blocks; IPv4-mapped and NAT64 (64:ff9b::/96) addresses are judged by
/// the IPv4 address they carry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network", 0.0.0.0
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT) 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata 169.254.169.254
        || (a == 172 && (16..32).contains(&b)) // private 172.16/12
        || (a == 192 && b == 168) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // documentation TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // documentation TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !special
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix: the IPv4 address it reaches.
        let o = ip.octets();
        return public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    let global_unicast = s[0] & 0xe000 == 0x2000;
    let special = match s[0] {
        // IETF protocol assignments 2001::/23 (Teredo, ORCHID…), documentation 2001:db8::/32
        0x2001 => s[1] < 0x0200 || s[1] == 0x0db8,
        // 6to4: an IPv4 address inside
        0x2002 => true,
        // documentation 3fff::/20
        0x3fff => s[1] < 0x1000,
        _ => false,
    };
    global_unicast && !special
}

/// The client's resolver: the system's answers without the non-public ones.
struct PublicResolver(Outbound);

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let refused = all.iter().find(|a| !guard.allows_ip(a.ip())).copied();
            let public: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| guard.allows_ip(a.ip()))
                .collect();
            match (public.is_empty(), refused) {
                (false, _) => Ok(Box::new(public.into_iter()) as Addrs),
                (true, Some(a)) => {
                    Err(Box::new(Refused::NotPublic { host, addr: a.ip() }) as BoxError)
                }
                (true, None) => Err(format!("{host} has no address").into()),
            }
        })
    }
}

/// Wraps reqwest's connector: a connection whose peer is not allowed is closed before anything
/// is written to it.
#[derive(Clone)]
struct PeerCheckLayer(Outbound);

impl<S> tower::Layer<S> for PeerCheckLayer {
    type Service = PeerCheck<S>;
    fn layer(&self, inner: S) -> PeerCheck<S> {
        PeerCheck {
            inner,
            guard: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct PeerCheck<S> {
    inner: S,
    guard: Outbound,
}

impl<S, Req> tower::Service<Req> for PeerCheck<S>
where
    S: tower::Service<Req, Error = BoxError>,
    S::Response: Connection + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let connecting = self.inner.call(req);
        let guard = self.guard.clone();
        Box::pin(async move {
            let conn = connecting.await?;
            let mut extras = http::Extensions::new();
            conn.connected().get_extras(&mut extras);
            // Every TCP connection (plain or TLS) reports its peer; without one, refuse.
            let Some(peer) = extras.get::<HttpInfo>().map(HttpInfo::remote_addr) else {
                return Err("the connection's peer address is unknown".into());
            };
            if guard.allows(peer) {
                Ok(conn)
            } else {
                Err(Box::new(Refused::NotPublic {
                    host: peer.ip().to_string(),
                    addr: peer.ip(),
                }) as BoxError)
            }
        })
    }
}

mod trace;
pub use trace::send;

#[cfg(test)]
mod tests;
