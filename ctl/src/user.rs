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
    /// Lift the lock after repeated failed logins.
    Unlock {
        /// User name.
        name: String,
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
        UserCommand::Unlock { name } => {
            let answer: serde_json::Value = client.post(
                &format!("{USERS_PATH}/{}/unlock", encode(&name)),
                &serde_json::json!({}),
            )?;
            if json {
                println!("{answer}");
            } else {
                println!("unlocked {name}");
            }
            Ok(())
        }
    }
}

fn add(client: &AdminClient, args: AddArgs, json: bool) -> Result<(), CtlError> {
    let (password, generated) = if args.random_password {
        (random_password()?, true)
    } else if args.password_stdin || !std::io::stdin().is_terminal() {
        (read_stdin_line()?, false)
    } else {
        return Err(CtlError::Other(
            "give --password-stdin (and pipe the password in) or --random-password".into(),
        ));
    };
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
fn random_password() -> Result<String, CtlError> {
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
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
