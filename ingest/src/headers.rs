//! Finding the header row of a ledger as offices keep it, and the note rows around its
//! data.
//!
//! The commonest real sheet opens with a title (「XX社区说事议事台账（2025年）」, merged
//! across every column), a 填报单位/日期 line and a blank row before the header, and ends
//! with 合计, 备注 or 制表人 lines. The header is the first of the file's first rows that
//! names every required column of the table (by name or alias): a title or a
//! 填报单位：XX社区 line may hold an alias word, but never all of a table's required
//! columns, and every table has at least four. `--header-row N` (an upload's
//! `header_row`) names the row instead.
//!
//! A note row (合计, 备注, 制表人, …) is skipped only when it cannot be data: its first
//! non-empty cell starts with a note word and it has fewer non-empty cells than the table
//! has required columns, so a row that could be valid is never dropped. Any other row is
//! validated as before.

use std::path::Path;

use crate::errors::IngestError;
use crate::schema::Table;

/// Non-blank rows searched for the header when none is given.
pub const SEARCH_ROWS: usize = 30;

/// The highest header row that may be given: a header further down is no ledger's.
pub const MAX_HEADER_ROW: usize = 1_000;

/// Words a note row starts with: totals, remarks, signatures, instructions.
#[rustfmt::skip]
const NOTE_WORDS: &[&str] = &[
    "合计", "总计", "小计", "累计", "备注", "注：", "注:", "说明", "填表说明", "填报说明", "制表", "审核", "审批",
    "填表人", "填报人", "负责人", "联系人", "联系电话", "统计人", "签字", "签名", "盖章", "以下空白",
];

/// A row above the data that may be the header: its row number as a spreadsheet shows it
/// and its cells, one per column.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) row: usize,
    pub(crate) cells: Vec<String>,
}

/// Where the header is: found among the first rows, or given by its row number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderSearch {
    pub(crate) given: Option<usize>,
}

impl HeaderSearch {
    /// Whether a reader should still collect the non-blank row `row`, having collected
    /// `collected` rows already.
    pub(crate) fn wants(&self, row: usize, collected: usize) -> bool {
        match self.given {
            Some(given) => row <= given,
            None => collected < SEARCH_ROWS,
        }
    }
}

/// Picks the header among `candidates` (the file's first non-blank rows, in order) for
/// `table`: the given row, or the first that names every required column. Returns its
/// index in `candidates`.
pub(crate) fn choose(
    table: Table,
    path: &Path,
    search: HeaderSearch,
    candidates: &[Candidate],
) -> Result<usize, IngestError> {
    if let Some(given) = search.given {
        return candidates
            .iter()
            .position(|c| c.row == given)
            .ok_or_else(|| IngestError::HeaderRowBlank { path: path.to_path_buf(), row: given });
    }
    let mut closest: Option<(usize, usize)> = None;
    for (index, candidate) in candidates.iter().enumerate() {
        let found = required_found(table, &candidate.cells);
        if found == required_count(table) {
            return Ok(index);
        }
        if closest.is_none_or(|(_, best)| found > best) {
            closest = Some((index, found));
        }
    }
    let Some((index, _)) = closest else { return Err(IngestError::NoHeader { path: path.to_path_buf() }) };
    let candidate = &candidates[index];
    Err(IngestError::MissingColumns {
        path: path.to_path_buf(),
        table: table.chinese(),
        missing: missing_required(table, &candidate.cells).join("、"),
        row: Some(candidate.row),
        hint: format!(
            "前 {} 个非空行中没有一行包含全部必需列，最接近表头的是第 {} 行；请检查这一行的列名，或用 --header-row（上传时填“表头行号”）指明表头所在行",
            SEARCH_ROWS.min(candidates.len()),
            candidate.row
        ),
    })
}

/// The required columns of `table` that `headers` lack, as `社区代码(community_code)`.
pub(crate) fn missing_required(table: Table, headers: &[String]) -> Vec<String> {
    table
        .columns()
        .iter()
        .filter(|c| c.required && !headers.iter().any(|h| c.matches_header(h)))
        .map(|c| format!("{}({})", c.chinese(), c.name))
        .collect()
}

