//! Bank statement imports: upload → preview (parsed rows, duplicates
//! flagged with the transaction they duplicate, problems with line and
//! column) → commit (every row at once, or none) → undo (every row at
//! once). The file is kept as a blob and read again at each step, so what
//! is committed is exactly what was previewed, minus what the user left out.

use bytes::Bytes;

use super::rules::Tidied;
use super::{Ledger, actor, not_found};
use crate::domain::ledger::{MAX_NAME_CHARS, MAX_TEXT_CHARS, Need};
use crate::domain::matching::shift_day;
use crate::domain::rules::{self, Subject};
use crate::import::{self, DateOrder, Known, Problem, Row, Statement};
use crate::service::ServiceError;
use crate::service::auth::sessions::Principal;
use crate::store::{AccountRecord, ImportRecord, StoreError, TxnRecord};
use crate::support::{sha256_hex, unix_now};

/// The longest bank id kept; a longer one is not an id a bank gave.
const MAX_EXTERNAL_ID: usize = 255;
/// Days before a file's first and after its last day in which a row's
/// bank id is looked for among the account's transactions.
const BANK_ID_SLACK_DAYS: i64 = 14;

/// The formats an import reads.
pub const FORMATS: [&str; 4] = ["csv", "ofx", "qif", "camt"];

/// What an upload says about its file.
#[derive(Debug, Clone)]
pub struct Upload {
    pub account_id: String,
    /// `csv`, `ofx` (also QFX), `qif` or `camt` (CAMT.053).
    pub format: String,
    /// For CSV: the name of a shipped preset.
    pub preset: Option<String>,
    /// For QIF: `day_first` or `month_first`; detected when absent.
    pub date_order: Option<String>,
    pub filename: String,
    pub bytes: Bytes,
}

/// A row of a preview and what will become of it.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub row: Row,
    /// The transaction already in the account this row duplicates.
    pub duplicate_of: Option<String>,
    /// What the book's rules make of it: the category, payee and tags the
    /// transaction will have.
    pub tidied: Tidied,
    /// The rules that held, in order.
    pub rules: Vec<String>,
}

/// An import and what its file holds now.
pub struct ImportView {
    pub import: ImportRecord,
    pub rows: Vec<PreviewRow>,
    pub problems: Vec<Problem>,
    /// Entries of the file that are not transactions yet, left out.
    pub skipped: Vec<Problem>,
}

impl ImportView {
    pub fn duplicates(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.duplicate_of.is_some())
            .count()
    }
}

fn read(
    format: &str,
    preset: Option<&str>,
    order: Option<&str>,
    bytes: &[u8],
    currency: &str,
) -> Result<Statement, ServiceError> {
    let digits = crate::domain::money::minor_unit_digits(currency);
    let mut statement = match format {
        "csv" => {
            // The preset's TOML, checked when it was saved or shipped.
            let text = preset
                .ok_or_else(|| ServiceError::Internal("a CSV import without its preset".into()))?;
            let preset = import::preset_from_toml(text).map_err(|e| {
                ServiceError::Invalid(format!("the import's preset cannot be read: {e}"))
            })?;
            import::parse_csv(bytes, &preset, digits)
        }
        "ofx" => import::parse_ofx(bytes, currency),
        "qif" => {
            let order = match order {
                None => DateOrder::Detect,
                Some("day_first") => DateOrder::DayFirst,
                Some("month_first") => DateOrder::MonthFirst,
                Some(other) => {
                    return Err(ServiceError::Invalid(format!(
                        "date_order must be day_first or month_first, not {other:?}"
                    )));
                }
            };
            import::parse_qif(bytes, digits, order)
        }
        "camt" => import::parse_camt(bytes, currency),
        other => {
            return Err(ServiceError::Invalid(format!(
                "format must be one of {}, not {other:?}",
                FORMATS.join(", ")
            )));
        }
    };
    // Text as the ledger will keep it, so that the preview shows what the
    // commit writes and both fingerprint the same text.
    for row in &mut statement.rows {
        row.payee = clean(&row.payee, MAX_NAME_CHARS, false);
        row.description = clean(&row.description, MAX_TEXT_CHARS, true);
        row.external_id = row
            .external_id
            .take()
            .filter(|e| e.len() <= MAX_EXTERNAL_ID);
    }
    if let Some(declared) = statement.currency.clone().filter(|c| c != currency) {
        statement.problems.insert(
            0,
            Problem::at(
                1,
                None,
                format!("the file is in {declared}, the account in {currency}"),
            ),
        );
    }
    Ok(statement)
}

