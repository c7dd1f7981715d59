//! TOTP (RFC 6238) through totp-rs: secrets, typed codes, the accepted window and the
//! `otpauth://` URI. Replay protection is the caller's: [`matching_step`] says which
//! time step a code belongs to, and the store accepts only a step greater than the last.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// The HMAC behind the codes. SHA1 is the default every authenticator app supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TotpAlgorithm {
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "SHA512")]
    Sha512,
}

impl TotpAlgorithm {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_uppercase().as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(format!("invalid TOTP algorithm '{raw}': expected SHA1, SHA256 or SHA512")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Secret length in bytes: the HMAC's output size (160/256/512 bits).
    pub fn secret_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    fn to_totp_rs(self) -> Algorithm {
        match self {
            Self::Sha1 => Algorithm::SHA1,
            Self::Sha256 => Algorithm::SHA256,
            Self::Sha512 => Algorithm::SHA512,
        }
    }
}

/// What a credential's codes are made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpParams {
    pub algorithm: TotpAlgorithm,
    /// 6 to 8.
    pub digits: u32,
    /// Seconds per step: 30 or 60.
    pub period: u32,
}

/// A shared secret. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    pub fn generate(algorithm: TotpAlgorithm) -> Self {
        Self(crate::random::bytes(algorithm.secret_len()))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A secret from its base32 text (as exports and `otpauth://` URIs carry it; spaces,
    /// padding and lower case allowed); at least 80 bits (RFC 4226 asks 128, recommends 160;
    /// many apps issued 80).
    pub fn from_base32(text: &str) -> Result<Self, String> {
        let clean: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes =
            totp_rs::Secret::Encoded(clean).to_bytes().map_err(|_| "the secret is not base32".to_owned())?;
        if bytes.len() < 10 {
            return Err(format!("the secret has {} bits; at least 80 are needed", bytes.len() * 8));
        }
        Ok(Self(bytes))
    }

    /// RFC 4648 base32 without padding, as authenticator apps expect.
    pub fn base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The base32 form in groups of four, for typing by hand.
    pub fn grouped(&self) -> String {
        let b32 = self.base32();
        b32.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A code as typed, normalised: spaces and dashes dropped, exactly `digits` digits.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpCode(***)")
    }
}

impl TotpCode {
    pub fn parse(raw: &str, digits: u32) -> Option<Self> {
        let code: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}' | '\t')).collect();
        (code.len() == digits as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(Self(code))
    }
}

fn totp(secret: &TotpSecret, params: TotpParams) -> Option<TOTP> {
    TOTP::new(
        params.algorithm.to_totp_rs(),
        params.digits as usize,
        0,
        u64::from(params.period),
        secret.0.clone(),
    )
    .ok()
}

/// The code of time step `step`.
pub fn code_at_step(secret: &TotpSecret, params: TotpParams, step: u64) -> Option<String> {
    Some(totp(secret, params)?.generate(step * u64::from(params.period)))
}

/// The time step of `now` (Unix seconds).
pub fn step_of(now: i64, period: u32) -> u64 {
    u64::try_from(now).unwrap_or(0) / u64::from(period)
}