fn required_count(table: Table) -> usize {
    table.columns().iter().filter(|c| c.required).count()
}

fn required_found(table: Table, cells: &[String]) -> usize {
    table.columns().iter().filter(|c| c.required && cells.iter().any(|h| c.matches_header(h))).count()
}

/// Whether a row that failed validation is a note (合计, 备注, 制表人, …) to skip: its
/// first non-empty cell starts with a note word, and it has fewer non-empty cells than
/// `table` has required columns (so it could never be a valid row).
pub(crate) fn is_note_row(table: Table, cells: &[&str]) -> bool {
    let mut filled = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty());
    let Some(first) = filled.next() else { return false };
    NOTE_WORDS.iter().any(|w| first.starts_with(w)) && 1 + filled.count() < required_count(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(rows: &[(usize, &[&str])]) -> Vec<Candidate> {
        rows.iter()
            .map(|(row, cells)| Candidate { row: *row, cells: cells.iter().map(|c| c.to_string()).collect() })
            .collect()
    }

    const CADRES: &[&str] = &["社区代码", "干部编号", "姓名", "职务", "是否党员"];

    #[test]
    fn the_first_row_naming_every_required_column_is_the_header() {
        let detect = HeaderSearch { given: None };
        let candidates = rows(&[
            (1, &["XX社区干部名册（2025年）", "", "", "", ""]),
            // An alias word (社区 is an alias of community_name, 姓名 of cadre_name) in a
            // 填报单位 line does not make it the header.
            (2, &["填报单位：", "霞寨社区", "姓名", "", "日期：2025年3月"]),
            (4, CADRES),
            (5, &["141021100001", "G01", "王芳", "书记", "是"]),
        ]);
        assert_eq!(choose(Table::Cadres, Path::new("t.xlsx"), detect, &candidates).expect("found"), 2);
        // Row 2 named as the header is taken as it is (its columns are checked later).
        let given = HeaderSearch { given: Some(2) };
        assert_eq!(choose(Table::Cadres, Path::new("t.xlsx"), given, &candidates).expect("given"), 1);
        let blank = choose(Table::Cadres, Path::new("t.xlsx"), HeaderSearch { given: Some(3) }, &candidates);
        assert!(blank.expect_err("row 3 is blank").to_string().contains("第 3 行是空行"));
    }

    #[test]
    fn without_a_header_the_closest_row_and_its_missing_columns_are_named() {
        let candidates = rows(&[
            (1, &["干部名册", "", "", ""]),
            (3, &["社区代码", "编号", "姓名", "岗位"]),
            (4, &["社区代码", "编号", "名字", "岗位"]),
        ]);
        let error = choose(Table::Cadres, Path::new("名册.csv"), HeaderSearch { given: None }, &candidates)
            .expect_err("no header");
        let message = error.to_string();
        assert!(message.contains("缺少社区干部表的必需列：干部编号(cadre_id)、职务(role)"), "{message}");
        assert!(message.contains("最接近表头的是第 3 行"), "{message}");
    }

    #[test]
    fn note_rows_are_skipped_only_when_they_cannot_be_data() {
        assert!(is_note_row(Table::Cadres, &["合计", "", "共 12 人", "", ""]));
        assert!(is_note_row(Table::Cadres, &["", "制表人：李明", "审核人：张华", "", ""]));
        assert!(is_note_row(Table::Cadres, &["备注：职务按2025年换届后填写", "", "", "", ""]));
        // Four non-empty cells: as many as cadres' required columns, so maybe data.
        assert!(!is_note_row(Table::Cadres, &["合计", "G01", "王芳", "书记", ""]));
        assert!(!is_note_row(Table::Cadres, &["141021100001", "", "", "", ""]));
        assert!(!is_note_row(Table::Cadres, &["", "", "", "", ""]));
    }
}
