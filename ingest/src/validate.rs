//! Every rule of the contract, applied row by row, with the valid rows appended to Arrow
//! builders and the invalid ones kept with their errors.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Date32Builder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;

use crate::errors::{RowError, RowErrorKind as K};
use crate::headers;
use crate::pseudonyms::PseudonymKey;
use crate::references::{CommunityKeys, References};
use crate::schema::{Column, ColumnType, Table};
use crate::scope::Scope;
use crate::suggestions;
use crate::values::{self, IntValue, trim};

/// Fields longer than this (in characters) are refused: nothing in a ledger is an essay,
/// and it keeps a pasted file-in-a-cell from reaching the warehouse.
pub const MAX_FIELD_CHARS: usize = 4_000;
const MAX_ID_CHARS: usize = 64;

/// A row that failed, with its cells as read (for the rejects file) and every error.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub row: usize,
    pub cells: Vec<String>,
    pub errors: Vec<RowError>,
}

/// A note row (合计, 备注, 制表人, …) left out of the batch: its row number and its first
/// non-empty cell, so the clerk sees what was skipped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedRow {
    pub row: usize,
    pub text: String,
}

/// A parsed, typed cell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Typed {
    Null,
    /// The cell's own text (trimmed).
    Text,
    Token(&'static str),
    Int(i64),
    Date(i32),
    Bool(bool),
}

/// Validates rows of one table and builds the Arrow batches of the valid ones.
pub(crate) struct Validator<'a> {
    table: Table,
    scope: &'a Scope,
    references: &'a References,
    respondent_key: PseudonymKey,
    /// Excel serial numbers are accepted as dates (XLSX files only).
    excel_serials: bool,
    headers: &'a [String],
    /// For each contract column, the index of its cell in a row.
    mapping: &'a [Option<usize>],
    /// Positions among the table's columns of `community_code`, the key column and the
    /// period column.
    community: Option<usize>,
    key: Option<usize>,
    period: Option<usize>,
    /// The accepted rows, one bucket per partition (county, year) of the Delta table.
    buckets: Vec<Bucket>,
    bucket_of: HashMap<(u32, i32), u32, foldhash::fast::FixedState>,
    /// The community of the last row with a valid code, its county and keys, and the
    /// last partition: rows come community by community, so most rows look up nothing.
    last_community: Option<LastCommunity<'a>>,
    last_bucket: Option<((u32, i32), u32)>,
    /// Key fingerprint, row number and bucket of every accepted row, in order (duplicates
    /// are found across all chunks of a file afterwards).
    keys: Vec<AcceptedKey>,
    typed: Vec<Typed>,
    /// Position among the table's columns of each column the cross-cell rules read.
    ruled: [Option<usize>; Ruled::ALL.len()],
    /// The allocation of a row's trimmed cells, kept between rows.
    spare: Vec<&'static str>,
    rejected: Vec<RejectedRow>,
    skipped: Vec<SkippedRow>,
    /// How large new partitions' builders start.
    capacity: Capacity,
}

/// The community of the previous row and what was looked up for it.
struct LastCommunity<'r> {
    code: String,
    county: u32,
    keys: CommunityKeys<'r>,
}

/// An accepted row's key fingerprint, its row number, the bucket (partition) it went to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AcceptedKey {
    pub(crate) fingerprint: Fingerprint,
    pub(crate) row: usize,
    pub(crate) bucket: u32,
    /// The county (first six digits of the community code): a key can only repeat
    /// within its county.
    pub(crate) county: u32,
}

/// What validating a run of rows produced: the accepted rows as one batch per partition
/// (in order of first appearance), their keys in row order, the rejects.
pub(crate) struct Validated {
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) keys: Vec<AcceptedKey>,
    pub(crate) rejected: Vec<RejectedRow>,
    pub(crate) skipped: Vec<SkippedRow>,
}