/// The step within ±`skew` of `now` whose code equals `code`, if any. Every candidate
/// is compared in constant time and none is skipped, so timing reveals nothing.
pub fn matching_step(
    secret: &TotpSecret,
    params: TotpParams,
    code: &TotpCode,
    now: i64,
    skew: u32,
) -> Option<u64> {
    let generator = totp(secret, params)?;
    let current = step_of(now, params.period);
    let mut found = None;
    for offset in -i64::from(skew)..=i64::from(skew) {
        let Some(step) = current.checked_add_signed(offset) else { continue };
        let candidate = generator.generate(step * u64::from(params.period));
        if bool::from(candidate.as_bytes().ct_eq(code.0.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://totp/…` URI that authenticator apps read from the QR code.
pub fn otpauth_uri(secret: &TotpSecret, params: TotpParams, issuer: &str, account: &str) -> String {
    let enc =
        |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm={}&digits={}&period={}",
        enc(issuer),
        enc(account),
        secret.base32(),
        enc(issuer),
        params.algorithm.as_str(),
        params.digits,
        params.period
    )
}

/// The QR code of `data` as an inline SVG with an accessible name.
pub fn qr_svg(data: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    let svg =
        code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // Give the SVG a role and name for screen readers; drop the XML prolog for inlining.
    let svg = svg.trim_start_matches(|c| c != '<').to_owned();
    let body = svg.strip_prefix("<?xml version=\"1.0\" standalone=\"yes\"?>").unwrap_or(&svg);
    let label = label.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    Some(body.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{label}\" "), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: TotpParams = TotpParams { algorithm: TotpAlgorithm::Sha1, digits: 8, period: 30 };

    fn rfc_secret(algorithm: TotpAlgorithm) -> TotpSecret {
        let seed = match algorithm {
            TotpAlgorithm::Sha1 => "12345678901234567890".to_owned(),
            TotpAlgorithm::Sha256 => "12345678901234567890123456789012".to_owned(),
            TotpAlgorithm::Sha512 => "1234567890".repeat(6) + "1234",
        };
        TotpSecret::from_bytes(seed.into_bytes())
    }

    /// RFC 6238 Appendix B, every row, through our verifier.
    #[test]
    fn rfc6238_appendix_b_vectors() {
        let rows: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in rows {
            for (algorithm, expected) in [
                (TotpAlgorithm::Sha1, sha1),
                (TotpAlgorithm::Sha256, sha256),
                (TotpAlgorithm::Sha512, sha512),
            ] {
                let params = TotpParams { algorithm, ..SHA1 };
                let secret = rfc_secret(algorithm);
                let code = TotpCode::parse(expected, 8).unwrap();
                assert_eq!(
                    matching_step(&secret, params, &code, time, 0),
                    Some(step_of(time, 30)),
                    "{time} {algorithm:?}"
                );
                assert_eq!(code_at_step(&secret, params, step_of(time, 30)).as_deref(), Some(expected));
            }
        }
    }

    #[test]
    fn window_is_plus_minus_skew() {
        let secret = rfc_secret(TotpAlgorithm::Sha1);
        let params = TotpParams { digits: 6, ..SHA1 };
        let now = 1_800_000_000;
        let step = step_of(now, 30);
        for (offset, skew, accepted) in
            [(-1i64, 1, true), (1, 1, true), (2, 1, false), (-2, 1, false), (1, 0, false), (2, 2, true)]
        {
            let s = step.checked_add_signed(offset).unwrap();
            let code = TotpCode::parse(&code_at_step(&secret, params, s).unwrap(), 6).unwrap();
            assert_eq!(
                matching_step(&secret, params, &code, now, skew),
                accepted.then_some(s),
                "{offset} {skew}"
            );
        }
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert!(TotpCode::parse("123 456", 6).is_some());
        assert!(TotpCode::parse("123-456", 6).is_some());
        assert!(TotpCode::parse(" 1234 5678 ", 8).is_some());
        assert!(TotpCode::parse("12345", 6).is_none());
        assert!(TotpCode::parse("12345a", 6).is_none());
        assert!(TotpCode::parse("１２３４５６", 6).is_none(), "only ASCII digits");
    }

    #[test]
    fn secrets_and_uris() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(secret.grouped(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert_eq!(TotpSecret::generate(TotpAlgorithm::Sha256).as_bytes().len(), 32);
        let uri = otpauth_uri(&secret, TotpParams { digits: 6, ..SHA1 }, "Acme Inc", "alice@acme");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Inc:alice%40acme?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Inc&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri, "QR code").unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"QR code\""), "{}", &svg[..80]);
        assert!(!format!("{secret:?}").contains("GEZ"));
    }
}
