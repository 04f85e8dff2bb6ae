//! The two ocrs models (text detection, text recognition): where they come
//! from and proof that they are the expected bytes.

use std::path::{Path, PathBuf};

use crate::support::sha256_hex;

/// The published SHA-256 of every model file fin accepts (the upstream ONNX
/// files and their `.rten` conversions; see the README's model credits).
const KNOWN: [(&str, &str); 4] = [
    (
        "text-detection.onnx",
        "a917b23dbd9524b465df7e922641b3ff2981623df4ded5a0234004ef2fee7cfe",
    ),
    (
        "text-recognition.onnx",
        "86c145c2edb96c8caed5b1ebb8f44d706408922211451c309c625157dd6061c5",
    ),
    (
        "text-detection.rten",
        "7a26239d5d0d607019e2d52f60c80a9321879f8029628e8138741b1e7562912d",
    ),
    (
        "text-recognition.rten",
        "89f1c10de9410261c0d936ad16a4b70e67fd591f13ee3ad16c50d7186d32395c",
    ),
];

/// Where the models are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The ONNX files compiled into the binary.
    Bundled,
    /// `text-detection.{rten,onnx}` and `text-recognition.{rten,onnx}` in a folder.
    Dir(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no {role} model in {dir}: expected {role}.rten or {role}.onnx")]
    Missing { role: &'static str, dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{name} has SHA-256 {actual}, expected {expected}: the file is damaged or not the ocrs model"
    )]
    Checksum {
        name: String,
        actual: String,
        expected: &'static str,
    },
    #[error("{name} is not a usable model: {reason}")]
    Load { name: String, reason: String },
}

/// Model bytes that passed their checksum, with the name they were checked under.
#[derive(Clone)]
pub(crate) struct VerifiedModel {
    pub name: String,
    pub bytes: ModelBytes,
    pub sha256: String,
}

#[derive(Clone)]
pub(crate) enum ModelBytes {
    Static(&'static [u8]),
    Owned(Vec<u8>),
}

impl ModelBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            ModelBytes::Static(bytes) => bytes,
            ModelBytes::Owned(bytes) => bytes,
        }
    }
}

/// Reads and verifies the detection and recognition models, in that order.
pub(crate) fn read(source: &ModelSource) -> Result<[VerifiedModel; 2], ModelError> {
    Ok(match source {
        ModelSource::Bundled => [
            verify(
                "text-detection.onnx",
                ModelBytes::Static(ikvmt_ocr_detection::MODEL),
            )?,
            verify(
                "text-recognition.onnx",
                ModelBytes::Static(ikvmt_ocr_recognition::MODEL),
            )?,
        ],
        ModelSource::Dir(dir) => [
            read_from_dir(dir, "text-detection")?,
            read_from_dir(dir, "text-recognition")?,
        ],
    })
}

fn read_from_dir(dir: &Path, role: &'static str) -> Result<VerifiedModel, ModelError> {
    for ext in ["rten", "onnx"] {
        let path = dir.join(format!("{role}.{ext}"));
        match std::fs::read(&path) {
            Ok(bytes) => return verify(&format!("{role}.{ext}"), ModelBytes::Owned(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ModelError::Read { path, source }),
        }
    }
    Err(ModelError::Missing {
        role,
        dir: dir.to_path_buf(),
    })
}

fn verify(name: &str, bytes: ModelBytes) -> Result<VerifiedModel, ModelError> {
    let actual = sha256_hex(bytes.as_slice());
    let expected = KNOWN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, digest)| *digest)
        .unwrap_or("(no known digest)");
    if actual != expected {
        return Err(ModelError::Checksum {
            name: name.to_string(),
            actual,
            expected,
        });
    }
    Ok(VerifiedModel {
        name: name.to_string(),
        bytes,
        sha256: actual,
    })
}

pub(crate) fn load(model: VerifiedModel) -> Result<rten::Model, ModelError> {
    let loaded = match model.bytes {
        ModelBytes::Static(bytes) => rten::Model::load_static_slice(bytes),
        ModelBytes::Owned(bytes) => rten::Model::load(bytes),
    };
    loaded.map_err(|e| ModelError::Load {
        name: model.name,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_models_are_the_published_upstream_files() {
        let [detection, recognition] = read(&ModelSource::Bundled).expect("bundled models verify");
        assert_eq!(detection.sha256, KNOWN[0].1);
        assert_eq!(recognition.sha256, KNOWN[1].1);
    }

    #[test]
    fn a_damaged_model_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("text-detection.onnx"), b"not a model").expect("write");
        let err = read(&ModelSource::Dir(dir.path().to_path_buf()))
            .err()
            .expect("refused");
        assert!(
            matches!(err, ModelError::Checksum { ref name, .. } if name == "text-detection.onnx")
        );
    }

    #[test]
    fn a_missing_model_names_the_files_looked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read(&ModelSource::Dir(dir.path().to_path_buf()))
            .err()
            .expect("refused");
        assert!(
            err.to_string()
                .contains("text-detection.rten or text-detection.onnx")
        );
    }
}
