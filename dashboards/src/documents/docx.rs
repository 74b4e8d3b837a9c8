//! A [`Document`] as a Word file (DOCX, written with `docx-rs`), laid out like a 公文 page
//! (GB/T 9704): A4, margins 37 mm top, 35 mm bottom, 28 mm left and 26 mm right (a text
//! area of 156 × 225 mm), body in 仿宋 三号 (16 pt) on a fixed 28.95 pt line, headings in
//! 黑体, the title in 宋体 二号; tables in 五号 (10.5 pt); page numbers centred in the
//! footer as "— 1 —".
//!
//! Every run names its East-Asian face explicitly (`w:eastAsia`): without it Word and
//! LibreOffice take the Latin face for 汉字 too, and a machine without that face draws
//! boxes. Where 仿宋 or 黑体 is not installed (a Linux desktop), LibreOffice replaces the
//! face with an installed CJK one through fontconfig, so 汉字 still print.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, LineSpacing, LineSpacingType, PageMargin, PageNum, Paragraph, Pic, Run,
    RunFonts, Shading, ShdType, SpecialIndentType, TableCell, TableRow, WidthType,
};

use super::{Block, Document, DocumentError, Picture, Table};

/// A4 in twips (1/20 pt).
const PAGE_WIDTH: u32 = 11906;
const PAGE_HEIGHT: u32 = 16838;
/// Twips per millimetre.
const MM: f64 = 56.693;
/// The text width: 210 − 28 − 26 = 156 mm.
const TEXT_WIDTH: u32 = 8844;

/// Sizes in half-points: 二号 22 pt, 三号 16 pt, 小四 12 pt, 五号 10.5 pt.
const TITLE_SIZE: usize = 44;
const BODY_SIZE: usize = 32;
const CAPTION_SIZE: usize = 24;
const TABLE_SIZE: usize = 21;
/// The 公文 line: 22 lines on 225 mm, about 28.95 pt.
const BODY_LINE: i32 = 579;
/// Two characters of the body size (2 × 16 pt), in twips: LibreOffice ignores an indent
/// given in characters (`w:firstLineChars`), so it is given in twips.
const FIRST_LINE: i32 = 640;

/// The faces: body, headings, title; Latin text in Times New Roman.
const BODY_FACE: &str = "仿宋";
const HEADING_FACE: &str = "黑体";
const TITLE_FACE: &str = "宋体";

/// The document as DOCX bytes.
pub fn write(document: &Document) -> Result<Vec<u8>, DocumentError> {
    let mut docx = page(Docx::new()).footer(footer());
    docx = docx.add_paragraph(title(&document.title));
    for line in &document.cover {
        docx = docx.add_paragraph(cover_line(line));
    }
    for block in &document.blocks {
        docx = match block {
            Block::Heading(text) => docx.add_paragraph(heading(text)),
            Block::Paragraph(text) => docx.add_paragraph(body(text)),
            Block::Table(table) => docx.add_paragraph(caption(&table.caption, true)).add_table(grid(table)),
            Block::Picture(picture) => {
                docx.add_paragraph(image(picture)).add_paragraph(caption(&picture.caption, false))
            }
            Block::PageBreak => docx.add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page))),
        };
    }
    let mut bytes = Cursor::new(Vec::new());
    docx.build().pack(&mut bytes).map_err(|e| DocumentError::Docx(e.to_string()))?;
    Ok(bytes.into_inner())
}

/// A4 portrait with the 公文 margins, the body face and size as the defaults.
fn page(docx: Docx) -> Docx {
    let mm = |v: f64| (v * MM).round() as i32;
    let margin = PageMargin {
        top: mm(37.0),
        bottom: mm(35.0),
        left: mm(28.0),
        right: mm(26.0),
        header: mm(15.0),
        footer: mm(18.0),
        gutter: 0,
    };
    docx.page_size(PAGE_WIDTH, PAGE_HEIGHT).page_margin(margin).default_fonts(fonts(BODY_FACE)).default_size(BODY_SIZE)
}

/// Latin text in Times New Roman, 汉字 in `face`.
fn fonts(face: &str) -> RunFonts {
    RunFonts::new().ascii("Times New Roman").hi_ansi("Times New Roman").east_asia(face).cs("Times New Roman")
}

fn run(text: &str, face: &str, size: usize) -> Run {
    Run::new().add_text(text).fonts(fonts(face)).size(size)
}

