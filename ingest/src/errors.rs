//! What can go wrong when reading a ledger file: file-level errors that stop the batch,
//! and row-level errors that reject one row.

use std::fmt;
use std::path::PathBuf;

/// A file that cannot be read as a ledger of the given table. Nothing of it is written.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("无法读取文件 {path}：{source} (io_error)")]
    Io { path: PathBuf, source: std::io::Error },

    #[error(
        "文件 {path} 有 {size} 字节，超过上限 {limit} 字节 (file_too_large)；请拆分文件，或用 --max-file-size 提高上限"
    )]
    FileTooLarge { path: PathBuf, size: u64, limit: u64 },

    #[error(
        "文件 {path} 不是文本表格（第 {offset} 字节处是二进制内容）(binary_file)；请上传 CSV、XLSX 或 JSON lines 文件"
    )]
    Binary { path: PathBuf, offset: usize },

    #[error(
        "文件 {path} 的编码无法识别（既不是 UTF-8 也不是 GB18030/GBK，第 {offset} 字节处无效）(unknown_encoding)；请在 Excel 中另存为“CSV UTF-8”"
    )]
    Encoding { path: PathBuf, offset: usize },

    #[error("文件 {path} 无法按 {format} 解析：{message} (malformed_file)")]
    Malformed { path: PathBuf, format: &'static str, message: String },

    #[error("文件 {path} 没有表头行 (missing_header)")]
    NoHeader { path: PathBuf },

    /// The header row (given, or the row that looked closest to a header) lacks required
    /// columns; `row` is its spreadsheet row number (`None` for JSON lines' keys).
    #[error("文件 {path} 缺少{table}表的必需列：{missing}{} (missing_column)；{hint}", row_note(*row))]
    MissingColumns { path: PathBuf, table: &'static str, missing: String, row: Option<usize>, hint: String },

    #[error(
        "文件 {path} 的第 {row} 行是空行，不能作为表头 (blank_header_row)；请检查 --header-row（表头行号）是否为表头所在的行"
    )]
    HeaderRowBlank { path: PathBuf, row: usize },

    #[error("表头行号 {row} 无效 (bad_header_row)；应为 1 到 {max} 之间的行号（表格左侧显示的行号）")]
    BadHeaderRow { row: usize, max: usize },

    #[error("文件 {path} 的表头中列“{column}”出现了两次（第 {first} 列和第 {second} 列）(duplicate_column)")]
    DuplicateColumn { path: PathBuf, column: String, first: usize, second: usize },

    #[error(
        "工作簿 {path} 解压后共 {}，超过上限 {} (xlsx_too_large)；这不像一份台账（可能是“压缩炸弹”），请只保留台账所在的工作表、删除图片后重新保存，或另存为 CSV 上传",
        human_size(*unpacked),
        human_size(*limit)
    )]
    UnpackedTooLarge { path: PathBuf, unpacked: u64, limit: u64 },

    #[error(
        "工作簿 {path} 中工作表“{sheet}”的单元格 {cell} 超出了台账允许的范围（最多 {max_columns} 列，即 A 到 {last_column} 列；最多 {max_rows} 行）(sheet_out_of_range)；请删除该单元格（在 Excel/WPS 中按 Ctrl+End 可跳到最后一个单元格）后重新保存"
    )]
    SheetOutOfRange {
        path: PathBuf,
        sheet: String,
        /// The reference of the first cell found outside the limits, such as `XFD1048576`.
        cell: String,
        max_columns: u32,
        last_column: String,
        max_rows: u32,
    },

    #[error(
        "工作簿 {path} 中工作表“{sheet}”的非空单元格超过 {limit} 个 (too_many_cells)；请把台账拆分成几个文件分别上传"
    )]
    TooManyCells { path: PathBuf, sheet: String, limit: usize },

    #[error(
        "工作簿 {path} 中工作表“{sheet}”的单元格文字展开后超过 {} (sheet_text_too_large)；同一段长文字被大量单元格重复引用，请检查表格内容，或拆分文件后上传",
        human_size(*limit)
    )]
    SheetTextTooLarge { path: PathBuf, sheet: String, limit: u64 },

    #[error("工作簿 {path} 中没有名为“{sheet}”的工作表；现有：{available} (unknown_sheet)")]
    UnknownSheet { path: PathBuf, sheet: String, available: String },

    #[error("{scope}无权写入{table}表 (forbidden_table)；社区名录只能由县区或平台账号上传")]
    TableNotAllowed { scope: String, table: &'static str },

    #[error("不支持的文件类型 {path}（只接受 .csv、.xlsx、.jsonl/.json）(unsupported_format)")]
    UnsupportedFormat { path: PathBuf },
}

