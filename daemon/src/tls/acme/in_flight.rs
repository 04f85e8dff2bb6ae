//! At most one order per name set at a time in this process: two concurrent
//! orders would burn CA rate limits and race on the same files.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex, PoisonError};

use super::AcmeError;

static IN_FLIGHT: LazyLock<Mutex<HashSet<Vec<String>>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

/// Held for the whole order; releases the name set when dropped (also on error).
#[derive(Debug)]
pub(super) struct InFlight {
    names: Vec<String>,
}

impl InFlight {
    /// Claims the name set (already sorted and deduplicated), or reports that
    /// another order for it is running. We refuse rather than wait: the caller
    /// (the renewal loop) retries later, and a blocked thread helps no one.
    pub(super) fn claim(names: &[String]) -> Result<InFlight, AcmeError> {
        let mut set = IN_FLIGHT.lock().unwrap_or_else(PoisonError::into_inner);
        if !set.insert(names.to_vec()) {
            return Err(AcmeError::OrderInFlight {
                names: names.join(", "),
            });
        }
        Ok(InFlight {
            names: names.to_vec(),
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut set = IN_FLIGHT.lock().unwrap_or_else(PoisonError::into_inner);
        set.remove(&self.names);
    }
}