/// Partitions of a chunk whose builders start at the [`Capacity`] of the chunk before.
const PRESIZED_BUCKETS: usize = 4;

/// How large a partition's builders start: as large as the largest partition of the
/// chunk a worker validated before. Grown from nothing, every builder doubled its buffer
/// about a dozen times per chunk, copying all it held each time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capacity {
    rows: usize,
    /// Bytes of text per column of the table (0 for other columns).
    text_bytes: Vec<usize>,
}

impl Validated {
    /// The capacity that would have held the largest of these batches.
    pub(crate) fn capacity(&self) -> Capacity {
        use arrow_array::Array;
        let mut capacity = Capacity::default();
        for batch in &self.batches {
            capacity.rows = capacity.rows.max(batch.num_rows());
            capacity.text_bytes.resize(batch.num_columns(), 0);
            for (bytes, column) in capacity.text_bytes.iter_mut().zip(batch.columns()) {
                if let Some(strings) = column.as_any().downcast_ref::<arrow_array::StringArray>() {
                    *bytes = (*bytes).max(strings.value_data().len());
                }
            }
        }
        capacity
    }
}

/// The builders of one partition's accepted rows.
struct Bucket {
    builders: Vec<Builder>,
    county: StringBuilder,
    year: Int32Builder,
}

impl Bucket {
    fn new(table: Table, capacity: &Capacity) -> Bucket {
        let rows = capacity.rows;
        let bytes = |i: usize| capacity.text_bytes.get(i).copied().unwrap_or(0);
        Bucket {
            builders: table.columns().iter().enumerate().map(|(i, c)| Builder::for_column(c, rows, bytes(i))).collect(),
            county: StringBuilder::with_capacity(rows, 6 * rows),
            year: Int32Builder::with_capacity(rows),
        }
    }

