//! Bounds on ad-hoc SQL, as PostgreSQL bounds a statement (`statement_timeout`,
//! `work_mem`): a deadline, a row and byte cap on the answer, the answer counted against
//! the query memory pool, and `range` / `generate_series` that refuse to generate more
//! than [`MAX_SERIES_ROWS`] rows.
//!
//! A deadline only helps if the query gives the task back to tokio now and then.
//! DataFusion's own `EnsureCooperative` wraps leaves and exchanges only, so an operator that
//! multiplies its input (a cross join of two `range`s: 25 input batches, five million
//! output batches) runs for minutes without yielding and no timer can fire. Here every
//! operator of an ad-hoc query is wrapped in DataFusion's `CooperativeExec`, which spends
//! tokio's task budget for each batch it passes on: the task yields every 128 batches,
//! the deadline is seen, and dropping the stream stops the work.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::udf_eq::UdfEq;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::prelude::SessionContext;

/// Most rows one `range(…)` or `generate_series(…)` may generate (ten million: a year of
/// seconds is 31.5 million, and no report needs more than days).
pub const MAX_SERIES_ROWS: u128 = 10_000_000;

/// How much an ad-hoc query may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// Cancelled, with [`crate::WarehouseError::Timeout`], when still running after this.
    pub timeout: Option<Duration>,
    /// Rows kept of the answer; the rest are not computed.
    pub max_rows: usize,
    /// Bytes kept of the answer (Arrow's in-memory size, about the size of a CSV of it).
    pub max_bytes: usize,
}

impl SqlLimits {
    /// No cap (the CLI on the analyst's own machine).
    pub const UNBOUNDED: SqlLimits = SqlLimits { timeout: None, max_rows: usize::MAX, max_bytes: usize::MAX };
}

/// Why an answer holds fewer rows than the query gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    /// The row cap was reached.
    Rows,
    /// The byte cap was reached.
    Bytes,
    /// The shared query memory pool had no room for more.
    Memory,
}

impl Truncation {
    /// What a person is told, in Chinese.
    pub fn chinese(self, limits: &SqlLimits) -> String {
        match self {
            Truncation::Rows => {
                format!("结果超过 {} 行，只返回了前 {} 行；请加条件或 LIMIT 缩小结果", limits.max_rows, limits.max_rows)
            }
            Truncation::Bytes => {
                format!("结果超过 {} MiB，只返回了前面部分；请少选列、加条件或 LIMIT 缩小结果", limits.max_bytes >> 20)
            }
            Truncation::Memory => "查询内存已满，只返回了前面部分；请缩小结果后重试".to_string(),
        }
    }
}

/// The rows an answer keeps, within its limits, holding their memory in the query pool
/// until the answer is dropped.
#[derive(Debug)]
pub(crate) struct Collector {
    limits: SqlLimits,
    reservation: MemoryReservation,
    pub(crate) batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
    pub(crate) truncated: Option<Truncation>,
}

impl Collector {
    pub(crate) fn new(ctx: &SessionContext, limits: SqlLimits) -> Collector {
        let pool = ctx.runtime_env().memory_pool.clone();
        Collector {
            limits,
            reservation: MemoryConsumer::new("SQL 查询结果").register(&pool),
            batches: Vec::new(),
            rows: 0,
            bytes: 0,
            truncated: None,
        }
    }

    /// Keeps what fits of `batch`; `false` once the answer is full (stop reading).
    pub(crate) fn push(&mut self, batch: RecordBatch) -> bool {
        let mut batch = batch;
        if batch.num_rows() > self.limits.max_rows - self.rows {
            batch = batch.slice(0, self.limits.max_rows - self.rows);
            self.truncated = Some(Truncation::Rows);
        }
        let mut size = slice_bytes(&batch);
        let room = self.limits.max_bytes - self.bytes;
        if size > room {
            // Keep the rows that fit, at the batch's average row size.
            let per_row = size.div_ceil(batch.num_rows().max(1)).max(1);
            batch = batch.slice(0, room / per_row);
            size = slice_bytes(&batch);
            self.truncated = Some(Truncation::Bytes);
        }
        if self.reservation.try_grow(size).is_err() {
            self.truncated = Some(Truncation::Memory);
            return false;
        }
        self.rows += batch.num_rows();
        self.bytes += size;
        if batch.num_rows() > 0 {
            self.batches.push(batch);
        }
        self.truncated.is_none() && self.rows < self.limits.max_rows
    }

    pub(crate) fn finish(self) -> (Vec<RecordBatch>, Option<Truncation>, MemoryReservation) {
        (self.batches, self.truncated, self.reservation)
    }
}

