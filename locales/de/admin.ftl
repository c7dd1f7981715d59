# Die Verwaltungsseiten (/admin): Benutzer, ein Benutzer, Anlegen, Widerrufen, die
# Richtlinie, das Erscheinungsbild und das Protokoll.

admin-users-title = Benutzer
admin-users-heading = Ihre Benutzer
admin-nav-users = Benutzer
admin-nav-create = Benutzer anlegen
admin-nav-audit = Protokoll
admin-nav-policy = Richtlinie der Organisation
admin-nav-account = Ihr Konto
admin-search-label = Nach Benutzername suchen
admin-search = Suchen
admin-user-count = { $n ->
    [one] 1 Benutzer.
   *[other] { $n } Benutzer.
}
admin-col-username = Benutzername
admin-col-kind = Art
admin-col-totp = TOTP
admin-col-enforced = Erzwungen
admin-col-state = Zustand
admin-previous = Zurück
admin-next = Weiter
admin-back-users = ← Benutzer
admin-back-to-users = Zurück zu den Benutzern
admin-yes = ja
admin-no = nein
admin-kind-internal = intern
admin-kind-external = extern
admin-permission-none = keine
admin-permission-read = lesen
admin-permission-create = anlegen
admin-permission-admin = verwalten
admin-state-active = aktiv
admin-state-disabled = gesperrt
admin-totp-active = Eingerichtet
admin-totp-pending = Ausstehend
admin-totp-none = Nicht eingerichtet

# Ein Benutzer
admin-permission = Berechtigung
admin-activated-at = Eingerichtet seit { $when }
admin-pending-long = Ausstehend (noch nicht bestätigt)
admin-authenticators = Authenticator-Apps
admin-code-at-sign-in = Code bei der Anmeldung
admin-code-always = Immer (eine Authenticator-App ist eingerichtet)
admin-must-enrol = Muss eingerichtet werden
admin-offered = Angeboten
admin-not-required = Nicht verlangt
admin-required = Verlangt
admin-apps-ask = Was jede Anwendung von { $user } verlangt
admin-col-application = Anwendung
admin-col-two-step = Zweistufige Anmeldung
admin-col-devices = Gemerkte Geräte
admin-devices-off = in der Organisation ausgeschaltet
admin-devices-refused = abgelehnt: immer ein Code
admin-devices-mfa = Code überspringen, zählt als mehrstufig
admin-devices-single = Code überspringen, einstufig
admin-revoke-link = TOTP-Schlüssel widerrufen
admin-enforce = TOTP für diesen Benutzer erzwingen
admin-save = Speichern
admin-reset-text = Ein neues vorläufiges Passwort meldet { $user } überall ab; bei der nächsten Anmeldung wählt { $user } ein eigenes. Die Authenticator-App bleibt: ihr Code wird weiterhin verlangt.
admin-reset-password = Passwort zurücksetzen
admin-enable-user = Benutzer entsperren
admin-disable-user = Benutzer sperren
admin-devices-heading = Gemerkte Geräte
admin-forget-all = Alle Geräte von { $user } vergessen
admin-no-devices = Keine: { $user } gibt bei jeder Anmeldung einen Code ein.
admin-create-below = Benutzer unter { $user } anlegen
admin-audit-of = Protokoll von { $user }

# Warum ein Code (nicht) verlangt wird
admin-why-client = die Anwendung verlangt die zweistufige Anmeldung
admin-why-installation = TOTP ist für die ganze Installation ausgeschaltet
admin-why-tenant = TOTP ist für diese Organisation ausgeschaltet
admin-why-user = TOTP ist für diesen Benutzer verlangt
admin-why-tenant_internal = die Organisation verlangt TOTP von internen Benutzern
admin-why-tenant_external = die Organisation verlangt TOTP von externen Benutzern
admin-why-offered_only = nicht verlangt; bei der ersten Anmeldung angeboten
admin-why-nothing = nichts verlangt es

# Einen Benutzer anlegen
admin-new-title = Benutzer anlegen
admin-new-heading = Einen Benutzer anlegen
admin-created = { $user } ist angelegt. Geben Sie ihm dieses Einmalpasswort; es wird nur einmal angezeigt:
admin-email = E-Mail (freiwillig)
admin-kind = Art
admin-permission-label = Berechtigung zur Benutzerverwaltung
admin-require-totp = TOTP verlangen
admin-done-created = { $user } ist angelegt.

