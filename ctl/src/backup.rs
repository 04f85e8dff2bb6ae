//! `finctl backup ...` and `finctl restore`: archives of the whole box,
//! streamed over the admin socket (see docs/backup.md).

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand};
use fin_proto::admin::{
    ArchiveSummary, BACKUP_PRUNE_PATH, BACKUP_VERIFY_PATH, BACKUPS_PATH, BackupCreated, BackupInfo,
    CreateBackup, PASSPHRASE_HEADER, Prune, Pruned, RESTORE_PATH, Restored,
};

use crate::client::AdminClient;
use crate::error::CtlError;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    #[command(flatten)]
    create: CreateArgs,
}

#[derive(Args)]
struct CreateArgs {
    /// Write the archive here (created 0600; FILE.partial until complete).
    /// Without it, the daemon writes it to its backup folder.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Encrypt the archive with the passphrase in this file (first line).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Also put the JWT signing secret and the ACME account in (needs --passphrase-file).
    #[arg(long)]
    include_secrets: bool,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// List the archives in the daemon's backup folder.
    List,
    /// Check an archive from end to end (checksums, manifest, passphrase,
    /// schema) without touching any data.
    Verify {
        file: PathBuf,
        /// The passphrase of an encrypted archive, in this file (first line).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Remove the archives the retention policy (`[backup]` keep_*) does not keep.
    Prune {
        /// Only show what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The archive to restore.
    file: PathBuf,
    /// The passphrase of an encrypted archive, in this file (first line).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    yes: bool,
}

pub fn run(client: &AdminClient, args: BackupArgs, json: bool) -> Result<(), CtlError> {
    match args.command {
        None => create(client, args.create, json),
        Some(BackupCommand::List) => list(client, json),
        Some(BackupCommand::Verify {
            file,
            passphrase_file,
        }) => verify(client, &file, passphrase_file.as_deref(), json),
        Some(BackupCommand::Prune { dry_run }) => prune(client, dry_run, json),
    }
}

fn create(client: &AdminClient, args: CreateArgs, json: bool) -> Result<(), CtlError> {
    let passphrase = args
        .passphrase_file
        .as_deref()
        .map(read_passphrase)
        .transpose()?;
    if args.include_secrets && passphrase.is_none() {
        return Err(CtlError::Usage(
            "--include-secrets needs --passphrase-file: an archive with secrets is always encrypted".into(),
        ));
    }
    let request = CreateBackup {
        passphrase,
        include_secrets: args.include_secrets,
        to_folder: args.output.is_none(),
        pre_upgrade: false,
    };
    let Some(output) = args.output else {
        let created: BackupCreated = client.post(BACKUPS_PATH, &request)?;
        return print(json, &created, || {
            format!(
                "backup written by the daemon: {} ({})\n{}",
                created.file.path,
                size(created.file.size),
                describe(&created.archive)
            )
        });
    };
    let partial = partial_path(&output);
    // A `.partial` left by a killed run is replaced, but never followed
    // if it is a link someone planted: the file is created anew, or not.
    if std::fs::symlink_metadata(&partial).is_ok_and(|m| m.file_type().is_file()) {
        let _ = std::fs::remove_file(&partial);
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| CtlError::Other(format!("cannot create {}: {e}", partial.display())))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let started = Instant::now();
    let mut meter = Meter::new(json, "written");
    let result = client
        .download(BACKUPS_PATH, &request, &mut out, &mut |n| meter.show(n))
        .and_then(|n| {
            let file = out
                .into_inner()
                .map_err(|e| crate::client::write_error(e.into_error()))?;
            file.sync_all().map_err(crate::client::write_error)?;
            std::fs::rename(&partial, &output).map_err(|e| {
                CtlError::Other(format!("cannot rename to {}: {e}", output.display()))
            })?;
            if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(n)
        });
    meter.done();
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "path": output.display().to_string(),
        "size": bytes,
        "seconds": seconds,
        "encrypted": request.passphrase.is_some(),
    });
    print(json, &report, || {
        format!(
            "backup written to {} ({} in {seconds:.1} s){}",
            output.display(),
            size(bytes),
            if request.passphrase.is_some() {
                ", encrypted"
            } else {
                ""
            }
        )
    })
}

fn list(client: &AdminClient, json: bool) -> Result<(), CtlError> {
    let files: Vec<BackupInfo> = client.get(BACKUPS_PATH)?;
    print(json, &files, || {
        if files.is_empty() {
            return "no archives in the backup folder".to_string();
        }
        let mut text = format!("{:<50} {:<12} {:>10}\n", "NAME", "KIND", "SIZE");
        for f in &files {
            text.push_str(&format!(
                "{:<50} {:<12} {:>10}\n",
                f.name,
                f.kind,
                size(f.size)
            ));
        }
        text.trim_end().to_string()
    })
}

fn verify(
    client: &AdminClient,
    file: &Path,
    passphrase_file: Option<&Path>,
    json: bool,
) -> Result<(), CtlError> {
    let summary: ArchiveSummary = send_archive(
        client,
        BACKUP_VERIFY_PATH,
        file,
        passphrase_file,
        json,
        "checked",
    )?;
    print(json, &summary, || {
        format!(
            "{} is whole and restorable\n{}",
            file.display(),
            describe(&summary)
        )
    })
}

fn prune(client: &AdminClient, dry_run: bool, json: bool) -> Result<(), CtlError> {
    let pruned: Pruned = client.post(BACKUP_PRUNE_PATH, &Prune { dry_run })?;
    print(json, &pruned, || {
        let verb = if dry_run { "would remove" } else { "removed" };
        if pruned.removed.is_empty() {
            return format!("nothing to prune ({verb} none)");
        }
        let names: Vec<&str> = pruned.removed.iter().map(|f| f.name.as_str()).collect();
        format!(
            "{verb} {} archive(s):\n  {}",
            names.len(),
            names.join("\n  ")
        )
    })
}

