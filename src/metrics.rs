//! What operators measure, in Prometheus' text format (the `prometheus` crate, one
//! registry per server), served only on the management listener. The names and labels
//! are documented in the README; a new metric is added there too.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The factors a sign-in checks, and what a check can come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Password,
    Totp,
    Recovery,
    Enrolment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Ok,
    Wrong,
    Replay,
    Locked,
    Throttled,
}

impl Factor {
    fn label(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Totp => "totp",
            Self::Recovery => "recovery",
            Self::Enrolment => "enrolment",
        }
    }
}

impl Check {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Wrong => "wrong",
            Self::Replay => "replay",
            Self::Locked => "locked",
            Self::Throttled => "throttled",
        }
    }
}

/// The server's metrics. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    logins: IntCounterVec,
    factor_checks: IntCounterVec,
    tokens: IntCounterVec,
    requests: HistogramVec,
    dependency_errors: IntCounterVec,
    hash_queue: IntGauge,
    hash_refused: IntCounter,
    hash_wait: prometheus::Histogram,
    limiter_refusals: IntCounterVec,
    active_flows: IntGauge,
    flows_started: IntCounter,
}

/// What the metrics read from elsewhere at each scrape.
#[derive(Debug, Default)]
pub struct Readings {
    /// argon2id jobs waiting, and requests refused because the queue was full.
    pub hash_queued: usize,
    pub hash_refused: u64,
    /// Attempts each kind of budget refused since start.
    pub limiter_refusals: Vec<(&'static str, u64)>,
    /// Live sign-in flows (none when the store could not be asked).
    pub active_flows: Option<usize>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[expect(
        clippy::expect_used,
        reason = "constant names and labels: a failure is a bug caught by every test"
    )]
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("metric");
            registry.register(Box::new(c.clone())).expect("register");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("metric");
            registry.register(Box::new(g.clone())).expect("register");
            g
        };
        let logins = counter(
            "watchword_logins_total",
            "Sign-ins that ended: success, denied (too many wrong attempts) or refused (the account changed meanwhile).",
            &["tenant", "outcome"],
        );
        let factor_checks = counter(
            "watchword_factor_checks_total",
            "Checks of a sign-in factor by outcome.",
            &["factor", "outcome"],
        );
        let tokens = counter("watchword_tokens_issued_total", "Token responses by grant type.", &["grant"]);
        let dependency_errors = counter(
            "watchword_dependency_errors_total",
            "Requests answered 503 because the database or Redis failed or was busy.",
            &["kind"],
        );
        let requests = HistogramVec::new(
            HistogramOpts::new("watchword_http_request_duration_seconds", "HTTP requests by route.")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["route", "method", "status"],
        )
        .expect("metric");
        registry.register(Box::new(requests.clone())).expect("register");
        let hash_queue = gauge("watchword_hash_queue_depth", "argon2id jobs waiting for a worker.");
        let hash_refused = IntCounter::new(
            "watchword_hash_refused_total",
            "Sign-ins refused with 503 because the hashing queue was full.",
        )
        .expect("metric");
        registry.register(Box::new(hash_refused.clone())).expect("register");
        let hash_wait = prometheus::Histogram::with_opts(
            HistogramOpts::new("watchword_hash_wait_seconds", "Time argon2id jobs waited for a worker.")
                .buckets(vec![0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        )
        .expect("metric");
        registry.register(Box::new(hash_wait.clone())).expect("register");
        let limiter_refusals = counter(
            "watchword_limiter_refusals_total",
            "Attempts refused by a limiter budget (pw, pwip, ip, totp, flows, flow), by this instance.",
            &["budget"],
        );
        let active_flows = gauge("watchword_active_flows", "Sign-in flows live in the ephemeral store.");
        let flows_started =
            IntCounter::new("watchword_flows_started_total", "Sign-in flows started.").expect("metric");
        registry.register(Box::new(flows_started.clone())).expect("register");
        Self {
            registry,
            logins,
            factor_checks,
            tokens,
            requests,
            dependency_errors,
            hash_queue,
            hash_refused,
            hash_wait,
            limiter_refusals,
            active_flows,
            flows_started,
        }
    }

    /// How long an argon2id job waited for a worker.
    pub fn hash_wait(&self, waited: Duration) {
        self.hash_wait.observe(waited.as_secs_f64());
    }

    pub fn login(&self, tenant: &str, outcome: &str) {
        self.logins.with_label_values(&[tenant, outcome]).inc();
    }

    pub fn factor(&self, factor: Factor, check: Check) {
        self.factor_checks.with_label_values(&[factor.label(), check.label()]).inc();
    }

    pub fn token(&self, grant: &str) {
        self.tokens.with_label_values(&[grant]).inc();
    }

    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let status = format!("{}xx", status / 100);
        self.requests.with_label_values(&[route, method, &status]).observe(took.as_secs_f64());
    }

    pub fn dependency_error(&self, kind: &str) {
        self.dependency_errors.with_label_values(&[kind]).inc();
    }

    pub fn flow_started(&self) {
        self.flows_started.inc();
    }

    /// The exposition, with what is read elsewhere taken now.
    pub fn render(&self, readings: &Readings) -> String {
        self.hash_queue.set(i64::try_from(readings.hash_queued).unwrap_or(i64::MAX));
        // The pool and the store count refusals; the counters catch up at each scrape
        // (still counters: they only grow).
        self.hash_refused.inc_by(readings.hash_refused.saturating_sub(self.hash_refused.get()));
        for (budget, refused) in &readings.limiter_refusals {
            let counter = self.limiter_refusals.with_label_values(&[budget]);
            counter.inc_by(refused.saturating_sub(counter.get()));
        }
        if let Some(flows) = readings.active_flows {
            self.active_flows.set(i64::try_from(flows).unwrap_or(i64::MAX));
        }
        let mut out = Vec::new();
        if TextEncoder::new().encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_exposed_in_the_text_format() {
        let m = Metrics::new();
        m.login("t1", "success");
        m.factor(Factor::Totp, Check::Replay);
        m.token("authorization_code");
        m.request("/token", "POST", 200, Duration::from_millis(3));
        m.hash_wait(Duration::from_millis(7));
        let readings = Readings {
            hash_queued: 2,
            hash_refused: 5,
            limiter_refusals: vec![("totp", 3), ("pw", 0)],
            active_flows: Some(4),
        };
        let text = m.render(&readings);
        assert!(text.contains("watchword_logins_total{outcome=\"success\",tenant=\"t1\"} 1"), "{text}");
        assert!(
            text.contains("watchword_factor_checks_total{factor=\"totp\",outcome=\"replay\"} 1"),
            "{text}"
        );
        assert!(text.contains("watchword_tokens_issued_total{grant=\"authorization_code\"} 1"), "{text}");
        assert!(text.contains("watchword_http_request_duration_seconds_count{method=\"POST\",route=\"/token\",status=\"2xx\"} 1"), "{text}");
        assert!(
            text.contains("watchword_hash_queue_depth 2") && text.contains("watchword_hash_refused_total 5"),
            "{text}"
        );
        assert!(text.contains("watchword_hash_wait_seconds_count 1"), "{text}");
        assert!(text.contains("watchword_limiter_refusals_total{budget=\"totp\"} 3"), "{text}");
        assert!(text.contains("watchword_active_flows 4"), "{text}");
        // A later scrape with more refusals: the counter catches up, never doubles.
        let text = m.render(&Readings { limiter_refusals: vec![("totp", 4)], ..readings });
        assert!(text.contains("watchword_limiter_refusals_total{budget=\"totp\"} 4"), "{text}");
    }
}
