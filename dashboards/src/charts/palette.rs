//! Colours chosen for greyscale print: series that sit side by side differ in lightness
//! (dark, mid, light) and, where two greys come close, in hatching or marker shape.

use plotters::style::RGBColor;
use warehouse::analyses::Grade;

use super::canvas::{Fill, Hatch, Marker};

pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
pub(crate) const MUTED: RGBColor = RGBColor(89, 89, 89);
pub(crate) const AXIS: RGBColor = RGBColor(127, 127, 127);
pub(crate) const GRID: RGBColor = RGBColor(217, 217, 217);
pub(crate) const WHITE: RGBColor = RGBColor(255, 255, 255);

/// Dark navy (≈20% grey), orange (≈57%), pale blue (≈81%).
pub(crate) const NAVY: RGBColor = RGBColor(27, 58, 92);
pub(crate) const ORANGE: RGBColor = RGBColor(224, 123, 57);
pub(crate) const PALE: RGBColor = RGBColor(169, 198, 224);
/// The highlighted county average: dark red, thick (≈30% grey, thicker than anything else).
pub(crate) const AVERAGE: RGBColor = RGBColor(178, 34, 34);
/// The lines of many communities, behind the average.
pub(crate) const BACKGROUND_LINE: RGBColor = RGBColor(170, 170, 170);

/// The three rate series: dark, mid hatched, light outlined.
pub(crate) const THREE: [Fill; 3] =
    [Fill::solid(NAVY), Fill::hatched(ORANGE, Hatch::Up), Fill::solid(PALE).outlined(NAVY)];

/// Up to six community lines: colour, marker and dash all differ.
pub(crate) const LINES: [(RGBColor, Marker, bool); 6] = [
    (NAVY, Marker::Circle, false),
    (ORANGE, Marker::Triangle, true),
    (RGBColor(42, 157, 143), Marker::Square, false),
    (RGBColor(123, 79, 158), Marker::Diamond, true),
    (RGBColor(140, 86, 75), Marker::Cross, false),
    (RGBColor(90, 90, 90), Marker::TriangleDown, true),
];

/// Nine categories (or channels): alternating dark and light so adjacent stack segments
/// contrast, hatched where two greys are close.
pub(crate) const NINE: [Fill; 9] = [
    Fill::solid(NAVY),
    Fill::solid(RGBColor(242, 193, 78)),
    Fill::solid(RGBColor(79, 134, 184)),
    Fill::hatched(RGBColor(224, 123, 57), Hatch::Up),
    Fill::hatched(RGBColor(42, 157, 143), Hatch::Down),
    Fill::solid(RGBColor(191, 211, 230)).outlined(NAVY),
    Fill::solid(RGBColor(123, 79, 158)),
    Fill::hatched(RGBColor(200, 200, 200), Hatch::Cross),
    Fill::solid(RGBColor(140, 86, 75)),
];

/// Grades: 优秀 darkest, 称职 mid, 基本称职 light, 不称职 red and cross-hatched, 未评定 white
/// with a grey hatch.
pub(crate) fn grade_fill(grade: Option<Grade>) -> Fill {
    match grade {
        Some(Grade::Excellent) => Fill::solid(RGBColor(30, 107, 58)),
        Some(Grade::Competent) => Fill::solid(RGBColor(91, 141, 184)),
        Some(Grade::BasicallyCompetent) => Fill::solid(RGBColor(232, 176, 75)),
        Some(Grade::Incompetent) => Fill::hatched(RGBColor(176, 58, 46), Hatch::Cross),
        Some(Grade::NotRated) | None => Fill::hatched(WHITE, Hatch::Up).outlined(AXIS),
    }
}

/// Heatmap shade for t in 0..1: near white, mid blue, dark navy — lightness falls evenly,
/// so the order survives greyscale print.
pub(crate) fn sequential(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let (light, mid, dark) = ((238.0, 244.0, 250.0), (106.0, 155.0, 201.0), (11.0, 37.0, 69.0));
    let (a, b, u) = if t < 0.5 { (light, mid, t * 2.0) } else { (mid, dark, t * 2.0 - 1.0) };
    let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether text on `c` should be white (dark background).
pub(crate) fn is_dark(c: RGBColor) -> bool {
    0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2) < 128.0
}
