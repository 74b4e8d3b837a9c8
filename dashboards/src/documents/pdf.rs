//! A [`Document`] as an A4 PDF, written here without LibreOffice or any system font: the
//! text is set in the bundled Noto Sans CJK SC ([`crate::fonts::CJK_FONT`]), embedded in
//! the file, so 汉字 show on a machine with no Chinese font at all. Same page as the DOCX
//! (公文 margins, 16 pt body on a 28.95 pt line, tables at 10.5 pt, charts 156 mm wide,
//! "— N —" centred at the foot).
//!
//! The font is an OpenType font with CID-keyed CFF outlines. Its CFF table is embedded
//! whole (`FontFile3 /CIDFontType0C`) under a `CIDFontType0` font with Identity-H encoding:
//! the codes in the text are CIDs, which readers map to glyphs through the CFF charset —
//! and in this subset font a glyph's CID is not its index, so every character goes char →
//! glyph (cmap) → CID (charset). A ToUnicode map lets readers copy and search the text
//! (pdftotext).
//! Charts go in as their PNG data unchanged: a PNG's IDAT stream is a zlib stream of
//! filtered rows, which PDF reads with FlateDecode and PNG predictors.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use ttf_parser::{Face, GlyphId};

use super::{Block, Document, DocumentError, Picture, Table};
use crate::fonts::CJK_FONT;

/// A4 in points, and the 公文 margins (37, 35, 28, 26 mm).
const PAGE_W: f64 = 595.28;
const PAGE_H: f64 = 841.89;
const MM: f64 = 72.0 / 25.4;
const TOP: f64 = 37.0 * MM;
const BOTTOM: f64 = 35.0 * MM;
const LEFT: f64 = 28.0 * MM;
const TEXT_W: f64 = PAGE_W - LEFT - 26.0 * MM;

const TITLE_SIZE: f64 = 22.0;
const BODY_SIZE: f64 = 16.0;
const BODY_LINE: f64 = 28.95;
const SMALL_SIZE: f64 = 12.0;
const TABLE_SIZE: f64 = 10.5;
const CELL_LINE: f64 = 13.5;
const CELL_PAD: f64 = 3.0;

/// The document as PDF bytes.
pub fn write(document: &Document) -> Result<Vec<u8>, DocumentError> {
    let font = CidFont::new()?;
    let mut layout = Layout::new(&font);
    layout.title(&document.title);
    for line in &document.cover {
        layout.centred(line, SMALL_SIZE, SMALL_SIZE * 1.5);
    }
    layout.skip(SMALL_SIZE);
    for block in &document.blocks {
        match block {
            Block::Heading(text) => layout.paragraph(text, 2.0 * BODY_SIZE),
            Block::Paragraph(text) => layout.paragraph(text, 2.0 * BODY_SIZE),
            Block::Table(table) => layout.table(table),
            Block::Picture(picture) => layout.picture(picture)?,
            Block::PageBreak => layout.new_page(),
        }
    }
    let pages = layout.finish();
    Ok(assemble(&font, &pages, &layout.images))
}

/// The embedded font: its cmap, advances and CIDs, and which characters the text used.
struct CidFont {
    face: Face<'static>,
    /// The font's CFF table, embedded as the PDF's font file.
    cff: &'static [u8],
    units: f64,
    used: std::cell::RefCell<BTreeMap<u16, (char, u16)>>,
}

impl CidFont {
    fn new() -> Result<CidFont, DocumentError> {
        let broken = |why: String| DocumentError::Pdf(format!("内置字体无法读取（{why}），请重新安装 yishi"));
        let face = Face::parse(CJK_FONT, 0).map_err(|e| broken(e.to_string()))?;
        let cff =
            face.raw_face().table(ttf_parser::Tag::from_bytes(b"CFF ")).ok_or_else(|| broken("无 CFF 表".into()))?;
        let units = f64::from(face.units_per_em());
        Ok(CidFont { face, cff, units, used: Default::default() })
    }

    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).or_else(|| self.face.glyph_index('□')).unwrap_or(GlyphId(0))
    }

    /// The CID of a glyph (the charset of the CID-keyed CFF), the glyph index otherwise.
    fn cid(&self, glyph: GlyphId) -> u16 {
        self.face.tables().cff.and_then(|cff| cff.glyph_cid(glyph)).unwrap_or(glyph.0)
    }

    /// Advance in thousandths of the size.
    fn advance(&self, c: char) -> f64 {
        let glyph = self.glyph(c);
        f64::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0 / self.units
    }

    fn width(&self, text: &str, size: f64) -> f64 {
        text.chars().map(|c| self.advance(c)).sum::<f64>() * size / 1000.0
    }

    /// The text as CIDs in hex for a `Tj`, recording each for the widths and ToUnicode.
    fn encode(&self, text: &str) -> String {
        let mut hex = String::with_capacity(text.len() * 4);
        let mut used = self.used.borrow_mut();
        for c in text.chars() {
            let glyph = self.glyph(c);
            let cid = self.cid(glyph);
            used.entry(cid).or_insert((c, self.face.glyph_hor_advance(glyph).unwrap_or(0)));
            hex.push_str(&format!("{cid:04X}"));
        }
        hex
    }
}

