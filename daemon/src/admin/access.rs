//! Who may use the admin socket: root, the daemon's own user, and members
//! (primary or supplementary) of the admin group.

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
    pub fn check(&self, uid: u32, gid: u32, pid: Option<i32>) -> Result<(), String> {
        if uid == 0 || uid == self.own_uid {
            return Ok(());
        }
        if let Some((name, group_gid)) = &self.group {
            if gid == *group_gid
                || pid.is_some_and(|pid| supplementary_groups(pid).contains(group_gid))
            {
                return Ok(());
            }
            return Err(format!(
                "uid {uid} may not use the fin admin socket: run finctl as root (sudo) or as a member of group {name} (sudo usermod -aG {name} USER, then log in again)"
            ));
        }
        Err(format!(
            "uid {uid} may not use the fin admin socket: run finctl as root (sudo)"
        ))
    }
}

/// The peer's supplementary groups, from `/proc/<pid>/status`.
fn supplementary_groups(pid: i32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Groups:"))
                .map(|groups| {
                    groups
                        .split_whitespace()
                        .filter_map(|g| g.parse().ok())
                        .collect()
                })
        })
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
        assert!(policy.check(0, 0, None).is_ok());
        assert!(policy.check(990, 1000, None).is_ok());
        assert!(
            policy.check(1000, 990, None).is_ok(),
            "primary group member"
        );
        let refusal = policy.check(1000, 1000, None).expect_err("stranger");
        assert!(refusal.contains("group fin"), "{refusal}");
    }

    #[test]
    fn supplementary_groups_of_this_process_are_read() {
        let pid = std::process::id() as i32;
        // Whatever they are, reading them must not fail for a live process.
        let _ = supplementary_groups(pid);
        assert!(supplementary_groups(-1).is_empty());
    }
}
