# The sign-in pages: password, code, recovery code, enrolment, offer, new password,
# recovery codes, consent. English is the fallback for every other language.

site-name = Watchword
language-switch = Deutsch
language-switch-lang = de

sign-in = Sign in
sign-in-to = Sign in to { $app }
username = Username
password = Password

code-title = Authentication code
code-heading = Two-step verification
continuing-to = Continuing to { $app }.
code-instruction = Open your authenticator app and enter the { $digits }-digit code it shows for { $issuer }.
remember-device = { $days ->
    [one] Don't ask for a code on this device for 1 day
   *[other] Don't ask for a code on this device for { $days } days
}
verify = Verify
use-recovery-code = Use a recovery code instead
signing-in-as = Signing in as
not-you = Not you? Start again

recovery-title = Recovery code
recovery-heading = Use a recovery code
recovery-instruction = Enter one of the recovery codes you saved when you set up your authenticator app. Each code works once.
recovery-code = Recovery code
use-authenticator = Use your authenticator app instead

enrol-title = Set up your authenticator app
enrol-step-open = Open an authenticator app on your phone (for example FreeOTP, Aegis, Google or Microsoft Authenticator).
enrol-step-scan = Scan this QR code, or enter the key below by hand.
enrol-step-type = Type the { $digits }-digit code the app shows to finish.
enrol-account-at = Account { $account } at { $issuer }
enrol-key = Key to type (spaces do not matter):
enrol-type = Type: time-based · { $algorithm } · { $digits } digits · every { $period } seconds
enrol-open-app = Open in an authenticator app on this device
later = Later

offer-title = Protect your account
offer-text = Add two-step verification: after your password, you will type a code from an authenticator app on your phone.
set-up-now = Set up now

choose-title = Choose a new password
choose-text = Your password was set by someone else. Choose your own before you go on: it is used only here, and nobody else will know it.
new-password = New password
new-password-hint = At least { $min } characters. A few unrelated words make a strong password that is easy to remember.
new-password-again = New password again
save-and-continue = Save and continue

codes-title = Recovery codes
codes-heading = Save your recovery codes
codes-text = If you lose your phone, each of these codes lets you sign in once instead of an authentication code. Store them somewhere safe.
codes-once = They are shown only this once.
codes-download = Download them as a text file
codes-download-rest = — or print this page, or copy them into a password manager.
codes-gone = Your recovery codes were shown once already. If you did not save them, create new ones from your account page.
codes-saved = I have saved these

consent-title = Allow access
consent-heading = Allow { $app }?
consent-asks = asks to sign you in
consent-asks-and = and to see:
scope-profile = your name, username, language and time zone
scope-email = your email address
scope-phone = your phone number
scope-address = your postal address
scope-admin = to manage the users below you, with your permissions
scope-offline = your account while you are away (stays signed in)
allow = Allow
deny = Deny

# Messages of the sign-in.
invalid-password = Invalid username or password
invalid-code = Invalid code
reused-code = That code was already used. Wait for the next one in your app and enter it.
locked = Too many wrong codes: codes for this account (recovery codes too) are refused for { $wait } more, until { $until }.
stopped = This sign-in has been stopped after too many wrong attempts.
stopped-locked = { stopped } { $locked } Then start again from the application.
stopped-plain = { stopped } Go back to the application and start again.
too-many-attempts = Too many attempts
cannot-finish = This sign-in cannot finish
account-changed = Your account changed while you were signing in (or cannot be used now). Start again from the application.
sign-in-gone = What this sign-in was for no longer exists (the application was removed, say). Start again from the application.
sign-in-again = Sign in again
expired-title = Your sign-in has expired
expired-text = Sign-in pages are valid for ten minutes. Go back to the application you came from and start again.
form-expired-title = This form has expired
form-expired-text = The form was not sent by this sign-in page, or it has expired. Go back, reload the page and try again.
go-to-account = Go to your account

wait-seconds = { $n ->
    [one] 1 second
   *[other] { $n } seconds
}
wait-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}

# Error pages
unavailable-title = Temporarily unavailable
unavailable-text = Sign-in is temporarily unavailable. Please try again in a moment.
throttled-text = Too many attempts. Please wait { $wait } before trying again.
busy-title = Busy
busy-text = Sign-in is very busy right now. Please try again in a few seconds.
internal-title = Something went wrong
internal-text = Please try again later.
bad-form-title = Something is wrong with that form
bad-form-text = It could not be read. Go back, reload the page and try again.
too-large-title = That form is too large
too-large-text = Go back and try again with shorter input.
bad-character-title = Something is wrong with that request
bad-character-text = It contains a character that is not allowed. Go back and try again.
not-found-title = Page not found
not-found-text = There is nothing at this address.
starting-text = Watchword is starting and cannot reach its database yet. Please try again in a moment.
link-invalid-title = This sign-in link is not valid
link-bad-redirect = The redirect URI is not valid.
link-no-client = The request names no client (client_id is missing).
link-unknown-client = The application that sent you here is not known to Watchword.
link-request-uri-gone = This sign-in link has expired or was already used. Go back to the application and start again.
link-request-uri-client = This sign-in link was made for another application.
link-no-redirect = The application sent you here without saying where to return (redirect_uri is missing).
link-unregistered-redirect = The application sent you here with a return address it has not registered.
signout-invalid-title = This sign-out link is not valid
signout-foreign-token = The sign-out request carries an ID token Watchword did not issue.
signout-other-issuer = The sign-out request carries an ID token of another issuer.
signout-client-mismatch = client_id does not match the ID token.
signout-needs-hint = A return address needs an id_token_hint or client_id.
signout-unregistered = The application asked to return to an address it has not registered.
