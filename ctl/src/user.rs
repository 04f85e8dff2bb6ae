//! `finctl user`: accounts, through the daemon.

use std::io::{BufRead, IsTerminal};

use fin_proto::admin::{CreateUser, USERS_PATH, User};

use crate::client::AdminClient;
use crate::error::CtlError;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add(AddArgs),
    /// List accounts.
    List,
    /// Show one account.
    Show { name: String },
    /// Change an account's role.
    SetRole {
        name: String,
        #[arg(value_parser = ["admin", "user", "guest"])]
        role: String,
    },
    /// Disable an account: its sessions and tokens stop working at once.
    Disable { name: String },
    /// Enable a disabled account.
    Enable { name: String },
    /// Set a new password (from standard input, or generated) and end the user's sessions.
    ResetPassword {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "random_password")]
        password_stdin: bool,
        /// Generate a strong password and print it once.
        #[arg(long)]
        random_password: bool,
    },
    /// Lift the lock after repeated failed logins.
    Unlock { name: String },
    /// Make a single-use invitation code (for auth.registration = "invite").
    Invite {
        /// Role of the account made with the code.
        #[arg(long, default_value = "user", value_parser = ["admin", "user", "guest"])]
        role: String,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 168)]
        expires_in_hours: u32,
    },
    /// Delete an account with its sessions, API keys, receipts and OCR jobs.
    /// Books it owns pass to their longest-standing editor, or are deleted
    /// with everything in them when they have none.
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// User name (case-insensitive; letters, digits, '.', '_', '-').
    pub name: String,
    /// admin, user, or guest (read-only).
    #[arg(long, default_value = "user", value_parser = ["admin", "user", "guest"])]
    pub role: String,
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "random_password")]
    pub password_stdin: bool,
    /// Generate a strong password and print it once.
    #[arg(long)]
    pub random_password: bool,
}

pub fn run(client: &AdminClient, command: UserCommand, json: bool) -> Result<(), CtlError> {
    match command {
        UserCommand::Add(args) => add(client, args, json),
        UserCommand::List => list(client, json),
        UserCommand::Invite {
            role,
            expires_in_hours,
        } => {
            let invite: fin_proto::api::Invite = client.post(
                fin_proto::admin::INVITES_PATH,
                &fin_proto::api::CreateInvite {
                    role: Some(role),
                    expires_in_hours: Some(expires_in_hours),
                },
            )?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&invite).map_err(|e| CtlError::Other(e.to_string()))?
                );
            } else {
                println!("invitation code: {}", invite.code);
                println!(
                    "role {}, valid until {} (single use)",
                    invite.role,
                    timestamp(invite.expires_at)
                );
            }
            Ok(())
        }
        UserCommand::Show { name } => one(client, &name, "", None, json),
        UserCommand::SetRole { name, role } => one(
            client,
            &name,
            "role",
            Some(serde_json::json!({ "role": role })),
            json,
        ),
        UserCommand::Disable { name } => {
            one(client, &name, "disable", Some(serde_json::json!({})), json)
        }
        UserCommand::Enable { name } => {
            one(client, &name, "enable", Some(serde_json::json!({})), json)
        }
        UserCommand::Unlock { name } => {
            one(client, &name, "unlock", Some(serde_json::json!({})), json)
        }
        UserCommand::ResetPassword {
            name,
            password_stdin,
            random_password,
        } => {
            let (password, generated) = password_from(password_stdin, random_password)?;
            one(
                client,
                &name,
                "password",
                Some(serde_json::json!({ "password": password })),
                json,
            )?;
            if generated && !json {
                println!("new password: {password}");
            } else if generated {
                println!("{}", serde_json::json!({ "password": password }));
            }
            Ok(())
        }
        UserCommand::Delete { name, yes } => {
            if !yes
                && !confirm(&format!(
                    "Delete user {name} with their sessions, API keys, receipts and the books no editor takes over? [y/N] "
                ))?
            {
                return Err(CtlError::Other(
                    "not deleted (confirm, or pass --yes)".into(),
                ));
            }
            let answer: serde_json::Value = client.delete(&user_url(&name, ""))?;
            if json {
                println!("{answer}");
            } else {
                println!("deleted {name}");
            }
            Ok(())
        }
    }
}

