//! Receipt accuracy and speed benchmark: OCR and field extraction on a folder
//! of SROIE-style receipts (`img/<ID>.jpg`, `entities/<ID>.json` with
//! `company`, `date`, `total`), scored by exact match after normalisation.
//!
//! `cargo run --release -p fin-daemon --example receipt_bench -- DIR
//!  [--month-first] [--currency XXX] [--pages PAGES_DIR]`
//!
//! With `--pages`, OCR is skipped and `PAGES_DIR/<ID>.json` (as written by the
//! `ocr_dump` example) is read instead, to score extraction alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fin_daemon::domain::receipt::{DateOrder, ExtractOptions};
use fin_daemon::ocr::page::Page;
use fin_daemon::ocr::{self, Engine, ModelSource};

/// Ground-truth total to minor units: `80.90`, `$7.60`, `RM 13.30` → 8090.
fn gt_total(text: &str) -> Option<i64> {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .collect();
    let (whole, frac) = match kept.rfind(['.', ',']) {
        Some(i) if kept.len() - i - 1 == 2 => (&kept[..i], &kept[i + 1..]),
        _ => (kept.as_str(), "00"),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac.parse().ok()?)
}

/// Ground-truth date, read day first, to ISO: `25/12/2018`, `14-03-18`, `22 MAR 2018`.
fn gt_date(text: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let parts: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_uppercase)
        .collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    let month: u32 = match MONTHS.iter().position(|n| m.starts_with(n)) {
        Some(i) => u32::try_from(i).ok()? + 1,
        None => m.parse().ok()?,
    };
    let (day, year): (u32, u32) = (d.parse().ok()?, y.parse().ok()?);
    let year = if year < 100 { 2000 + year } else { year };
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Merchant for comparison: uppercase letters and digits, single spaces.
fn norm_merchant(text: &str) -> String {
    text.to_uppercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

struct Field {
    name: &'static str,
    hits: usize,
    misses: Vec<(String, String, String)>,
}

impl Field {
    fn new(name: &'static str) -> Field {
        Field {
            name,
            hits: 0,
            misses: Vec::new(),
        }
    }

    fn score<T: PartialEq + std::fmt::Debug>(
        &mut self,
        id: &str,
        expected: Option<T>,
        got: Option<T>,
    ) {
        if expected.is_some() && expected == got {
            self.hits += 1;
        } else {
            self.misses
                .push((id.to_string(), format!("{expected:?}"), format!("{got:?}")));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = None;
    let mut pages_dir: Option<PathBuf> = None;
    let mut options = ExtractOptions {
        date_order: DateOrder::DayFirst,
        default_currency: "MYR".into(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--month-first" => options.date_order = DateOrder::MonthFirst,
            "--currency" => {
                options.default_currency = it.next().ok_or("--currency needs a code")?.clone();
            }
            "--pages" => pages_dir = Some(it.next().ok_or("--pages needs a folder")?.into()),
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg}").into()),
        }
    }
    let Some(dir) = dir else {
        return Err(
            "usage: receipt_bench DIR [--month-first] [--currency XXX] [--pages PAGES_DIR]".into(),
        );
    };
    if !dir.join("entities").is_dir() {
        eprintln!(
            "{}: no entities/ folder here; nothing to benchmark",
            dir.display()
        );
        return Ok(());
    }
    let mut ids: Vec<String> = std::fs::read_dir(dir.join("entities"))?
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "json")
                .then(|| path.file_stem()?.to_str().map(str::to_string))
                .flatten()
        })
        .collect();
    ids.sort();
    let engine = match pages_dir {
        Some(_) => None,
        None => Some(Engine::load(&ModelSource::Bundled)?),
    };

    let mut total = Field::new("total");
    let mut date = Field::new("date");
    let mut merchant = Field::new("merchant");
    let mut times = Vec::new();
    // Per stage: decode, detect, recognise, extract.
    let mut stages: [Vec<Duration>; 4] = Default::default();
    for id in &ids {
        let gt: serde_json::Value = serde_json::from_slice(&std::fs::read(
            dir.join("entities").join(format!("{id}.json")),
        )?)?;
        let started = Instant::now();
        // Saved pages are only extracted: the second reading of garbled
        // dates needs the image.
        let fields = match (&engine, &pages_dir) {
            (_, Some(pages)) => {
                let page: Page =
                    serde_json::from_slice(&std::fs::read(pages.join(format!("{id}.json")))?)?;
                ocr::extract::extract(&page, &options)
            }
            (Some(engine), None) => {
                let bytes = std::fs::read(image_path(&dir, id))?;
                let reading = engine.read_receipt_bytes(&bytes, 40_000_000, &options)?;
                for (all, (_, took)) in stages.iter_mut().zip(reading.timings.stages()) {
                    all.push(took);
                }
                reading.fields
            }
            (None, None) => return Err("no engine".into()),
        };
        times.push(started.elapsed());

        let text = |key: &str| gt[key].as_str().unwrap_or("").to_string();
        total.score(
            id,
            gt_total(&text("total")),
            fields.total.as_ref().map(|f| f.value),
        );
        date.score(
            id,
            gt_date(&text("date")),
            fields.date.as_ref().map(|f| f.value.clone()),
        );
        let expected = norm_merchant(&text("company"));
        merchant.score(
            id,
            (!expected.is_empty()).then_some(expected),
            fields.merchant.as_ref().map(|f| norm_merchant(&f.value)),
        );
    }

    let n = ids.len().max(1);
    for field in [&total, &date, &merchant] {
        println!(
            "{:8} {:5.1}% ({}/{})",
            field.name,
            100.0 * field.hits as f64 / n as f64,
            field.hits,
            ids.len()
        );
        for (id, expected, got) in &field.misses {
            println!("    miss {id}: expected {expected}, got {got}");
        }
    }
    times.sort();
    println!(
        "per receipt ({}): median {:?}, p95 {:?}",
        if pages_dir.is_some() {
            "extract only"
        } else {
            "decode+OCR+extract"
        },
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    if pages_dir.is_none() {
        let medians: Vec<String> = ["decode", "detect", "recognise", "extract"]
            .iter()
            .zip(stages.iter_mut())
            .map(|(name, times)| {
                times.sort();
                format!("{name} {:?}", percentile(times, 0.5))
            })
            .collect();
        println!("stage medians: {}", medians.join(", "));
    }
    println!("peak memory (VmHWM): {}", peak_memory());
    Ok(())
}

/// `img/<ID>.jpg`, or whatever extension the image has.
fn image_path(dir: &Path, id: &str) -> PathBuf {
    let jpg = dir.join("img").join(format!("{id}.jpg"));
    if jpg.exists() {
        return jpg;
    }
    std::fs::read_dir(dir.join("img"))
        .ok()
        .and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .find(|p| p.file_stem().and_then(|s| s.to_str()) == Some(id))
        })
        .unwrap_or(jpg)
}