impl IngestError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IngestError::Io { path: path.into(), source }
    }
}

/// "（第 3 行）" after the missing columns of a header row.
fn row_note(row: Option<usize>) -> String {
    row.map(|row| format!("（第 {row} 行）")).unwrap_or_default()
}

/// A size as people read it: `1.0 GB`, `64.0 MB`, `12.5 KB` or `300 字节`.
pub(crate) fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KB * KB * KB {
        format!("{:.1} GB", b / (KB * KB * KB))
    } else if b >= KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else if b >= KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{bytes} 字节")
    }
}

/// Why a row was rejected. The token is stable for scripts; the message is for clerks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowErrorKind {
    MissingRequired,
    BadCode,
    InconsistentCode,
    WrongCommunityCode,
    IdTooLong,
    FieldTooLong,
    UnknownEnum,
    BadBool,
    BadDate,
    NotAnInteger,
    NegativeInt,
    ScoreOutOfRange,
    DeadlineBeforeRaisedOn,
    ClosedOnNotAllowed,
    ClosedBeforeRaised,
    PublicizedBeforeRaised,
    DeadlineBeforeOpenedOn,
    ClosedBeforeOpened,
    UnknownReference,
    DateBeforeTopic,
    DuplicateKey,
}

impl RowErrorKind {
    pub fn token(self) -> &'static str {
        match self {
            RowErrorKind::MissingRequired => "missing_required",
            RowErrorKind::BadCode => "bad_code",
            RowErrorKind::InconsistentCode => "inconsistent_code",
            RowErrorKind::WrongCommunityCode => "wrong_community_code",
            RowErrorKind::IdTooLong => "id_too_long",
            RowErrorKind::FieldTooLong => "field_too_long",
            RowErrorKind::UnknownEnum => "unknown_enum",
            RowErrorKind::BadBool => "bad_bool",
            RowErrorKind::BadDate => "bad_date",
            RowErrorKind::NotAnInteger => "not_an_integer",
            RowErrorKind::NegativeInt => "negative_int",
            RowErrorKind::ScoreOutOfRange => "score_out_of_range",
            RowErrorKind::DeadlineBeforeRaisedOn => "deadline_before_raised_on",
            RowErrorKind::ClosedOnNotAllowed => "closed_on_not_allowed",
            RowErrorKind::ClosedBeforeRaised => "closed_before_raised",
            RowErrorKind::PublicizedBeforeRaised => "publicized_before_raised",
            RowErrorKind::DeadlineBeforeOpenedOn => "deadline_before_opened_on",
            RowErrorKind::ClosedBeforeOpened => "closed_before_opened",
            RowErrorKind::UnknownReference => "unknown_reference",
            RowErrorKind::DateBeforeTopic => "date_before_topic",
            RowErrorKind::DuplicateKey => "duplicate_key",
        }
    }
}

/// One rejected value of one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// Row number as a spreadsheet shows it: the header is row 1, the first data row 2.
    /// For JSON lines, the line number in the file.
    pub row: usize,
    /// The contract's column name.
    pub column: &'static str,
    /// The header as written in the file (the Chinese alias, say).
    pub header: String,
    pub value: String,
    pub kind: RowErrorKind,
    /// Chinese explanation a clerk can act on.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = if self.header.is_empty() { self.column } else { self.header.as_str() };
        write!(
            f,
            "第{}行 列“{}”({}) 值“{}”：{} ({})",
            self.row,
            header,
            self.column,
            shorten(&self.value),
            self.message,
            self.kind.token()
        )
    }
}

/// Long values (a pasted essay in an id cell) are cut in messages.
pub(crate) fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}…（共{}字）", value.chars().count())
    }
}
