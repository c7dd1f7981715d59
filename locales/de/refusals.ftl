# Abgelehnte Eingaben, wie die Seiten sie nennen.

refusal-text = { $text }
refusal-tenant-name = Der Name einer Organisation hat 1 bis 100 Zeichen.
refusal-logo-not-url = Die Logo-Adresse „{ $raw }“ ist keine URL.
refusal-logo-https = Die Logo-Adresse muss eine https-URL mit höchstens { $max } Zeichen sein.
refusal-colour-form = Die Farbe „{ $raw }“ hat nicht die Form #rrggbb.
refusal-colour-light = Die Farbe { $raw } ist zu hell für weiße Schrift auf Schaltflächen ({ $contrast }:1; mindestens { $min }:1 ist nötig).
refusal-language = Die Seiten gibt es nicht in „{ $raw }“; die Sprachen sind { $languages }.
refusal-digits = Die Stellenzahl muss 6, 7 oder 8 sein.
refusal-period = Der Zeitschritt muss 30 oder 60 Sekunden sein.
refusal-skew = Die Toleranz muss 0, 1 oder 2 Schritte sein.
refusal-min-length = Die Mindestlänge von Passwörtern muss 8 bis 128 Zeichen sein.
refusal-remember-days = Gemerkte Geräte: 0 (aus) oder 1 bis 90 Tage.
refusal-reason = Bitte geben Sie einen Grund an (bis zu 500 Zeichen).
refusal-reason-cli = Geben Sie mit --reason einen Grund an.
refusal-more-permission = Ein neuer Benutzer kann nicht mehr Berechtigung haben als Sie.
refusal-username = Ungültiger Benutzername: 1 bis 64 Zeichen ohne Leerzeichen.
refusal-username-long = Der Benutzername { $name } wäre länger als 200 Zeichen.
refusal-username-owner = Ein Benutzername mit „/“ beginnt mit Ihrem eigenen Benutzernamen oder dem eines Benutzers über dem neuen, unter Ihnen (etwa { $prefix }).
refusal-date = { $name } muss ein Datum wie 2026-11-26 sein.
refusal-number = { $name } muss eine Zahl sein.
refusal-profile-long = { $field } hat höchstens { $max } Zeichen
refusal-profile-characters = { $field } enthält ein Zeichen, das dort nicht stehen kann (ein Steuerzeichen oder einen Zeilenumbruch)
refusal-profile-email = email muss eine E-Mail-Adresse wie ada@example.org sein
refusal-profile-locale = locale muss ein Sprach-Tag wie en-GB oder de-CH sein
refusal-profile-zoneinfo = zoneinfo muss der Name einer Zeitzone wie Europe/Zurich oder UTC sein
refusal-profile-phone = phone_number muss eine Telefonnummer wie +41 44 668 18 00 sein (eine Durchwahl als ;ext=123)