# Widerrufen, zurücksetzen, bestätigen
admin-revoke-title = TOTP-Schlüssel widerrufen
admin-revoke-heading = Den TOTP-Schlüssel von { $user } widerrufen?
admin-revoke-text = { $user } wird überall abgemeldet, die Wiederherstellungscodes gelten nicht mehr, und bei der nächsten Anmeldung wird eine neue Authenticator-App eingerichtet, wenn TOTP verlangt ist.
admin-reason = Grund
admin-revoke-button = Schlüssel widerrufen
admin-cancel = Abbrechen
admin-reset-title = Passwort zurückgesetzt
admin-reset-heading = Passwort von { $user } zurückgesetzt
admin-reset-give = Geben Sie { $user } dieses vorläufige Passwort. Es wird nur einmal angezeigt.
admin-reset-next = Bei der nächsten Anmeldung muss { $user } ein neues Passwort wählen. { $user } wurde überall abgemeldet.
admin-reset-next-code = Bei der nächsten Anmeldung muss { $user } ein neues Passwort wählen, nachdem wie gewohnt ein Code der Authenticator-App eingegeben wurde. { $user } wurde überall abgemeldet.
admin-back-to = Zurück zu { $user }
admin-confirm-disable-title = Diesen Benutzer sperren?
admin-confirm-disable = { $user } wird überall abgemeldet und kann sich erst wieder anmelden, wenn die Sperre aufgehoben ist.
admin-confirm-enable-title = Diesen Benutzer entsperren?
admin-confirm-enable = { $user } kann sich wieder anmelden.
admin-confirm-reset-title = Das Passwort dieses Benutzers zurücksetzen?
admin-confirm-reset = { $user } wird überall abgemeldet und muss sich mit einem neuen vorläufigen Passwort anmelden, das Ihnen einmal angezeigt wird. Die Authenticator-App bleibt.
admin-done-disabled = Benutzer gesperrt und überall abgemeldet.
admin-done-enabled = Benutzer entsperrt.
admin-done-reset = Passwort zurückgesetzt.
admin-done-revoked = TOTP widerrufen: bei der nächsten Anmeldung wird eine neue Authenticator-App eingerichtet.
admin-done-enforced-on = TOTP ist für diesen Benutzer jetzt verlangt.
admin-done-enforced-off = Für diesen Benutzer gilt die Richtlinie der Organisation.
admin-done-devices-forgotten = Alle gemerkten Geräte dieses Benutzers sind vergessen.
admin-done-device-forgotten = Gerät vergessen.
admin-done-policy = Richtlinie gespeichert.
admin-done-branding = Erscheinungsbild gespeichert.

