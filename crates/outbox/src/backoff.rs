//! Exponential backoff with jitter, honouring a provider's Retry-After.
use rand::Rng;
use std::time::Duration;

/// The wait before attempt `attempt + 1` (attempts count from 1): 2 s · 2^(attempt−1), capped
/// at one hour, scaled by a random factor in [0.5, 1.0] so retries of many jobs spread out; never
/// shorter than the provider's Retry-After.
pub fn delay(attempt: i64, retry_after: Option<Duration>) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let base_ms = (2_000u64.saturating_mul(1u64 << exp)).min(3_600_000);
    let jittered = (base_ms as f64 * rand::thread_rng().gen_range(0.5..=1.0)) as u64;
    let d = Duration::from_millis(jittered);
    match retry_after {
        Some(r) if r > d => r,
        _ => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        assert!(delay(1, None) <= Duration::from_secs(2));
        assert!(delay(1, None) >= Duration::from_secs(1));
        assert!(delay(5, None) >= Duration::from_secs(16));
        assert!(delay(40, None) <= Duration::from_secs(3600));
    }

    #[test]
    fn retry_after_is_honoured() {
        assert!(delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }
}
