//! Reading one receipt from its uploaded bytes, in one place: check and
//! decode the image, detect and recognise its words, read unsure words
//! again, extract the fields. The OCR workers and the benchmark take this
//! path, so what is measured is what runs.

use std::time::Instant;

use super::page::Page;
use super::{Engine, Timings, decode, probe};
use crate::domain::receipt::{ExtractOptions, ReceiptFields};

/// What one receipt read to.
#[derive(Debug, Clone)]
pub struct ReceiptReading {
    pub page: Page,
    pub fields: ReceiptFields,
    pub timings: Timings,
}

impl Engine {
    /// Decodes `bytes` (refusing images over `max_pixels`), reads them and
    /// extracts the fields. The error says why the image cannot be read;
    /// trying again would not help. CPU-bound: call it from a blocking
    /// thread, never from the async runtime.
    pub fn read_receipt_bytes(
        &self,
        bytes: &[u8],
        max_pixels: u64,
        options: &ExtractOptions,
    ) -> Result<ReceiptReading, String> {
        let started = Instant::now();
        let image = probe(bytes, None, max_pixels)
            .and_then(|info| decode(bytes, info))
            .map_err(|e| e.to_string())?;
        let decoded = started.elapsed();
        let (page, fields, mut timings) = self.read_receipt(&image, options)?;
        timings.decode = decoded;
        Ok(ReceiptReading {
            page,
            fields,
            timings,
        })
    }
}
