//! Development aid: writes what OCR reads from each image in a folder as JSON
//! (`<ID>.json` with lines and word boxes), so extraction can be worked on
//! without running the models again.
//!
//! `cargo run --release -p fin-daemon --example ocr_dump -- IMG_DIR OUT_DIR`

use std::time::Instant;

use fin_daemon::ocr::{self, Engine, ModelSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: ocr_dump IMG_DIR OUT_DIR".into());
    };
    std::fs::create_dir_all(output)?;
    // Comparisons: FIN_OCR_MAX_SIDE (pixels), FIN_OCR_TILES (0 or 1),
    // FIN_OCR_LINE_MARGIN_PERCENT (of the word box height).
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    let mut preprocess = ocr::Preprocess::default();
    if let Some(side) = env("FIN_OCR_MAX_SIDE") {
        preprocess.max_long_side = side;
    }
    if let Some(tiles) = env("FIN_OCR_TILES") {
        preprocess.tile_detection = tiles == 1;
    }
    if let Some(percent) = env("FIN_OCR_LINE_MARGIN_PERCENT") {
        preprocess.line_margin = percent as f32 / 100.0;
    }
    let engine = Engine::load_with(&ModelSource::Bundled, preprocess)?;
    let mut paths: Vec<_> = std::fs::read_dir(input)?
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path)?;
        let started = Instant::now();
        let info = ocr::probe(&bytes, None, 40_000_000)?;
        let image = ocr::decode(&bytes, info)?;
        let decoded = started.elapsed();
        let (page, timings) = engine.read(&image)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("page");
        std::fs::write(
            std::path::Path::new(output).join(format!("{stem}.json")),
            serde_json::to_vec_pretty(&page)?,
        )?;
        println!(
            "{stem}: {}x{} decode {:?} detect {:?} recognise {:?} lines {}",
            info.width,
            info.height,
            decoded,
            timings.detect,
            timings.recognise,
            page.lines.len()
        );
    }
    Ok(())
}
