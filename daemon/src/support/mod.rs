//! Small helpers every layer may use, each written once: hex and SHA-256,
//! random ids, the clock, files written whole or not at all, the accept
//! loop of every listener, the connection caps and the send deadline. No other
//! module of fin's; nothing here knows HTTP, the database or the models.

mod accept;
mod clock;
mod connections;
mod files;
mod hex;
mod ids;
mod send_deadline;

pub use accept::{Listener, accept_until};
pub use clock::{file_stamp, iso_date, rfc3339, unix_now, unix_now_ms};
pub use connections::{Admitted, ConnectionCaps, Refusal};
pub use files::{files_under, write_atomically, write_private};
pub use hex::{hex, sha256_hex, unhex};
pub use ids::{new_id, random_hex};
pub use send_deadline::{SendDeadline, WriteProgress};
