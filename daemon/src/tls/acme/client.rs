//! One ACME order from start to finish, on acme-lib (blocking: ureq and
//! sleeps between polls). Only this file talks to acme-lib's API.

use std::time::Duration;

use acme_lib::order::{Auth, NewOrder};
use acme_lib::{Account, DirectoryUrl};

use super::dns_hook::{self, HookAction};
use super::store::{self, AccountPersist};
use super::{AcmeError, AcmeSettings, Challenge, Issued};

/// Pause between polls of an authorization or order. acme-lib polls for as
/// long as the CA says "pending"/"processing" (it has no overall deadline).
const POLL_MILLIS: u64 = 1000;
/// How long the reachability check may take before we call the CA unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// Rounds of "solve what is pending, then look at the order again".
const MAX_ROUNDS: usize = 3;
/// acme-lib keys its persistence by a "realm"; ours ignores it (one account
/// per state folder), so any constant will do.
const REALM: &str = "fin";

/// Whole-order attempts when the CA rejects one of our request signatures.
const SIGNATURE_ATTEMPTS: usize = 5;

/// acme-lib 0.9.1 encodes ES256 signatures without padding `r` and `s` to 32
/// bytes, so about one request in 128 carries an invalid signature. It
/// retries only when the CA's message is exactly "JWS verification error"
/// (Boulder's wording; Pebble adds detail). So we retry the whole order on
/// any such rejection: each attempt signs afresh, and a retry after partial
/// progress is harmless (the account and valid authorizations are reused).
pub(super) fn run_with_retries(
    settings: &AcmeSettings,
    names: &[String],
    challenge: &Challenge,
) -> Result<Issued, AcmeError> {
    let mut attempt = 1;
    loop {
        match run(settings, names, challenge) {
            Err(e)
                if attempt < SIGNATURE_ATTEMPTS
                    && e.to_string().contains("JWS verification error") =>
            {
                tracing::debug!(error = %e, attempt, "the CA rejected a request signature; retrying the order");
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn run(
    settings: &AcmeSettings,
    names: &[String],
    challenge: &Challenge,
) -> Result<Issued, AcmeError> {
    let url = settings.directory.url();
    probe(url)?;
    store::ensure_dir(&settings.dir)?;
    super::account_key::ensure(&settings.dir)?;

    let unreachable = |e: acme_lib::Error| AcmeError::Unreachable {
        url: url.to_string(),
        reason: e.to_string(),
    };
    let directory =
        acme_lib::Directory::from_url(AccountPersist::new(&settings.dir), DirectoryUrl::Other(url))
            .map_err(unreachable)?;
    if directory
        .api_directory()
        .meta
        .as_ref()
        .is_some_and(|m| m.externalAccountRequired())
    {
        return Err(AcmeError::ExternalAccountRequired {
            url: url.to_string(),
        });
    }

    let account = account(&directory, &settings.email)?;
    let joined = names.join(", ");
    let (primary, alt) = names.split_first().ok_or(AcmeError::NoDomains)?;
    let alt: Vec<&str> = alt.iter().map(String::as_str).collect();
    let mut new_order = account
        .new_order(primary, &alt)
        .map_err(|e| AcmeError::OrderRefused {
            names: joined.clone(),
            reason: e.to_string(),
        })?;
    tracing::info!(names = %joined, "ACME order opened");

    let issuance = |e: acme_lib::Error| AcmeError::IssuanceFailed {
        names: joined.clone(),
        reason: e.to_string(),
    };
    let mut rounds = 0;
    let ready = loop {
        if let Some(ready) = new_order.confirm_validations() {
            break ready;
        }
        if rounds == MAX_ROUNDS || new_order.api_order().is_status_invalid() {
            return Err(AcmeError::IssuanceFailed {
                names: joined.clone(),
                reason: order_problem(&new_order),
            });
        }
        rounds += 1;
        for auth in new_order.authorizations().map_err(issuance)? {
            if auth.need_challenge() {
                solve(&auth, challenge)?;
            }
        }
        new_order.refresh().map_err(issuance)?;
    };

    // A fresh key for every certificate; P-256 is small, fast and accepted by
    // every CA and client that matters.
    let done = ready
        .finalize_pkey(acme_lib::create_p256_key(), POLL_MILLIS)
        .map_err(issuance)?;
    let cert = done.download_and_save_cert().map_err(issuance)?;
    let issued = Issued::from_pem(
        cert.certificate().to_string(),
        cert.private_key().to_string(),
    )?;
    store::save(&settings.dir, names, &issued)?;
    tracing::info!(names = %joined, not_after = issued.not_after, "ACME certificate issued and stored");
    Ok(issued)
}

/// acme-lib turns every transport failure into a bare "Transport error"; one
/// plain GET of the directory first gives the operator the real reason
/// (connection refused, unknown certificate issuer, DNS failure...).
fn probe(url: &str) -> Result<(), AcmeError> {
    let unreachable = |reason: String| AcmeError::Unreachable {
        url: url.to_string(),
        reason,
    };
    match ureq::get(url).timeout(PROBE_TIMEOUT).call() {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(code, _)) => Err(unreachable(format!(
            "the directory URL answered HTTP {code}"
        ))),
        Err(ureq::Error::Transport(t)) => Err(unreachable(t.to_string())),
    }
}

/// The account for this state folder: created (and its key saved) only when
/// no key exists yet. acme-lib agrees to the CA's terms of service for us.
fn account(
    directory: &acme_lib::Directory<AccountPersist>,
    email: &str,
) -> Result<Account<AccountPersist>, AcmeError> {
    let contact = if email.trim().is_empty() {
        None
    } else {
        Some(vec![format!("mailto:{}", email.trim())])
    };
    directory
        .account_with_realm(REALM, contact)
        .map_err(|e| AcmeError::AccountRefused {
            contact: email.to_string(),
            reason: e.to_string(),
        })
}

/// Proves control of one name with the configured challenge.
fn solve(auth: &Auth<AccountPersist>, challenge: &Challenge) -> Result<(), AcmeError> {
    let name = auth.domain_name().to_string();
    let failed = |kind: &'static str| {
        let name = name.clone();
        move |e: acme_lib::Error| AcmeError::ChallengeFailed {
            name,
            kind,
            reason: ca_reason(&e),
        }
    };
    match challenge {
        Challenge::Http01(answers) => {
            // acme-lib's http_challenge() panics when the CA offers none: check first.
            if auth.api_auth().http_challenge().is_none() {
                return Err(AcmeError::ChallengeUnavailable {
                    name,
                    kind: "http-01",
                });
            }
            let chall = auth.http_challenge();
            let _published = answers.publish(chall.http_token(), chall.http_proof());
            tracing::info!(%name, "answering http-01 challenge");
            chall.validate(POLL_MILLIS).map_err(failed("http-01"))
        }
        Challenge::Dns01 { hook } => {
            if auth.api_auth().dns_challenge().is_none() {
                return Err(AcmeError::ChallengeUnavailable {
                    name,
                    kind: "dns-01",
                });
            }
            let chall = auth.dns_challenge();
            // For a wildcard the authorization names the base domain already.
            let record = format!("_acme-challenge.{name}");
            let value = chall.dns_proof();
            let limit = dns_hook::HOOK_TIME_LIMIT;
            dns_hook::run(hook, HookAction::Set, &record, &value, limit)?;
            tracing::info!(%name, %record, "dns-01 record set, asking the CA to validate");
            let validated = chall.validate(POLL_MILLIS).map_err(failed("dns-01"));
            // Clear whatever happened; a failed clear only leaves a harmless
            // record behind, so it does not fail an otherwise good order.
            if let Err(e) = dns_hook::run(hook, HookAction::Clear, &record, &value, limit) {
                tracing::warn!(error = %e, "could not clear the dns-01 record");
            }
            validated
        }
    }
}

/// acme-lib words a failed validation as "Failed: <CA's detail>".
fn ca_reason(e: &acme_lib::Error) -> String {
    let text = e.to_string();
    text.strip_prefix("Failed: ").unwrap_or(&text).to_string()
}

fn order_problem(order: &NewOrder<AccountPersist>) -> String {
    let api = order.api_order();
    match &api.error {
        Some(problem) => problem.to_string(),
        None => format!(
            "the order is {} after {MAX_ROUNDS} rounds of challenges",
            api.status.as_deref().unwrap_or("in an unknown state")
        ),
    }
}
