//! Recognising, checking and decoding uploaded images.
//!
//! Checks run cheapest first: the magic bytes, then the header (dimensions,
//! animation, pages) before a single pixel is decoded, so a decompression bomb
//! is refused for the price of reading its header.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::domain::image::ImageKind;

/// The codec of an accepted format.
fn codec(kind: ImageKind) -> ImageFormat {
    match kind {
        ImageKind::Jpeg => ImageFormat::Jpeg,
        ImageKind::Png => ImageFormat::Png,
        ImageKind::Webp => ImageFormat::WebP,
        ImageKind::Tiff => ImageFormat::Tiff,
    }
}

/// Why an image is refused. Each maps to a precise client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("the body is empty")]
    Empty,
    #[error("not a JPEG, PNG, WebP or TIFF image")]
    NotAnImage,
    #[error("the content type says {declared} but the data is {actual}")]
    TypeMismatch {
        declared: &'static str,
        actual: &'static str,
    },
    #[error("the image is {width}x{height} pixels, over the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the image has no pixels")]
    NoPixels,
    #[error("animated or multi-page images are not accepted: upload one page")]
    MultiFrame,
    #[error("the image is damaged or truncated: {0}")]
    Corrupt(String),
}

/// What the header says about an accepted image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
}

/// Checks an upload without decoding its pixels: format, declared type,
/// dimensions against `max_pixels`, single frame.
pub fn probe(
    bytes: &[u8],
    declared: Option<ImageKind>,
    max_pixels: u64,
) -> Result<ImageInfo, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let kind = ImageKind::sniff(bytes).ok_or(ImageError::NotAnImage)?;
    if let Some(declared) = declared.filter(|d| *d != kind) {
        return Err(ImageError::TypeMismatch {
            declared: declared.mime(),
            actual: kind.mime(),
        });
    }
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), codec(kind))
        .into_dimensions()
        .map_err(corrupt)?;
    if width == 0 || height == 0 {
        return Err(ImageError::NoPixels);
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    if has_several_frames(bytes, kind)? {
        return Err(ImageError::MultiFrame);
    }
    Ok(ImageInfo {
        kind,
        width,
        height,
    })
}

fn has_several_frames(bytes: &[u8], kind: ImageKind) -> Result<bool, ImageError> {
    Ok(match kind {
        ImageKind::Jpeg => false,
        ImageKind::Png => image::codecs::png::PngDecoder::new(Cursor::new(bytes))
            .and_then(|d| d.is_apng())
            .map_err(corrupt)?,
        ImageKind::Webp => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .map_err(corrupt)?
            .has_animation(),
        ImageKind::Tiff => tiff::decoder::Decoder::new(Cursor::new(bytes))
            .map_err(|e| ImageError::Corrupt(e.to_string()))?
            .more_images(),
    })
}

/// Decodes a probed image, turned upright by its EXIF orientation. Memory is
/// bounded by the pixel limit the probe already enforced.
pub fn decode(bytes: &[u8], info: ImageInfo) -> Result<DynamicImage, ImageError> {
    if info.kind == ImageKind::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ImageError::Corrupt(
            "the JPEG data ends before its end marker".into(),
        ));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(info.width);
    limits.max_image_height = Some(info.height);
    // Room for the widest pixel type we decode (16-bit RGBA) plus working copies.
    limits.max_alloc = Some(u64::from(info.width) * u64::from(info.height) * 8 * 2 + (64 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), codec(info.kind));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Decoders fill a cut-off JPEG with grey rather than fail; a scan cut in half
/// would then be read as a shorter receipt. A whole file has an end-of-image
/// marker after its last start-of-scan marker (0xFF 0xD9 cannot occur inside
/// scan data, and an EXIF thumbnail's own markers come before the main scan).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(last_scan) = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn corrupt(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => {
            ImageError::Corrupt("the image needs more memory than its size allows".into())
        }
        other => ImageError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    const MAX: u64 = 40_000_000;

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    fn read(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
        decode(bytes, probe(bytes, None, MAX)?)
    }

    #[test]
    fn every_pixel_layout_a_receipt_photo_may_have_decodes() {
        let layouts = [
            DynamicImage::ImageLuma8(image::GrayImage::new(8, 6)),
            DynamicImage::ImageLumaA8(image::GrayAlphaImage::new(8, 6)),
            DynamicImage::ImageRgba8(image::RgbaImage::new(8, 6)),
            DynamicImage::ImageRgb16(image::ImageBuffer::new(8, 6)),
            DynamicImage::ImageLuma16(image::ImageBuffer::new(8, 6)),
        ];
        for layout in layouts {
            let png = encoded(layout, ImageFormat::Png);
            let image = read(&png).expect("decodes");
            assert_eq!((image.width(), image.height()), (8, 6));
        }
        let tiff = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(8, 6)),
            ImageFormat::Tiff,
        );
        assert_eq!(read(&tiff).expect("tiff").width(), 8);
        let webp = include_bytes!("testdata/still.webp");
        assert_eq!(read(webp).expect("webp").width(), 16);
    }

    #[test]
    fn cmyk_jpeg_decodes_with_its_dark_marks_dark() {
        let image = read(include_bytes!("testdata/cmyk.jpg")).expect("cmyk");
        let grey = image.to_luma8();
        assert!(grey.get_pixel(16, 8).0[0] < 80, "the black bar stays dark");
        assert!(grey.get_pixel(2, 2).0[0] > 170, "the paper stays light");
    }

    #[test]
    fn exif_orientation_turns_the_photo_upright() {
        let image = read(include_bytes!("testdata/orientation6.jpg")).expect("jpeg");
        assert_eq!(
            (image.width(), image.height()),
            (20, 40),
            "stored 40x20, shown turned"
        );
    }

    #[test]
    fn animated_images_are_refused_as_multi_frame() {
        for bytes in [
            &include_bytes!("testdata/animated.png")[..],
            &include_bytes!("testdata/animated.webp")[..],
        ] {
            assert_eq!(probe(bytes, None, MAX), Err(ImageError::MultiFrame));
        }
    }

    #[test]
    fn lies_truncation_and_bombs_are_refused_before_decoding_pixels() {
        let jpeg = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(64, 64)),
            ImageFormat::Jpeg,
        );
        assert_eq!(probe(&[], None, MAX), Err(ImageError::Empty));
        assert_eq!(probe(b"GIF89a", None, MAX), Err(ImageError::NotAnImage));
        assert!(matches!(
            probe(&jpeg, Some(ImageKind::Png), MAX),
            Err(ImageError::TypeMismatch { .. })
        ));
        assert!(matches!(
            read(&jpeg[..jpeg.len() - 40]),
            Err(ImageError::Corrupt(_))
        ));
        assert!(matches!(
            probe(&jpeg, None, 100),
            Err(ImageError::TooManyPixels {
                width: 64,
                height: 64,
                limit: 100
            })
        ));
    }
}
