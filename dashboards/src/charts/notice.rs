//! The A4 公示 poster for a community's notice board (`yishi export notice`): the period's
//! figures, the topics closed in it, the coming 说事议事日 and a QR code to the public page,
//! drawn with the charts' canvas and embedded CJK font (PNG at 192 dpi), and the same
//! picture as a one-page A4 PDF.

use plotters::prelude::{BitMapBackend, IntoDrawingArea, RGBColor};

use super::canvas::{Align, Canvas, Fill};
use super::{ChartError, encode_png};
use crate::pages::public::PublicPage;

/// A4 portrait at 96 logical pixels per inch.
const WIDTH: f64 = 794.0;
const HEIGHT: f64 = 1123.0;
/// 2×: 192 dpi, sharp on a printed notice.
const SCALE: f64 = 2.0;
/// Closed topics listed before 「另有 N 件」.
const MAX_ROWS: usize = 18;

const RED: RGBColor = RGBColor(179, 38, 30);
const INK: RGBColor = RGBColor(31, 41, 51);
const GREY: RGBColor = RGBColor(82, 96, 109);
const PAPER: RGBColor = RGBColor(245, 242, 234);

/// The poster as PNG; `url` is the public page the QR code leads to.
pub fn poster_png(page: &PublicPage, url: &str) -> Result<Vec<u8>, ChartError> {
    let (pixels, w, h) = pixels(page, url)?;
    encode_png(&pixels, w, h, SCALE)
}

/// The poster as a one-page A4 PDF holding its picture (so its 汉字 print on any machine).
pub fn poster_pdf(page: &PublicPage, url: &str) -> Result<Vec<u8>, ChartError> {
    let (pixels, w, h) = pixels(page, url)?;
    Ok(pdf_of_image(&pixels, w, h))
}

/// The poster's RGB pixels and size.
fn pixels(page: &PublicPage, url: &str) -> Result<(Vec<u8>, u32, u32), ChartError> {
    let (w, h) = ((WIDTH * SCALE) as u32, (HEIGHT * SCALE) as u32);
    let mut pixels = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        let canvas = Canvas::new(&area, SCALE, false, WIDTH, HEIGHT);
        canvas.clear()?;
        draw(&canvas, page, url)?;
        area.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    Ok((pixels, w, h))
}

fn draw<DB: plotters::prelude::DrawingBackend>(
    canvas: &Canvas<DB>,
    page: &PublicPage,
    url: &str,
) -> Result<(), ChartError> {
    canvas.rect((0.0, 0.0), (WIDTH, 12.0), Fill::solid(RED))?;
    let title = format!("{}说事议事公示", page.community_name);
    canvas.text(&title, (WIDTH / 2.0, 62.0), 34.0, RED, Align::Center, true)?;
    let sub = format!("{} · {}", page.county_name, page.period);
    canvas.text(&sub, (WIDTH / 2.0, 108.0), 18.0, GREY, Align::Center, false)?;
    figures(canvas, page)?;
    let y = topics(canvas, page, 260.0)?;
    coming(canvas, page, y + 20.0)?;
    qr(canvas, url)
}

/// The four figures, in boxes across the page.
fn figures<DB: plotters::prelude::DrawingBackend>(canvas: &Canvas<DB>, page: &PublicPage) -> Result<(), ChartError> {
    let n = page.figures.len().max(1) as f64;
    let (left, gap) = (48.0, 12.0);
    let width = (WIDTH - 2.0 * left - gap * (n - 1.0)) / n;
    for (i, (name, value)) in page.figures.iter().enumerate() {
        let x = left + i as f64 * (width + gap);
        canvas.rect((x, 140.0), (x + width, 226.0), Fill::solid(PAPER))?;
        canvas.text(name, (x + width / 2.0, 164.0), 15.0, GREY, Align::Center, false)?;
        canvas.text(value, (x + width / 2.0, 200.0), 28.0, INK, Align::Center, true)?;
    }
    Ok(())
}

