//! Password hashing with argon2id (OWASP minimum by default: 19 MiB, t=2,
//! p=1). Hashing is CPU- and memory-heavy by design, so it runs off the
//! async runtime, and only a few at a time: one per core, with a short queue
//! behind them. Beyond that a login is refused as busy (503 with
//! `Retry-After`) rather than 19 MiB more being taken for every waiting
//! request (200 concurrent logins took an unbounded daemon to 3.6 GB), and
//! the blocking threads stay free for OCR.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

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
    /// Every hashing slot and queue place is taken.
    #[error("too many password checks at once; try again in a second")]
    Busy,
}

/// How many hashes wait for a slot, per slot, before more are refused.
const QUEUE_PER_SLOT: usize = 4;

/// Hashes and verifies passwords at one configured cost.
#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    /// A hash of a random password, verified against when a user does not
    /// exist, so unknown users cost the same time as wrong passwords.
    dummy: String,
    gate: Arc<Gate>,
}

/// The slots hashes run in, and how many may be running or queued at once.
struct Gate {
    slots: Arc<Semaphore>,
    admitted: AtomicUsize,
    max_admitted: usize,
}

/// A place in the gate, given back when dropped.
struct Admission<'a>(&'a Gate);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    fn new(slots: usize) -> Gate {
        Gate {
            slots: Arc::new(Semaphore::new(slots)),
            admitted: AtomicUsize::new(0),
            max_admitted: slots * (1 + QUEUE_PER_SLOT),
        }
    }

    fn admit(&self) -> Result<Admission<'_>, HashError> {
        let before = self.admitted.fetch_add(1, Ordering::SeqCst);
        let admission = Admission(self);
        if before >= self.max_admitted {
            return Err(HashError::Busy);
        }
        Ok(admission)
    }
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
    /// Hashing at `cost`, as many at once as the machine has cores.
    pub fn new(cost: HashCost) -> Result<Self, HashError> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_slots(cost, cores)
    }

    /// Hashing at `cost`, `slots` at once.
    pub fn with_slots(cost: HashCost, slots: usize) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Params(e.to_string()))?;
        let mut hashing = PasswordHashing {
            params,
            dummy: String::new(),
            gate: Arc::new(Gate::new(slots.max(1))),
        };
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| HashError::Hash(e.to_string()))?;
        hashing.dummy = hashing.hash(&crate::support::hex(&random))?;
        Ok(hashing)
    }

    /// [`PasswordHashing::hash`] in a slot off the async runtime.
    pub async fn hash_in_slot(&self, password: String) -> Result<String, HashError> {
        self.in_slot(move |hashing| hashing.hash(&password)).await?
    }

    /// [`PasswordHashing::verify`] in a slot off the async runtime.
    pub async fn verify_in_slot(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, HashError> {
        self.in_slot(move |hashing| hashing.verify(&password, stored.as_deref()))
            .await
    }

    async fn in_slot<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHashing) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _admission = self.gate.admit()?;
        let slot = self
            .gate
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError::Hash(e.to_string()))?;
        let hashing = self.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            work(&hashing)
        })
        .await
        .map_err(|e| HashError::Hash(e.to_string()))
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
mod gate_tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_slots_and_their_queue_hashing_is_refused_as_busy() {
        let cost = HashCost {
            memory_kib: 8 * 1024,
            iterations: 2,
            parallelism: 1,
        };
        let hashing = PasswordHashing::with_slots(cost, 1).expect("params");
        let attempts: Vec<_> = (0..20)
            .map(|i| {
                let hashing = hashing.clone();
                tokio::spawn(async move { hashing.hash_in_slot(format!("password {i}")).await })
            })
            .collect();
        let mut done = 0;
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(_) => done += 1,
                Err(HashError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!((1..=1 + QUEUE_PER_SLOT).contains(&done), "{done} hashed");
        assert_eq!(done + busy, 20);
        // Places are given back: the next one is taken.
        hashing
            .hash_in_slot("once more".into())
            .await
            .expect("a free slot");
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