# Richtlinie und Erscheinungsbild
admin-policy-title = Richtlinie der Organisation
admin-policy-heading = Richtlinie der zweistufigen Anmeldung
admin-policy-enabled = TOTP in dieser Organisation eingeschaltet
admin-policy-enforce-internal = Für interne Benutzer erzwingen
admin-policy-enforce-external = Für externe Benutzer erzwingen
admin-policy-prompt = Neue Benutzer zum Einrichten von TOTP auffordern
admin-policy-recovery = Wiederherstellungscodes erlauben
admin-algorithm = Algorithmus
admin-digits = Stellen
admin-period = Zeitschritt (Sekunden)
admin-skew = Erlaubte Schritte davor und danach (Toleranz)
admin-min-length = Kürzestes Passwort, das Benutzer wählen dürfen (Zeichen, 8–128)
admin-remember-days = Tage, die ein Browser nach „nicht mehr fragen“ ohne Code auskommt (1–90; 0: nie)
admin-save-policy = Richtlinie speichern
admin-branding = Erscheinungsbild
admin-brand-name = Name der Organisation (auf jeder Seite, und der Name in Authenticator-Apps)
admin-logo = Logo (eine https-Adresse; leer für keines)
admin-colour = Farbe von Schaltflächen und Links (#rrggbb, dunkel genug für weiße Schrift; leer für die Standardfarbe)
admin-default-language = Sprache der Seiten, wenn der Browser keine dieser Sprachen wünscht
admin-save-branding = Erscheinungsbild speichern

# Das Protokoll
admin-audit-title = Protokoll
admin-event = Ereignis
admin-all-events = Alle Ereignisse
admin-from-day = Von (Tag, UTC)
admin-to-day = Bis (Tag, UTC)
admin-filter = Filtern
admin-col-when = Wann
admin-col-what = Was geschah
admin-col-detail = Einzelheiten
admin-col-from = Von Adresse
admin-newer = ← Neuer
admin-older = Älter →
admin-page = Seite { $n }
admin-audit-pages = Seiten des Protokolls
admin-system = Das System
admin-someone = jemand

# Ablehnungen und Fehler
admin-not-allowed = Nicht erlaubt
admin-no-such-user = Kein solcher Benutzer
admin-no-such-user-text = Diesen Benutzer gibt es nicht.
admin-check-input = Bitte prüfen Sie Ihre Eingaben
admin-not-admin = Kein Administrator
admin-not-admin-text = Ihr Konto verwaltet keine anderen Benutzer.
admin-denied-itself = Das können Sie nicht mit Ihrem eigenen Konto tun.
admin-denied-outside = Dieser Benutzer steht nicht unter Ihnen.
admin-denied-permission = Ihre Berechtigung zur Benutzerverwaltung erlaubt das nicht.
admin-denied-not-root = Nur die obersten Administratoren einer Organisation ändern ihre Einstellungen (Richtlinie, Erscheinungsbild, Anwendungen).
admin-duplicate = Der Benutzername { $user } ist in dieser Organisation schon vergeben.

# Die Sätze des Protokolls (siehe en/admin.ftl).
admin-event-password-ok = { $target } hat das richtige Passwort eingegeben
admin-event-password-failed = Ein falsches Passwort für { $target }
admin-event-password-throttled = Passwortversuche für { $target } zurückgehalten: zu viele
admin-event-password-changed = { $target } hat das Passwort geändert
admin-event-password-change-failed = { $target } konnte das Passwort nicht ändern
admin-event-password-reset = { $actor } hat das Passwort von { $target } zurückgesetzt
admin-event-password-likely-compromised = { $target } verwendet ein Passwort aus Datenlecks
admin-event-password-hashing-overloaded = Anmeldungen abgelehnt: die Passwortprüfung war ausgelastet
admin-event-totp-ok = { $target } hat einen richtigen Code eingegeben
admin-event-totp-failed = Ein falscher Code für { $target }
admin-event-totp-locked = Codes für { $target } nach zu vielen falschen gesperrt
admin-event-totp-replay-blocked = Ein zweimal verwendeter Code von { $target } wurde abgelehnt
admin-event-totp-enrolment-started = { $target } hat begonnen, eine Authenticator-App einzurichten
admin-event-totp-activated = { $target } hat eine Authenticator-App eingerichtet
admin-event-totp-replaced = { $target } hat die Authenticator-App ersetzt
admin-event-totp-removed = { $target } hat eine Authenticator-App entfernt
admin-event-totp-revoked = { $actor } hat den TOTP-Schlüssel von { $target } widerrufen
admin-event-totp-enforcement-on = { $actor } hat TOTP für { $target } erzwungen
admin-event-totp-enforcement-off = { $actor } überlässt TOTP für { $target } der Richtlinie
admin-event-totp-imported = { $actor } hat eine Authenticator-App von { $target } importiert
admin-event-totp-exported = { $actor } hat TOTP-Schlüssel exportiert
admin-event-recovery-code-used = { $target } hat einen Wiederherstellungscode verwendet
admin-event-recovery-codes-generated = Für { $target } wurden Wiederherstellungscodes erzeugt
admin-event-recovery-codes-regenerated = { $target } hat neue Wiederherstellungscodes erzeugt
admin-event-session-ended = Eine Sitzung von { $target } wurde beendet
admin-event-session-ended-others = { $target } hat die anderen Browser abgemeldet
admin-event-device-remembered = Ein Browser von { $target } wird gemerkt
admin-event-device-forgotten = { $actor } hat einen gemerkten Browser von { $target } vergessen
admin-event-device-forgotten-all = Alle gemerkten Browser von { $target } wurden vergessen
admin-event-user-created = { $actor } hat { $target } angelegt
admin-event-user-create-conflict = { $actor } wollte einen vergebenen Benutzernamen anlegen
admin-event-user-disabled = { $actor } hat { $target } gesperrt
admin-event-user-enabled = { $actor } hat { $target } entsperrt
admin-event-user-imported = { $actor } hat { $target } importiert
admin-event-tenant-created = Die Organisation wurde angelegt
admin-event-tenant-policy-changed = { $actor } hat die Richtlinie geändert
admin-event-tenant-branding-changed = { $actor } hat das Erscheinungsbild geändert
admin-event-client-created = { $actor } hat eine Anwendung registriert
admin-event-oauth-code-reused = Ein Autorisierungscode von { $target } wurde zweimal verwendet: seine Token sind widerrufen
admin-event-oauth-refresh-reused = Ein Refresh-Token von { $target } wurde zweimal verwendet: seine Familie ist widerrufen
admin-event-oauth-refresh-answer-lost = Eine Token-Erneuerung von { $target } wurde beantwortet, aber nicht empfangen
