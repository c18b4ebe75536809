//! A slide as PNG, drawn by `resvg` (pure Rust) with the fonts of the system, read once.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};
use thiserror::Error;

/// Why a picture could not be drawn.
#[derive(Debug, Error)]
pub enum PngError {
    #[error("the SVG could not be read: {0}")]
    Svg(String),
    #[error("the picture has no area")]
    Empty,
    #[error("the PNG could not be encoded: {0}")]
    Encode(String),
}

fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

/// Whether any font was found to draw text with; without one, a PNG has no text.
pub fn has_fonts() -> bool {
    !fonts().is_empty()
}

/// The PNG bytes of `svg`, at its own size.
pub fn to_png(svg: &str) -> Result<Vec<u8>, PngError> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| PngError::Svg(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or(PngError::Empty)?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| PngError::Encode(e.to_string()))
}