pub fn restore(
    client: &AdminClient,
    args: RestoreArgs,
    config: Option<&Path>,
    json: bool,
) -> Result<(), CtlError> {
    confirm(
        args.yes,
        &format!(
            "Restore {}? This replaces all of fin's data (a restore point of the current data is kept).",
            args.file.display()
        ),
    )?;
    if let Err(CtlError::NotRunning { .. }) =
        client.get::<serde_json::Value>(fin_proto::admin::STATUS_PATH)
    {
        // The daemon is stopped: the daemon binary restores on its own.
        let file = args.file.display().to_string();
        let mut fin_args = vec!["restore", file.as_str()];
        let passphrase = args
            .passphrase_file
            .as_ref()
            .map(|p| p.display().to_string());
        if let Some(p) = &passphrase {
            fin_args.extend(["--passphrase-file", p.as_str()]);
        }
        let restored: Restored = crate::offline::run_fin(config, &fin_args)?;
        return print(json, &restored, || {
            format!(
                "{}\nfin is stopped: start it with `sudo systemctl start fin`",
                restored_text(&args.file.display().to_string(), &restored)
            )
        });
    }
    let restored: Restored = send_archive(
        client,
        RESTORE_PATH,
        &args.file,
        args.passphrase_file.as_deref(),
        json,
        "sent",
    )?;
    print(json, &restored, || {
        restored_text(&args.file.display().to_string(), &restored)
    })
}

/// What a restore did, for a person.
pub fn restored_text(file: &str, restored: &Restored) -> String {
    let mut text = format!("restored {file}\n{}", describe(&restored.archive));
    if restored.schema_from != restored.schema_now {
        text.push_str(&format!(
            "\nmigrated from schema {} to {}",
            restored.schema_from, restored.schema_now
        ));
    }
    if let Some(point) = &restored.restore_point {
        text.push_str(&format!("\nthe data it replaced is in {}", point.path));
    }
    if restored.secrets_restored {
        text.push_str(
            "\nsecrets were restored: restart fin for them to take effect (sudo systemctl restart fin)",
        );
    }
    text
}

fn send_archive<T: serde::de::DeserializeOwned>(
    client: &AdminClient,
    path: &str,
    file: &Path,
    passphrase_file: Option<&Path>,
    json: bool,
    verb: &str,
) -> Result<T, CtlError> {
    let mut headers = Vec::new();
    if let Some(passphrase_file) = passphrase_file {
        let passphrase = read_passphrase(passphrase_file)?;
        let hex: String = passphrase.bytes().map(|b| format!("{b:02x}")).collect();
        headers.push((PASSPHRASE_HEADER, hex));
    }
    let mut input = std::fs::File::open(file)
        .map_err(|e| CtlError::Other(format!("cannot open {}: {e}", file.display())))?;
    let len = input
        .metadata()
        .map_err(|e| CtlError::Other(format!("cannot read {}: {e}", file.display())))?
        .len();
    let mut meter = Meter::new(json, verb);
    let result = client.upload(path, &headers, &mut input, len, &mut |n| meter.show(n));
    meter.done();
    result
}

/// The passphrase: the file's first line, which must not be empty.
fn read_passphrase(path: &Path) -> Result<String, CtlError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CtlError::Other(format!(
            "cannot read the passphrase file {}: {e}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(CtlError::Other(format!(
            "the passphrase file {} is empty",
            path.display()
        )));
    }
    Ok(line)
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

fn describe(a: &ArchiveSummary) -> String {
    let records: u64 = a.tables.values().sum();
    format!(
        "taken {} on {} by fin {} (schema {}): {records} records in {} tables, {} receipt images{}",
        a.created_at,
        a.host,
        a.fin_version,
        a.schema_version,
        a.tables.len(),
        a.images,
        if a.includes_secrets {
            ", secrets included"
        } else {
            ""
        }
    )
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// Asks on a terminal, unless `yes`; without a terminal `--yes` is needed.
pub fn confirm(yes: bool, question: &str) -> Result<(), CtlError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CtlError::Usage(format!("{question} Confirm with --yes.")));
    }
    eprint!("{question} Type yes: ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CtlError::Other(e.to_string()))?;
    if answer.trim() != "yes" {
        return Err(CtlError::Other("nothing done".into()));
    }
    Ok(())
}

pub fn print<T: serde::Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce() -> String,
) -> Result<(), CtlError> {
    if json {
        println!(
            "{}",
            serde_json::to_string(value).map_err(|e| CtlError::Other(e.to_string()))?
        );
    } else {
        println!("{}", text());
    }
    Ok(())
}

/// Progress on a terminal (stderr): bytes so far and the rate.
struct Meter {
    on: bool,
    verb: String,
    started: Instant,
    last: Option<Instant>,
}

impl Meter {
    fn new(json: bool, verb: &str) -> Self {
        Meter {
            on: !json && std::io::stderr().is_terminal(),
            verb: verb.to_string(),
            started: Instant::now(),
            last: None,
        }
    }

    fn show(&mut self, bytes: u64) {
        if !self.on || self.last.is_some_and(|t| t.elapsed().as_millis() < 200) {
            return;
        }
        self.last = Some(Instant::now());
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let mib = bytes as f64 / f64::from(1 << 20);
        eprint!(
            "\r{mib:10.1} MiB {} ({:.1} MiB/s)   ",
            self.verb,
            mib / seconds
        );
        let _ = std::io::stderr().flush();
    }

    fn done(&self) {
        if self.on && self.last.is_some() {
            eprintln!();
        }
    }
}
