//! Password hashing with argon2id (OWASP minimum by default: 19 MiB, t=2,
//! p=1). Hashing is CPU- and memory-heavy by design: callers run it off the
//! async runtime (`tokio::task::spawn_blocking`).

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Hashes and verifies passwords at one configured cost.
#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    /// A hash of a random password, verified against when a user does not
    /// exist, so unknown users cost the same time as wrong passwords.
    dummy: String,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and the stored hash used other parameters: store this new hash.
    YesRehashed(String),
}

impl PasswordHashing {
    pub fn new(cost: HashCost) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Params(e.to_string()))?;
        let mut hashing = PasswordHashing {
            params,
            dummy: String::new(),
        };
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| HashError::Hash(e.to_string()))?;
        hashing.dummy = hashing.hash(&crate::support::hex(&random))?;
        Ok(hashing)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError::Hash(e.to_string()))
    }

    /// Checks `password` against `stored`; `None` verifies against the dummy
    /// hash and always answers no, in the same time.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> Verified {
        let phc = stored.unwrap_or(&self.dummy);
        let Ok(parsed) = PasswordHash::new(phc) else {
            return Verified::No;
        };
        // Verify with the parameters recorded in the hash itself.
        if Argon2::default()
            .verify_password(password.as_bytes(), phc)
            .is_err()
            || stored.is_none()
        {
            return Verified::No;
        }
        let current = Params::try_from(&parsed).ok();
        let same_cost = current.is_some_and(|p| {
            p.m_cost() == self.params.m_cost()
                && p.t_cost() == self.params.t_cost()
                && p.p_cost() == self.params.p_cost()
        });
        let same_algorithm = parsed.algorithm.as_str() == "argon2id";
        if same_cost && same_algorithm {
            Verified::Yes
        } else {
            match self.hash(password) {
                Ok(new) => Verified::YesRehashed(new),
                Err(_) => Verified::Yes,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> HashCost {
        HashCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let hashing = PasswordHashing::new(cheap()).expect("params");
        let a = hashing.hash("correct horse battery staple").expect("hash");
        let b = hashing.hash("correct horse battery staple").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "salted");
        assert_eq!(
            hashing.verify("correct horse battery staple", Some(&a)),
            Verified::Yes
        );
        assert_eq!(hashing.verify("wrong", Some(&a)), Verified::No);
        assert_eq!(hashing.verify("anything", None), Verified::No);
        assert_eq!(hashing.verify("x", Some("not a phc string")), Verified::No);
    }

    #[test]
    fn the_default_cost_is_the_owasp_minimum() {
        assert_eq!(
            HashCost::default(),
            HashCost {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
    }

    #[test]
    fn a_hash_at_another_cost_is_upgraded_on_login() {
        let old = PasswordHashing::new(cheap()).expect("params");
        let stored = old.hash("pw-pw-pw-pw-pw").expect("hash");
        let new = PasswordHashing::new(HashCost {
            memory_kib: 2048,
            ..cheap()
        })
        .expect("params");
        match new.verify("pw-pw-pw-pw-pw", Some(&stored)) {
            Verified::YesRehashed(h) => assert!(h.contains("m=2048"), "{h}"),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }
}