fn user_url(name: &str, action: &str) -> String {
    if action.is_empty() {
        format!("{USERS_PATH}/{}", encode(name))
    } else {
        format!("{USERS_PATH}/{}/{action}", encode(name))
    }
}

/// GET (no body) or POST (body) on one user, then show the account.
fn one(
    client: &AdminClient,
    name: &str,
    action: &str,
    body: Option<serde_json::Value>,
    json: bool,
) -> Result<(), CtlError> {
    let url = user_url(name, action);
    let user: User = match body {
        Some(body) => client.post(&url, &body)?,
        None => client.get(&url)?,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&user).map_err(|e| CtlError::Other(e.to_string()))?
        );
    } else {
        print_user(&user);
    }
    Ok(())
}

fn print_user(u: &User) {
    let when = |t: Option<i64>| t.map(timestamp).unwrap_or_else(|| "never".into());
    println!("user        {}", u.username);
    println!("id          {}", u.id);
    println!("role        {}", u.role);
    println!(
        "status      {}",
        if u.disabled { "disabled" } else { "active" }
    );
    println!("e-mail      {}", u.email.as_deref().unwrap_or("-"));
    println!("created     {}", timestamp(u.created_at));
    println!("last login  {}", when(u.last_login_at));
    if let Some(until) = u.locked_until {
        println!("locked      until {}", timestamp(until));
    }
}

fn timestamp(unix: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn confirm(question: &str) -> Result<bool, CtlError> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    print!("{question}");
    std::io::Write::flush(&mut std::io::stdout()).map_err(|e| CtlError::Other(e.to_string()))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CtlError::Other(e.to_string()))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// The password to set: generated, or read from standard input.
fn password_from(password_stdin: bool, random_password: bool) -> Result<(String, bool), CtlError> {
    if random_password {
        Ok((random_password_text()?, true))
    } else if password_stdin || !std::io::stdin().is_terminal() {
        Ok((read_stdin_line()?, false))
    } else {
        Err(CtlError::Other(
            "give --password-stdin (and pipe the password in) or --random-password".into(),
        ))
    }
}

fn add(client: &AdminClient, args: AddArgs, json: bool) -> Result<(), CtlError> {
    let (password, generated) = password_from(args.password_stdin, args.random_password)?;
    let request = CreateUser {
        username: args.name,
        email: args.email,
        role: args.role,
        password: password.clone(),
    };
    let user: User = client.post(USERS_PATH, &request)?;
    if json {
        let mut value = serde_json::to_value(&user).map_err(|e| CtlError::Other(e.to_string()))?;
        if generated {
            value["password"] = serde_json::Value::String(password);
        }
        println!("{value}");
    } else {
        println!("created {} ({}), id {}", user.username, user.role, user.id);
        if generated {
            println!("password: {password}");
            println!("(shown once: give it to the user and ask them to change it)");
        }
    }
    Ok(())
}

fn list(client: &AdminClient, json: bool) -> Result<(), CtlError> {
    let users: Vec<User> = client.get(USERS_PATH)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&users).map_err(|e| CtlError::Other(e.to_string()))?
        );
        return Ok(());
    }
    println!("{:<24} {:<6} {:<9} E-MAIL", "USER", "ROLE", "STATUS");
    for u in users {
        let status = if u.disabled { "disabled" } else { "active" };
        println!(
            "{:<24} {:<6} {:<9} {}",
            u.username,
            u.role,
            status,
            u.email.unwrap_or_default()
        );
    }
    Ok(())
}

fn read_stdin_line() -> Result<String, CtlError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CtlError::Other(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(CtlError::Other("no password on standard input".into()));
    }
    Ok(password)
}

/// Six groups of five letters and digits: about 155 bits.
pub fn random_password_text() -> Result<String, CtlError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 30];
    getrandom::fill(&mut bytes)
        .map_err(|e| CtlError::Other(format!("no randomness from the system: {e}")))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Percent-encodes a path segment (user names may hold any letter).
pub fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