/// "— 1 —", centred, 四号 宋体 as in 公文.
fn footer() -> Footer {
    let dash = |t: &str| run(t, TITLE_FACE, 28);
    let number = Paragraph::new()
        .align(AlignmentType::Center)
        .add_run(dash("— "))
        .add_page_num(PageNum::new())
        .add_run(dash(" —"))
        .fonts(fonts(TITLE_FACE))
        .size(28);
    Footer::new().add_paragraph(number)
}

fn title(text: &str) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(LineSpacing::new().before(240).after(360))
        .add_run(run(text, TITLE_FACE, TITLE_SIZE))
}

/// The cover lines under the title, centred in 楷体-like small print.
fn cover_line(text: &str) -> Paragraph {
    Paragraph::new().align(AlignmentType::Center).add_run(run(text, BODY_FACE, CAPTION_SIZE))
}

fn heading(text: &str) -> Paragraph {
    Paragraph::new()
        .keep_next(true)
        .line_spacing(LineSpacing::new().line(BODY_LINE).line_rule(LineSpacingType::Exact).before(120))
        .indent(None, Some(SpecialIndentType::FirstLine(FIRST_LINE)), None, None)
        .add_run(run(text, HEADING_FACE, BODY_SIZE))
}

/// A body paragraph: first line indented two characters, the 公文 line.
fn body(text: &str) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Both)
        .line_spacing(LineSpacing::new().line(BODY_LINE).line_rule(LineSpacingType::Exact))
        .indent(None, Some(SpecialIndentType::FirstLine(FIRST_LINE)), None, None)
        .add_run(run(text, BODY_FACE, BODY_SIZE))
}

/// A caption, centred in bold 黑体 小四: above a table (kept with it), below a picture.
fn caption(text: &str, above: bool) -> Paragraph {
    Paragraph::new()
        .align(AlignmentType::Center)
        .keep_next(above)
        .line_spacing(LineSpacing::new().before(if above { 120 } else { 0 }).after(120))
        .add_run(run(text, HEADING_FACE, CAPTION_SIZE))
}

/// A picture at its logical size (1/96 inch a pixel), no wider than the text.
fn image(picture: &Picture) -> Paragraph {
    let text_px = TEXT_WIDTH as f64 / 15.0;
    let shrink = (text_px / f64::from(picture.width_px.max(1))).min(1.0);
    let (w, h) =
        ((f64::from(picture.width_px) * shrink).round() as u32, (f64::from(picture.height_px) * shrink).round() as u32);
    let pic = Pic::new_with_dimensions(picture.png.clone(), w, h);
    Paragraph::new().align(AlignmentType::Center).keep_next(true).add_run(Run::new().add_image(pic))
}

/// The table: a shaded bold header row, then the rows; widths scaled to the text width.
fn grid(table: &Table) -> docx_rs::Table {
    let total: u32 = table.widths.iter().sum::<u32>().max(1);
    let widths: Vec<usize> = table.widths.iter().map(|w| (w * TEXT_WIDTH / total) as usize).collect();
    let header =
        TableRow::new(table.headers.iter().zip(&widths).map(|(h, w)| cell(h, *w, true)).collect()).cant_split();
    let mut rows = vec![header];
    for row in &table.rows {
        rows.push(TableRow::new(row.iter().zip(&widths).map(|(c, w)| cell(c, *w, false)).collect()).cant_split());
    }
    docx_rs::Table::new(rows).set_grid(widths).width(TEXT_WIDTH as usize, WidthType::Dxa)
}

/// A cell; a line break in `text` (a header's unit under its name) breaks the line.
fn cell(text: &str, width: usize, header: bool) -> TableCell {
    let face = if header { HEADING_FACE } else { BODY_FACE };
    // The paragraph mark's size too: an empty cell is otherwise a body-size line high.
    let mut paragraph = Paragraph::new().align(AlignmentType::Center).size(TABLE_SIZE).fonts(fonts(face));
    for (i, line) in text.split('\n').enumerate() {
        let start = if i > 0 { Run::new().add_break(BreakType::TextWrapping) } else { Run::new() };
        paragraph = paragraph.add_run(start.add_text(line).fonts(fonts(face)).size(TABLE_SIZE));
    }
    let cell = TableCell::new().width(width, WidthType::Dxa).add_paragraph(paragraph);
    if header { cell.shading(Shading::new().shd_type(ShdType::Clear).fill("E7E6E6")) } else { cell }
}
