//! Runs the ocrs models over a decoded image.

use std::time::{Duration, Instant};

use image::DynamicImage;
use ocrs::{ImageSource, OcrEngine, OcrEngineParams, TextItem};

use super::models::{self, ModelError, ModelSource};
use super::page::{BoxRect, Line, Page, Word};

/// Images are scaled down to this many pixels on their long side before OCR.
/// The detector works at a fixed input size whatever the image, and the
/// recogniser scales each line to 50 px high, so more pixels only cost time;
/// at this size a receipt's smallest print is still well over 20 px high.
pub const WORKING_LONG_SIDE: u32 = 2400;

/// A checked model, as `/readyz` and the logs report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub name: String,
    pub sha256: String,
}

/// The loaded models. Loaded once and shared by every worker: recognition
/// only reads them.
pub struct Engine {
    ocrs: OcrEngine,
    models: Vec<ModelInfo>,
}

/// Time spent in each OCR stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct OcrTimings {
    pub detect: Duration,
    pub recognise: Duration,
}

impl Engine {
    pub fn load(source: &ModelSource) -> Result<Engine, ModelError> {
        let [detection, recognition] = models::read(source)?;
        let models = vec![
            ModelInfo {
                name: detection.name.clone(),
                sha256: detection.sha256.clone(),
            },
            ModelInfo {
                name: recognition.name.clone(),
                sha256: recognition.sha256.clone(),
            },
        ];
        let ocrs = OcrEngine::new(OcrEngineParams {
            detection_model: Some(models::load(detection)?),
            recognition_model: Some(models::load(recognition)?),
            ..Default::default()
        })
        .map_err(|e| ModelError::Load {
            name: "ocrs engine".into(),
            reason: e.to_string(),
        })?;
        Ok(Engine { ocrs, models })
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// Reads every line of text in `image`. CPU-bound: call it from a blocking
    /// thread, never from the async runtime.
    pub fn read(&self, image: &DynamicImage) -> Result<(Page, OcrTimings), String> {
        let started = Instant::now();
        let grey = working_copy(image);
        let (width, height) = grey.dimensions();
        let source = ImageSource::from_bytes(grey.as_raw(), (width, height))
            .map_err(|e| format!("cannot prepare the image: {e}"))?;
        let input = self
            .ocrs
            .prepare_input(source)
            .map_err(|e| format!("cannot prepare the image: {e}"))?;
        let words = self
            .ocrs
            .detect_words(&input)
            .map_err(|e| format!("text detection failed: {e}"))?;
        let line_rects = self.ocrs.find_text_lines(&input, &words);
        let detected = Instant::now();
        let recognised = self
            .ocrs
            .recognize_text(&input, &line_rects)
            .map_err(|e| format!("text recognition failed: {e}"))?;
        let timings = OcrTimings {
            detect: detected - started,
            recognise: detected.elapsed(),
        };
        let lines = recognised
            .into_iter()
            .flatten()
            .filter_map(to_line)
            .collect();
        Ok((
            Page {
                width,
                height,
                lines,
            },
            timings,
        ))
    }
}

/// A greyscale copy no larger than [`WORKING_LONG_SIDE`]. Greyscale also folds
/// alpha, 16-bit and CMYK sources into the one form the models take.
fn working_copy(image: &DynamicImage) -> image::GrayImage {
    let long_side = image.width().max(image.height());
    if long_side > WORKING_LONG_SIDE {
        let scale = f64::from(WORKING_LONG_SIDE) / f64::from(long_side);
        let width = ((f64::from(image.width()) * scale).round() as u32).max(1);
        let height = ((f64::from(image.height()) * scale).round() as u32).max(1);
        image
            .resize_exact(width, height, image::imageops::FilterType::Triangle)
            .into_luma8()
    } else {
        image.to_luma8()
    }
}

fn to_line(line: ocrs::TextLine) -> Option<Line> {
    let words: Vec<Word> = line
        .words()
        .map(|word| {
            let r = word.bounding_rect();
            Word {
                text: word.to_string(),
                rect: BoxRect {
                    left: r.left() as f32,
                    top: r.top() as f32,
                    right: r.right() as f32,
                    bottom: r.bottom() as f32,
                },
            }
        })
        .filter(|word| !word.text.trim().is_empty())
        .collect();
    let rect = words.iter().map(|w| w.rect).reduce(|a, b| a.union(&b))?;
    Some(Line { words, rect })
}
