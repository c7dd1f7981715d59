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
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn right(has_active_totp: bool, requirement: Requirement) -> LoginInput {
        LoginInput::Password(PasswordCheck::Right {
            user_id: "u".into(),
            has_active_totp,
            requirement,
            temporary: false,
            remembered: false,
        })
    }

    fn remembered(has_active_totp: bool, temporary: bool) -> LoginInput {
        LoginInput::Password(PasswordCheck::Right {
            user_id: "u".into(),
            has_active_totp,
            requirement: Requirement::Required,
            temporary,
            remembered: true,
        })
    }

    fn temporary(has_active_totp: bool, requirement: Requirement) -> LoginInput {
        LoginInput::Password(PasswordCheck::Right {
            user_id: "u".into(),
            has_active_totp,
            requirement,
            temporary: true,
            remembered: false,
        })
    }

    fn totp_wait(failures: u8) -> LoginState {
        LoginState::AwaitingTotp { user_id: "u".into(), failures, then_choose: false }
    }

    fn choosing(next: AfterChoice) -> LoginState {
        LoginState::ChoosingPassword { user_id: "u".into(), next }
    }

    fn enrolling(required: bool, failures: u8) -> LoginState {
        LoginState::Enrolling { user_id: "u".into(), required, failures }
    }

    fn authed(amr: Amr) -> LoginState {
        LoginState::Authenticated { user_id: "u".into(), amr, auth_time: NOW }
    }

    #[test]
    fn password_step() {
        let start = LoginState::AwaitingPassword { failures: 0 };
        let wrong = LoginInput::Password(PasswordCheck::Wrong);
        assert_eq!(
            step(start.clone(), wrong.clone(), NOW),
            (LoginState::AwaitingPassword { failures: 1 }, Outcome::Retry)
        );
        assert_eq!(
            step(LoginState::AwaitingPassword { failures: 4 }, wrong, NOW),
            (LoginState::Denied, Outcome::Denied)
        );
        for requirement in [Requirement::Required, Requirement::Prompt, Requirement::NotRequired] {
            assert_eq!(step(start.clone(), right(true, requirement), NOW), (totp_wait(0), Outcome::Continue));
        }
        assert_eq!(
            step(start.clone(), right(false, Requirement::Required), NOW),
            (enrolling(true, 0), Outcome::Continue)
        );
        assert_eq!(
            step(start.clone(), right(false, Requirement::Prompt), NOW),
            (LoginState::OfferingEnrolment { user_id: "u".into() }, Outcome::Continue)
        );
        assert_eq!(
            step(start, right(false, Requirement::NotRequired), NOW),
            (authed(Amr::Pwd), Outcome::Done)
        );
    }

    #[test]
    fn not_me_goes_back_to_the_password_from_the_code_step_only() {
        assert_eq!(
            step(totp_wait(3), LoginInput::NotMe, NOW),
            (LoginState::AwaitingPassword { failures: 0 }, Outcome::Continue)
        );
        assert_eq!(step(enrolling(true, 0), LoginInput::NotMe, NOW).1, Outcome::Illegal);
        assert_eq!(step(authed(Amr::PwdOtp), LoginInput::NotMe, NOW).1, Outcome::Illegal);
    }

    #[test]
    fn a_remembered_device_replaces_the_code_and_says_so() {
        let start = LoginState::AwaitingPassword { failures: 0 };
        assert_eq!(
            step(start.clone(), remembered(true, false), NOW),
            (authed(Amr::PwdDevice), Outcome::Done)
        );
        assert_eq!(Amr::PwdDevice.values(), ["pwd", "remembered_device"]);
        assert!(!Amr::PwdDevice.is_multi_factor());
        assert_eq!(Amr::from_stored(&Amr::PwdDevice.to_stored()), Some(Amr::PwdDevice));
        // A temporary password still asks for the code, then for a new password.
        let (next, _) = step(start.clone(), remembered(true, true), NOW);
        assert_eq!(next, LoginState::AwaitingTotp { user_id: "u".into(), failures: 0, then_choose: true });
        // Without an active credential there is no code to replace: enrolment as usual.
        assert_eq!(step(start, remembered(false, false), NOW), (enrolling(true, 0), Outcome::Continue));
    }

    #[test]
    fn totp_step() {
        assert_eq!(
            step(totp_wait(3), LoginInput::Totp { valid: true }, NOW),
            (authed(Amr::PwdOtp), Outcome::Done)
        );
        assert_eq!(
            step(totp_wait(0), LoginInput::Totp { valid: false }, NOW),
            (totp_wait(1), Outcome::Retry)
        );
        assert_eq!(
            step(totp_wait(4), LoginInput::Totp { valid: false }, NOW),
            (LoginState::Denied, Outcome::Denied)
        );
        assert_eq!(
            step(totp_wait(0), LoginInput::RecoveryCode { valid: true }, NOW),
            (authed(Amr::PwdRecovery), Outcome::Done)
        );
        assert_eq!(
            step(totp_wait(2), LoginInput::RecoveryCode { valid: false }, NOW),
            (totp_wait(3), Outcome::Retry)
        );
    }

    #[test]
    fn enrolment_step() {
        let ok_codes = LoginInput::EnrolmentCode { valid: true, codes_issued: true };
        assert_eq!(
            step(enrolling(true, 0), ok_codes, NOW),
            (LoginState::ShowingRecoveryCodes { user_id: "u".into() }, Outcome::Continue)
        );
        let ok = LoginInput::EnrolmentCode { valid: true, codes_issued: false };
        assert_eq!(step(enrolling(true, 0), ok, NOW), (authed(Amr::PwdOtp), Outcome::Done));
        let bad = LoginInput::EnrolmentCode { valid: false, codes_issued: false };
        assert_eq!(step(enrolling(true, 0), bad.clone(), NOW), (enrolling(true, 1), Outcome::Retry));
        assert_eq!(step(enrolling(false, 4), bad, NOW), (LoginState::Denied, Outcome::Denied));
        assert_eq!(step(enrolling(false, 0), LoginInput::Later, NOW), (authed(Amr::Pwd), Outcome::Done));
        assert_eq!(step(enrolling(true, 0), LoginInput::Later, NOW), (enrolling(true, 0), Outcome::Illegal));
        assert_eq!(
            step(LoginState::ShowingRecoveryCodes { user_id: "u".into() }, LoginInput::CodesSaved, NOW),
            (authed(Amr::PwdOtp), Outcome::Done)
        );
    }

    #[test]
    fn a_temporary_password_is_replaced_before_anything_else() {
        let start = LoginState::AwaitingPassword { failures: 0 };
        // Without a credential: choose first, then what policy asked for.
        for (requirement, next) in [
            (Requirement::Required, AfterChoice::Enrol { required: true }),
            (Requirement::Prompt, AfterChoice::Offer),
            (Requirement::NotRequired, AfterChoice::SignIn(Amr::Pwd)),
        ] {
            assert_eq!(
                step(start.clone(), temporary(false, requirement), NOW),
                (choosing(next), Outcome::Continue)
            );
        }
        assert_eq!(
            step(choosing(AfterChoice::Enrol { required: true }), LoginInput::PasswordChosen, NOW),
            (enrolling(true, 0), Outcome::Continue)
        );
        assert_eq!(
            step(choosing(AfterChoice::Offer), LoginInput::PasswordChosen, NOW),
            (LoginState::OfferingEnrolment { user_id: "u".into() }, Outcome::Continue)
        );
        assert_eq!(
            step(choosing(AfterChoice::SignIn(Amr::Pwd)), LoginInput::PasswordChosen, NOW),
            (authed(Amr::Pwd), Outcome::Done)
        );
        // With a credential: the code first (a reset never skips it), then the choice.
        let waiting = LoginState::AwaitingTotp { user_id: "u".into(), failures: 0, then_choose: true };
        assert_eq!(
            step(start, temporary(true, Requirement::NotRequired), NOW),
            (waiting.clone(), Outcome::Continue)
        );
        assert_eq!(
            step(waiting.clone(), LoginInput::Totp { valid: true }, NOW),
            (choosing(AfterChoice::SignIn(Amr::PwdOtp)), Outcome::Continue)
        );
        assert_eq!(
            step(waiting.clone(), LoginInput::RecoveryCode { valid: true }, NOW),
            (choosing(AfterChoice::SignIn(Amr::PwdRecovery)), Outcome::Continue)
        );
        assert_eq!(
            step(waiting, LoginInput::Totp { valid: false }, NOW),
            (
                LoginState::AwaitingTotp { user_id: "u".into(), failures: 1, then_choose: true },
                Outcome::Retry
            )
        );
        // Nothing else moves a flow that must choose a password.
        let must = choosing(AfterChoice::SignIn(Amr::PwdOtp));
        for input in [
            LoginInput::Later,
            LoginInput::CodesSaved,
            LoginInput::SetUpNow,
            LoginInput::Totp { valid: true },
            LoginInput::EnrolmentCode { valid: true, codes_issued: false },
        ] {
            assert_eq!(step(must.clone(), input, NOW), (must.clone(), Outcome::Illegal));
        }
    }

    #[test]
    fn offer_step() {
        let offer = LoginState::OfferingEnrolment { user_id: "u".into() };
        assert_eq!(step(offer.clone(), LoginInput::SetUpNow, NOW), (enrolling(false, 0), Outcome::Continue));
        assert_eq!(step(offer, LoginInput::Later, NOW), (authed(Amr::Pwd), Outcome::Done));
    }

    #[test]
    fn illegal_orders_change_nothing() {
        let cases = [
            (LoginState::AwaitingPassword { failures: 0 }, LoginInput::Totp { valid: true }),
            (LoginState::AwaitingPassword { failures: 0 }, LoginInput::RecoveryCode { valid: true }),
            (
                LoginState::AwaitingPassword { failures: 0 },
                LoginInput::EnrolmentCode { valid: true, codes_issued: false },
            ),
            (LoginState::AwaitingPassword { failures: 0 }, LoginInput::Later),
            (totp_wait(0), right(true, Requirement::Required)),
            (totp_wait(0), LoginInput::Later),
            (totp_wait(0), LoginInput::EnrolmentCode { valid: true, codes_issued: false }),
            (enrolling(true, 0), LoginInput::Totp { valid: true }),
            (enrolling(true, 0), LoginInput::RecoveryCode { valid: true }),
            (LoginState::OfferingEnrolment { user_id: "u".into() }, LoginInput::Totp { valid: true }),
            (LoginState::ShowingRecoveryCodes { user_id: "u".into() }, LoginInput::Later),
            (authed(Amr::Pwd), right(true, Requirement::Required)),
            (authed(Amr::Pwd), LoginInput::Totp { valid: true }),
            (LoginState::Denied, LoginInput::Password(PasswordCheck::Wrong)),
            (LoginState::Denied, LoginInput::Totp { valid: true }),
        ];
        for (state, input) in cases {
            assert_eq!(
                step(state.clone(), input.clone(), NOW),
                (state.clone(), Outcome::Illegal),
                "{state:?} {input:?}"
            );
        }
    }

    #[test]
    fn amr_values_and_storage() {
        assert_eq!(Amr::Pwd.values(), ["pwd"]);
        assert_eq!(Amr::PwdOtp.values(), ["pwd", "otp", "mfa"]);
        assert_eq!(Amr::PwdRecovery.values(), ["pwd", "mfa"]);
        for amr in [Amr::Pwd, Amr::PwdOtp, Amr::PwdRecovery] {
            assert_eq!(Amr::from_stored(&amr.to_stored()), Some(amr));
        }
    }
}
