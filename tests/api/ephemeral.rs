//! The ephemeral store contract, run against whichever store the test settings select:
//! the in-process one by default, Redis when `WATCHWORD_TEST_REDIS_URL` is set.

use crate::helpers::{TestDb, test_settings};

#[tokio::test]
async fn put_get_delete_and_exclusive_claims() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let settings = test_settings(dir.path(), &db);
    let store = watchword::startup::ephemeral_store(&settings).unwrap();
    assert_eq!(store.is_shared(), settings.redis_url.is_some());
    store.ping().await.unwrap();

    let now = 1_800_000_000;
    assert_eq!(store.get("flow:a", now).await.unwrap(), None);
    store.put("flow:a", b"state".to_vec(), 600, now).await.unwrap();
    assert_eq!(store.get("flow:a", now).await.unwrap(), Some(b"state".to_vec()));
    store.put("flow:a", b"next".to_vec(), 600, now).await.unwrap();
    assert_eq!(store.get("flow:a", now).await.unwrap(), Some(b"next".to_vec()));
    store.delete("flow:a").await.unwrap();
    assert_eq!(store.get("flow:a", now).await.unwrap(), None);

    // Many concurrent claimants, exactly one winner.
    let claims = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim("replay:cred:42", 90, now).await.unwrap() })
    });
    let mut winners = 0;
    for claim in claims {
        winners += usize::from(claim.await.unwrap());
    }
    assert_eq!(winners, 1);
}

/// The limiter primitive, with the test's own clock, on whichever store is configured.
#[tokio::test]
async fn the_limiter_counts_before_checking_and_blocks_by_the_given_clock() {
    use watchword::ephemeral::limiter::{Decision, Limits};
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let settings = test_settings(dir.path(), &db);
    let store = watchword::startup::ephemeral_store(&settings).unwrap();
    let limits = Limits::default();
    let t = 1_800_000_000;

    // Password: five free, then 1 s, 2 s, 4 s between attempts.
    let pw = &limits.password_user_ip;
    for n in 1..=5 {
        assert_eq!(store.hit("pw:a", pw, t).await.unwrap(), Decision::Allowed { count: n, blocked_until: 0 });
    }
    assert_eq!(store.hit("pw:a", pw, t).await.unwrap(), Decision::Allowed { count: 6, blocked_until: t + 1 });
    assert_eq!(store.hit("pw:a", pw, t).await.unwrap(), Decision::Refused { retry_after: 1 });
    assert_eq!(
        store.hit("pw:a", pw, t + 1).await.unwrap(),
        Decision::Allowed { count: 7, blocked_until: t + 3 }
    );
    assert_eq!(store.hit("pw:a", pw, t + 2).await.unwrap(), Decision::Refused { retry_after: 1 });
    assert_eq!(
        store.hit("pw:a", pw, t + 3).await.unwrap(),
        Decision::Allowed { count: 8, blocked_until: t + 7 }
    );
    store.delete("pw:a").await.unwrap();
    assert_eq!(
        store.hit("pw:a", pw, t + 3).await.unwrap(),
        Decision::Allowed { count: 1, blocked_until: 0 },
        "reset"
    );

    // TOTP: twenty parallel attempts, five get through, the fifth starts a 15-minute lock.
    let rule = limits.totp_user;
    let attempts = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.hit("totp:u", &rule, t).await.unwrap() })
    });
    let mut allowed = Vec::new();
    for attempt in attempts {
        if let Decision::Allowed { count, blocked_until } = attempt.await.unwrap() {
            allowed.push((count, blocked_until));
        }
    }
    allowed.sort();
    assert_eq!(allowed, [(1, 0), (2, 0), (3, 0), (4, 0), (5, t + 900)]);
    assert_eq!(store.hit("totp:u", &rule, t + 899).await.unwrap(), Decision::Refused { retry_after: 1 });
    assert_eq!(
        store.hit("totp:u", &rule, t + 900).await.unwrap(),
        Decision::Allowed { count: 1, blocked_until: 0 }
    );

    // Forgiving gives one attempt back (and lifts a block it no longer justifies).
    let ip = Limits::default().password_ip;
    for _ in 0..100 {
        store.hit("ip:1", &ip, t).await.unwrap();
    }
    assert!(matches!(store.hit("ip:1", &ip, t).await.unwrap(), Decision::Refused { .. }));
    store.forgive("ip:1", &ip, t).await.unwrap();
    assert_eq!(
        store.hit("ip:1", &ip, t).await.unwrap(),
        Decision::Allowed { count: 100, blocked_until: t + 900 }
    );
}
