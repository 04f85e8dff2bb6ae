//! Runs the ocrs models over a decoded image.

use std::time::{Duration, Instant};

use image::DynamicImage;
use ocrs::{ImageSource, OcrEngine, OcrEngineParams, OcrInput, TextItem};
use rten_imageproc::{RectF, RotatedRect};
use rten_tensor::NdTensor;
use rten_tensor::prelude::*;

use super::extract;
use super::models::{self, ModelError, ModelSource};
use super::page::{BoxRect, Line, Page, Word};
use super::reread;
use crate::domain::receipt::{DateOrder, ExtractOptions, ReceiptFields};

/// Images are scaled down to this many pixels on their long side before OCR.
/// The detector works at a fixed input size whatever the image, and the
/// recogniser scales each line to 50 px high, so more pixels only cost time;
/// at this size a receipt's smallest print is still well over 20 px high.
pub const WORKING_LONG_SIDE: u32 = 2400;

/// The detector's word boxes hug the text: its masks are trained smaller than
/// the words and only a few pixels are added back, so tall letters and
/// descenders touch the edge of the line cut out for recognition. A quarter of
/// the box height more (an eighth above and below) reads slightly better and
/// is faster, because a taller cut is scaled to fewer, narrower columns
/// (`docs/benchmarks.md`).
pub const LINE_MARGIN: f32 = 0.25;

/// The highest confidence a date from a second reading (`reread`) is given.
pub const REREAD_CONFIDENCE: f32 = 0.5;

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
    /// Each word box is made this fraction of its height taller before its
    /// line is cut out for recognition (half above, half below).
    pub line_margin: f32,
}

impl Default for Preprocess {
    fn default() -> Self {
        Preprocess {
            max_long_side: WORKING_LONG_SIDE,
            tile_detection: true,
            line_margin: LINE_MARGIN,
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
    /// The recognition model's verified bytes, loaded again for a second
    /// reading (`reread`): ocrs keeps its copy to itself and gives out text,
    /// not probabilities. Loaded only while a receipt needs it (about 8 ms),
    /// so an idle daemon does not hold the loaded model twice. Bundled bytes
    /// are static and cost nothing here; bytes from `ocr.models_dir` are
    /// kept, a copy of the file (9.7 MB).
    recognition: models::VerifiedModel,
    models: Vec<ModelInfo>,
    preprocess: Preprocess,
}

/// Time spent in each stage of reading one receipt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Checking and decoding the image (zero when given decoded pixels).
    pub decode: Duration,
    pub detect: Duration,
    pub recognise: Duration,
    /// Extraction, second readings included.
    pub extract: Duration,
}

impl Timings {
    /// Each stage by its metric label.
    pub fn stages(&self) -> [(&'static str, Duration); 4] {
        [
            ("decode", self.decode),
            ("detect", self.detect),
            ("recognise", self.recognise),
            ("extract", self.extract),
        ]
    }

    pub fn total(&self) -> Duration {
        self.decode + self.detect + self.recognise + self.extract
    }
}

/// What one image read to, with the prepared image kept for second readings.
struct Reading {
    page: Page,
    timings: Timings,
    input: OcrInput,
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
        let second_reader = recognition.clone();
        let ocrs = OcrEngine::new(OcrEngineParams {
            detection_model: Some(models::load(detection)?),
            recognition_model: Some(models::load(recognition)?),
            alphabet: Some(reread::ALPHABET.to_string()),
            ..Default::default()
        })
        .map_err(|e| ModelError::Load {
            name: "ocrs engine".into(),
            reason: e.to_string(),
        })?;
        Ok(Engine {
            ocrs,
            recognition: second_reader,
            models,
            preprocess,
        })
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// Reads every line of text in `image`. CPU-bound: call it from a blocking
    /// thread, never from the async runtime.
    pub fn read(&self, image: &DynamicImage) -> Result<(Page, Timings), String> {
        let reading = self.read_page(image)?;
        Ok((reading.page, reading.timings))
    }

