//! The CJK font every chart is drawn with, embedded in the binary.
//!
//! A county office's PC or a fresh server may have no Chinese font at all, and plotters'
//! default font lookup (font-kit) would then draw every 汉字 as an empty box. So the
//! charts carry their own font: Noto Sans CJK SC Regular (SIL Open Font License 1.1),
//! subset to every character of GBK plus ASCII, Latin-1 and the CJK punctuation blocks
//! (see `dashboards/fonts/README.md`). It is registered with plotters' ab_glyph backend
//! under [`FONT_STACK`], the family name every chart uses, so PNG output never depends
//! on the system's fonts. SVG output names the same stack, which viewers resolve with
//! their own CJK fonts.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::style::FontStyle;

/// Noto Sans CJK SC Regular, subset to GBK + ASCII + Latin-1 + CJK punctuation.
pub const CJK_FONT: &[u8] = include_bytes!("../fonts/NotoSansCJKsc-Regular-GBK.otf");

/// The served font's path and its family name in the pages' CSS.
macro_rules! page_font {
    (path) => {
        "/assets/cjk.otf"
    };
    (family) => {
        "YishiCJK"
    };
}

/// Where the server serves [`CJK_FONT`] for the pages ([`PAGE_FONT_CSS`]).
pub const CJK_FONT_PATH: &str = page_font!(path);

/// The pages' font CSS: an `@font-face` for the served font and `--cjk`, the font stack
/// every page's text uses. The stack names the common CJK fonts first, so a browser that
/// has one never downloads the served one (a web font is fetched only when some text
/// falls through to it); `font-display: swap` shows the text at once meanwhile.
pub const PAGE_FONT_CSS: &str = concat!(
    "@font-face { font-family: \"",
    page_font!(family),
    "\"; src: url(\"",
    page_font!(path),
    "\") format(\"opentype\"); font-display: swap; }\n",
    ":root { --cjk: \"Noto Sans CJK SC\", \"Source Han Sans SC\", \"WenQuanYi Micro Hei\", \"Microsoft YaHei\", \"PingFang SC\", \"",
    page_font!(family),
    "\", sans-serif; }\n"
);

/// The family name charts draw with: registered for the embedded font (PNG) and written
/// as the SVG `font-family`, where viewers pick the first CJK font they have.
pub const FONT_STACK: &str =
    "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, SimHei, WenQuanYi Micro Hei, sans-serif";

/// Why the embedded font could not be used (only a corrupt build can cause this).
#[derive(Debug, Clone, thiserror::Error)]
#[error("内置中文字体无法加载，请重新编译或安装 yishi (embedded font is invalid)")]
pub struct FontError;

/// The parsed embedded font, registered with plotters on first use.
pub fn font() -> Result<&'static FontRef<'static>, FontError> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| {
        let font = FontRef::try_from_slice(CJK_FONT).ok()?;
        // Every family a chart (or plotters' own defaults) may ask for resolves to the
        // embedded font; an unregistered family would fail to draw at all.
        for family in [FONT_STACK, "sans-serif", "serif", "monospace"] {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                plotters::style::register_font(family, style, CJK_FONT).ok()?;
            }
        }
        Some(font)
    })
    .as_ref()
    .ok_or(FontError)
}

/// Whether the embedded font has a glyph for `c` (else it would draw an empty box).
pub fn covers(c: char) -> bool {
    c.is_whitespace() || font().is_ok_and(|f| f.glyph_id(c).0 != 0)
}

/// Characters of `text` the embedded font cannot draw, each once.
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let mut missing: Vec<char> = text.chars().filter(|c| !covers(*c)).collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// Width in pixels of `text` set at plotters font size `size` (the same measure the
/// bitmap backend lays text out with).
pub fn text_width(text: &str, size: f64) -> f64 {
    let Ok(font) = font() else {
        return text.chars().count() as f64 * size;
    };
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let mut width = 0.0f32;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        previous = Some(id);
    }
    f64::from(width)
}

/// The em size of the font at plotters size `size`: ab_glyph scales so that ascent minus
/// descent equals `size`, and an SVG viewer scales so that the em equals `font-size`.
pub fn em_per_size() -> f64 {
    let Ok(font) = font() else {
        return 1.0;
    };
    let units = font.units_per_em().unwrap_or(1000.0);
    let height = font.ascent_unscaled() - font.descent_unscaled();
    if height > 0.0 { f64::from(units / height) } else { 1.0 }
}
