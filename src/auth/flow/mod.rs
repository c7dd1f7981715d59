//! The login state machine: one enum of states, each holding exactly what that step
//! knows, advanced by the pure [`step`]. I/O (password hashes, TOTP checks, storage)
//! happens around it; `step` receives the verified facts and decides what comes next.

use serde::{Deserialize, Serialize};

use crate::tenancy::policy::Requirement;

/// Wrong codes (TOTP, enrolment or recovery) or passwords allowed in one flow.
pub const MAX_FAILURES: u8 = 5;

/// Authentication methods (RFC 8176), in the order they appear in `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Amr {
    /// Password only: `["pwd"]`.
    Pwd,
    /// Password and a TOTP code: `["pwd","otp","mfa"]`.
    PwdOtp,
    /// Password and a recovery code: `["pwd","mfa"]` — no `otp`, so an app can tell.
    PwdRecovery,
    /// Password on a browser remembered after an earlier code (see
    /// [`crate::auth::remembered`]): `["pwd","remembered_device"]` — single-factor.
    PwdDevice,
}

impl Amr {
    pub fn values(self) -> &'static [&'static str] {
        match self {
            Self::Pwd => &["pwd"],
            Self::PwdOtp => &["pwd", "otp", "mfa"],
            Self::PwdRecovery => &["pwd", "mfa"],
            Self::PwdDevice => &["pwd", crate::auth::remembered::AMR_VALUE],
        }
    }

    pub fn is_multi_factor(self) -> bool {
        matches!(self, Self::PwdOtp | Self::PwdRecovery)
    }

    /// The stored form: the values joined by spaces.
    pub fn to_stored(self) -> String {
        self.values().join(" ")
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        [Self::Pwd, Self::PwdOtp, Self::PwdRecovery, Self::PwdDevice]
            .into_iter()
            .find(|a| a.to_stored() == raw)
    }
}

/// Where a login is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state")]
pub enum LoginState {
    /// Waiting for username and password.
    AwaitingPassword { failures: u8 },
    /// The password was right and the user has an active credential: waiting for a code.
    /// `then_choose`: the password was temporary, so a new one is chosen after the code.
    AwaitingTotp {
        user_id: String,
        failures: u8,
        #[serde(default)]
        then_choose: bool,
    },
    /// The password was right but temporary (someone else chose it): a new one must be
    /// chosen before anything else — before enrolment, before any session or code.
    ChoosingPassword { user_id: String, next: AfterChoice },
    /// The password was right and the user must (or chose to) enrol: the pending
    /// credential's QR is shown until its first right code.
    Enrolling { user_id: String, required: bool, failures: u8 },
    /// The password was right; TOTP is optional and the tenant prompts new users.
    OfferingEnrolment { user_id: String },
    /// A credential was just activated and its recovery codes shown once; waiting for
    /// "I have saved these".
    ShowingRecoveryCodes { user_id: String },
    /// Signed in.
    Authenticated { user_id: String, amr: Amr, auth_time: i64 },
    /// Too many failures; the flow is over.
    Denied,
}

/// Where a login goes once a temporary password has been replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AfterChoice {
    /// Signed in with these methods (the code, if any, was already given).
    SignIn(Amr),
    /// Enrolment, as policy decided at the password step.
    Enrol {
        required: bool,
    },
    Offer,
}

/// The verified result of the password step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Unknown user, wrong password or disabled account: indistinguishable on purpose.
    Wrong,
    Right {
        user_id: String,
        has_active_totp: bool,
        requirement: Requirement,
        /// The password was chosen by someone else and must be replaced now.
        temporary: bool,
        /// The browser is a remembered device of this user that may replace the code.
        remembered: bool,
    },
}

/// What the user did, with its verification already done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginInput {
    Password(PasswordCheck),
    Totp {
        valid: bool,
    },
    RecoveryCode {
        valid: bool,
    },
    /// A code for the pending credential; `codes_issued` when recovery codes were made.
    EnrolmentCode {
        valid: bool,
        codes_issued: bool,
    },
    SetUpNow,
    Later,
    CodesSaved,
    /// The temporary password has been replaced by one the user chose.
    PasswordChosen,
    /// "Not you?" on the code page: back to the password step, as someone else.
    NotMe,
}

/// What the caller should do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Show the page of the new state.
    Continue,
    /// Show the same page again with the generic error.
    Retry,
    /// Signed in: finish the flow.
    Done,
    /// Too many failures: end the flow.
    Denied,
    /// This input does not belong to this state: nothing changed.
    Illegal,
}

fn failed(failures: u8, next: impl FnOnce(u8) -> LoginState) -> (LoginState, Outcome) {
    let failures = failures.saturating_add(1);
    if failures >= MAX_FAILURES {
        (LoginState::Denied, Outcome::Denied)
    } else {
        (next(failures), Outcome::Retry)
    }
}

