//! Logging through tracing: human-readable by default, JSON lines when
//! `WATCHWORD_LOG_FORMAT=json`; the level from `RUST_LOG` (default [`SERVE_DEFAULT`]).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// `serve`'s filter when `RUST_LOG` is unset. actix's HTTP/1 dispatcher logs every
/// connection a client breaks (a request head or URI too long, a malformed request, a
/// reset mid-request) as an ERROR: anyone could fill an operator's alerts with them.
/// The client gets its 400, 414 or 431 all the same. The dispatcher's other lines (a
/// connection that failed while its answer was written) go quiet with them;
/// `RUST_LOG=info` shows them all again.
pub const SERVE_DEFAULT: &str = "info,actix_http::h1::dispatcher=off";

/// Installs the global subscriber. CLI commands other than `serve` log warnings only,
/// so that their stdout stays a clean result.
pub fn init(serving: bool) {
    let default = if serving { SERVE_DEFAULT } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Closing the request span logs one line per request: method, route, status, time.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        // Colours only for a terminal: log files and journals get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if std::env::var("WATCHWORD_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
