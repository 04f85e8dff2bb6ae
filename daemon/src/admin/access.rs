//! Who may use the admin socket: root, the daemon's own user, and members
//! (primary or supplementary) of the admin group.
//!
//! The peer is known by the uid and gid the kernel recorded for the socket
//! (`SO_PEERCRED`, which a process cannot forge), and its supplementary
//! groups are those of that user in the group database (as `id USER` shows
//! them). Not `/proc/<pid>/status`: the unit's `ProtectProc=invisible` hides
//! other users' processes from the daemon, and a pid can be reused.

#[derive(Debug, Clone)]
pub struct AccessPolicy {
    own_uid: u32,
    group: Option<(String, u32)>,
}

impl AccessPolicy {
    /// `group`: name of the admin group; a name that does not exist on this
    /// system grants nothing (logged once at start).
    pub fn new(group: Option<&str>) -> Self {
        let group = group.and_then(|name| match nix::unistd::Group::from_name(name) {
            Ok(Some(g)) => Some((name.to_string(), g.gid.as_raw())),
            _ => {
                tracing::warn!(group = name, "admin group does not exist: only root and the daemon's user may use the admin socket");
                None
            }
        });
        AccessPolicy {
            own_uid: nix::unistd::geteuid().as_raw(),
            group,
        }
    }

    pub fn group_gid(&self) -> Option<u32> {
        self.group.as_ref().map(|(_, gid)| *gid)
    }

    /// `Ok` when the peer may talk to the daemon; otherwise what to do about it.
    pub fn check(&self, uid: u32, gid: u32) -> Result<(), String> {
        if uid == 0 || uid == self.own_uid {
            return Ok(());
        }
        if let Some((name, group_gid)) = &self.group {
            if gid == *group_gid || groups_of_user(uid).contains(group_gid) {
                return Ok(());
            }
            return Err(format!(
                "uid {uid} may not use the fin admin socket: run finctl as root (sudo) or as a member of group {name} (sudo usermod -aG {name} USER)"
            ));
        }
        Err(format!(
            "uid {uid} may not use the fin admin socket: run finctl as root (sudo)"
        ))
    }
}

/// Every group the user `uid` belongs to in the user and group databases;
/// empty for a uid with no account.
fn groups_of_user(uid: u32) -> Vec<u32> {
    use nix::unistd::{Uid, User, getgrouplist};
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(uid)) else {
        return Vec::new();
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return Vec::new();
    };
    getgrouplist(&name, user.gid)
        .map(|groups| groups.into_iter().map(|g| g.as_raw()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_own_user_are_allowed_others_are_told_what_to_do() {
        let policy = AccessPolicy {
            own_uid: 990,
            group: Some(("fin".into(), 990)),
        };
        assert!(policy.check(0, 0).is_ok());
        assert!(policy.check(990, 1000).is_ok());
        assert!(policy.check(1000, 990).is_ok(), "primary group member");
        let refusal = policy.check(1000, 1000).expect_err("stranger");
        assert!(refusal.contains("group fin"), "{refusal}");
    }

    #[test]
    fn a_users_groups_come_from_the_group_database() {
        // root is in group root (0) on every system this runs on.
        assert!(groups_of_user(0).contains(&0));
        assert!(groups_of_user(u32::MAX - 7).is_empty(), "no such user");
    }

    #[test]
    fn a_user_outside_the_admin_group_by_every_membership_is_refused() {
        let policy = AccessPolicy {
            own_uid: 990,
            group: Some(("root".into(), 0)),
        };
        let nobody = nix::unistd::User::from_name("nobody")
            .ok()
            .flatten()
            .map(|u| u.uid.as_raw());
        if let Some(nobody) = nobody {
            assert!(
                policy.check(nobody, 65534).is_err(),
                "nobody is not in root"
            );
        }
    }
}
