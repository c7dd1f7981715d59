# The administration pages (/admin): users, one user, creating, revoking, the policy,
# branding and the audit log.

admin-users-title = Users
admin-users-heading = Users below you
admin-nav-users = Users
admin-nav-create = Create user
admin-nav-audit = Audit log
admin-nav-policy = Tenant policy
admin-nav-account = Your account
admin-search-label = Search by username
admin-search = Search
admin-user-count = { $n ->
    [one] 1 user.
   *[other] { $n } users.
}
admin-col-username = Username
admin-col-kind = Kind
admin-col-totp = TOTP
admin-col-enforced = Enforced
admin-col-state = State
admin-previous = Previous
admin-next = Next
admin-back-users = ← Users
admin-back-to-users = Back to users
admin-yes = yes
admin-no = no
admin-kind-internal = internal
admin-kind-external = external
admin-permission-none = none
admin-permission-read = read
admin-permission-create = create
admin-permission-admin = admin
admin-state-active = active
admin-state-disabled = disabled
admin-totp-active = Activated
admin-totp-pending = Pending
admin-totp-none = Not enrolled

# One user
admin-permission = Permission
admin-activated-at = Activated since { $when }
admin-pending-long = Pending (not confirmed yet)
admin-authenticators = Authenticators
admin-code-at-sign-in = Code at sign-in
admin-code-always = Always (an authenticator is active)
admin-must-enrol = Must enrol
admin-offered = Offered
admin-not-required = Not required
admin-required = Required
admin-apps-ask = What each application asks of { $user }
admin-col-application = Application
admin-col-two-step = Two-step verification
admin-col-devices = Remembered devices
admin-devices-off = off for the tenant
admin-devices-refused = refused: always a code
admin-devices-mfa = skip the code, count as multi-factor
admin-devices-single = skip the code, single-factor
admin-revoke-link = Revoke TOTP secret
admin-enforce = Enforce TOTP for this user
admin-save = Save
admin-reset-text = A new temporary password signs { $user } out everywhere; they choose their own at the next sign-in. Their authenticator app stays: they still need its code.
admin-reset-password = Reset password
admin-enable-user = Enable user
admin-disable-user = Disable user
admin-devices-heading = Remembered devices
admin-forget-all = Forget all devices of { $user }
admin-no-devices = None: { $user } gives a code at every sign-in.
admin-create-below = Create a user below { $user }
admin-audit-of = Audit log of { $user }

# Why a code is (not) asked
admin-why-client = the application requires two-step verification
admin-why-installation = TOTP is switched off for the whole installation
admin-why-tenant = TOTP is switched off for this tenant
admin-why-user = TOTP is required for this user
admin-why-tenant_internal = the tenant requires TOTP of internal users
admin-why-tenant_external = the tenant requires TOTP of external users
admin-why-offered_only = not required; offered at the first sign-in
admin-why-nothing = nothing requires it

# Creating a user
admin-new-title = Create user
admin-new-heading = Create a user
admin-created = Created { $user }. Give them this one-time password; it is shown only once:
admin-email = Email (optional)
admin-kind = Kind
admin-permission-label = User-management permission
admin-require-totp = Require TOTP
admin-done-created = Created { $user }.

