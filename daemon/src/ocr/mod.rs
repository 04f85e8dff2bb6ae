//! Receipt OCR, owned by the project: image checks and decoding, the ocrs
//! models, and the extraction of fields from what they read. The only module
//! that knows ocrs, rten and the image codecs.

mod decode;
mod engine;
pub mod extract;
mod models;
pub mod page;
mod reread;

pub use decode::{ImageError, ImageInfo, ImageKind, decode, probe};
pub use engine::{Engine, ModelInfo, OcrTimings, Preprocess, WORKING_LONG_SIDE};
pub use models::{ModelError, ModelSource};
