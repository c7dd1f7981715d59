# Refused input, as the pages say it (the API and the CLI say the English).

refusal-text = { $text }
refusal-tenant-name = a tenant's name is 1 to 100 characters
refusal-logo-not-url = the logo URL "{ $raw }" is not a URL
refusal-logo-https = the logo URL must be an https URL of at most { $max } characters
refusal-colour-form = the primary colour "{ $raw }" is not of the form #rrggbb
refusal-colour-light = the primary colour { $raw } is too light for white button text ({ $contrast }:1; at least { $min }:1 is needed)
refusal-language = the pages are not written in "{ $raw }"; the languages are { $languages }
refusal-digits = digits must be 6, 7 or 8
refusal-period = period must be 30 or 60 seconds
refusal-skew = skew must be 0, 1 or 2 steps
refusal-min-length = the minimum password length must be 8 to 128
refusal-remember-days = remember_device_days must be 0 (off) or 1 to 90
refusal-reason = give a reason (up to 500 characters)
refusal-reason-cli = give a reason with --reason
refusal-more-permission = a new user cannot have more permission than you
refusal-username = invalid username: use 1-64 characters without spaces
refusal-username-long = the username { $name } would be longer than 200 characters
refusal-username-owner = a username with "/" starts with your own username or that of a user above the new one, below you (such as { $prefix })
refusal-date = { $name } must be a date like 2026-11-26
refusal-number = { $name } must be a number
refusal-profile-long = { $field } is at most { $max } characters
refusal-profile-characters = { $field } holds a character it cannot hold (a control character, or a line break)
refusal-profile-email = email must be an e-mail address such as ada@example.org
refusal-profile-locale = locale must be a language tag such as en-GB or de-CH
refusal-profile-zoneinfo = zoneinfo must be a time zone name such as Europe/Zurich or UTC
refusal-profile-phone = phone_number must be a phone number such as +41 44 668 18 00 (an extension as ;ext=123)