/// Bytes of the rows a (possibly sliced) batch shows, not of the buffers it shares.
fn slice_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| c.to_data().get_slice_memory_size().unwrap_or_else(|_| c.get_array_memory_size()))
        .sum()
}

/// Every operator wrapped so that it spends tokio's task budget per batch (see the module
/// doc): the query yields often enough for its deadline to fire.
pub(crate) fn cooperative_everywhere(
    plan: Arc<dyn ExecutionPlan>,
) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if node.is::<CooperativeExec>() {
            return Ok(Transformed::no(node));
        }
        Ok(Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>))
    })
    .map(|t| t.data)
}

/// Replaces the session's `range` and `generate_series` table functions with ones that
/// refuse more than [`MAX_SERIES_ROWS`] rows before anything is generated.
pub(crate) fn cap_series(ctx: &SessionContext) {
    for function in datafusion::functions_table::all_default_table_functions() {
        let name = function.name().to_string();
        ctx.register_udtf(&name, Arc::new(CappedSeries { name: name.clone(), inner: function.function().clone() }));
    }
}

#[derive(Debug)]
struct CappedSeries {
    name: String,
    inner: Arc<dyn TableFunctionImpl>,
}

/// The token in a refused series' message, by which the error is recognised.
pub(crate) const SERIES_TOO_LARGE: &str = "series_too_large";

impl TableFunctionImpl for CappedSeries {
    fn call_with_args(&self, args: TableFunctionArgs) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        if let Some(rows) = series_rows(args.exprs(), self.name == "generate_series")
            && rows > MAX_SERIES_ROWS
        {
            return datafusion::common::plan_err!(
                "{}(…) 会生成 {rows} 行，超过上限 {MAX_SERIES_ROWS} 行；请缩小范围或加大步长 ({SERIES_TOO_LARGE})",
                self.name
            );
        }
        self.inner.call_with_args(args)
    }
}

/// How many rows `range` (`inclusive` false: the end is left out) or `generate_series`
/// would give for these literal arguments (for months, an upper bound; `None` when the
/// arguments are not literals the function accepts, and the function itself then refuses
/// them).
fn series_rows(args: &[Expr], inclusive: bool) -> Option<u128> {
    let literal = |i: usize| match args.get(i) {
        Some(Expr::Literal(value, _)) => Some(value),
        _ => None,
    };
    match args.len() {
        1 => Some(u128::try_from(int(literal(0)?)?).unwrap_or(0)),
        2 => span(int(literal(0)?)?, int(literal(1)?)?, 1, inclusive),
        3 => match literal(2)? {
            ScalarValue::Int64(Some(step)) => span(int(literal(0)?)?, int(literal(1)?)?, *step, inclusive),
            ScalarValue::IntervalMonthDayNano(Some(step)) => {
                // A month is at least 28 days: counting it so bounds the rows from above.
                let nanos = i128::from(step.months) * 28 * 86_400_000_000_000
                    + i128::from(step.days) * 86_400_000_000_000
                    + i128::from(step.nanoseconds);
                let (start, end) = (instant(literal(0)?)?, instant(literal(1)?)?);
                span128(start, end, nanos, inclusive)
            }
            _ => None,
        },
        _ => None,
    }
}

fn int(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int64(Some(v)) => Some(*v),
        _ => None,
    }
}

/// A date or timestamp literal in nanoseconds.
fn instant(value: &ScalarValue) -> Option<i128> {
    match value {
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(i128::from(*v)),
        ScalarValue::Date32(Some(days)) => Some(i128::from(*days) * 86_400_000_000_000),
        _ => None,
    }
}

fn span(start: i64, end: i64, step: i64, inclusive: bool) -> Option<u128> {
    span128(i128::from(start), i128::from(end), i128::from(step), inclusive)
}

/// Rows from `start` to `end` by `step`, the end counted when `inclusive`.
fn span128(start: i128, end: i128, step: i128, inclusive: bool) -> Option<u128> {
    if step == 0 {
        return None;
    }
    let (distance, step) = if step > 0 { (end - start, step) } else { (start - end, -step) };
    if distance < 0 || (distance == 0 && !inclusive) {
        return Some(0);
    }
    let whole = distance.unsigned_abs() / step.unsigned_abs();
    let partial = distance.unsigned_abs() % step.unsigned_abs() != 0;
    Some(if inclusive { whole + 1 } else { whole + u128::from(partial) })
}

/// Most bytes one call of `repeat`, `lpad` or `rpad` may build for a batch (64 MiB): the
/// string is built whole before any cap on the answer could see it, so
/// `repeat(name, 100000)` over 8,192 rows would take 800 MB at once.
pub const MAX_GROWN_BYTES: u64 = 64 << 20;

