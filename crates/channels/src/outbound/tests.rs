//! The guard's address table, URL checks and live loopback refusals.
use super::*;

fn guarded() -> Outbound {
    Outbound::new(false)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn only_public_unicast_addresses_are_public() {
    let refused = [
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "100.64.0.1",
        "100.127.255.255",
        "0.0.0.0",
        "0.1.2.3",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "fc00::1",
        "fd12:3456:789a::1",
        "ff02::1",
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "2001:db8::1",
        "2001::1",
        "2002:7f00:1::1",
        "3fff::1",
        "100::1",
    ];
    for a in refused {
        assert!(!is_public(ip(a)), "{a} passed as public");
    }
    let public = [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "169.253.1.1",
        "223.255.255.255",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
        "2606:4700:4700::1111",
        "2a03:2880:f12f:83:face:b00c::25de",
    ];
    for a in public {
        assert!(is_public(ip(a)), "{a} refused");
    }
}

/// Literal addresses only: nothing is connected to, no public name is resolved.
#[tokio::test]
async fn saving_a_url_refuses_non_public_hosts() {
    let g = guarded();
    let refused = [
        "https://127.0.0.1/",
        "https://127.0.0.1:8443/line",
        "https://10.1.2.3/",
        "https://172.16.5.4/",
        "https://192.168.0.10/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        // Spellings the URL parser turns into 127.0.0.1.
        "https://0x7f.0.0.1/",
        "https://2130706433/",
        "https://017700000001/",
        // A name that resolves to loopback (from /etc/hosts, no network).
        "https://localhost/",
        "https://localhost:9000/v23.0",
    ];
    for u in refused {
        let r = g.check_url(u).await;
        assert!(
            matches!(r, Err(Refused::NotPublic { .. })),
            "{u} was not refused as non-public: {r:?}"
        );
    }
    // Plain http to a private address: refused for the address, the graver reason.
    for u in ["http://127.0.0.1:8081", "http://localhost:8081/twilio"] {
        assert!(
            matches!(g.check_url(u).await, Err(Refused::NotPublic { .. })),
            "{u}"
        );
    }
    let ok = g.check_url("https://93.184.216.34/v2").await;
    assert_eq!(
        ok.map(|u| u.to_string()).as_deref(),
        Ok("https://93.184.216.34/v2")
    );
    assert!(g.check_url("https://[2606:4700:4700::1111]/").await.is_ok());
    // Plain http and other schemes.
    assert!(matches!(
        g.check_url("http://93.184.216.34/").await,
        Err(Refused::PlainHttp { .. })
    ));
    for u in ["ftp://93.184.216.34/", "file:///etc/passwd", "not a url"] {
        assert!(
            matches!(g.check_url(u).await, Err(Refused::NotHttp { .. })),
            "{u}"
        );
    }
    // The message names the rule and the setting.
    let msg = g
        .check_url("https://169.254.169.254/")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.contains("169.254.169.254 is not a public address"),
        "{msg}"
    );
    assert!(msg.contains("allow_private_addresses"), "{msg}");
}

#[tokio::test]
async fn with_private_addresses_allowed_the_sandbox_urls_pass() {
    let g = Outbound::new(true);
    for u in [
        "http://127.0.0.1:8081",
        "http://localhost:8081/twilio",
        "https://[::1]:9000/",
        "http://10.0.0.5/",
    ] {
        assert!(g.check_url(u).await.is_ok(), "{u}");
    }
    assert!(g.check_url("ftp://127.0.0.1/").await.is_err());
}

#[test]
fn a_refusal_is_found_inside_wrapping_errors() {
    #[derive(Debug)]
    struct Wrap(Box<dyn StdError + Send + Sync>);
    impl fmt::Display for Wrap {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.0)
        }
    }
    let inner = Refused::NotPublic {
        host: "x".into(),
        addr: ip("10.0.0.1"),
    };
    let e = Wrap(Box::new(Wrap(Box::new(inner.clone()))));
    assert_eq!(refusal(&e), Some(&inner));
    assert_eq!(refusal(&Wrap("plain".into())), None);
}

mod live {
    //! The client against listeners on loopback only (127.0.0.1, 127.0.0.2, ::1).
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An HTTP server on `bind` that counts requests and answers with `answer(path)`.
    async fn server(
        bind: &str,
        answer: fn(&str) -> axum::response::Response,
    ) -> Option<(SocketAddr, Arc<AtomicUsize>)> {
        let listener = tokio::net::TcpListener::bind(bind).await.ok()?;
        let addr = listener.local_addr().ok()?;
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                answer(uri.path())
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some((addr, hits))
    }