# Revoking, resetting, confirming
admin-revoke-title = Revoke TOTP secret
admin-revoke-heading = Revoke the TOTP secret of { $user }?
admin-revoke-text = { $user } is signed out everywhere, their recovery codes stop working, and they set up a new authenticator app at their next sign-in if TOTP is required.
admin-reason = Reason
admin-revoke-button = Revoke secret
admin-cancel = Cancel
admin-reset-title = Password reset
admin-reset-heading = Password reset for { $user }
admin-reset-give = Give { $user } this temporary password. It is shown only once.
admin-reset-next = At the next sign-in { $user } must choose a new password. They have been signed out everywhere.
admin-reset-next-code = At the next sign-in { $user } must choose a new password, after giving a code from their authenticator app as usual. They have been signed out everywhere.
admin-back-to = Back to { $user }
admin-confirm-disable-title = Disable this user?
admin-confirm-disable = { $user } will be signed out everywhere and cannot sign in until enabled again.
admin-confirm-enable-title = Enable this user?
admin-confirm-enable = { $user } will be able to sign in again.
admin-confirm-reset-title = Reset this user's password?
admin-confirm-reset = { $user } will be signed out everywhere and must sign in with a new temporary password, shown to you once. Their authenticator app stays.
admin-done-disabled = User disabled and signed out everywhere.
admin-done-enabled = User enabled.
admin-done-reset = Password reset.
admin-done-revoked = TOTP revoked: a new authenticator will be set up at the next sign-in.
admin-done-enforced-on = TOTP is now required for this user.
admin-done-enforced-off = TOTP follows the organisation's policy for this user.
admin-done-devices-forgotten = Every remembered device of this user is forgotten.
admin-done-device-forgotten = Device forgotten.
admin-done-policy = Policy saved.
admin-done-branding = Branding saved.

