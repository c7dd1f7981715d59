//! The crypto the server must do, measured in this process at the server's parameters.

use std::time::Instant;

use crate::smoke;

/// One argon2id hash at the server's parameters, in this process (ms, mean of `n`).
pub(crate) fn argon_ms(n: u32) -> f64 {
    let pw =
        watchword::auth::password::Password::parse("a benchmark password").unwrap_or_else(|_| unreachable!());
    let mut blocks = watchword::auth::password::memory_block();
    let started = Instant::now();
    for _ in 0..n {
        let _ = watchword::auth::password::hash_with(&pw, &mut blocks);
    }
    started.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
}

/// The crypto the server must do, measured in this process.
pub(crate) fn crypto_costs() -> (f64, f64, f64) {
    let pw =
        watchword::auth::password::Password::parse("a benchmark password").unwrap_or_else(|_| unreachable!());
    let mut blocks = watchword::auth::password::memory_block();
    let _ = watchword::auth::password::hash_with(&pw, &mut blocks);
    let started = Instant::now();
    let hashes = if smoke() { 1 } else { 20 };
    for _ in 0..hashes {
        let _ = watchword::auth::password::hash_with(&pw, &mut blocks);
    }
    let argon = started.elapsed().as_secs_f64() * 1000.0 / f64::from(hashes);
    let sign = |alg: jsonwebtoken::Algorithm, key: jsonwebtoken::EncodingKey| {
        let claims = serde_json::json!({ "iss": "x", "sub": "y", "exp": 1, "scope": "openid" });
        let started = Instant::now();
        for _ in 0..200 {
            let _ = jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &key);
        }
        started.elapsed().as_secs_f64() * 1000.0 / 200.0
    };
    // RS256 through aws-lc-rs directly (what jsonwebtoken does underneath).
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .unwrap_or_else(|_| unreachable!());
    let mut signature = vec![0u8; rsa.public_modulus_len()];
    let started = Instant::now();
    for _ in 0..200 {
        let _ = rsa.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &rng,
            b"a header and claims of a token",
            &mut signature,
        );
    }
    let rs256 = started.elapsed().as_secs_f64() * 1000.0 / 200.0;
    let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap_or_else(|_| unreachable!());
    let es256 = sign(jsonwebtoken::Algorithm::ES256, jsonwebtoken::EncodingKey::from_ec_der(ec.as_ref()));
    (argon, rs256, es256)
}