impl Ledger {
    /// Reads an uploaded statement, keeps it, and answers the preview.
    pub async fn preview_import(
        &self,
        principal: &Principal,
        bid: &str,
        upload: Upload,
    ) -> Result<ImportView, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        if upload.bytes.len() as u64 > self.settings.max_import_bytes {
            return Err(ServiceError::TooLarge(format!(
                "statement files are limited to {} bytes",
                self.settings.max_import_bytes
            )));
        }
        let account = self.body_account(actor, bid, &upload.account_id).await?;
        let (preset, preset_toml) = if upload.format == "csv" {
            let name = upload.preset.as_deref().unwrap_or("iso-signed");
            let toml = self.preset_text(actor, bid, name).await?;
            (Some(name.to_string()), Some(toml))
        } else {
            (None, None)
        };
        let bytes = upload.bytes.clone();
        let (format, order, currency) = (
            upload.format.clone(),
            upload.date_order.clone(),
            account.currency.clone(),
        );
        let preset_text = preset_toml.clone();
        // Parsing a large file is CPU work: off the async runtime.
        let statement = tokio::task::spawn_blocking(move || {
            read(
                &format,
                preset_text.as_deref(),
                order.as_deref(),
                &bytes,
                &currency,
            )
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let sha256 = sha256_hex(&upload.bytes);
        self.blobs.put(&sha256, upload.bytes.clone()).await?;
        let now = unix_now();
        let record = ImportRecord {
            iid: crate::service::new_id()?,
            bid: bid.to_string(),
            aid: account.aid.clone(),
            format: upload.format,
            preset,
            preset_toml,
            date_order: upload.date_order.clone(),
            filename: upload.filename.chars().take(200).collect(),
            sha256,
            byte_size: upload.bytes.len() as i64,
            status: "preview".into(),
            created_by: actor.to_string(),
            created_at: now,
            committed_at: None,
            undone_at: None,
            committed_rows: 0,
        };
        let import = self.store.create_import(actor, &record).await?;
        // Again, now that the import names it: the collector may have
        // taken an older copy of the same file that nothing used.
        self.blobs.put(&import.sha256, upload.bytes).await?;
        let rows = self
            .flag_duplicates(actor, bid, &account, statement.rows)
            .await?;
        Ok(ImportView {
            import,
            rows,
            problems: statement.problems,
            skipped: statement.skipped,
        })
    }

    /// An import, with its file read again (a preview's duplicates as they are now).
    pub async fn import(
        &self,
        principal: &Principal,
        bid: &str,
        iid: &str,
    ) -> Result<ImportView, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        let import = self
            .store
            .import(actor, bid, iid)
            .await?
            .ok_or_else(|| not_found("import"))?;
        let (statement, account) = self.reread(actor, &import).await?;
        let rows = match account {
            Some(account) if import.status == "preview" => {
                self.flag_duplicates(actor, bid, &account, statement.rows)
                    .await?
            }
            _ => statement
                .rows
                .into_iter()
                .map(|row| PreviewRow {
                    tidied: Tidied {
                        category_id: None,
                        payee: row.payee.clone(),
                        tags: Vec::new(),
                    },
                    row,
                    duplicate_of: None,
                    rules: Vec::new(),
                })
                .collect(),
        };
        Ok(ImportView {
            import,
            rows,
            problems: statement.problems,
            skipped: statement.skipped,
        })
    }

    pub async fn imports(
        &self,
        principal: &Principal,
        bid: &str,
    ) -> Result<Vec<ImportRecord>, ServiceError> {
        let actor = actor(principal, Need::Read)?;
        Ok(self.store.imports(actor, bid).await?)
    }

