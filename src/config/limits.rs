//! The attempt budgets' settings: `[limits]` in the file, `WATCHWORD_LIMIT_<NAME>` in
//! the environment.

use serde::Deserialize;

use super::{ConfigError, bad};
use crate::ephemeral::limiter::{Limits, Rule};

/// `[limits]` in the file; each also `WATCHWORD_LIMIT_<NAME>` in the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLimits {
    password_free_attempts: Option<i64>,
    password_max_delay: Option<i64>,
    ip_failures: Option<i64>,
    ip_window: Option<i64>,
    totp_failures: Option<i64>,
    totp_window: Option<i64>,
    totp_lock: Option<i64>,
    flow_starts: Option<i64>,
}

pub(super) fn read_limits(
    env: &impl Fn(&str) -> Option<String>,
    file: FileLimits,
) -> Result<Limits, ConfigError> {
    let number = |name: &str, from_file: Option<i64>, default: i64, min: i64| -> Result<i64, ConfigError> {
        let setting = format!("WATCHWORD_LIMIT_{name}");
        match env(&setting).filter(|v| !v.is_empty()) {
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= min)
                .ok_or_else(|| bad(&setting, format!("'{raw}' is not a whole number of at least {min}"))),
            None => Ok(from_file.unwrap_or(default)).and_then(|n| {
                if n >= min {
                    Ok(n)
                } else {
                    Err(bad(&format!("limits.{}", name.to_lowercase()), format!("must be at least {min}")))
                }
            }),
        }
    };
    let d = Limits::default();
    let as_u32 = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let password_free =
        number("PASSWORD_FREE_ATTEMPTS", file.password_free_attempts, i64::from(d.password_user_ip.free), 1)?;
    let password_max = number("PASSWORD_MAX_DELAY", file.password_max_delay, d.password_user.max, 1)?;
    let ip_failures = number("IP_FAILURES", file.ip_failures, i64::from(d.password_ip.free) + 1, 1)?;
    let ip_window = number("IP_WINDOW", file.ip_window, d.password_ip.window, 1)?;
    let totp_failures = number("TOTP_FAILURES", file.totp_failures, i64::from(d.totp_user.free) + 1, 1)?;
    let totp_window = number("TOTP_WINDOW", file.totp_window, d.totp_user.window, 1)?;
    let totp_lock = number("TOTP_LOCK", file.totp_lock, d.totp_user.base, 1)?;
    let flow_starts = number("FLOW_STARTS", file.flow_starts, i64::from(d.flow_starts.free) + 1, 1)?;
    // The free attempts are per browser (known or, with its address, unknown); the
    // shared budget of a username across addresses is four times that.
    let per_browser = Rule { free: as_u32(password_free), max: password_max, ..d.password_user_ip };
    Ok(Limits {
        password_user: Rule {
            free: as_u32(password_free.saturating_mul(4)),
            max: password_max,
            ..d.password_user
        },
        password_user_ip: per_browser,
        password_device: per_browser,
        // The attempt that spends the last of the budget starts the block.
        password_ip: Rule {
            free: as_u32(ip_failures - 1),
            window: ip_window,
            base: ip_window,
            max: ip_window,
        },
        totp_user: Rule {
            free: as_u32(totp_failures - 1),
            window: totp_window,
            base: totp_lock,
            max: totp_lock,
        },
        // As with the IP budget, the start that spends the last of it starts the block.
        flow_starts: Rule { free: as_u32(flow_starts - 1), ..d.flow_starts },
    })
}
