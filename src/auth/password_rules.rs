//! What a chosen password must be: at least the tenant's minimum length, at most
//! [`MAX_LEN`] bytes, not the username, and not guessable.
//!
//! "Not guessable" is zxcvbn's estimate (the `zxcvbn` crate, a port of Dropbox's
//! estimator) at score 3 or more — fewer than 10^10 guesses is refused. Chosen over a
//! shipped top-N list because its 30,000-entry common-password list is only one of its
//! matchers: it also catches dictionary words, names, keyboard walks, repeats, dates and
//! l33t variants of all of them, and the user's own username and e-mail — the passwords
//! a list misses by one character. It looks at the first 100 characters only, so its
//! cost is bounded (well under a millisecond for typical input), and it runs off the
//! async threads all the same.

use crate::auth::password::{MAX_LEN, Password};

/// The minimum length when a tenant sets none (NIST SP 800-63B asks for at least 8;
/// 12 is OWASP's recommendation for passwords used without a second factor).
pub const DEFAULT_MIN_LENGTH: i32 = 12;
/// The range a tenant may choose its minimum from.
pub const MIN_LENGTH_RANGE: std::ops::RangeInclusive<i32> = 8..=128;

/// Why a new password is refused; the text is shown to the user as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("The new password and its confirmation differ.")]
    Mismatch,
    #[error("Use at least {0} characters.")]
    TooShort(usize),
    #[error("Use at most {MAX_LEN} bytes.")]
    TooLong,
    #[error("The password must not be your username.")]
    IsUsername,
    #[error("The new password must differ from the current one.")]
    Unchanged,
    #[error("This password is too easy to guess{0}. A few unrelated words make a strong one.")]
    Guessable(String),
}

/// The rules of one tenant, for one user.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub min_length: i32,
    pub username: &'a str,
    pub email: Option<&'a str>,
}

impl Rules<'_> {
    /// Checks a new password typed twice. Cheap checks first; the estimate last.
    /// (That it differs from the current password needs the hash: see the callers.)
    pub fn check(&self, new: &str, confirm: &str) -> Result<Password, RuleError> {
        if new.len() > MAX_LEN {
            return Err(RuleError::TooLong);
        }
        if new != confirm {
            return Err(RuleError::Mismatch);
        }
        let min = usize::try_from(self.min_length.clamp(*MIN_LENGTH_RANGE.start(), *MIN_LENGTH_RANGE.end()))
            .unwrap_or(12);
        if new.chars().count() < min {
            return Err(RuleError::TooShort(min));
        }
        if new.trim().to_lowercase() == self.username.trim().to_lowercase() {
            return Err(RuleError::IsUsername);
        }
        let inputs: Vec<&str> = [Some(self.username), self.email].into_iter().flatten().collect();
        let estimate = zxcvbn::zxcvbn(new, &inputs);
        if estimate.score() < zxcvbn::Score::Three {
            let why = estimate
                .feedback()
                .and_then(zxcvbn::feedback::Feedback::warning)
                .map(|w| format!(" ({})", w.to_string().trim_end_matches('.').to_lowercase()))
                .unwrap_or_default();
            return Err(RuleError::Guessable(why));
        }
        Password::parse(new.to_owned()).map_err(|_| RuleError::TooShort(min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules<'static> {
        Rules { min_length: 12, username: "alice.smith", email: Some("alice@example.com") }
    }

    #[test]
    fn refuses_short_long_mismatched_and_username() {
        assert_eq!(rules().check("short", "short").unwrap_err(), RuleError::TooShort(12));
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(rules().check(&long, &long).unwrap_err(), RuleError::TooLong);
        assert_eq!(rules().check("a b c d e f g h", "a b c d e f g i").unwrap_err(), RuleError::Mismatch);
        let r = Rules { min_length: 8, username: "Correct-Horse-Battery", email: None };
        assert_eq!(
            r.check("correct-horse-battery", "correct-horse-battery").unwrap_err(),
            RuleError::IsUsername
        );
        // A tenant minimum outside the allowed range is clamped.
        let r = Rules { min_length: 2, username: "u", email: None };
        assert_eq!(r.check("abc", "abc").unwrap_err(), RuleError::TooShort(8));
    }

    #[test]
    fn refuses_common_and_derived_passwords() {
        for weak in ["password1234", "Password123!", "qwertyuiop12", "alice.smith2024", "111111111111"] {
            assert!(matches!(rules().check(weak, weak), Err(RuleError::Guessable(_))), "{weak}");
        }
    }

    #[test]
    fn accepts_strong_and_generated_passwords() {
        for strong in ["tapir violet quarry lantern", "vK8#pQ2!mZ7@wL4$", &crate::random::password()] {
            assert!(rules().check(strong, strong).is_ok(), "{strong}");
        }
    }
}