    /// The partition's batch, its respondents' names replaced by their pseudonyms.
    fn finish(&mut self, table: Table, key: &PseudonymKey) -> Result<RecordBatch, ArrowError> {
        let mut arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        for (array, column) in arrays.iter_mut().zip(table.columns()) {
            if column.ty == ColumnType::Respondent {
                // Never a clear name past this point: a column of another type is an error.
                let names = array.as_any().downcast_ref::<arrow_array::StringArray>();
                let names = names.ok_or_else(|| ArrowError::SchemaError("respondents are text".into()))?;
                *array = key.pseudonymise(names)?;
            }
        }
        for derived in table.derived_columns() {
            match *derived {
                "county_code" => arrays.push(Arc::new(self.county.finish())),
                _ => arrays.push(Arc::new(self.year.finish())),
            }
        }
        RecordBatch::try_new(table.arrow_schema(), arrays)
    }
}

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn for_column(column: &Column, rows: usize, text_bytes: usize) -> Builder {
        match column.ty {
            ColumnType::Int | ColumnType::Score => Builder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Date => Builder::Date(Date32Builder::with_capacity(rows)),
            ColumnType::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            // The builder holds names until the batch is built; the batch holds 32-digit
            // pseudonyms (a Chinese name is 6–12 bytes).
            ColumnType::Respondent => Builder::Text(StringBuilder::with_capacity(rows, 12 * rows)),
            _ => Builder::Text(StringBuilder::with_capacity(rows, text_bytes)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

impl<'a> Validator<'a> {
    pub(crate) fn new(
        table: Table,
        headers: &'a [String],
        mapping: &'a [Option<usize>],
        scope: &'a Scope,
        references: &'a References,
        respondent_secret: &[u8],
        excel_serials: bool,
    ) -> Self {
        let respondent_key = PseudonymKey::new(respondent_secret);
        Validator {
            table,
            scope,
            references,
            respondent_key,
            excel_serials,
            headers,
            mapping,
            community: index_of(table, "community_code"),
            key: index_of(table, table.key_column()),
            period: table.period_column().and_then(|p| index_of(table, p)),
            buckets: Vec::new(),
            bucket_of: HashMap::default(),
            last_community: None,
            last_bucket: None,
            keys: Vec::new(),
            typed: Vec::with_capacity(table.columns().len()),
            ruled: Ruled::ALL.map(|r| index_of(table, r.name())),
            spare: Vec::with_capacity(table.columns().len()),
            rejected: Vec::new(),
            skipped: Vec::new(),
            capacity: Capacity::default(),
        }
    }

    /// Starts new partitions' builders at `capacity` (see [`Capacity`]).
    pub(crate) fn reserve(&mut self, capacity: Capacity) {
        self.capacity = capacity;
    }

    /// Checks one row; appends it to the batch when valid, keeps it with its errors when not.
    pub(crate) fn push(&mut self, row: usize, cells: &[&str]) {
        // Each cell trimmed once, in the table's column order: every rule reads them.
        let mut texts: Vec<&str> = std::mem::take(&mut self.spare).into_iter().map(|_| "").collect();
        texts.extend(self.mapping.iter().map(|&at| trimmed(at, cells)));
        // A row with nothing in the table's columns (a pre-numbered 序号 with no data, a
        // remark in a column of its own) is as blank as an empty row.
        if texts.iter().any(|t| !t.is_empty()) {
            self.check_and_append(row, cells, &texts);
        }
        texts.clear();
        self.spare = texts.into_iter().map(|_| "").collect();
    }

    fn check_and_append(&mut self, row: usize, cells: &[&str], texts: &[&str]) {
        let mut errors = Vec::new();
        self.typed.clear();
        for (column, text) in self.table.columns().iter().zip(texts) {
            let typed = self.check_cell(row, column, text, &mut errors);
            self.typed.push(typed);
        }
        let text_at = |index: Option<usize>| index.and_then(|i| texts.get(i).copied()).unwrap_or("");
        let community = text_at(self.community);
        let community_ok = !errors.iter().any(|e| e.column == "community_code");
        let mut county = 0;
        if community_ok {
            let keys;
            (county, keys) = self.community(community);
            self.check_rows_rules(row, texts, community, keys, &mut errors);
        }
        if !errors.is_empty() {
            // Only a row that failed can be a note: a valid row is never skipped.
            if headers::is_note_row(self.table, cells) {
                let text = cells.iter().map(|c| c.trim()).find(|c| !c.is_empty()).unwrap_or_default();
                tracing::debug!(row, text, "note row skipped");
                self.skipped.push(SkippedRow { row, text: crate::errors::shorten(text) });
                return;
            }
            self.rejected.push(RejectedRow { row, cells: cells.iter().map(|c| c.to_string()).collect(), errors });
            return;
        }
        let fingerprint = fingerprint(community, text_at(self.key));
        let year = self.year();
        let bucket = self.bucket(county, year);
        self.keys.push(AcceptedKey { fingerprint, row, bucket, county });
        self.append(bucket as usize, year, community, texts);
    }

    /// The year of the row's period date (0 for tables without one).
    fn year(&self) -> i32 {
        match self.period.map(|p| self.typed[p]) {
            Some(Typed::Date(d)) => values::from_date32(d).map(values::year_of).unwrap_or(0),
            _ => 0,
        }
    }

    /// The bucket of the row's partition: its county (the community code's first six
    /// digits, checked already) and `year`.
    fn bucket(&mut self, county: u32, year: i32) -> u32 {
        if let Some((last, bucket)) = self.last_bucket
            && last == (county, year)
        {
            return bucket;
        }
        let next = self.buckets.len() as u32;
        let bucket = *self.bucket_of.entry((county, year)).or_insert(next);
        if bucket == next {
            // A ledger passes county by county: a range holds one to a few partitions. In
            // a file whose rows mix many, only the first few start large, so that the
            // reserved memory stays a few times one partition's.
            let capacity =
                if self.buckets.len() < PRESIZED_BUCKETS { self.capacity.clone() } else { Capacity::default() };
            self.buckets.push(Bucket::new(self.table, &capacity));
        }
        self.last_bucket = Some(((county, year), bucket));
        bucket
    }

    /// The county (the code's first six digits) and referenced keys of a community whose
    /// code is valid.
    fn community(&mut self, code: &str) -> (u32, CommunityKeys<'a>) {
        if let Some(last) = &self.last_community
            && last.code == code
        {
            return (last.county, last.keys);
        }
        let county = code.get(..6).and_then(|c| c.parse::<u32>().ok()).unwrap_or_default();
        let keys = self.references.of(code);
        keys.warm();
        self.last_community = Some(LastCommunity { code: code.to_string(), county, keys });
        (county, keys)
    }

    /// The accepted rows as one Arrow batch per partition, their key fingerprints, and
    /// the rejects.
    pub(crate) fn finish(mut self) -> Result<Validated, ArrowError> {
        let table = self.table;
        let key = &self.respondent_key;
        let batches = self.buckets.iter_mut().map(|b| b.finish(table, key)).collect::<Result<_, _>>()?;
        Ok(Validated { batches, keys: self.keys, rejected: self.rejected, skipped: self.skipped })
    }

    /// The error of a row whose key an earlier row of the file already had.
    pub(crate) fn duplicate_error(&self, row: usize, first: usize, cells: &[&str]) -> RowError {
        let column = self.column(self.table.key_column());
        let value = self.text_of(column.name, cells).to_string();
        let message = format!("编号在本文件中重复（第{first}行已出现），每个编号只能有一行");
        self.error(row, column, &value, K::DuplicateKey, message)
    }

    fn column(&self, name: &str) -> &'static Column {
        self.table.column(name).unwrap_or_else(|| unreachable!("{name} is a column of {}", self.table))
    }

    fn cell<'c>(&self, column: &Column, cells: &'c [&str]) -> &'c str {
        let index = self.table.columns().iter().position(|c| c.name == column.name);
        index.and_then(|i| self.mapping[i]).and_then(|i| cells.get(i)).map(|s| trim(s)).unwrap_or("")
    }

    fn text_of<'c>(&self, name: &str, cells: &'c [&str]) -> &'c str {
        self.cell(self.column(name), cells)
    }

    fn typed_at(&self, ruled: Ruled) -> Typed {
        self.ruled[ruled as usize].and_then(|i| self.typed.get(i).copied()).unwrap_or(Typed::Null)
    }

    /// The trimmed text of a ruled column in a row's `texts`.
    fn text_at<'t>(&self, ruled: Ruled, texts: &[&'t str]) -> &'t str {
        self.ruled[ruled as usize].and_then(|i| texts.get(i).copied()).unwrap_or("")
    }

    /// A ruled column, if the table has it.
    fn column_at(&self, ruled: Ruled) -> Option<&'static Column> {
        self.ruled[ruled as usize].map(|i| &self.table.columns()[i])
    }

    /// An error about a ruled column's value.
    fn error_at(&self, row: usize, ruled: Ruled, texts: &[&str], kind: K, message: String) -> Option<RowError> {
        let column = self.column_at(ruled)?;
        Some(self.error(row, column, self.text_at(ruled, texts), kind, message))
    }

    fn error(&self, row: usize, column: &'static Column, value: &str, kind: K, message: String) -> RowError {
        let header = self
            .table
            .columns()
            .iter()
            .position(|c| c.name == column.name)
            .and_then(|i| self.mapping[i])
            .and_then(|i| self.headers.get(i))
            .map(|h| h.trim().trim_matches('\u{feff}').to_string())
            .unwrap_or_default();
        RowError { row, column: column.name, header, value: value.to_string(), kind, message }
    }

    /// The rules of one cell on its own: required, type, range, scope.
    fn check_cell(&self, row: usize, column: &'static Column, text: &str, errors: &mut Vec<RowError>) -> Typed {
        let mut fail = |kind: K, message: String| {
            errors.push(self.error(row, column, text, kind, message));
            Typed::Null
        };
        if text.is_empty() {
            return if column.required {
                fail(K::MissingRequired, format!("必填项“{}”为空", column.chinese()))
            } else {
                Typed::Null
            };
        }
        if text.len() > MAX_FIELD_CHARS && text.chars().count() > MAX_FIELD_CHARS {
            return fail(K::FieldTooLong, format!("内容超过 {MAX_FIELD_CHARS} 字"));
        }
        match column.ty {
            ColumnType::Code(digits) => {
                if !values::is_code(text, digits) {
                    return fail(K::BadCode, format!("{}必须是 {digits} 位数字", column.chinese()));
                }
                if column.name == "community_code" && !self.scope.admits(text) {
                    return fail(K::WrongCommunityCode, format!("社区代码不在上传者的范围内（{}）", self.scope));
                }
                Typed::Text
            }
            ColumnType::Id if text.len() > MAX_ID_CHARS && text.chars().count() > MAX_ID_CHARS => {
                fail(K::IdTooLong, format!("编号超过 {MAX_ID_CHARS} 个字符"))
            }
            ColumnType::Id | ColumnType::Text | ColumnType::List | ColumnType::Respondent => Typed::Text,
            ColumnType::Int => match values::parse_int(text) {
                IntValue::Ok(v) => Typed::Int(v),
                IntValue::Negative => fail(K::NegativeInt, "必须是不小于 0 的整数".into()),
                IntValue::NotAnInteger => fail(K::NotAnInteger, "不是整数".into()),
            },
            ColumnType::Score => match values::parse_int(text) {
                IntValue::Ok(v) if (1..=5).contains(&v) => Typed::Int(v),
                _ => fail(K::ScoreOutOfRange, "评分必须是 1 到 5 的整数".into()),
            },
            ColumnType::Date => match self.parse_date(text) {
                Some(days) => Typed::Date(days),
                None => fail(
                    K::BadDate,
                    "不是有效的日历日期（可用 2025-03-15、2025/3/15、2025.3.15、2025年3月15日）".into(),
                ),
            },
            ColumnType::Bool => match values::parse_bool(text) {
                Some(b) => Typed::Bool(b),
                None => {
                    let guess = suggestions::suggest_bool(text).map(|v| format!("；是否为：{v}？")).unwrap_or_default();
                    fail(K::BadBool, format!("不是是/否值（可用 是/否、true/false、1/0）{guess}"))
                }
            },
            ColumnType::Enum(e) => match e.token(text) {
                Some(token) => Typed::Token(token),
                None => {
                    let guess = suggestions::suggest(e, text).map(|v| format!("；是否为：{v}？")).unwrap_or_default();
                    fail(K::UnknownEnum, format!("不是可选值之一：{}{guess}", e.describe()))
                }
            },
        }
    }

    fn parse_date(&self, text: &str) -> Option<i32> {
        let date = values::parse_date(text).or_else(|| {
            let serial = text.parse::<f64>().ok().filter(|_| self.excel_serials)?;
            values::excel_serial_date(serial)
        })?;
        Some(values::date32(date))
    }

    /// Rules across cells of the row and against other tables.
    fn check_rows_rules(
        &self,
        row: usize,
        texts: &[&str],
        community: &str,
        keys: CommunityKeys<'_>,
        errors: &mut Vec<RowError>,
    ) {
        use Ruled as R;
        let date = |ruled: Ruled| match self.typed_at(ruled) {
            Typed::Date(d) => Some(d),
            _ => None,
        };
        let mut order = |later: Ruled, earlier: Ruled, kind: K, message: &str| {
            if let (Some(l), Some(e)) = (date(later), date(earlier))
                && l < e
            {
                errors.extend(self.error_at(row, later, texts, kind, message.to_string()));
            }
        };
        match self.table {
            Table::Topics => {
                order(R::Deadline, R::RaisedOn, K::DeadlineBeforeRaisedOn, "办理时限早于提出日期");
                order(R::ClosedOn, R::RaisedOn, K::ClosedBeforeRaised, "办结日期早于提出日期");
                order(R::PublicizedOn, R::RaisedOn, K::PublicizedBeforeRaised, "公示日期早于提出日期");
            }
            Table::Rectifications => {
                order(R::Deadline, R::OpenedOn, K::DeadlineBeforeOpenedOn, "整改时限早于整改开始日期");
                order(R::ClosedOn, R::OpenedOn, K::ClosedBeforeOpened, "整改完成日期早于整改开始日期");
            }
            _ => {}
        }
        match self.table {
            Table::Communities => self.check_county_code(row, texts, community, errors),
            Table::Topics => {
                self.check_closed_on(row, texts, errors);
                self.check_reference(row, texts, keys, R::SessionId, errors);
                self.check_reference(row, texts, keys, R::LeadCadreId, errors);
            }
            Table::Evaluations => {
                if let Some(raised) = self.check_reference(row, texts, keys, R::TopicId, errors)
                    && date(R::EvaluatedOn).is_some_and(|d| d < raised)
                {
                    let shown = values::from_date32(raised).map(|d| d.to_string()).unwrap_or_default();
                    let message = format!("评价日期早于该议题的提出日期（{shown}）");
                    errors.extend(self.error_at(row, R::EvaluatedOn, texts, K::DateBeforeTopic, message));
                }
            }
            Table::Rectifications => {
                self.check_reference(row, texts, keys, R::TopicId, errors);
            }
            _ => {}
        }
    }

    fn check_county_code(&self, row: usize, texts: &[&str], community: &str, errors: &mut Vec<RowError>) {
        let county = self.text_at(Ruled::CountyCode, texts);
        if values::is_code(county, 6) && !community.starts_with(county) {
            let message = format!("县区代码应为社区代码的前 6 位（{}）", &community[..6]);
            errors.extend(self.error_at(row, Ruled::CountyCode, texts, K::InconsistentCode, message));
        }
    }

    /// closed_on is required iff the status is resolved or explained.
    fn check_closed_on(&self, row: usize, texts: &[&str], errors: &mut Vec<RowError>) {
        let Typed::Token(status) = self.typed_at(Ruled::Status) else {
            return;
        };
        let closed = matches!(status, "resolved" | "explained");
        let has_date = !self.text_at(Ruled::ClosedOn, texts).is_empty();
        let (kind, message) = match (closed, has_date) {
            (true, false) => (K::MissingRequired, "办理状态为已办结或已解释时，办结日期必填"),
            (false, true) => (K::ClosedOnNotAllowed, "办理状态不是已办结或已解释，不应填写办结日期"),
            _ => return,
        };
        errors.extend(self.error_at(row, Ruled::ClosedOn, texts, kind, message.to_string()));
    }

    /// Checks that an id names a row of the referenced table in the same community;
    /// returns the referenced topic's raised_on for topic references.
    fn check_reference(
        &self,
        row: usize,
        texts: &[&str],
        keys: CommunityKeys<'_>,
        ruled: Ruled,
        errors: &mut Vec<RowError>,
    ) -> Option<i32> {
        let id = self.text_at(ruled, texts);
        if id.is_empty() || errors.iter().any(|e| e.column == ruled.name()) {
            return None;
        }
        let (found, raised, what) = match ruled {
            Ruled::SessionId => (keys.has_session(id), None, "会议"),
            Ruled::LeadCadreId => (keys.has_cadre(id), None, "干部"),
            _ => {
                let raised = keys.topic_raised_on(id);
                (raised.is_some(), raised, "议题")
            }
        };
        if !found {
            let message = format!("本社区没有编号为“{id}”的{what}（请先导入{what}）");
            errors.extend(self.error_at(row, ruled, texts, K::UnknownReference, message));
        }
        raised
    }

    fn append(&mut self, bucket: usize, year: i32, community: &str, texts: &[&str]) {
        let columns = self.table.columns();
        let bucket = &mut self.buckets[bucket];
        for (i, (column, &text)) in columns.iter().zip(texts).enumerate() {
            match (&mut bucket.builders[i], self.typed[i]) {
                (Builder::Text(b), Typed::Null) => b.append_null(),
                (Builder::Text(b), Typed::Token(t)) => b.append_value(t),
                (Builder::Text(b), _) => match column.ty {
                    ColumnType::List => b.append_value(values::normalise_list(text)),
                    _ => b.append_value(text),
                },
                (Builder::Int(b), Typed::Int(v)) => b.append_value(v),
                (Builder::Date(b), Typed::Date(v)) => b.append_value(v),
                (Builder::Bool(b), Typed::Bool(v)) => b.append_value(v),
                (Builder::Int(b), _) => b.append_null(),
                (Builder::Date(b), _) => b.append_null(),
                (Builder::Bool(b), _) => b.append_null(),
            }
        }
        if self.table != Table::Communities {
            bucket.county.append_value(community.get(..6).unwrap_or_default());
        }
        if self.period.is_some() {
            bucket.year.append_value(year);
        }
    }
}

