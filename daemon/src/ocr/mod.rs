//! Receipt OCR, owned by the project: image checks and decoding, the ocrs
//! models, and the extraction of fields from what they read. The only module
//! that knows ocrs, rten and the image codecs.

mod decode;
mod engine;
pub mod extract;
mod models;
pub mod page;
mod receipt;
mod reread;

pub use decode::{ImageError, ImageInfo, decode, probe};
pub use engine::{Engine, ModelInfo, Preprocess, Timings, WORKING_LONG_SIDE};
pub use models::{ModelError, ModelSource};
pub use receipt::ReceiptReading;
