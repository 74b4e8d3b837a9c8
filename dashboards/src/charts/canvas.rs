//! Drawing in logical pixels (1/96 inch) on either backend: the chart code lays out in
//! logical units and the canvas multiplies by the scale, so a PNG at 2× and an SVG at 1×
//! come from the same code. Text is positioned by the visual middle of its 汉字, which the
//! two backends anchor differently (see [`Canvas::text`]).

use ab_glyph::{Font, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::element::{DashedPathElement, PathElement, Polygon, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontStyle, IntoFont, RGBColor, ShapeStyle, TextStyle};

use super::ChartError;
use crate::fonts::{self, FONT_STACK};

/// Where a text's x is: its left end, its centre or its right end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// Marker shapes: series are told apart by shape as well as colour (greyscale print).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    TriangleDown,
}

/// A fill: a colour, optionally hatched so that two fills of equal grey differ in print.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fill {
    pub(crate) color: RGBColor,
    pub(crate) hatch: Hatch,
    /// An outline drawn around the fill (light fills vanish on white paper without it).
    pub(crate) outline: Option<RGBColor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hatch {
    None,
    /// Lines rising to the right.
    Up,
    /// Lines falling to the right.
    Down,
    /// Both.
    Cross,
}

impl Fill {
    pub(crate) const fn solid(color: RGBColor) -> Fill {
        Fill { color, hatch: Hatch::None, outline: None }
    }

    pub(crate) const fn hatched(color: RGBColor, hatch: Hatch) -> Fill {
        Fill { color, hatch, outline: None }
    }

    pub(crate) const fn outlined(self, outline: RGBColor) -> Fill {
        Fill { outline: Some(outline), ..self }
    }
}

/// A drawing surface in logical pixels.
pub(crate) struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    scale: f64,
    svg: bool,
    em_per_size: f64,
    /// Logical width and height.
    pub(crate) width: f64,
    pub(crate) height: f64,
}

fn draw_error<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

impl<'a, DB: DrawingBackend> Canvas<'a, DB> {
    pub(crate) fn new(area: &'a DrawingArea<DB, Shift>, scale: f64, svg: bool, width: f64, height: f64) -> Self {
        Canvas { area, scale, svg, em_per_size: fonts::em_per_size(), width, height }
    }

    fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    fn point(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.px(x), self.px(y))
    }

    pub(crate) fn clear(&self) -> Result<(), ChartError> {
        self.area.fill(&plotters::style::WHITE).map_err(draw_error)
    }

    /// Draws `text` with `em` logical pixels per em, its 汉字 centred vertically on `y`.
    pub(crate) fn text(
        &self,
        text: &str,
        (x, y): (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        bold: bool,
    ) -> Result<(), ChartError> {
        if text.is_empty() {
            return Ok(());
        }
        // An ideograph's em box runs from 0.12 em below the baseline to 0.88 em above it.
        let baseline = y + 0.38 * em;
        if self.svg {
            self.svg_text(text, (x, baseline), em, color, align, bold)
        } else {
            self.raster_text(text, (x, baseline), em, color, align, bold)
        }
    }

    /// Text on a white chip, for values that sit on lines or bars.
    pub(crate) fn label(
        &self,
        text: &str,
        (x, y): (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        bold: bool,
    ) -> Result<(), ChartError> {
        let w = fonts::text_width(text, em / self.em_per_size);
        let left = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        self.rect((left - 2.0, y - em * 0.62), (left + w + 2.0, y + em * 0.62), Fill::solid(plotters::style::WHITE))?;
        self.text(text, (x, y), em, color, align, bold)
    }

    /// SVG: plotters writes `font-size` = size/1.24 and `dy="0.76em"` for a top anchor; the
    /// viewer lays the text out with its own CJK font from [`FONT_STACK`].
    fn svg_text(
        &self,
        text: &str,
        (x, baseline): (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        bold: bool,
    ) -> Result<(), ChartError> {
        let h_pos = match align {
            Align::Left => HPos::Left,
            Align::Center => HPos::Center,
            Align::Right => HPos::Right,
        };
        let style = if bold { FontStyle::Bold } else { FontStyle::Normal };
        let font = TextStyle::from((FONT_STACK, em * 1.24).into_font().style(style))
            .color(&color)
            .pos(Pos::new(h_pos, VPos::Top));
        let anchor = (self.px(x), (baseline - 0.76 * em).round() as i32);
        self.area.draw(&Text::new(text.to_string(), anchor, font)).map_err(draw_error)
    }

    /// PNG: glyphs rasterised with ab_glyph from the embedded font, each at its pen position
    /// plus its side bearing (plotters' own ab_glyph path drops the bearing, which pushes
    /// full-width punctuation such as "（" to the wrong side of its cell).
    fn raster_text(
        &self,
        text: &str,
        (x, baseline): (f64, f64),
        em: f64,
        color: RGBColor,
        align: Align,
        bold: bool,
    ) -> Result<(), ChartError> {
        let font = fonts::font()?;
        let size = (em * self.scale / self.em_per_size) as f32;
        let scaled = font.as_scaled(PxScale::from(size));
        let width = fonts::text_width(text, f64::from(size));
        let left = x * self.scale
            - match align {
                Align::Left => 0.0,
                Align::Center => width / 2.0,
                Align::Right => width,
            };
        // No bold face is embedded (it would double the font's size): overprinting a
        // fraction of a stroke to the right reads as bold at print resolution.
        let passes: &[f32] = if bold { &[0.0, (em * self.scale / 22.0).max(0.6) as f32] } else { &[0.0] };
        for shift in passes {
            let mut pen = left as f32 + shift;
            let mut previous = None;
            for c in text.chars() {
                let id = scaled.glyph_id(c);
                if let Some(p) = previous {
                    pen += scaled.kern(p, id);
                }
                let glyph = id.with_scale_and_position(size, point(pen, (baseline * self.scale) as f32));
                if let Some(outline) = font.outline_glyph(glyph) {
                    self.blit(&outline, color)?;
                }
                pen += scaled.h_advance(id);
                previous = Some(id);
            }
        }
        Ok(())
    }

    fn blit(&self, outline: &ab_glyph::OutlinedGlyph, color: RGBColor) -> Result<(), ChartError> {
        let bounds = outline.px_bounds();
        let (bx, by) = (bounds.min.x as i32, bounds.min.y as i32);
        let mut result = Ok(());
        outline.draw(|gx, gy, coverage| {
            if coverage > 0.0 && result.is_ok() {
                let pixel = (bx + gx as i32, by + gy as i32);
                result = self.area.draw_pixel(pixel, &color.mix(f64::from(coverage.min(1.0))));
            }
        });
        result.map_err(draw_error)
    }

    pub(crate) fn rect(&self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), fill: Fill) -> Result<(), ChartError> {
        let (x0, x1) = (x0.min(x1), x0.max(x1));
        let (y0, y1) = (y0.min(y1), y0.max(y1));
        let corners = [self.point((x0, y0)), self.point((x1, y1))];
        self.area.draw(&Rectangle::new(corners, fill.color.filled())).map_err(draw_error)?;
        let ink = darker(fill.color);
        match fill.hatch {
            Hatch::None => {}
            Hatch::Up => self.hatch((x0, y0), (x1, y1), ink, true)?,
            Hatch::Down => self.hatch((x0, y0), (x1, y1), ink, false)?,
            Hatch::Cross => {
                self.hatch((x0, y0), (x1, y1), ink, true)?;
                self.hatch((x0, y0), (x1, y1), ink, false)?;
            }
        }
        if let Some(outline) = fill.outline {
            let style = ShapeStyle { color: outline.to_rgba(), filled: false, stroke_width: self.stroke(0.8) };
            self.area.draw(&Rectangle::new(corners, style)).map_err(draw_error)?;
        }
        Ok(())
    }

    /// 45° lines every 4 logical pixels, clipped to the rectangle.
    fn hatch(
        &self,
        (x0, y0): (f64, f64),
        (x1, y1): (f64, f64),
        color: RGBColor,
        rising: bool,
    ) -> Result<(), ChartError> {
        let spacing = 4.0;
        let height = y1 - y0;
        let mut t = x0 - height;
        while t < x1 {
            // The line through (t, bottom) and (t + height, top), clipped to x0..x1.
            let (mut ax, mut ay, mut bx, mut by) = (t, y1, t + height, y0);
            if ax < x0 {
                ay -= x0 - ax;
                ax = x0;
            }
            if bx > x1 {
                by += bx - x1;
                bx = x1;
            }
            if bx > ax {
                let (ax, bx) = if rising { (ax, bx) } else { (x0 + x1 - ax, x0 + x1 - bx) };
                self.line(&[(ax, ay), (bx, by)], color, 0.6)?;
            }
            t += spacing;
        }
        Ok(())
    }

    fn stroke(&self, width: f64) -> u32 {
        (width * self.scale).round().max(1.0) as u32
    }

    pub(crate) fn line(&self, points: &[(f64, f64)], color: RGBColor, width: f64) -> Result<(), ChartError> {
        let points: Vec<(i32, i32)> = points.iter().map(|p| self.point(*p)).collect();
        let style = ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: self.stroke(width) };
        self.area.draw(&PathElement::new(points, style)).map_err(draw_error)
    }

    pub(crate) fn dashed(
        &self,
        points: &[(f64, f64)],
        color: RGBColor,
        width: f64,
        dash: f64,
    ) -> Result<(), ChartError> {
        let points: Vec<(i32, i32)> = points.iter().map(|p| self.point(*p)).collect();
        let style = ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: self.stroke(width) };
        let (size, gap) = (self.px(dash).max(1), self.px(dash * 0.7).max(1));
        self.area.draw(&DashedPathElement::new(points, size, gap, style)).map_err(draw_error)
    }

    /// A marker of `size` logical pixels across, filled or hollow (white inside).
    pub(crate) fn marker(
        &self,
        marker: Marker,
        (x, y): (f64, f64),
        size: f64,
        color: RGBColor,
        filled: bool,
    ) -> Result<(), ChartError> {
        let r = size / 2.0;
        let shape: Vec<(f64, f64)> = match marker {
            Marker::Circle => (0..16)
                .map(|i| {
                    let a = f64::from(i) * std::f64::consts::PI / 8.0;
                    (x + r * a.cos(), y + r * a.sin())
                })
                .collect(),
            Marker::Square => vec![
                (x - r * 0.85, y - r * 0.85),
                (x + r * 0.85, y - r * 0.85),
                (x + r * 0.85, y + r * 0.85),
                (x - r * 0.85, y + r * 0.85),
            ],
            Marker::Triangle => vec![(x, y - r * 1.1), (x + r, y + r * 0.75), (x - r, y + r * 0.75)],
            Marker::TriangleDown => vec![(x, y + r * 1.1), (x + r, y - r * 0.75), (x - r, y - r * 0.75)],
            Marker::Diamond => vec![(x, y - r * 1.15), (x + r, y), (x, y + r * 1.15), (x - r, y)],
            Marker::Cross => {
                let d = r * 0.8;
                self.line(&[(x - d, y - d), (x + d, y + d)], color, 1.6)?;
                return self.line(&[(x - d, y + d), (x + d, y - d)], color, 1.6);
            }
        };
        let points: Vec<(i32, i32)> = shape.iter().map(|p| self.point(*p)).collect();
        let inside = if filled { color } else { plotters::style::WHITE };
        self.area.draw(&Polygon::new(points.clone(), inside.filled())).map_err(draw_error)?;
        let mut closed = shape.clone();
        closed.push(shape[0]);
        self.line(&closed, color, 1.0)
    }
}

/// The hatch ink of a fill: a darker shade of it (white fills get grey lines).
fn darker(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) * 0.55) as u8;
    if (c.0, c.1, c.2) == (255, 255, 255) { RGBColor(150, 150, 150) } else { RGBColor(f(c.0), f(c.1), f(c.2)) }
}
