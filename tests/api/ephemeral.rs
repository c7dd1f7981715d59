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

    // New entries (sign-in flows) are counted while they live, and not once deleted or expired.
    store.put_new("flow:n1", b"1".to_vec(), 600, now).await.unwrap();
    store.put_new("flow:n2", b"2".to_vec(), 60, now).await.unwrap();
    store.put_new("flow:n3", b"3".to_vec(), 600, now).await.unwrap();
    store.delete("flow:n3").await.unwrap();
    assert_eq!(store.live_new(now).await.unwrap(), 2);
    assert_eq!(store.live_new(now + 61).await.unwrap(), 1, "n2 expired");

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

/// Several budgets counted in one call: each as `hit` would, in order, and none after
/// the first that refuses; released in one call: cleared, or given an attempt back.
#[tokio::test]
async fn budgets_are_counted_in_turn_until_one_refuses_and_released_together() {
    use watchword::ephemeral::limiter::{Decision, Limits};
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let store = watchword::startup::ephemeral_store(&test_settings(dir.path(), &db)).unwrap();
    let limits = Limits::default();
    let (pair, ip, user) = (&limits.password_user_ip, &limits.password_ip, &limits.password_user);
    let t = 1_800_000_000;
    let budgets = [("pwip:a", pair), ("ip:1", ip), ("pw:a", user)];

    for n in 1..=5 {
        let allowed = Decision::Allowed { count: n, blocked_until: 0 };
        assert_eq!(store.hit_each(&budgets, t).await.unwrap(), [allowed; 3]);
    }
    // The sixth starts the pair's delay; the seventh is refused by the pair alone, so
    // the address and the username are not counted for it.
    assert_eq!(
        store.hit_each(&budgets, t).await.unwrap(),
        [
            Decision::Allowed { count: 6, blocked_until: t + 1 },
            Decision::Allowed { count: 6, blocked_until: 0 },
            Decision::Allowed { count: 6, blocked_until: 0 }
        ]
    );
    assert_eq!(store.hit_each(&budgets, t).await.unwrap(), [Decision::Refused { retry_after: 1 }]);
    assert_eq!(store.hit("pw:a", user, t).await.unwrap(), Decision::Allowed { count: 7, blocked_until: 0 });

    // Released: the pair and the username cleared, the address given one attempt back.
    store.release(&[("pwip:a", None), ("ip:1", Some(ip)), ("pw:a", None)], t).await.unwrap();
    assert_eq!(store.hit("pwip:a", pair, t).await.unwrap(), Decision::Allowed { count: 1, blocked_until: 0 });
    assert_eq!(store.hit("ip:1", ip, t).await.unwrap(), Decision::Allowed { count: 6, blocked_until: 0 });
    assert_eq!(store.hit("pw:a", user, t).await.unwrap(), Decision::Allowed { count: 1, blocked_until: 0 });
    // Releasing what was never counted changes nothing.
    store.release(&[("ip:2", Some(ip)), ("pw:b", None)], t).await.unwrap();
    assert_eq!(store.hit("ip:2", ip, t).await.unwrap(), Decision::Allowed { count: 1, blocked_until: 0 });
}

/// A new entry stored only within its budget (a sign-in flow per address): counted and
/// stored together, and a refused attempt stores nothing.
#[tokio::test]
async fn new_entries_are_stored_only_within_their_budget() {
    use watchword::ephemeral::limiter::{Decision, Rule};
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let store = watchword::startup::ephemeral_store(&test_settings(dir.path(), &db)).unwrap();
    let rule = Rule { free: 1, window: 600, base: 60, max: 600 };
    let t = 1_800_000_000;
    let start = |key: &'static str| {
        let store = store.clone();
        async move {
            store.put_new_within(("flows:1", &rule), key, key.as_bytes().to_vec(), 600, t).await.unwrap()
        }
    };
    assert_eq!(start("flow:w1").await, Decision::Allowed { count: 1, blocked_until: 0 });
    // The second spends the budget (its delay starts), and is stored.
    assert_eq!(start("flow:w2").await, Decision::Allowed { count: 2, blocked_until: t + 60 });
    assert_eq!(start("flow:w3").await, Decision::Refused { retry_after: 60 });
    assert_eq!(store.get("flow:w1", t).await.unwrap(), Some(b"flow:w1".to_vec()));
    assert_eq!(store.get("flow:w2", t).await.unwrap(), Some(b"flow:w2".to_vec()));
    assert_eq!(store.get("flow:w3", t).await.unwrap(), None, "refused: nothing stored");
    assert_eq!(store.live_new(t).await.unwrap(), 2);
    // The budget is the limiter's: the same key counts with `hit` too.
    assert_eq!(store.hit("flows:1", &rule, t).await.unwrap(), Decision::Refused { retry_after: 60 });
}