    /// Writes the previewed rows: every new one, and the duplicates the user
    /// chose to keep (by their index in the file's rows, from 0). Refused
    /// while the file has problems.
    pub async fn commit_import(
        &self,
        principal: &Principal,
        bid: &str,
        iid: &str,
        keep_duplicate_rows: &[usize],
    ) -> Result<ImportRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        let import = self
            .store
            .import(actor, bid, iid)
            .await?
            .ok_or_else(|| not_found("import"))?;
        if import.status != "preview" {
            return Err(ServiceError::Conflict(format!(
                "the import is {}: only a preview can be committed",
                import.status
            )));
        }
        let (statement, account) = self.reread(actor, &import).await?;
        let account = account
            .ok_or_else(|| ServiceError::Conflict("the import's account was deleted".into()))?;
        if let Some(first) = statement.problems.first() {
            return Err(ServiceError::Invalid(format!(
                "the file has {} problem(s), the first at {first}; nothing was imported",
                statement.problems.len()
            )));
        }
        let rows = self
            .flag_duplicates(actor, bid, &account, statement.rows)
            .await?;
        let now = unix_now();
        let keep: std::collections::HashSet<usize> = keep_duplicate_rows.iter().copied().collect();
        let mut records = Vec::with_capacity(rows.len());
        for (index, preview) in rows.into_iter().enumerate() {
            if preview.duplicate_of.is_some() && !keep.contains(&index) {
                continue;
            }
            records.push(self.imported(&import, &account, preview, now)?);
        }
        let dates = (
            records.iter().map(|r| r.date.clone()).min(),
            records.iter().map(|r| r.date.clone()).max(),
        );
        // Missing: the preview expired (import.preview_days) meanwhile.
        let committed = match self
            .store
            .commit_import(actor, bid, iid, &records, now)
            .await
        {
            Err(StoreError::Missing(_)) => return Err(not_found("import")),
            other => other?,
        };
        // The lines just written may be the payments of receipts already
        // read. The import stands whatever comes of this.
        if let (Some(from), Some(to)) = dates
            && let Err(e) = self.propose_for_lines(actor, bid, &from, &to).await
        {
            tracing::warn!(import = %iid, error = %e, "cannot look for receipts the imported lines paid");
        }
        Ok(committed)
    }

    /// Deletes every transaction the import made (edited ones too).
    pub async fn undo_import(
        &self,
        principal: &Principal,
        bid: &str,
        iid: &str,
    ) -> Result<ImportRecord, ServiceError> {
        let actor = actor(principal, Need::Write)?;
        self.require_writer(actor, bid).await?;
        match self.store.undo_import(actor, bid, iid, unix_now()).await {
            Err(StoreError::Missing(_)) => Err(not_found("import")),
            other => Ok(other?),
        }
    }

    /// The statement in the import's file, read as at upload, and its account if it still exists.
    async fn reread(
        &self,
        actor: &str,
        import: &ImportRecord,
    ) -> Result<(Statement, Option<AccountRecord>), ServiceError> {
        let account = self.store.account(actor, &import.bid, &import.aid).await?;
        let currency = match &account {
            Some(a) => a.currency.clone(),
            None => return Ok((Statement::default(), None)),
        };
        // A preview's file goes a while after the preview expired: a
        // request that read the preview just before sees it gone.
        let bytes = self
            .blobs
            .find(&import.sha256)
            .await?
            .ok_or_else(|| not_found("import"))?;
        // Imports from before presets were kept with them name a shipped one.
        let preset = import.preset_toml.clone().or_else(|| {
            let name = import.preset.as_deref()?;
            import::shipped_texts()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, text)| text)
        });
        let (format, order) = (import.format.clone(), import.date_order.clone());
        let statement = tokio::task::spawn_blocking(move || {
            read(
                &format,
                preset.as_deref(),
                order.as_deref(),
                &bytes,
                &currency,
            )
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
        Ok((statement, account))
    }

    async fn flag_duplicates(
        &self,
        actor: &str,
        bid: &str,
        account: &AccountRecord,
        rows: Vec<Row>,
    ) -> Result<Vec<PreviewRow>, ServiceError> {
        let (Some(first), Some(last)) = (
            rows.iter().map(|r| &r.date).min(),
            rows.iter().map(|r| &r.date).max(),
        ) else {
            return Ok(Vec::new());
        };
        // A bank may date one transaction differently in two statements
        // (booked, then valued): its id is looked for a little around
        // the file's days. Fingerprints hold the date, so they only meet
        // on the same day anyway.
        let from = shift_day(first, -BANK_ID_SLACK_DAYS).unwrap_or_else(|| first.clone());
        let to = shift_day(last, BANK_ID_SLACK_DAYS).unwrap_or_else(|| last.clone());
        let existing = self
            .store
            .existing_between(actor, bid, &account.aid, &from, &to)
            .await?;
        let known: Vec<Known> = existing
            .into_iter()
            .map(|e| Known {
                tid: e.tid,
                amount: e.amount,
                external_id: e.external_id,
                fingerprint: e.fingerprint,
            })
            .collect();
        let flags = import::duplicates(&account.aid, &rows, &known);
        let rules = self.compiled_rules(actor, bid, None).await?;
        Ok(rows
            .into_iter()
            .zip(flags)
            .map(|(row, duplicate_of)| {
                let mut subject = Subject {
                    account_id: account.aid.clone(),
                    amount: row.amount,
                    payee: row.payee.clone(),
                    description: row.description.clone(),
                    category_id: None,
                    tags: Vec::new(),
                    categorisable: true,
                };
                let held = rules::apply(&rules, &mut subject);
                PreviewRow {
                    row,
                    duplicate_of,
                    tidied: Tidied::from(&subject),
                    rules: held,
                }
            })
            .collect())
    }

    fn imported(
        &self,
        import: &ImportRecord,
        account: &AccountRecord,
        preview: PreviewRow,
        now: i64,
    ) -> Result<TxnRecord, ServiceError> {
        // The fingerprint is of the bank's text, not of what the rules
        // made of it: the same line imported again still matches.
        let fingerprint = import::fingerprint(&account.aid, &preview.row);
        let (row, tidied) = (preview.row, preview.tidied);
        let payee = tidied.payee;
        Ok(TxnRecord {
            tid: crate::service::new_id()?,
            bid: import.bid.clone(),
            aid: account.aid.clone(),
            date: row.date,
            amount: row.amount,
            currency: account.currency.clone(),
            payee_folded: payee.to_lowercase(),
            payee,
            description: row.description,
            cid: tidied.category_id,
            tags: tidied.tags,
            notes: String::new(),
            state: "cleared".into(),
            splits: Vec::new(),
            receipts: Vec::new(),
            transfer_id: None,
            import_id: Some(import.iid.clone()),
            external_id: row.external_id,
            fingerprint: Some(fingerprint),
            rev: 1,
            created_at: now,
            updated_at: now,
        })
    }
}

/// Text from a file as the ledger keeps it: control characters become
/// spaces (newlines too, in a payee), cut to `max` characters.
fn clean(text: &str, max: usize, newlines: bool) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !(newlines && c == '\n') {
                ' '
            } else {
                c
            }
        })
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_shows_the_text_the_commit_keeps() {
        let file =
            "date,amount,payee,description\n2026-01-02,-1.00,\"Tab\there\",\"two\nlines\u{7}\"\n";
        let iso = import::shipped_texts()
            .into_iter()
            .find(|(name, _)| name == "iso-signed")
            .map(|(_, text)| text);
        let statement = read("csv", iso.as_deref(), None, file.as_bytes(), "EUR").expect("read");
        assert_eq!(statement.rows[0].payee, "Tab here");
        assert_eq!(statement.rows[0].description, "two\nlines");
        let other = read(
            "ofx",
            None,
            None,
            b"<?xml version=\"1.0\"?><?OFX OFXHEADER=\"200\"?><OFX><CURDEF>USD</CURDEF></OFX>",
            "EUR",
        )
        .expect("read");
        assert!(
            other.problems[0].message.contains("USD"),
            "{:?}",
            other.problems
        );
        assert!(read("xls", None, None, b"", "EUR").is_err());
    }
}
