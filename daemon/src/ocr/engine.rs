//! Runs the ocrs models over a decoded image.

use std::time::{Duration, Instant};

use image::DynamicImage;
use ocrs::{ImageSource, OcrEngine, OcrEngineParams, TextItem};
use rten_imageproc::RotatedRect;

use super::models::{self, ModelError, ModelSource};
use super::page::{BoxRect, Line, Page, Word};

/// Images are scaled down to this many pixels on their long side before OCR.
/// The detector works at a fixed input size whatever the image, and the
/// recogniser scales each line to 50 px high, so more pixels only cost time;
/// at this size a receipt's smallest print is still well over 20 px high.
pub const WORKING_LONG_SIDE: u32 = 2400;

/// How an image is prepared for the models. The defaults are what measured
/// best on real receipts (`docs/benchmarks.md`); the fields exist for the
/// benchmark's comparisons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preprocess {
    /// Images whose long side is longer are scaled down to it first.
    pub max_long_side: u32,
    /// Find words in tiles with the detector's aspect ratio, rather than in
    /// the whole image squeezed into the detector's fixed input.
    pub tile_detection: bool,
}

impl Default for Preprocess {
    fn default() -> Self {
        Preprocess {
            max_long_side: WORKING_LONG_SIDE,
            tile_detection: true,
        }
    }
}

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
    preprocess: Preprocess,
}

/// Time spent in each OCR stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct OcrTimings {
    pub detect: Duration,
    pub recognise: Duration,
}

impl Engine {
    pub fn load(source: &ModelSource) -> Result<Engine, ModelError> {
        Self::load_with(source, Preprocess::default())
    }

    /// Loads the models with other image preparation or decoding (for experiments).
    pub fn load_with(source: &ModelSource, preprocess: Preprocess) -> Result<Engine, ModelError> {
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
        Ok(Engine {
            ocrs,
            models,
            preprocess,
        })
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// Reads every line of text in `image`. CPU-bound: call it from a blocking
    /// thread, never from the async runtime.
    pub fn read(&self, image: &DynamicImage) -> Result<(Page, OcrTimings), String> {
        let started = Instant::now();
        let grey = working_copy(image, &self.preprocess);
        let (width, height) = grey.dimensions();
        let source = ImageSource::from_bytes(grey.as_raw(), (width, height))
            .map_err(|e| format!("cannot prepare the image: {e}"))?;
        let input = self
            .ocrs
            .prepare_input(source)
            .map_err(|e| format!("cannot prepare the image: {e}"))?;
        let words = if self.preprocess.tile_detection && needs_tiles(width, height) {
            self.detect_in_tiles(&grey)?
        } else {
            self.ocrs
                .detect_words(&input)
                .map_err(|e| format!("text detection failed: {e}"))?
        };
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

impl Engine {
    /// The detector takes a fixed 800x600 (height x width) input and squeezes
    /// any image into it: a long receipt loses most of its line height. Tiles
    /// of the detector's aspect ratio, overlapping by an eighth, keep text in
    /// proportion; a word seen in two tiles is kept from the tile whose core
    /// holds its centre.
    fn detect_in_tiles(&self, grey: &image::GrayImage) -> Result<Vec<RotatedRect>, String> {
        let (width, height) = grey.dimensions();
        let tile_height = tile_height(width);
        let mut words = Vec::new();
        let overlap = tile_height / 8;
        let mut top = 0;
        loop {
            let bottom = (top + tile_height).min(height);
            let tile = image::imageops::crop_imm(grey, 0, top, width, bottom - top).to_image();
            let source = ImageSource::from_bytes(tile.as_raw(), tile.dimensions())
                .map_err(|e| format!("cannot prepare the image: {e}"))?;
            let input = self
                .ocrs
                .prepare_input(source)
                .map_err(|e| format!("cannot prepare the image: {e}"))?;
            let found = self
                .ocrs
                .detect_words(&input)
                .map_err(|e| format!("text detection failed: {e}"))?;
            let core_top = if top == 0 { 0.0 } else { (overlap / 2) as f32 };
            let core_bottom = if bottom == height {
                f32::MAX
            } else {
                (bottom - top - overlap / 2) as f32
            };
            for word in found {
                let centre = word.center();
                if centre.y >= core_top && centre.y < core_bottom {
                    words.push(RotatedRect::new(
                        centre.translate(top as f32, 0.0),
                        word.up_axis(),
                        word.width(),
                        word.height(),
                    ));
                }
            }
            if bottom == height {
                return Ok(words);
            }
            top = bottom - overlap;
        }
    }
}

/// The height of a detection tile of `width`: the detector's 4:3 (height to width).
fn tile_height(width: u32) -> u32 {
    (width.saturating_mul(4) / 3).max(64)
}

/// Whether an image is so much taller than the detector's shape that tiles pay.
fn needs_tiles(width: u32, height: u32) -> bool {
    let tile = tile_height(width);
    height > tile + tile / 4
}

/// A greyscale copy no larger than `max_long_side`. Greyscale also folds
/// alpha, 16-bit and CMYK sources into the one form the models take.
fn working_copy(image: &DynamicImage, p: &Preprocess) -> image::GrayImage {
    let long_side = image.width().max(image.height());
    if long_side <= p.max_long_side {
        return image.to_luma8();
    }
    let scale = f64::from(p.max_long_side) / f64::from(long_side);
    let width = ((f64::from(image.width()) * scale).round() as u32).max(1);
    let height = ((f64::from(image.height()) * scale).round() as u32).max(1);
    image
        .resize_exact(width, height, image::imageops::FilterType::Triangle)
        .into_luma8()
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