/// Most bytes of one value these functions may build (64 KiB). A call on constants is
/// folded into one value while planning, and that value is then copied into every row of
/// every batch: the batch's rows ([`SQL_BATCH_ROWS`]) times this bounds such a column.
pub const MAX_GROWN_VALUE_BYTES: u64 = 64 << 10;

/// Rows of a batch in ad-hoc SQL (DataFusion's default is 8,192): a quarter of the memory
/// per batch for a wide row, at little cost for a tenant's few thousand rows.
pub(crate) const SQL_BATCH_ROWS: usize = 1024;

/// Sets the session's batch size for ad-hoc SQL and bounds its series and strings.
pub(crate) fn bound_session(ctx: &SessionContext) {
    let rows = SQL_BATCH_ROWS.to_string();
    if let Err(e) = ctx.state_ref().write().config_mut().options_mut().set("datafusion.execution.batch_size", &rows) {
        tracing::warn!(error = %e, "the batch size of ad-hoc SQL could not be set");
    }
    cap_series(ctx);
    cap_string_growth(ctx);
}

/// The token in the message of a refused string function.
pub(crate) const VALUE_TOO_LARGE: &str = "value_too_large";

/// Replaces the session's `repeat`, `lpad` and `rpad` with ones that refuse, before
/// building anything, to build more than [`MAX_GROWN_BYTES`] for a batch.
pub(crate) fn cap_string_growth(ctx: &SessionContext) {
    for (name, growth) in [("repeat", Growth::Repeat), ("lpad", Growth::Pad), ("rpad", Growth::Pad)] {
        if let Ok(udf) = ctx.udf(name) {
            let bounded = Bounded { inner: UdfEq::from(udf.inner().clone()), growth };
            ctx.register_udf(ScalarUDF::new_from_impl(bounded));
        }
    }
}

/// How a string function's output grows with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(text, n)`: the text's bytes times n.
    Repeat,
    /// `lpad(text, n [, fill])`: n characters of up to 4 bytes.
    Pad,
}

/// A string function that checks the size of what it is about to build.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Bounded {
    inner: UdfEq<Arc<dyn ScalarUDFImpl>>,
    growth: Growth,
}

impl Bounded {
    /// Upper bounds of the bytes this call builds: in all, and for its largest value.
    fn bytes(&self, args: &ScalarFunctionArgs) -> datafusion::error::Result<(u64, u64)> {
        let rows = args.number_rows.max(1);
        let counts = int64s(args.args.get(1), rows)?;
        let per_unit: Vec<u64> = match self.growth {
            Growth::Repeat => text_lengths(args.args.first(), rows)?,
            Growth::Pad => vec![4; rows],
        };
        let values = counts
            .iter()
            .zip(per_unit.iter().cycle())
            .map(|(n, unit)| u64::try_from(*n).unwrap_or(0).saturating_mul(*unit));
        Ok(values.fold((0u64, 0u64), |(total, largest), v| (total.saturating_add(v), largest.max(v))))
    }
}

/// The values of an integer argument, one per row (`0` for a null).
fn int64s(value: Option<&ColumnarValue>, rows: usize) -> datafusion::error::Result<Vec<i64>> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{DataType, Int64Type};
    let Some(value) = value else { return Ok(vec![0; rows]) };
    let array = value.to_array(rows)?;
    let array = datafusion::arrow::compute::cast(&array, &DataType::Int64)?;
    let ints = array.as_primitive::<Int64Type>();
    Ok((0..ints.len()).map(|i| if ints.is_valid(i) { ints.value(i) } else { 0 }).collect())
}