/// The columns the rules across cells read. Their positions are found once per
/// validator: looking columns up by name for every row showed in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ruled {
    CountyCode,
    Status,
    RaisedOn,
    Deadline,
    ClosedOn,
    PublicizedOn,
    OpenedOn,
    SessionId,
    LeadCadreId,
    TopicId,
    EvaluatedOn,
}

impl Ruled {
    const ALL: [Ruled; 11] = [
        Ruled::CountyCode,
        Ruled::Status,
        Ruled::RaisedOn,
        Ruled::Deadline,
        Ruled::ClosedOn,
        Ruled::PublicizedOn,
        Ruled::OpenedOn,
        Ruled::SessionId,
        Ruled::LeadCadreId,
        Ruled::TopicId,
        Ruled::EvaluatedOn,
    ];

    fn name(self) -> &'static str {
        match self {
            Ruled::CountyCode => "county_code",
            Ruled::Status => "status",
            Ruled::RaisedOn => "raised_on",
            Ruled::Deadline => "deadline",
            Ruled::ClosedOn => "closed_on",
            Ruled::PublicizedOn => "publicized_on",
            Ruled::OpenedOn => "opened_on",
            Ruled::SessionId => "session_id",
            Ruled::LeadCadreId => "lead_cadre_id",
            Ruled::TopicId => "topic_id",
            Ruled::EvaluatedOn => "evaluated_on",
        }
    }
}

/// Position of column `name` among the table's columns.
fn index_of(table: Table, name: &str) -> Option<usize> {
    table.columns().iter().position(|c| c.name == name)
}

/// The trimmed cell at `index` of a row ("" when the file has no such column).
fn trimmed<'c>(index: Option<usize>, cells: &'c [&str]) -> &'c str {
    index.and_then(|i| cells.get(i)).map(|s| trim(s)).unwrap_or("")
}

/// A 128-bit fingerprint of a row's key, for duplicate detection without keeping every
/// key's text: two independent 64-bit hashes (the duplicate maps keep 96 bits of it, see
/// `pipeline::FirstSeen`). Two `u64`s rather than a `u128`, whose 16-byte alignment would
/// pad the per-row records that carry it.
pub(crate) type Fingerprint = [u64; 2];

fn fingerprint(community: &str, id: &str) -> Fingerprint {
    use std::hash::BuildHasher;
    let half = |seed: u64| foldhash::fast::FixedState::with_seed(seed).hash_one((community, id));
    [half(0x9E37_79B9_7F4A_7C15), half(0xD1B5_4A32_D192_ED03)]
}