/// Lines of `text` no wider than `width` at `size`, the first `indent` narrower. Breaks
/// between any two characters (Chinese has no spaces), but keeps closing punctuation with
/// the character before it.
fn wrap(font: &CidFont, text: &str, size: f64, width: f64, indent: f64) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut room = width - indent;
    let mut used = 0.0;
    for c in text.chars() {
        let w = font.advance(c) * size / 1000.0;
        let closing = "，。；：、）》”！？%".contains(c);
        if used + w > room && !closing && lines.last().is_some_and(|l| !l.is_empty()) {
            lines.push(String::new());
            room = width;
            used = 0.0;
        }
        used += w;
        if let Some(line) = lines.last_mut() {
            line.push(c);
        }
    }
    lines
}

/// Pages being set: each page's content stream, top to bottom.
struct Layout<'f> {
    font: &'f CidFont,
    pages: Vec<String>,
    /// Distance from the page's top to the next line's top.
    y: f64,
    images: Vec<(Vec<u8>, u32, u32)>,
}

impl<'f> Layout<'f> {
    fn new(font: &'f CidFont) -> Layout<'f> {
        Layout { font, pages: vec![String::new()], y: TOP, images: Vec::new() }
    }

    fn new_page(&mut self) {
        self.pages.push(String::new());
        self.y = TOP;
    }

    fn room(&self) -> f64 {
        PAGE_H - BOTTOM - self.y
    }

    /// Room for `height` more on this page, else a new one.
    fn need(&mut self, height: f64) {
        if height > self.room() && self.y > TOP {
            self.new_page();
        }
    }

    fn skip(&mut self, height: f64) {
        self.y += height;
    }

    fn out(&mut self, content: &str) {
        if let Some(page) = self.pages.last_mut() {
            page.push_str(content);
        }
    }

    /// Text with its baseline `size` × 0.88 below `top` (the font's ascent).
    fn text_at(&mut self, text: &str, size: f64, x: f64, top: f64) {
        let hex = self.font.encode(text);
        let y = PAGE_H - top - size * 0.88;
        self.out(&format!("BT /F1 {size:.2} Tf {x:.2} {y:.2} Td <{hex}> Tj ET\n"));
    }

    fn title(&mut self, text: &str) {
        for line in wrap(self.font, text, TITLE_SIZE, TEXT_W, 0.0) {
            self.centred(&line, TITLE_SIZE, TITLE_SIZE * 1.5);
        }
        self.skip(TITLE_SIZE * 0.5);
    }

    fn centred(&mut self, text: &str, size: f64, line: f64) {
        for part in wrap(self.font, text, size, TEXT_W, 0.0) {
            self.need(line);
            let x = LEFT + (TEXT_W - self.font.width(&part, size)) / 2.0;
            let top = self.y + (line - size) / 2.0;
            self.text_at(&part, size, x, top);
            self.skip(line);
        }
    }

    /// A body paragraph or heading: the first line indented, the 公文 line.
    fn paragraph(&mut self, text: &str, indent: f64) {
        for (i, line) in wrap(self.font, text, BODY_SIZE, TEXT_W, indent).iter().enumerate() {
            self.need(BODY_LINE);
            let x = LEFT + if i == 0 { indent } else { 0.0 };
            let top = self.y + (BODY_LINE - BODY_SIZE) / 2.0;
            self.text_at(line, BODY_SIZE, x, top);
            self.skip(BODY_LINE);
        }
    }

    /// The caption, then the rows; a row that does not fit starts a page and the header
    /// row is repeated there.
    fn table(&mut self, table: &Table) {
        let widths = column_widths(table);
        let header = self.cells(&table.headers, &widths);
        self.need(SMALL_SIZE * 2.0 + header.1 * 2.0);
        self.centred(&table.caption, SMALL_SIZE, SMALL_SIZE * 2.0);
        self.row(&header, &widths, true);
        for row in &table.rows {
            let cells = self.cells(row, &widths);
            if cells.1 > self.room() {
                self.new_page();
                self.row(&header, &widths, true);
            }
            self.row(&cells, &widths, false);
        }
        self.skip(SMALL_SIZE);
    }

    /// Each cell's lines and the row's height.
    fn cells(&self, texts: &[String], widths: &[f64]) -> (Vec<Vec<String>>, f64) {
        let lines: Vec<Vec<String>> = texts
            .iter()
            .zip(widths)
            .map(|(t, w)| t.split('\n').flat_map(|p| wrap(self.font, p, TABLE_SIZE, w - 2.0 * CELL_PAD, 0.0)).collect())
            .collect();
        let most = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        (lines, most as f64 * CELL_LINE + 2.0 * CELL_PAD)
    }

    fn row(&mut self, (cells, height): &(Vec<Vec<String>>, f64), widths: &[f64], header: bool) {
        let bottom = PAGE_H - self.y - height;
        let mut x = LEFT;
        for (lines, w) in cells.iter().zip(widths) {
            let fill = if header { "0.9 g " } else { "" };
            let paint = if header { "B" } else { "S" };
            self.out(&format!("{fill}0.5 w {x:.2} {bottom:.2} {w:.2} {height:.2} re {paint} 0 g\n"));
            let top = self.y + (height - lines.len() as f64 * CELL_LINE) / 2.0;
            for (i, line) in lines.iter().enumerate() {
                let cx = x + (w - self.font.width(line, TABLE_SIZE)) / 2.0;
                let ty = top + i as f64 * CELL_LINE + (CELL_LINE - TABLE_SIZE) / 2.0;
                self.text_at(line, TABLE_SIZE, cx, ty);
            }
            x += w;
        }
        self.skip(*height);
    }

    /// The chart at its logical size (no wider than the text), its caption below.
    fn picture(&mut self, picture: &Picture) -> Result<(), DocumentError> {
        let (data, width, height) = png_idat(&picture.png)?;
        let scale = (TEXT_W / (f64::from(picture.width_px) * 0.75)).min(1.0) * 0.75;
        let (w, h) = (f64::from(picture.width_px) * scale, f64::from(picture.height_px) * scale);
        self.need(h + SMALL_SIZE * 2.0);
        let n = self.images.len() + 1;
        self.images.push((data, width, height));
        let (x, y) = (LEFT + (TEXT_W - w) / 2.0, PAGE_H - self.y - h);
        self.out(&format!("q {w:.2} 0 0 {h:.2} {x:.2} {y:.2} cm /Im{n} Do Q\n"));
        self.skip(h);
        self.centred(&picture.caption, SMALL_SIZE, SMALL_SIZE * 2.0);
        Ok(())
    }

    /// Every page's content with its number "— N —" at the foot.
    fn finish(&mut self) -> Vec<String> {
        let pages = std::mem::take(&mut self.pages);
        let size = 14.0;
        pages
            .into_iter()
            .enumerate()
            .map(|(i, mut content)| {
                let number = format!("— {} —", i + 1);
                let x = (PAGE_W - self.font.width(&number, size)) / 2.0;
                let hex = self.font.encode(&number);
                let y = BOTTOM - 18.0 * MM;
                content.push_str(&format!("BT /F1 {size:.2} Tf {x:.2} {y:.2} Td <{hex}> Tj ET\n"));
                content
            })
            .collect()
    }
}

/// The table's column widths in points, its relative widths scaled to the text width.
fn column_widths(table: &Table) -> Vec<f64> {
    let total = f64::from(table.widths.iter().sum::<u32>().max(1));
    table.widths.iter().map(|w| f64::from(*w) / total * TEXT_W).collect()
}

/// The zlib stream of an 8-bit RGB PNG (its IDAT chunks joined) and its size in pixels.
fn png_idat(png: &[u8]) -> Result<(Vec<u8>, u32, u32), DocumentError> {
    let bad = || DocumentError::Pdf("图表 PNG 格式不符（应为 8 位 RGB、非隔行）".into());
    let word = |at: usize| png.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    let (width, height) = (word(16).ok_or_else(bad)?, word(20).ok_or_else(bad)?);
    // Bit depth 8, colour type 2 (RGB), no interlace: what `charts::encode_png` writes.
    if png.get(24..27) != Some(&[8, 2, 0][..]) || png.get(28) != Some(&0) {
        return Err(bad());
    }
    let mut data = Vec::new();
    let mut at = 8;
    while let (Some(len), Some(kind)) = (word(at), png.get(at + 4..at + 8)) {
        let body = png.get(at + 8..at + 8 + len as usize).ok_or_else(bad)?;
        if kind == b"IDAT" {
            data.extend_from_slice(body);
        }
        at += 12 + len as usize;
    }
    Ok((data, width, height))
}

/// The embedded font's CFF table, deflated. The whole font is embedded in every document
/// (no subset yet), so it is compressed once per process: compressing its megabytes took
/// most of a PDF's time.
fn deflated_font(cff: &[u8]) -> &'static [u8] {
    static FONT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| deflate(cff))
}

