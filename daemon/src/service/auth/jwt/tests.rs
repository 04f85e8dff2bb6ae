use super::*;

/// jsonwebtoken checks `exp` and `nbf` against the real clock.
static NOW: std::sync::LazyLock<i64> = std::sync::LazyLock::new(crate::support::unix_now);

fn claims(now: i64, ttl: i64) -> AccessClaims {
    AccessClaims {
        sub: "u1".into(),
        role: "user".into(),
        sid: "s1".into(),
        jti: "j1".into(),
        iat: now,
        nbf: now,
        exp: now + ttl,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
    }
}

fn keys() -> (tempfile::TempDir, JwtKeys) {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = JwtKeys::load_or_create(dir.path(), *NOW).expect("keys");
    (dir, keys)
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn a_signed_token_verifies_and_the_secret_file_is_private() {
    let (dir, keys) = keys();
    let token = keys.sign(&claims(*NOW, 900)).expect("sign");
    assert_eq!(
        keys.verify(&token, *NOW).expect("verify"),
        claims(*NOW, 900)
    );
    let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = JwtKeys::load_or_create(dir.path(), *NOW).expect("reload");
    assert_eq!(
        again.current_kid(),
        keys.current_kid(),
        "the secret is kept"
    );
}

#[test]
fn hostile_tokens_are_refused() {
    let (_dir, keys) = keys();
    let good = keys.sign(&claims(*NOW, 900)).expect("sign");
    let (_other_dir, other) = self::keys();
    let parts: Vec<&str> = good.split('.').collect();

    let expired = keys.sign(&claims(*NOW - 3600, 900)).expect("sign");
    let future = keys
        .sign(&AccessClaims {
            nbf: *NOW + 3600,
            ..claims(*NOW, 7200)
        })
        .expect("sign");
    let wrong_aud = keys
        .sign(&AccessClaims {
            aud: "other".into(),
            ..claims(*NOW, 900)
        })
        .expect("sign");
    let wrong_iss = keys
        .sign(&AccessClaims {
            iss: "other".into(),
            ..claims(*NOW, 900)
        })
        .expect("sign");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        b64(b"not the signature at all, really")
    );
    let none_header = b64(format!(
        r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
        keys.current_kid()
    )
    .as_bytes());
    let alg_none = format!("{none_header}.{}.", parts[1]);
    let hs512_header = b64(format!(
        r#"{{"alg":"HS512","typ":"JWT","kid":"{}"}}"#,
        keys.current_kid()
    )
    .as_bytes());
    let other_alg = format!("{hs512_header}.{}.{}", parts[1], parts[2]);
    let foreign = other.sign(&claims(*NOW, 900)).expect("sign");

    for (name, token) in [
        ("expired", expired.as_str()),
        ("not yet valid", future.as_str()),
        ("wrong audience", wrong_aud.as_str()),
        ("wrong issuer", wrong_iss.as_str()),
        ("forged signature", forged.as_str()),
        ("alg none", alg_none.as_str()),
        ("other algorithm", other_alg.as_str()),
        ("another box's key", foreign.as_str()),
        ("truncated", &good[..good.len() / 2]),
        ("garbage", "garbage"),
        ("empty", ""),
    ] {
        assert!(
            keys.verify(token, *NOW).is_err(),
            "{name} token was accepted"
        );
    }
}

#[test]
fn a_rotated_secret_verifies_old_tokens_for_the_grace_period_only() {
    let (dir, keys) = keys();
    let old_token = keys.sign(&claims(*NOW, 900)).expect("sign");
    let rotated = JwtKeys::rotate(dir.path(), *NOW, Duration::from_secs(930)).expect("rotate");
    assert_ne!(rotated.current_kid(), keys.current_kid());
    assert!(
        rotated.verify(&old_token, *NOW + 60).is_ok(),
        "old token within grace"
    );
    let new_token = rotated.sign(&claims(*NOW, 900)).expect("sign");
    assert!(rotated.verify(&new_token, *NOW + 60).is_ok());
    let later = JwtKeys::load_or_create(dir.path(), *NOW + 931).expect("reload");
    assert!(
        later.verify(&old_token, *NOW + 931).is_err(),
        "retired key refused"
    );
}

#[test]
fn open_or_short_secrets_stop_the_daemon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(SECRET_FILE);
    std::fs::write(&path, "abcd\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(matches!(
        JwtKeys::load_or_create(dir.path(), *NOW),
        Err(KeyError::TooShort { .. })
    ));
    std::fs::write(&path, format!("{}\n", "ab".repeat(32))).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = JwtKeys::load_or_create(dir.path(), *NOW)
        .err()
        .expect("world-readable");
    assert!(matches!(err, KeyError::TooOpen { .. }));
    assert!(err.to_string().contains("chmod 600"));
}