/// Compare-and-set: a write based on what was read lands only while nobody wrote since.
#[tokio::test]
async fn swap_writes_only_over_the_value_it_expects() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let settings = test_settings(dir.path(), &db);
    let store = watchword::startup::ephemeral_store(&settings).unwrap();
    let now = 1_800_000_000;
    assert!(!store.swap("flow:s", b"", b"x".to_vec(), 60, now).await.unwrap(), "nothing to swap");
    assert_eq!(store.get("flow:s", now).await.unwrap(), None, "a failed swap writes nothing");
    store.put("flow:s", b"one".to_vec(), 60, now).await.unwrap();
    assert!(!store.swap("flow:s", b"on", b"two".to_vec(), 60, now).await.unwrap());
    assert!(store.swap("flow:s", b"one", b"two".to_vec(), 60, now).await.unwrap());
    assert!(!store.swap("flow:s", b"one", b"three".to_vec(), 60, now).await.unwrap(), "one is gone");
    assert_eq!(store.get("flow:s", now).await.unwrap(), Some(b"two".to_vec()));

    // Twenty writers that read the same value: exactly one lands.
    let swaps = (0..20).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { store.swap("flow:s", b"two", vec![n], 60, now).await.unwrap() })
    });
    let mut landed = 0;
    for swap in swaps {
        landed += usize::from(swap.await.unwrap());
    }
    assert_eq!(landed, 1);
}

/// The race CI caught: a slow request (a password being hashed) loaded the sign-in,
/// another stopped it, and the slow one's save brought it back. A save now lands only
/// over the copy it loaded, and a stop lands over any live state.
#[tokio::test]
async fn a_stopped_sign_in_is_not_brought_back_by_a_slower_request() {
    use watchword::auth::flow::LoginState;
    use watchword::auth::login::{self, Flow};
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let settings = test_settings(dir.path(), &db);
    let store = watchword::startup::ephemeral_store(&settings).unwrap();
    let now = 1_800_000_000;
    store
        .put("flow:f", serde_json::to_vec(&Flow::new("t".into(), None, None, now)).unwrap(), 600, now)
        .await
        .unwrap();

    let mut slow = login::load_flow(&store, "f", now).await.unwrap().unwrap();
    let mut quick = login::load_flow(&store, "f", now).await.unwrap().unwrap();
    let mut stopper = login::load_flow(&store, "f", now).await.unwrap().unwrap();
    // Another wrong answer is saved first; the stop, which loaded before it, still lands.
    quick.state = LoginState::AwaitingPassword { failures: 1 };
    assert!(login::save_flow(&store, "f", &mut quick, now).await.unwrap());
    let stopped = login::settle_flow(&store, "f", &mut stopper, now, |flow| {
        let live = flow.state != LoginState::Denied;
        flow.state = LoginState::Denied;
        live
    })
    .await
    .unwrap();
    assert!(stopped);
    // The slow request's save of an older state does not land.
    slow.state = LoginState::AwaitingPassword { failures: 1 };
    assert!(!login::save_flow(&store, "f", &mut slow, now).await.unwrap());
    assert_eq!(login::load_flow(&store, "f", now).await.unwrap().unwrap().state, LoginState::Denied);
    // A copy loaded after the stop saves (the page's notice is taken, say) — and the
    // saved copy can be saved again: each save is checked against the last.
    let mut after = login::load_flow(&store, "f", now).await.unwrap().unwrap();
    assert!(login::save_flow(&store, "f", &mut after, now).await.unwrap());
    assert!(login::save_flow(&store, "f", &mut after, now).await.unwrap());
    assert!(!login::save_flow(&store, "f", &mut stopper, now).await.unwrap(), "stale since");
}