    /// Reads `image` and extracts the receipt's fields. When no date is
    /// found, words that look like a garbled date are read again in the
    /// shapes of a date (`reread`), and the page is extracted once more.
    /// CPU-bound, like `read`.
    pub(super) fn read_receipt(
        &self,
        image: &DynamicImage,
        options: &ExtractOptions,
    ) -> Result<(Page, ReceiptFields, Timings), String> {
        let Reading {
            mut page,
            mut timings,
            input,
        } = self.read_page(image)?;
        let started = Instant::now();
        let mut rereader = Rereader::new(self, &input);
        rereader.reread_unsure(&mut page);
        let mut fields = extract::extract(&page, options);
        if fields.date.is_none() {
            let reread = rereader.reread_dates(&mut page, options.date_order);
            if !reread.is_empty() {
                fields = extract::extract(&page, options);
                // A date the model gave only as a second choice is less sure
                // than one it read outright.
                if let Some(date) = fields.date.as_mut()
                    && date
                        .source
                        .as_ref()
                        .is_some_and(|s| reread.contains(&s.line))
                {
                    date.confidence = date.confidence.min(REREAD_CONFIDENCE);
                }
            }
        }
        timings.extract = started.elapsed();
        Ok((page, fields, timings))
    }

    fn read_page(&self, image: &DynamicImage) -> Result<Reading, String> {
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
        let mut line_rects = self.ocrs.find_text_lines(&input, &words);
        add_margin(&mut line_rects, self.preprocess.line_margin);
        let detected = Instant::now();
        let recognised = self
            .ocrs
            .recognize_text(&input, &line_rects)
            .map_err(|e| format!("text recognition failed: {e}"))?;
        let timings = Timings {
            detect: detected - started,
            recognise: detected.elapsed(),
            ..Timings::default()
        };
        let lines = recognised
            .into_iter()
            .flatten()
            .filter_map(to_line)
            .collect();
        Ok(Reading {
            page: Page {
                width,
                height,
                lines,
            },
            timings,
            input,
        })
    }
}

/// Second readings (`reread`) of the words of one page. The recognition
/// model is loaded on the first word that needs it, once per page.
struct Rereader<'a> {
    engine: &'a Engine,
    input: &'a OcrInput,
    model: Option<Option<rten::Model>>,
}

impl<'a> Rereader<'a> {
    fn new(engine: &'a Engine, input: &'a OcrInput) -> Self {
        Rereader {
            engine,
            input,
            model: None,
        }
    }

    /// Reads again, without `?`, every word where the model put one, and
    /// takes the reading when the model found it likely enough. Returns the
    /// lines changed.
    fn reread_unsure(&mut self, page: &mut Page) -> Vec<u32> {
        self.reread_words(page, is_unsure, reread::read_unsure)
    }

    /// Reads again, as a date, every word that has the digits of one but
    /// gave none (`12101/2018`, `25412017`), and puts the date reading in
    /// the page when the model finds it likely enough. Returns the lines
    /// changed.
    fn reread_dates(&mut self, page: &mut Page, order: DateOrder) -> Vec<u32> {
        self.reread_words(
            page,
            |text| looks_like_garbled_date(text, order),
            |columns, _| reread::read_date(columns, order),
        )
    }

    /// Reads again every word `wanted` picks, with `read` (given the word's
    /// columns and its first reading), and puts each reading it gives in the
    /// page. Returns the lines changed.
    fn reread_words(
        &mut self,
        page: &mut Page,
        wanted: impl Fn(&str) -> bool,
        read: impl Fn(&[Vec<f32>], &str) -> Option<reread::Forced>,
    ) -> Vec<u32> {
        let mut changed = Vec::new();
        for (index, line) in (0u32..).zip(page.lines.iter_mut()) {
            for word in line.words.iter_mut().filter(|w| wanted(&w.text)) {
                let Some(columns) = self.columns_of(&word.rect) else {
                    continue;
                };
                if let Some(again) = read(&columns, &word.text) {
                    tracing::debug!(read = %word.text, reread = %again.text, cost = again.cost, "word read again");
                    word.text = again.text;
                    changed.push(index);
                }
            }
        }
        changed
    }

