# Die Anmeldeseiten (Deutsch).

site-name = Watchword
language-switch = English
language-switch-lang = en

sign-in = Anmelden
sign-in-to = Bei { $app } anmelden
username = Benutzername
password = Passwort

code-title = Bestätigungscode
code-heading = Zweistufige Anmeldung
continuing-to = Weiter zu { $app }.
code-instruction = Öffnen Sie Ihre Authenticator-App und geben Sie den { $digits }-stelligen Code ein, den sie für { $issuer } anzeigt.
remember-device = { $days ->
    [one] Auf diesem Gerät 1 Tag lang nicht nach einem Code fragen
   *[other] Auf diesem Gerät { $days } Tage lang nicht nach einem Code fragen
}
verify = Bestätigen
use-recovery-code = Stattdessen einen Wiederherstellungscode verwenden
signing-in-as = Anmeldung als
not-you = Nicht Sie? Neu beginnen

recovery-title = Wiederherstellungscode
recovery-heading = Einen Wiederherstellungscode verwenden
recovery-instruction = Geben Sie einen der Wiederherstellungscodes ein, die Sie beim Einrichten Ihrer Authenticator-App gespeichert haben. Jeder Code gilt einmal.
recovery-code = Wiederherstellungscode
use-authenticator = Stattdessen die Authenticator-App verwenden

enrol-title = Authenticator-App einrichten
enrol-step-open = Öffnen Sie eine Authenticator-App auf Ihrem Telefon (zum Beispiel FreeOTP, Aegis, Google oder Microsoft Authenticator).
enrol-step-scan = Scannen Sie diesen QR-Code oder geben Sie den Schlüssel unten von Hand ein.
enrol-step-type = Geben Sie zum Abschluss den { $digits }-stelligen Code ein, den die App anzeigt.
enrol-account-at = Konto { $account } bei { $issuer }
enrol-key = Schlüssel zum Eintippen (Leerzeichen spielen keine Rolle):
enrol-type = Art: zeitbasiert · { $algorithm } · { $digits } Stellen · alle { $period } Sekunden
enrol-open-app = In einer Authenticator-App auf diesem Gerät öffnen
later = Später

offer-title = Schützen Sie Ihr Konto
offer-text = Richten Sie die zweistufige Anmeldung ein: Nach Ihrem Passwort geben Sie einen Code aus einer Authenticator-App auf Ihrem Telefon ein.
set-up-now = Jetzt einrichten

choose-title = Neues Passwort wählen
choose-text = Ihr Passwort wurde von jemand anderem festgelegt. Wählen Sie Ihr eigenes, bevor Sie fortfahren: Es gilt nur hier, und niemand sonst wird es kennen.
new-password = Neues Passwort
new-password-hint = Mindestens { $min } Zeichen. Einige unzusammenhängende Wörter ergeben ein starkes Passwort, das leicht zu merken ist.
new-password-again = Neues Passwort wiederholen
save-and-continue = Speichern und weiter

codes-title = Wiederherstellungscodes
codes-heading = Speichern Sie Ihre Wiederherstellungscodes
codes-text = Wenn Sie Ihr Telefon verlieren, können Sie sich mit jedem dieser Codes einmal anstelle eines Bestätigungscodes anmelden. Bewahren Sie sie sicher auf.
codes-once = Sie werden nur dieses eine Mal angezeigt.
codes-download = Als Textdatei herunterladen
codes-download-rest = — oder diese Seite drucken oder in einen Passwort-Manager kopieren.
codes-gone = Ihre Wiederherstellungscodes wurden bereits einmal angezeigt. Falls Sie sie nicht gespeichert haben, erstellen Sie auf Ihrer Kontoseite neue.
codes-saved = Ich habe sie gespeichert

consent-title = Zugriff erlauben
consent-heading = { $app } erlauben?
consent-asks = möchte Sie anmelden
consent-asks-and = und Folgendes sehen:
scope-profile = Ihren Namen, Benutzernamen, Ihre Sprache und Zeitzone
scope-email = Ihre E-Mail-Adresse
scope-phone = Ihre Telefonnummer
scope-address = Ihre Postanschrift
scope-admin = die Benutzer unter Ihnen verwalten, mit Ihren Rechten
scope-offline = Ihr Konto, während Sie abwesend sind (bleibt angemeldet)
allow = Erlauben
deny = Ablehnen