/// The closed topics, one line each; returns the y below the list.
fn topics<DB: plotters::prelude::DrawingBackend>(
    canvas: &Canvas<DB>,
    page: &PublicPage,
    top: f64,
) -> Result<f64, ChartError> {
    let heading = format!("本期办结的议题（{} 件）", page.closed.len());
    canvas.text(&heading, (48.0, top), 20.0, RED, Align::Left, true)?;
    let mut y = top + 38.0;
    if page.closed.is_empty() {
        canvas.text("本期没有办结的议题。", (48.0, y), 15.0, INK, Align::Left, false)?;
        return Ok(y + 30.0);
    }
    for t in page.closed.iter().take(MAX_ROWS) {
        let title: String = t.title.chars().take(16).collect();
        canvas.text(&title, (48.0, y), 15.0, INK, Align::Left, false)?;
        canvas.text(&t.category, (330.0, y), 14.0, GREY, Align::Left, false)?;
        canvas.text(&t.handling_mode, (420.0, y), 14.0, GREY, Align::Left, false)?;
        canvas.text(&format!("{} {}", t.closed_on, t.result), (510.0, y), 14.0, GREY, Align::Left, false)?;
        let on_time = if t.on_time == "是" { "按时" } else { "超时" };
        canvas.text(on_time, (WIDTH - 48.0, y), 14.0, INK, Align::Right, true)?;
        y += 28.0;
    }
    if page.closed.len() > MAX_ROWS {
        let more = format!("……另有 {} 件，请扫码查看", page.closed.len() - MAX_ROWS);
        canvas.text(&more, (48.0, y), 14.0, GREY, Align::Left, false)?;
        y += 28.0;
    }
    Ok(y)
}

fn coming<DB: plotters::prelude::DrawingBackend>(
    canvas: &Canvas<DB>,
    page: &PublicPage,
    top: f64,
) -> Result<(), ChartError> {
    let y = top.max(860.0);
    canvas.text("近期说事议事日", (48.0, y), 18.0, RED, Align::Left, true)?;
    for (i, day) in page.coming.iter().enumerate() {
        let set = if day.topics.is_empty() {
            "议题征集中".to_string()
        } else {
            format!("拟议 {} 件", day.topics.len())
        };
        canvas.text(
            &format!("{}  {set}", day.day),
            (48.0, y + 34.0 + 28.0 * i as f64),
            15.0,
            INK,
            Align::Left,
            false,
        )?;
    }
    canvas.text("有事好商量，众人的事由众人商量。", (48.0, 1040.0), 15.0, GREY, Align::Left, false)
}

/// The QR code of `url` in the bottom right corner, with its caption.
fn qr<DB: plotters::prelude::DrawingBackend>(canvas: &Canvas<DB>, url: &str) -> Result<(), ChartError> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ChartError::Draw(format!("二维码：{e}")))?;
    let n = code.width();
    let colors = code.to_colors();
    // Four modules of quiet zone on every side, as decoders expect.
    let (size, x0, y0) = (180.0, WIDTH - 48.0 - 180.0, 850.0);
    let module = size / (n as f64 + 8.0);
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (x0 + module * (4 + i % n) as f64, y0 + module * (4 + i / n) as f64);
            canvas.rect((x, y), (x + module, y + module), Fill::solid(RGBColor(0, 0, 0)))?;
        }
    }
    canvas.text("扫码查看公示页", (x0 + size / 2.0, y0 + size + 18.0), 14.0, INK, Align::Center, false)
}

/// A one-page A4 PDF showing an RGB picture over the whole page.
fn pdf_of_image(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};
    let (catalog, pages, page, image, content) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let (w_pt, h_pt) = (595.28f32, 841.89f32);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, w_pt, h_pt)).parent(pages).contents(content);
    p.resources().x_objects().pair(Name(b"Im1"), image);
    p.finish();
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(rgb, 6);
    let mut xobject = pdf.image_xobject(image, &deflated);
    xobject.filter(Filter::FlateDecode);
    xobject.width(i32::try_from(width).unwrap_or(i32::MAX));
    xobject.height(i32::try_from(height).unwrap_or(i32::MAX));
    xobject.color_space().device_rgb();
    xobject.bits_per_component(8);
    xobject.finish();
    let mut draw = Content::new();
    draw.save_state();
    draw.transform([w_pt, 0.0, 0.0, h_pt, 0.0, 0.0]);
    draw.x_object(Name(b"Im1"));
    draw.restore_state();
    pdf.stream(content, &draw.finish());
    pdf.finish()
}
