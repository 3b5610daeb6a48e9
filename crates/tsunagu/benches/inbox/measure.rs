//! Latency samples: each request timed on its own, percentiles of the lot.
use std::future::Future;
use std::time::Instant;

/// Latencies in ms.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub ms: Vec<f64>,
    pub errors: usize,
}

impl Sample {
    pub fn p(&self, q: f64) -> f64 {
        if self.ms.is_empty() {
            return f64::NAN;
        }
        let mut v = self.ms.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }

    pub fn add(&mut self, other: &Sample) {
        self.ms.extend_from_slice(&other.ms);
        self.errors += other.errors;
    }
}

/// `warm` untimed runs of `f`, then `n` timed ones; a run returning false is an error (counted,
/// and its time still recorded).
pub async fn time<F, Fut>(warm: usize, n: usize, mut f: F) -> Sample
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..warm {
        f().await;
    }
    let mut s = Sample::default();
    for _ in 0..n {
        let t = Instant::now();
        let ok = f().await;
        s.ms.push(t.elapsed().as_secs_f64() * 1e3);
        if !ok {
            s.errors += 1;
        }
    }
    s
}

/// A GET that must answer 200 with a body (read to the end, as a browser does).
pub async fn get(
    http: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
    token: Option<&str>,
) -> bool {
    let mut req = http.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("tsunagu_session={c}"));
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok_and(|b| !b.is_empty()),
        _ => false,
    }
}