# Policy and branding
admin-policy-title = Tenant policy
admin-policy-heading = Two-step verification policy
admin-policy-enabled = TOTP enabled in this organisation
admin-policy-enforce-internal = Enforce for internal users
admin-policy-enforce-external = Enforce for external users
admin-policy-prompt = Prompt new users to set up TOTP
admin-policy-recovery = Allow recovery codes
admin-algorithm = Algorithm
admin-digits = Digits
admin-period = Period (seconds)
admin-skew = Accepted steps before and after (skew)
admin-min-length = Shortest password users may choose (characters, 8–128)
admin-remember-days = Days a browser may skip the code after "don't ask again" (1–90; 0: never)
admin-save-policy = Save policy
admin-branding = Branding
admin-brand-name = Organisation name (on every page, and the name authenticator apps show)
admin-logo = Logo (an https address; empty for none)
admin-colour = Colour of buttons and links (#rrggbb, dark enough for white text; empty for the default)
admin-default-language = Language of the pages when the browser asks for none of these
admin-save-branding = Save branding

# The audit log
admin-audit-title = Audit log
admin-event = Event
admin-all-events = All events
admin-from-day = From (day, UTC)
admin-to-day = To (day, UTC)
admin-filter = Filter
admin-col-when = When
admin-col-what = What happened
admin-col-detail = Detail
admin-col-from = From
admin-newer = ← Newer
admin-older = Older →
admin-page = Page { $n }
admin-audit-pages = Pages of the audit log
admin-system = The system
admin-someone = someone

# Refusals and errors
admin-not-allowed = Not allowed
admin-no-such-user = No such user
admin-no-such-user-text = That user does not exist.
admin-check-input = Please check your input
admin-not-admin = Not an administrator
admin-not-admin-text = Your account does not manage other users.
admin-denied-itself = You cannot do this to your own account.
admin-denied-outside = That user is not below you.
admin-denied-permission = Your user-management permission does not allow this.
admin-denied-not-root = Only a tenant's top-level administrators change its settings (policy, branding, clients).
admin-duplicate = The username { $user } is already taken in this organisation.

# The audit log's sentences: `admin-event-` and the event's name (dots and
# underscores as hyphens); $actor did it, $target is the user it concerns.
admin-event-password-ok = { $target } gave the right password
admin-event-password-failed = A wrong password for { $target }
admin-event-password-throttled = Password attempts for { $target } held back: too many
admin-event-password-changed = { $target } changed their password
admin-event-password-change-failed = { $target } could not change their password
admin-event-password-reset = { $actor } reset the password of { $target }
admin-event-password-likely-compromised = { $target } uses a password found in breaches
admin-event-password-hashing-overloaded = Sign-ins refused: password checking was at capacity
admin-event-totp-ok = { $target } gave a right code
admin-event-totp-failed = A wrong code for { $target }
admin-event-totp-locked = Codes for { $target } locked after too many wrong ones
admin-event-totp-replay-blocked = A code of { $target } used twice was refused
admin-event-totp-enrolment-started = { $target } began setting up an authenticator
admin-event-totp-activated = { $target } set up an authenticator
admin-event-totp-replaced = { $target } replaced their authenticator
admin-event-totp-removed = { $target } removed an authenticator
admin-event-totp-revoked = { $actor } revoked the TOTP secret of { $target }
admin-event-totp-enforcement-on = { $actor } required TOTP of { $target }
admin-event-totp-enforcement-off = { $actor } left TOTP for { $target } to the policy
admin-event-totp-imported = { $actor } imported an authenticator of { $target }
admin-event-totp-exported = { $actor } exported TOTP secrets
admin-event-recovery-code-used = { $target } used a recovery code
admin-event-recovery-codes-generated = Recovery codes were made for { $target }
admin-event-recovery-codes-regenerated = { $target } made new recovery codes
admin-event-session-ended = A session of { $target } ended
admin-event-session-ended-others = { $target } signed out their other browsers
admin-event-device-remembered = A browser of { $target } is remembered
admin-event-device-forgotten = { $actor } forgot a remembered browser of { $target }
admin-event-device-forgotten-all = Every remembered browser of { $target } was forgotten
admin-event-user-created = { $actor } created { $target }
admin-event-user-create-conflict = { $actor } tried to create a username that is taken
admin-event-user-disabled = { $actor } disabled { $target }
admin-event-user-enabled = { $actor } enabled { $target }
admin-event-user-imported = { $actor } imported { $target }
admin-event-tenant-created = The organisation was created
admin-event-tenant-policy-changed = { $actor } changed the policy
admin-event-tenant-branding-changed = { $actor } changed the branding
admin-event-client-created = { $actor } registered an application
admin-event-oauth-code-reused = An authorization code of { $target } was used twice: its tokens are revoked
admin-event-oauth-refresh-reused = A refresh token of { $target } was used twice: its family is revoked
admin-event-oauth-refresh-answer-lost = A token refresh of { $target } was answered but not received

# Clients (relying parties)
admin-nav-clients = Clients
admin-clients-title = Clients
admin-back-clients = ← Clients
admin-client-name = Name
admin-client-id = Client ID
admin-client-kind = Kind
admin-client-public = public
admin-client-confidential = confidential
admin-client-register = Register a client
admin-client-redirect-uris = Redirect URIs (one per line, exactly as the application sends them)
admin-client-logout-uris = Post-logout redirect URIs (one per line)
admin-client-backchannel-uri = Back-channel logout URI (told when a session it got tokens in ends; empty: not told)
admin-client-backchannel-sid = It needs the session id (sid) in logout tokens
admin-client-public-label = Public client (no secret; a browser or mobile app, PKCE required)
admin-client-trusted = Trusted: no consent page
admin-client-require-mfa = Every sign-in through it needs a code
admin-client-remembered = Its users may skip the code on a remembered device
admin-client-remembered-mfa = A remembered device counts as multi-factor
admin-client-id-token-alg = ID token signing algorithm
admin-client-access-token-alg = Access token signing algorithm
admin-client-scopes = Scopes a client credentials grant may ask for (space-separated)
admin-client-save = Save client
admin-client-secret-once = The client secret, shown this once — copy it now:
admin-client-grace = A new secret replaces this one; the old one keeps working for { $minutes } minutes.
admin-client-rotate = Make a new secret
admin-client-disable = Disable client
admin-client-enable = Enable client
admin-client-delete = Delete client
admin-client-delete-title = Delete this client?
admin-client-delete-message = “{ $client }” will be deleted with its codes, refresh tokens and consents. This cannot be undone.
admin-client-created = Client registered.
admin-client-saved = Client saved.
admin-client-rotated = New secret made.
admin-client-disabled = Client disabled; its refresh tokens are revoked.
admin-client-enabled = Client enabled.
admin-client-deleted = Client deleted.
admin-client-unknown = No such client.
admin-done-profile = The profile has been saved.
admin-edit-profile = Edit profile
