//! Arrow cells as JSON: a cell ([`cell`]), query results as arrays of cells ([`arrays`])
//! or objects ([`objects`]), and a report's rows as objects keyed by the contract's column
//! names — for reading figures by name ([`report_rows`]) or for writing them out in column
//! order ([`report_json`]).

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::{Map, Value};
use warehouse::analyses::{Report, ReportColumn};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type, UInt64Type};
use warehouse::arrow::record_batch::RecordBatch;

use super::text;

/// A row as a JSON object keyed by column name (serde_json's map: keys sorted).
pub type Row = Map<String, Value>;

/// One cell as JSON: integers and floats as numbers (a NaN or infinite float as null),
/// booleans as booleans, null as null, anything else as its text as stored
/// ([`text::plain`]).
pub fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::UInt64 => Value::from(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float64 => serde_json::Number::from_f64(array.as_primitive::<Float64Type>().value(row))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        _ => Value::String(text::plain(array, row)),
    }
}

/// Query results as one array of cells per row, in column order.
pub fn arrays(batches: &[RecordBatch]) -> Vec<Vec<Value>> {
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in batches {
        for row in 0..batch.num_rows() {
            rows.push(batch.columns().iter().map(|a| cell(a, row)).collect());
        }
    }
    rows
}

/// Query results as one object per row, keyed by column name.
pub fn objects(batches: &[RecordBatch]) -> Vec<Row> {
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in batches {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            rows.push(
                schema.fields().iter().zip(batch.columns()).map(|(f, a)| (f.name().clone(), cell(a, row))).collect(),
            );
        }
    }
    rows
}

/// A report's rows as objects keyed by the contract's column names, null where the figure
/// is null: for reading figures by name (charts, workbooks, tests).
pub fn report_rows(report: &Report) -> Vec<Row> {
    let mut rows = Vec::with_capacity(report.num_rows());
    for batch in &report.batches {
        for row in 0..batch.num_rows() {
            rows.push(
                report.columns.iter().zip(batch.columns()).map(|(c, a)| (c.key.to_string(), cell(a, row))).collect(),
            );
        }
    }
    rows
}

/// A report's rows for writing out: a JSON array of objects whose keys keep the column
/// order (a [`Row`] sorts them), e.g. `serde_json::to_vec(&report_json(&report))` — what
/// `yishi report --format json` prints and the API's reports answer.
pub fn report_json(report: &Report) -> ReportJson<'_> {
    ReportJson(report)
}

/// A report's rows as a serialisable sequence of objects in column order.
#[derive(Debug, Clone, Copy)]
pub struct ReportJson<'a>(&'a Report);

impl Serialize for ReportJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.num_rows()))?;
        for batch in &self.0.batches {
            for row in 0..batch.num_rows() {
                seq.serialize_element(&ReportJsonRow { columns: &self.0.columns, batch, row })?;
            }
        }
        seq.end()
    }
}

struct ReportJsonRow<'a> {
    columns: &'a [ReportColumn],
    batch: &'a RecordBatch,
    row: usize,
}

impl Serialize for ReportJsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (c, array) in self.columns.iter().zip(self.batch.columns()) {
            map.serialize_entry(c.key, &cell(array, self.row))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use warehouse::arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringViewArray};
    use warehouse::arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringViewArray::from(vec![Some("b"), None])),
            Arc::new(Int64Array::from(vec![Some(3), None])),
            Arc::new(Float64Array::from(vec![Some(0.5), Some(f64::NAN)])),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            Arc::new(Date32Array::from(vec![Some(20148), None])),
        ];
        let fields: Vec<Field> = ["z", "n", "x", "t", "d"]
            .iter()
            .zip(&columns)
            .map(|(name, c)| Field::new(*name, c.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
    }

    #[test]
    fn cells_keep_their_types_and_nulls() {
        assert_eq!(
            arrays(&[batch()]),
            vec![
                vec![json!("b"), json!(3), json!(0.5), json!(true), json!("2025-03-01")],
                vec![Value::Null, Value::Null, Value::Null, Value::Null, Value::Null],
            ]
        );
        let objects = objects(&[batch()]);
        assert_eq!(
            serde_json::to_string(&objects[0]).expect("json"),
            r#"{"d":"2025-03-01","n":3,"t":true,"x":0.5,"z":"b"}"#
        );
    }
}
