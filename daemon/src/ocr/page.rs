//! What OCR read from one image: lines of words with their boxes, in reading
//! order. Plain data, so extraction can be tested without running a model.

use serde::{Deserialize, Serialize};

/// An axis-aligned box in pixels of the working image (origin top left).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoxRect {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl BoxRect {
    pub fn height(&self) -> f32 {
        self.bottom - self.top
    }

    pub fn width(&self) -> f32 {
        self.right - self.left
    }

    pub fn center_y(&self) -> f32 {
        (self.top + self.bottom) / 2.0
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &BoxRect) -> BoxRect {
        BoxRect {
            left: self.left.min(other.left),
            top: self.top.min(other.top),
            right: self.right.max(other.right),
            bottom: self.bottom.max(other.bottom),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub rect: BoxRect,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub words: Vec<Word>,
    pub rect: BoxRect,
}

impl Line {
    /// The words joined by single spaces.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(&word.text);
        }
        text
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub width: u32,
    pub height: u32,
    pub lines: Vec<Line>,
}
