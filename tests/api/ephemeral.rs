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
