//! The state machine's steps, state by state, and the orders it refuses.

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
    assert_eq!(step(start, right(false, Requirement::NotRequired), NOW), (authed(Amr::Pwd), Outcome::Done));
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
    assert_eq!(step(start.clone(), remembered(true, false), NOW), (authed(Amr::PwdDevice), Outcome::Done));
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
    assert_eq!(step(totp_wait(0), LoginInput::Totp { valid: false }, NOW), (totp_wait(1), Outcome::Retry));
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
        (LoginState::AwaitingTotp { user_id: "u".into(), failures: 1, then_choose: true }, Outcome::Retry)
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