    fn ok(_: &str) -> axum::response::Response {
        axum::response::IntoResponse::into_response("ok")
    }

    fn client(g: &Outbound) -> reqwest::Client {
        g.client().unwrap_or_else(|e| panic!("client: {e}"))
    }

    #[tokio::test]
    async fn a_literal_loopback_target_is_refused_before_any_request() {
        let Some((addr, hits)) = server("127.0.0.1:0", ok).await else {
            panic!("no listener on 127.0.0.1");
        };
        let err = client(&guarded())
            .get(format!("http://{addr}/v2/bot/message/push"))
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("a loopback call went through"));
        let r = refusal(&err).unwrap_or_else(|| panic!("not a refusal: {err:?}"));
        assert!(matches!(r, Refused::NotPublic { addr: a, .. } if *a == addr.ip()));
        assert_eq!(hits.load(Ordering::SeqCst), 0, "the server saw a request");
        // Allowed: the same call goes through the same client code.
        let resp = client(&Outbound::new(true))
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("allowed call failed: {e}"));
        assert!(resp.status().is_success());
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
        let Some((addr, hits)) = server("127.0.0.1:0", ok).await else {
            panic!("no listener on 127.0.0.1");
        };
        let err = client(&guarded())
            .get(format!("http://localhost:{}/", addr.port()))
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("localhost went through"));
        assert!(refusal(&err).is_some(), "not a refusal: {err:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_ipv6_loopback_target_is_refused() {
        // Some sandboxes have no IPv6 loopback: nothing to check there.
        let Some((addr, hits)) = server("[::1]:0", ok).await else {
            return;
        };
        let err = client(&guarded())
            .get(format!("http://{addr}/"))
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("[::1] went through"));
        assert!(refusal(&err).is_some(), "not a refusal: {err:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    /// Test-only certificates (openssl, P-256, valid until 2126): a CA, and a leaf for
    /// IP 127.0.0.1 signed by it, with the leaf's PKCS#8 key.
    const TEST_CA: &str =
        "MIIBizCCATGgAwIBAgIUTypNuLNZx2icPoUJpcaQaEWRcqswCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPdHN1bmFn\
        dSB0ZXN0IENBMCAXDTI2MTIwNjE4MjgwOFoYDzIxMjYxMTEyMTgyODA4WjAaMRgwFgYDVQQDDA90c3VuYWd1IHRl\
        c3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQZfK74zO3IhhM6MtJtJG4uzsZOQ7dV23tQXQYkKayB41eN\
        Jn5o4DyeiCBXWeHOzfgU9d0XoQj2cSu8BhPMTCGJo1MwUTAdBgNVHQ4EFgQUkPySI11BiCR5Mb67fi4vGi53sFAw\
        HwYDVR0jBBgwFoAUkPySI11BiCR5Mb67fi4vGi53sFAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF\
        AiBfwwpdwl+YHux5N62//PHlNPIk1xYeYHkqZigonsapNQIhAOkuD08eJuObp3z1ix/Gu1lnRLTvng11GvTZtuwn\
        +OpC";
    const TEST_LEAF: &str =
        "MIIBuTCCAWCgAwIBAgIUIXXm9rnnry+pHpqtiU+9tpO4dpwwCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPdHN1bmFn\
        dSB0ZXN0IENBMCAXDTI2MTIwNjE4MjgwOFoYDzIxMjYxMTEyMTgyODA4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEw\
        WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQJPiVjR5CoIycz0FhTQfgGy2rcreLqiXOfzDf6XI1FTuil6m99Niol\
        l4350kxbza15fdDxs5bncjnNvsoLXiYqo4GHMIGEMA8GA1UdEQQIMAaHBH8AAAEwDAYDVR0TAQH/BAIwADATBgNV\
        HSUEDDAKBggrBgEFBQcDATAOBgNVHQ8BAf8EBAMCB4AwHQYDVR0OBBYEFIJ5Eg3tMcdWI7ocv8v7y3GdYUE3MB8G\
        A1UdIwQYMBaAFJD8kiNdQYgkeTG+u34uLxoud7BQMAoGCCqGSM49BAMCA0cAMEQCIC1U+ZozPHrLKC8zSoXG8fbF\
        wOq/XWqZVZbr+JwEi+HvAiASfr7a4KBi+GuzEBfb6KSEBl7IWkQidstgLE71kJ4A9Q==";
    const TEST_LEAF_KEY: &str =
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg6OYX3A4MVlI5Mc6+Q8g9iY3Jhnso49T/4BGutkZc\
        nvOhRANCAAQJPiVjR5CoIycz0FhTQfgGy2rcreLqiXOfzDf6XI1FTuil6m99Nioll4350kxbza15fdDxs5bncjnN\
        vsoLXiYq";

    /// A TLS server on 127.0.0.1 answering "ok" to one request per connection.
    async fn tls_server() -> (SocketAddr, Arc<AtomicUsize>) {
        use base64::Engine as _;
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
        let der = |s: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .unwrap_or_else(|e| panic!("test certificate: {e}"))
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth().with_single_cert(
                    vec![CertificateDer::from(der(TEST_LEAF))],
                    PrivatePkcs8KeyDer::from(der(TEST_LEAF_KEY)).into(),
                )
            })
            .unwrap_or_else(|e| panic!("TLS server config: {e}"));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let answer =
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (addr, hits)
    }

    /// reqwest's TLS connections must report their peer, or the check would refuse every
    /// https call: a TLS peer on loopback is refused, and passes when exempted.
    #[tokio::test]
    async fn a_tls_connection_is_checked_by_its_peer_address() {
        use base64::Engine as _;
        let (addr, hits) = tls_server().await;
        let ca = base64::engine::general_purpose::STANDARD
            .decode(TEST_CA)
            .ok()
            .and_then(|d| reqwest::Certificate::from_der(&d).ok())
            .unwrap_or_else(|| panic!("test CA"));
        let client = |g: Outbound| {
            reqwest::Client::builder()
                .no_proxy()
                .add_root_certificate(ca.clone())
                .connector_layer(PeerCheckLayer(g))
                .build()
                .unwrap_or_else(|e| panic!("client: {e}"))
        };
        let url = format!("https://{addr}/");
        let err = client(guarded())
            .get(&url)
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("a TLS call to loopback went through"));
        let r = refusal(&err).unwrap_or_else(|| panic!("not a refusal: {err:?}"));
        assert!(matches!(r, Refused::NotPublic { addr: a, .. } if *a == addr.ip()));
        assert_eq!(hits.load(Ordering::SeqCst), 0, "a request was written");
        let mut exempt = guarded();
        exempt.exempt.push(addr);
        let resp = client(exempt)
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the exempted TLS call failed: {e:?}"));
        assert_eq!(resp.text().await.ok().as_deref(), Some("ok"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    /// `/to/<host:port>_<path>` redirects to `http://host:port/path`, `/tls/…` to https.
    fn to_second(path: &str) -> axum::response::Response {
        let (scheme, rest) = match path.strip_prefix("/tls/") {
            Some(rest) => ("https", rest),
            None => ("http", path.trim_start_matches("/to/")),
        };
        let target = format!("{scheme}://{}", rest.replace('_', "/"));
        axum::response::IntoResponse::into_response(axum::response::Redirect::temporary(&target))
    }

    #[tokio::test]
    async fn a_redirect_to_a_private_address_is_not_followed() {
        // The first hop plays a public provider (its exact address is exempted for this
        // test); it redirects to a listener on another loopback address.
        let Some((second, second_hits)) = server("127.0.0.2:0", ok).await else {
            panic!("no listener on 127.0.0.2");
        };
        let Some((first, first_hits)) = server("127.0.0.1:0", to_second).await else {
            panic!("no listener on 127.0.0.1");
        };
        // Only the first hop exempted: the second is a private address.
        let mut first_only = Outbound::new(false);
        first_only.exempt.push(first);
        // Both exempted: the second is refused for plain http alone.
        let mut both = first_only.clone();
        both.exempt.push(second);
        let cases = [
            (
                &first_only,
                format!("http://{first}/tls/{second}_path"),
                "not a public address",
            ),
            (
                &first_only,
                format!("http://{first}/to/{second}_path"),
                "not a public address",
            ),
            (
                &both,
                format!("http://{first}/to/{second}_path"),
                "plain http",
            ),
        ];
        for (n, (guard, url, why)) in cases.iter().enumerate() {
            let err = client(guard)
                .get(url)
                .send()
                .await
                .err()
                .unwrap_or_else(|| panic!("the redirect was followed: {url}"));
            assert!(err.is_redirect(), "{err:?}");
            let r = refusal(&err).unwrap_or_else(|| panic!("not a refusal: {err:?}"));
            assert!(r.to_string().contains(why), "{r}");
            assert_eq!(first_hits.load(Ordering::SeqCst), n + 1);
            assert_eq!(
                second_hits.load(Ordering::SeqCst),
                0,
                "the redirect reached it"
            );
        }
        // Allowed: followed.
        let resp = client(&Outbound::new(true))
            .get(format!("http://{first}/to/{second}_path"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("allowed redirect failed: {e}"));
        assert!(resp.status().is_success());
        assert_eq!(second_hits.load(Ordering::SeqCst), 1);
    }
}