    /// The recognition model's log-probabilities for the word in `rect`, a
    /// row for each column of the word image. None if the model fails, which
    /// only costs the second reading.
    fn columns_of(&mut self, rect: &BoxRect) -> Option<Vec<Vec<f32>>> {
        let engine = self.engine;
        let model = self
            .model
            .get_or_insert_with(|| match models::load(engine.recognition.clone()) {
                Ok(model) => Some(model),
                Err(e) => {
                    tracing::warn!(error = %e, "no second reading");
                    None
                }
            })
            .as_ref()?;
        let word = RotatedRect::from_rect(RectF::from_tlbr(
            rect.top,
            rect.left,
            rect.bottom,
            rect.right,
        ));
        let image = engine
            .ocrs
            .prepare_recognition_input(self.input, &[word])
            .ok()?;
        let [height, width] = image.shape();
        let batch = image.into_shape([1, 1, height, width]);
        let output = model.run_one(batch.view().into(), None).ok()?;
        // [columns, batch, classes]
        let output: NdTensor<f32, 3> = output.try_into().ok()?;
        Some(
            output
                .axis_iter(0)
                .map(|column| column.slice(0).iter().copied().collect())
                .collect(),
        )
    }
}

/// Whether the model put a `?` in a word among letters or digits, where it
/// is almost always a character it could not decide on.
fn is_unsure(text: &str) -> bool {
    text.contains('?') && text.chars().any(char::is_alphanumeric)
}

/// Whether a word carries the digits of a date but no date could be read in
/// it: five to ten digits among six to twelve characters.
fn looks_like_garbled_date(text: &str, order: DateOrder) -> bool {
    let length = text.chars().count();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (6..=12).contains(&length)
        && (5..=10).contains(&digits)
        && extract::find_dates(text, order).is_empty()
}

impl Engine {
    /// The detector takes a fixed 800x600 (height x width) input and squeezes
    /// any image into it: a long receipt loses most of its line height. Tiles
    /// of the detector's aspect ratio, overlapping by an eighth, keep text in
    /// proportion; a word seen in two tiles is kept from the tile whose core
    /// holds its centre. Each tile is one detector run (about 0.25 s on two
    /// cores), so their number is most of the detection time.
    fn detect_in_tiles(&self, grey: &image::GrayImage) -> Result<Vec<RotatedRect>, String> {
        let (width, height) = grey.dimensions();
        let overlap = tile_height(width) / 8;
        let mut words = Vec::new();
        for (top, bottom) in tile_spans(width, height) {
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
        }
        Ok(words)
    }
}

/// The rows (top, bottom) of the detection tiles of a `width` x `height`
/// image: a tile of the detector's shape, each overlapping the one above by
/// an eighth of a tile.
fn tile_spans(width: u32, height: u32) -> Vec<(u32, u32)> {
    let tile_height = tile_height(width);
    let overlap = tile_height / 8;
    let mut spans = Vec::new();
    let mut top = 0;
    loop {
        let mut bottom = (top + tile_height).min(height);
        // A last strip under a quarter of a tile joins this one rather than
        // costing a detector run of its own, as `needs_tiles` lets a whole
        // image up to a tile and a quarter go in one run.
        if height - bottom < tile_height / 4 {
            bottom = height;
        }
        spans.push((top, bottom));
        if bottom == height {
            return spans;
        }
        top = bottom - overlap;
    }
}

/// Makes every word box `margin` (a fraction of its height) taller, about
/// the same centre.
fn add_margin(lines: &mut [Vec<RotatedRect>], margin: f32) {
    for word in lines.iter_mut().flatten() {
        word.resize(word.width(), word.height() * (1.0 + margin));
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

#[cfg(test)]
mod tests {
    use rten_imageproc::{BoundingRect, Point, RotatedRect, Vec2};

    use super::*;

    fn word(centre_y: f32, height: f32) -> RotatedRect {
        RotatedRect::new(
            Point::from_yx(centre_y, 50.0),
            Vec2::from_yx(-1.0, 0.0),
            40.0,
            height,
        )
    }

    #[test]
    fn line_margin_grows_word_boxes_about_their_centre() {
        let mut lines = vec![vec![word(100.0, 20.0), word(100.0, 16.0)]];
        add_margin(&mut lines, 0.25);
        let [tall, short] = lines[0].as_slice() else {
            panic!("two words expected");
        };
        assert_eq!((tall.height(), tall.width()), (25.0, 40.0));
        assert_eq!(tall.center(), Point::from_yx(100.0, 50.0));
        assert_eq!(short.height(), 20.0);
        let r = tall.bounding_rect();
        assert_eq!((r.top(), r.bottom()), (87.5, 112.5));
    }

    #[test]
    fn no_margin_leaves_boxes_alone() {
        let mut lines = vec![vec![word(10.0, 12.0)]];
        add_margin(&mut lines, 0.0);
        assert_eq!((lines[0][0].height(), lines[0][0].width()), (12.0, 40.0));
    }

    #[test]
    fn tiles_overlap_and_a_short_last_strip_joins_the_tile_above() {
        // 600 wide: tiles 800 high, overlapping by 100.
        assert_eq!(tile_spans(600, 2000), [(0, 800), (700, 1500), (1400, 2000)]);
        // 150 rows would be left after the second tile: under a quarter.
        assert_eq!(tile_spans(600, 1650), [(0, 800), (700, 1650)]);
        assert_eq!(tile_spans(600, 1700), [(0, 800), (700, 1500), (1400, 1700)]);
    }

    #[test]
    fn only_words_with_a_dates_digits_and_no_date_are_read_again() {
        let garbled = |text| looks_like_garbled_date(text, DateOrder::DayFirst);
        assert!(garbled("12101/2018"));
        assert!(garbled("25412017"));
        assert!(garbled("04/12/201i"));
        assert!(!garbled("25/04/2017"), "already a date");
        assert!(!garbled("RM 12.50"), "too few digits");
        assert!(!garbled("TOTAL"));
        assert!(!garbled("9556481179603"), "a barcode is longer");
    }

    #[test]
    fn only_words_with_a_question_mark_among_letters_or_digits_are_read_again() {
        assert!(is_unsure("D.?.Y."));
        assert!(is_unsure("?IZZA"));
        assert!(is_unsure("8?06"));
        assert!(!is_unsure("?"));
        assert!(!is_unsure("?!"));
        assert!(!is_unsure("DIY"));
    }

    #[test]
    fn the_patched_depthwise_convolution_matches_a_direct_sum() {
        use rten::BufferPool;
        use rten::ops::{Padding, conv};
        use rten_tensor::{NdTensor, Tensor};

        let (channels, height, width) = (3, 7, 11);
        let input = Tensor::from_fn(&[1, channels, height, width][..], |i| {
            ((i[1] * 31 + i[2] * 7 + i[3] * 3) % 17) as f32 / 8.0 - 1.0
        });
        let kernel = Tensor::from_fn(&[channels, 1, 3, 3][..], |i| {
            ((i[0] * 5 + i[2] * 3 + i[3]) % 7) as f32 / 4.0 - 0.75
        });
        let bias = NdTensor::from_fn([channels], |[c]| c as f32 * 0.5);
        for stride in [1, 2] {
            let pool = BufferPool::new();
            let out: Tensor<f32> = conv(
                &pool,
                input.view(),
                kernel.view(),
                Some(bias.view()),
                Padding::Same,
                channels,
                &[stride, stride],
                &[1, 1],
            )
            .expect("convolution");
            let shape = out.shape().to_vec();
            assert_eq!(
                shape,
                [1, channels, height.div_ceil(stride), width.div_ceil(stride)]
            );
            for c in 0..channels {
                for y in 0..shape[2] {
                    for x in 0..shape[3] {
                        let mut sum = bias[[c]];
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) = (
                                    (y * stride + ky) as isize - 1,
                                    (x * stride + kx) as isize - 1,
                                );
                                if (0..height as isize).contains(&iy)
                                    && (0..width as isize).contains(&ix)
                                {
                                    sum += input[[0, c, iy as usize, ix as usize]]
                                        * kernel[[c, 0, ky, kx]];
                                }
                            }
                        }
                        let got = out[[0, c, y, x]];
                        assert!(
                            (got - sum).abs() < 1e-5,
                            "stride {stride} at {c},{y},{x}: {got} != {sum}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_rereaders_alphabet_is_the_recognition_models_output() {
        let [_, recognition] = models::read(&ModelSource::Bundled).expect("bundled models");
        let model = models::load(recognition).expect("the model loads");
        let output = model.output_ids()[0];
        let shape = model
            .node_info(output)
            .and_then(|info| info.shape())
            .expect("an output shape");
        let classes = reread::ALPHABET.chars().count() + 1;
        assert!(
            matches!(shape.last(), Some(rten::Dimension::Fixed(n)) if *n == classes),
            "the model has another number of output classes than the blank and {} labels",
            classes - 1
        );
    }

    #[test]
    fn tiles_are_used_only_for_images_much_taller_than_the_detector() {
        assert_eq!(tile_height(600), 800);
        assert!(!needs_tiles(600, 1000));
        assert!(needs_tiles(600, 1001));
    }
}