invalid-password = Benutzername oder Passwort ungültig
invalid-code = Ungültiger Code
reused-code = Dieser Code wurde bereits verwendet. Warten Sie auf den nächsten in Ihrer App und geben Sie ihn ein.
locked = Zu viele falsche Codes: Codes für dieses Konto (auch Wiederherstellungscodes) werden noch { $wait } lang abgelehnt, bis { $until }.
stopped = Diese Anmeldung wurde nach zu vielen falschen Versuchen beendet.
stopped-locked = { stopped } { $locked } Beginnen Sie danach erneut in der Anwendung.
stopped-plain = { stopped } Kehren Sie zur Anwendung zurück und beginnen Sie erneut.
too-many-attempts = Zu viele Versuche
cannot-finish = Diese Anmeldung kann nicht abgeschlossen werden
account-changed = Ihr Konto hat sich während der Anmeldung geändert (oder kann gerade nicht verwendet werden). Beginnen Sie erneut in der Anwendung.
sign-in-gone = Wofür diese Anmeldung gedacht war, gibt es nicht mehr (die Anwendung wurde entfernt). Beginnen Sie erneut in der Anwendung.
sign-in-again = Erneut anmelden
expired-title = Ihre Anmeldung ist abgelaufen
expired-text = Anmeldeseiten sind zehn Minuten gültig. Kehren Sie zur Anwendung zurück, von der Sie kamen, und beginnen Sie erneut.
form-expired-title = Dieses Formular ist abgelaufen
form-expired-text = Das Formular wurde nicht von dieser Anmeldeseite gesendet oder ist abgelaufen. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es noch einmal.
go-to-account = Zu Ihrem Konto

wait-seconds = { $n ->
    [one] 1 Sekunde
   *[other] { $n } Sekunden
}
wait-minutes = { $n ->
    [one] 1 Minute
   *[other] { $n } Minuten
}

# Fehlerseiten
unavailable-title = Vorübergehend nicht verfügbar
unavailable-text = Die Anmeldung ist vorübergehend nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.
throttled-text = Zu viele Versuche. Bitte warten Sie { $wait }, bevor Sie es erneut versuchen.
busy-title = Ausgelastet
busy-text = Die Anmeldung ist gerade sehr ausgelastet. Bitte versuchen Sie es in ein paar Sekunden noch einmal.
internal-title = Etwas ist schiefgegangen
internal-text = Bitte versuchen Sie es später noch einmal.
bad-form-title = Mit diesem Formular stimmt etwas nicht
bad-form-text = Es konnte nicht gelesen werden. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es noch einmal.
too-large-title = Das Formular ist zu groß
too-large-text = Gehen Sie zurück und versuchen Sie es mit kürzeren Eingaben.
bad-character-title = Mit dieser Anfrage stimmt etwas nicht
bad-character-text = Sie enthält ein Zeichen, das nicht erlaubt ist. Gehen Sie zurück und versuchen Sie es noch einmal.
not-found-title = Seite nicht gefunden
not-found-text = Unter dieser Adresse gibt es nichts.
starting-text = Watchword startet und erreicht seine Datenbank noch nicht. Bitte versuchen Sie es gleich noch einmal.
link-invalid-title = Dieser Anmeldelink ist ungültig
link-bad-redirect = Die Rücksprungadresse ist ungültig.
link-no-client = Die Anfrage nennt keine Anwendung (client_id fehlt).
link-unknown-client = Die Anwendung, die Sie hierher geschickt hat, ist Watchword nicht bekannt.
link-request-uri-gone = Dieser Anmeldelink ist abgelaufen oder wurde schon benutzt. Kehren Sie zur Anwendung zurück und beginnen Sie neu.
link-request-uri-client = Dieser Anmeldelink wurde für eine andere Anwendung erstellt.
link-no-redirect = Die Anwendung hat Sie hierher geschickt, ohne zu sagen, wohin es zurückgeht (redirect_uri fehlt).
link-unregistered-redirect = Die Anwendung hat Sie mit einer Rücksprungadresse hierher geschickt, die sie nicht registriert hat.
signout-invalid-title = Dieser Abmeldelink ist ungültig
signout-foreign-token = Die Abmeldung trägt ein ID-Token, das Watchword nicht ausgestellt hat.
signout-other-issuer = Die Abmeldung trägt ein ID-Token eines anderen Ausstellers.
signout-client-mismatch = client_id passt nicht zum ID-Token.
signout-needs-hint = Eine Rücksprungadresse braucht id_token_hint oder client_id.
signout-unregistered = Die Anwendung möchte zu einer Adresse zurück, die sie nicht registriert hat.