/// Compresses the embedded font ahead of the first PDF (a server calls it at start, off
/// its request threads, so the first download is not the slow one).
pub fn prepare() {
    if let Ok(font) = CidFont::new() {
        deflated_font(font.cff);
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The PDF objects, numbered from 1, and the cross-reference table.
struct Pdf {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

impl Pdf {
    fn new() -> Pdf {
        Pdf { bytes: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(), offsets: Vec::new() }
    }

    /// Object `n` (they must be added in order).
    fn object(&mut self, n: usize, body: &str) {
        self.offsets.push(self.bytes.len());
        debug_assert_eq!(self.offsets.len(), n);
        self.bytes.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }

    fn stream(&mut self, n: usize, dict: &str, data: &[u8]) {
        self.offsets.push(self.bytes.len());
        debug_assert_eq!(self.offsets.len(), n);
        self.bytes.extend_from_slice(format!("{n} 0 obj\n<< {dict} /Length {} >>\nstream\n", data.len()).as_bytes());
        self.bytes.extend_from_slice(data);
        self.bytes.extend_from_slice(b"\nendstream\nendobj\n");
    }

    fn finish(mut self) -> Vec<u8> {
        let xref = self.bytes.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for offset in &self.offsets {
            table.push_str(&format!("{offset:010} 00000 n \n"));
        }
        table.push_str(&format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len() + 1
        ));
        self.bytes.extend_from_slice(table.as_bytes());
        self.bytes
    }
}

/// Objects: 1 catalog, 2 page tree, 3 Type0 font, 4 CIDFont, 5 descriptor, 6 font file,
/// 7 ToUnicode, then the images, then each page and its content.
fn assemble(font: &CidFont, pages: &[String], images: &[(Vec<u8>, u32, u32)]) -> Vec<u8> {
    let first_page = 8 + images.len();
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    let mut pdf = Pdf::new();
    pdf.object(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.object(2, &format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()));
    font_objects(&mut pdf, font);
    for (i, (data, w, h)) in images.iter().enumerate() {
        let dict = format!(
            "/Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 \
             /Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 3 /BitsPerComponent 8 /Columns {w} >>"
        );
        pdf.stream(8 + i, &dict, data);
    }
    let xobjects: String = (1..=images.len()).map(|n| format!("/Im{n} {} 0 R ", 7 + n)).collect();
    let resources = format!("<< /Font << /F1 3 0 R >> /XObject << {xobjects}>> >>");
    for (i, content) in pages.iter().enumerate() {
        let n = first_page + 2 * i;
        pdf.object(
            n,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources {resources} /Contents {} 0 R >>",
                n + 1
            ),
        );
        pdf.stream(n + 1, "/Filter /FlateDecode", &deflate(content.as_bytes()));
    }
    pdf.finish()
}

/// Objects 3–7: the Type0 font over the CID font, its widths, descriptor, file and ToUnicode.
fn font_objects(pdf: &mut Pdf, font: &CidFont) {
    let name = "NotoSansCJKsc-Regular";
    let used = font.used.borrow();
    let per_unit = 1000.0 / font.units;
    let widths: String =
        used.iter().map(|(cid, (_, adv))| format!("{cid} [{:.0}] ", f64::from(*adv) * per_unit)).collect();
    pdf.object(
        3,
        &format!("<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 7 0 R >>"),
    );
    pdf.object(
        4,
        &format!(
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /{name} \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor 5 0 R /DW 1000 /W [{widths}] >>"
        ),
    );
    let face = &font.face;
    let b = face.global_bounding_box();
    let scaled = |v: i16| (f64::from(v) * per_unit).round();
    pdf.object(
        5,
        &format!(
            "<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{} {} {} {}] /ItalicAngle 0 \
             /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile3 6 0 R >>",
            scaled(b.x_min),
            scaled(b.y_min),
            scaled(b.x_max),
            scaled(b.y_max),
            scaled(face.ascender()),
            scaled(face.descender()),
            scaled(face.capital_height().unwrap_or(700)),
        ),
    );
    // The bare CFF table: readers map a CID-keyed CFF's CIDs to glyphs through its charset
    // (poppler took an OpenType wrapper's codes as glyph indices instead).
    pdf.stream(6, "/Subtype /CIDFontType0C /Filter /FlateDecode", deflated_font(font.cff));
    pdf.stream(7, "/Filter /FlateDecode", &deflate(to_unicode(&used).as_bytes()));
}

/// The CMap that maps each CID used back to its character.
fn to_unicode(used: &BTreeMap<u16, (char, u16)>) -> String {
    let mut map = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    let entries: Vec<(u16, char)> = used.iter().map(|(cid, (c, _))| (*cid, *c)).collect();
    for chunk in entries.chunks(100) {
        map.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (cid, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            map.push_str(&format!("<{cid:04X}> <{hex}>\n"));
        }
        map.push_str("endbfchar\n");
    }
    map.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");
    map
}
