//! Accounts: the rules that every layer shares about who may have one.

/// Who may create an account through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Only admins create accounts.
    Closed,
    /// Anyone with a single-use code from an admin.
    Invite,
    /// Anyone.
    Open,
}
