//! The image formats fin accepts for receipts: what a client may declare
//! and what the bytes are. Decoding them is `ocr/`'s business.

/// The image formats fin accepts for receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
    Tiff,
}

impl ImageKind {
    pub const ALL: [ImageKind; 4] = [Self::Jpeg, Self::Png, Self::Webp, Self::Tiff];

    /// Recognises the format from its magic bytes, whatever the client claims.
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(Self::Tiff)
        } else {
            None
        }
    }

    /// The kind a `Content-Type` names (parameters ignored), if it is one of ours.
    pub fn from_mime(content_type: &str) -> Option<ImageKind> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        Self::ALL
            .into_iter()
            .find(|kind| essence.eq_ignore_ascii_case(kind.mime()))
            .or_else(|| {
                essence
                    .eq_ignore_ascii_case("image/jpg")
                    .then_some(Self::Jpeg)
            })
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Tiff => "image/tiff",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_map_to_kinds() {
        assert_eq!(
            ImageKind::from_mime("image/JPEG; q=1"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::from_mime("image/jpg"), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::from_mime("image/gif"), None);
    }

    #[test]
    fn formats_are_recognised_by_their_bytes_not_their_name() {
        assert_eq!(ImageKind::sniff(b"\xFF\xD8\xFF\xE0"), Some(ImageKind::Jpeg));
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
    }
}
