//! `finctl cert`: the certificate the daemon serves, ACME renewal, reload.

use clap::Subcommand;
use fin_proto::admin::{
    CERT_RELOAD_PATH, CERT_RENEW_PATH, CertAction, CertRenew, STATUS_PATH, Status,
};

use crate::client::AdminClient;
use crate::error::CtlError;
use crate::status::{now, timestamp};

#[derive(Subcommand)]
pub enum CertCommand {
    /// Mode, issuer, names, validity, next renewal and the last ACME error.
    Status,
    /// Order a new certificate from the ACME CA now (tls.mode = "acme").
    Renew {
        /// Renew even when the certificate is not due yet.
        #[arg(long)]
        force: bool,
    },
    /// Read the certificate and key files again (tls.mode = "files"), like SIGHUP.
    Reload,
}

pub fn run(client: &AdminClient, command: CertCommand, json: bool) -> Result<(), CtlError> {
    match command {
        CertCommand::Status => {
            let status: Status = client.get(STATUS_PATH)?;
            if json {
                print_json(&status.tls)
            } else {
                print!("{}", render(&status, now()));
                Ok(())
            }
        }
        CertCommand::Renew { force } => {
            let answer: CertAction = client.post(CERT_RENEW_PATH, &CertRenew { force })?;
            if json {
                print_json(&answer)
            } else {
                println!("{}", answer.message);
                Ok(())
            }
        }
        CertCommand::Reload => {
            let answer: CertAction = client.post(CERT_RELOAD_PATH, &serde_json::json!({}))?;
            if json {
                print_json(&answer)
            } else {
                println!("{}", answer.message);
                Ok(())
            }
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CtlError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CtlError::Other(e.to_string()))?;
    println!("{text}");
    Ok(())
}

pub fn render(status: &Status, now: i64) -> String {
    let tls = &status.tls;
    let mut out = format!("mode         {}\n", tls.mode);
    out += &format!("subject      {}\n", tls.subject);
    out += &format!("issuer       {}\n", tls.issuer);
    out += &format!("names        {}\n", tls.sans.join(", "));
    out += &format!("not before   {}\n", timestamp(tls.not_before));
    let left = (tls.not_after - now) / 86_400;
    out += &format!(
        "not after    {} ({left} days left)\n",
        timestamp(tls.not_after)
    );
    if let Some(acme) = &tls.acme {
        out += &format!("CA           {}\n", acme.directory);
        out += &format!(
            "next renewal {}\n",
            acme.next_renewal
                .map_or_else(|| "after the first certificate".to_string(), timestamp)
        );
        if acme.ordering {
            out += "order        running now\n";
        }
        if let Some(at) = acme.last_attempt {
            out += &format!("last attempt {}\n", timestamp(at));
        }
        out += &format!(
            "last error   {}\n",
            acme.last_error.as_deref().unwrap_or("none")
        );
        if acme.issued_not_after.is_none() {
            out += "note         a temporary self-signed certificate is served until the CA issues one\n";
        }
    }
    out
}
