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
scope-profile = Ihren Namen und Benutzernamen
scope-email = Ihre E-Mail-Adresse
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