fn signed_in(user_id: String, amr: Amr, now: i64) -> (LoginState, Outcome) {
    (LoginState::Authenticated { user_id, amr, auth_time: now }, Outcome::Done)
}

/// Advances a login by one input.
pub fn step(state: LoginState, input: LoginInput, now: i64) -> (LoginState, Outcome) {
    use LoginInput as I;
    use LoginState as S;
    match (state, input) {
        (S::AwaitingPassword { failures }, I::Password(PasswordCheck::Wrong)) => {
            failed(failures, |failures| S::AwaitingPassword { failures })
        }
        (
            S::AwaitingPassword { .. },
            I::Password(PasswordCheck::Right {
                user_id,
                has_active_totp,
                requirement,
                temporary,
                remembered,
            }),
        ) => match (has_active_totp, temporary, requirement) {
            // A temporary password (someone else knows it) always asks for the code.
            (true, false, _) if remembered => signed_in(user_id, Amr::PwdDevice, now),
            (true, then_choose, _) => {
                (S::AwaitingTotp { user_id, failures: 0, then_choose }, Outcome::Continue)
            }
            (false, true, requirement) => {
                let next = match requirement {
                    Requirement::Required => AfterChoice::Enrol { required: true },
                    Requirement::Prompt => AfterChoice::Offer,
                    Requirement::NotRequired => AfterChoice::SignIn(Amr::Pwd),
                };
                (S::ChoosingPassword { user_id, next }, Outcome::Continue)
            }
            (false, false, Requirement::Required) => {
                (S::Enrolling { user_id, required: true, failures: 0 }, Outcome::Continue)
            }
            (false, false, Requirement::Prompt) => (S::OfferingEnrolment { user_id }, Outcome::Continue),
            (false, false, Requirement::NotRequired) => signed_in(user_id, Amr::Pwd, now),
        },
        (S::AwaitingTotp { user_id, then_choose: true, .. }, I::Totp { valid: true }) => {
            (S::ChoosingPassword { user_id, next: AfterChoice::SignIn(Amr::PwdOtp) }, Outcome::Continue)
        }
        (S::AwaitingTotp { user_id, then_choose: true, .. }, I::RecoveryCode { valid: true }) => {
            (S::ChoosingPassword { user_id, next: AfterChoice::SignIn(Amr::PwdRecovery) }, Outcome::Continue)
        }
        (S::AwaitingTotp { user_id, .. }, I::Totp { valid: true }) => signed_in(user_id, Amr::PwdOtp, now),
        (S::AwaitingTotp { user_id, .. }, I::RecoveryCode { valid: true }) => {
            signed_in(user_id, Amr::PwdRecovery, now)
        }
        (
            S::AwaitingTotp { user_id, failures, then_choose },
            I::Totp { valid: false } | I::RecoveryCode { valid: false },
        ) => failed(failures, |failures| S::AwaitingTotp { user_id, failures, then_choose }),
        (S::ChoosingPassword { user_id, next }, I::PasswordChosen) => match next {
            AfterChoice::SignIn(amr) => signed_in(user_id, amr, now),
            AfterChoice::Enrol { required } => {
                (S::Enrolling { user_id, required, failures: 0 }, Outcome::Continue)
            }
            AfterChoice::Offer => (S::OfferingEnrolment { user_id }, Outcome::Continue),
        },
        (S::Enrolling { user_id, .. }, I::EnrolmentCode { valid: true, codes_issued }) => {
            if codes_issued {
                (S::ShowingRecoveryCodes { user_id }, Outcome::Continue)
            } else {
                signed_in(user_id, Amr::PwdOtp, now)
            }
        }
        (S::Enrolling { user_id, required, failures }, I::EnrolmentCode { valid: false, .. }) => {
            failed(failures, |failures| S::Enrolling { user_id, required, failures })
        }
        (S::Enrolling { user_id, required: false, .. }, I::Later) => signed_in(user_id, Amr::Pwd, now),
        (S::OfferingEnrolment { user_id }, I::SetUpNow) => {
            (S::Enrolling { user_id, required: false, failures: 0 }, Outcome::Continue)
        }
        (S::OfferingEnrolment { user_id }, I::Later) => signed_in(user_id, Amr::Pwd, now),
        (S::ShowingRecoveryCodes { user_id }, I::CodesSaved) => signed_in(user_id, Amr::PwdOtp, now),
        (S::AwaitingTotp { .. }, I::NotMe) => (S::AwaitingPassword { failures: 0 }, Outcome::Continue),
        (state, _) => (state, Outcome::Illegal),
    }
}

#[cfg(test)]
mod tests;