/// The byte length of a text argument, one per row (`0` for a null).
fn text_lengths(value: Option<&ColumnarValue>, rows: usize) -> datafusion::error::Result<Vec<u64>> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{DataType, Int64Type};
    let Some(value) = value else { return Ok(vec![0; rows]) };
    if let ColumnarValue::Scalar(scalar) = value {
        let length = match scalar {
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => s.len(),
            _ => 0,
        };
        return Ok(vec![length as u64; rows]);
    }
    let array = value.to_array(rows)?;
    let lengths = datafusion::arrow::compute::kernels::length::length(&array)?;
    let lengths = datafusion::arrow::compute::cast(&lengths, &DataType::Int64)?;
    let lengths = lengths.as_primitive::<Int64Type>();
    Ok((0..lengths.len())
        .map(|i| if lengths.is_valid(i) { u64::try_from(lengths.value(i)).unwrap_or(0) } else { 0 })
        .collect())
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> datafusion::error::Result<String> {
        self.inner.schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> datafusion::error::Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> datafusion::error::Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> datafusion::error::Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> datafusion::error::Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> datafusion::error::Result<ColumnarValue> {
        let (bytes, largest) = self.bytes(&args)?;
        if largest > MAX_GROWN_VALUE_BYTES {
            return datafusion::common::exec_err!(
                "{}(…) 要生成一个约 {} KiB 的文本，超过单个值的上限 {} KiB；请缩短长度 ({VALUE_TOO_LARGE})",
                self.name(),
                largest >> 10,
                MAX_GROWN_VALUE_BYTES >> 10
            );
        }
        if bytes > MAX_GROWN_BYTES {
            return datafusion::common::exec_err!(
                "{}(…) 要生成约 {} MiB 的文本，超过上限 {} MiB；请缩短长度或减少行数 ({VALUE_TOO_LARGE})",
                self.name(),
                bytes >> 20,
                MAX_GROWN_BYTES >> 20
            );
        }
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&datafusion::logical_expr::Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::lit;

    #[test]
    fn series_sizes() {
        // range leaves the end out, generate_series counts it.
        assert_eq!(series_rows(&[lit(10i64)], false), Some(10));
        assert_eq!(series_rows(&[lit(0i64), lit(200_000i64)], false), Some(200_000));
        assert_eq!(series_rows(&[lit(0i64), lit(200_000i64)], true), Some(200_001));
        assert_eq!(series_rows(&[lit(0i64), lit(100i64), lit(10i64)], false), Some(10));
        assert_eq!(series_rows(&[lit(0i64), lit(101i64), lit(10i64)], false), Some(11));
        assert_eq!(series_rows(&[lit(0i64), lit(100i64), lit(10i64)], true), Some(11));
        assert_eq!(series_rows(&[lit(100i64), lit(0i64), lit(-1i64)], true), Some(101));
        assert_eq!(series_rows(&[lit(100i64), lit(0i64), lit(1i64)], true), Some(0));
        assert_eq!(series_rows(&[lit(5i64), lit(5i64)], false), Some(0));
        assert_eq!(series_rows(&[lit(0i64), lit(1i64), lit(0i64)], false), None);
        assert_eq!(series_rows(&[lit(i64::MIN), lit(i64::MAX)], true), Some(1u128 << 64));
    }

    #[tokio::test]
    async fn large_series_are_refused_small_ones_run() {
        let ctx = SessionContext::new();
        cap_series(&ctx);
        let err = ctx.sql("SELECT count(*) FROM range(0, 200000000)").await.expect_err("too large").to_string();
        assert!(err.contains(SERIES_TOO_LARGE) && err.contains("会生成 200000000 行"), "{err}");
        let err = ctx
            .sql("SELECT count(*) FROM generate_series(TIMESTAMP '2000-01-01', TIMESTAMP '2025-01-01', INTERVAL '1 second')")
            .await
            .expect_err("too large")
            .to_string();
        assert!(err.contains(SERIES_TOO_LARGE), "{err}");
        let batches = ctx.sql("SELECT count(*) FROM range(0, 1000)").await.expect("plan").collect().await.expect("run");
        assert_eq!(
            datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .expect("fmt")
                .to_string()
                .matches("1000")
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn string_growth_is_bounded() {
        let ctx = SessionContext::new();
        cap_string_growth(&ctx);
        for sql in [
            // Folded into one constant while planning: refused as one value too large.
            "SELECT repeat('x', 100000) FROM range(0, 8192)",
            "SELECT lpad('x', 100000000)",
            "SELECT rpad('x', 20000000, 'ab')",
            // Per row: 8,192 values of 60,000 bytes (each under the value cap) are 480 MB.
            "SELECT repeat(CAST(value % 10 AS VARCHAR), 60000) FROM range(0, 8192)",
            "SELECT repeat(CAST(value AS VARCHAR), 100000000) FROM range(0, 10)",
        ] {
            // A constant call is folded while planning, the others fail when run.
            let err = match ctx.sql(sql).await {
                Ok(df) => df.collect().await.expect_err(sql).to_string(),
                Err(e) => e.to_string(),
            };
            assert!(err.contains(VALUE_TOO_LARGE), "{sql}: {err}");
        }
        let ok = ctx
            .sql("SELECT repeat('ab', 3) AS r, lpad('7', 3, '0') AS l")
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        let shown = datafusion::arrow::util::pretty::pretty_format_batches(&ok).expect("fmt").to_string();
        assert!(shown.contains("ababab") && shown.contains("007"), "{shown}");
    }
}
