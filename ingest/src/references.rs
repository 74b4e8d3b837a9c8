//! What other tables already hold, for the reference rules: a topic's session and lead
//! cadre, an evaluation's or rectification's topic, all within the same community.

use std::collections::{HashMap, HashSet};

/// Keys of rows other tables hold, as `community_code` + id.
#[derive(Debug, Default, Clone)]
pub struct References {
    sessions: HashSet<String>,
    cadres: HashSet<String>,
    /// Topic key → its raised_on as Date32 days.
    topics: HashMap<String, i32>,
}

fn key(community: &str, id: &str) -> String {
    let mut k = String::with_capacity(community.len() + 1 + id.len());
    k.push_str(community);
    k.push('\u{1f}');
    k.push_str(id);
    k
}

impl References {
    pub fn add_session(&mut self, community: &str, id: &str) {
        self.sessions.insert(key(community, id));
    }

    pub fn add_cadre(&mut self, community: &str, id: &str) {
        self.cadres.insert(key(community, id));
    }

    /// `raised_on` in days since 1970-01-01.
    pub fn add_topic(&mut self, community: &str, id: &str, raised_on: i32) {
        self.topics.insert(key(community, id), raised_on);
    }

    pub fn has_session(&self, community: &str, id: &str) -> bool {
        self.sessions.contains(&key(community, id))
    }

    pub fn has_cadre(&self, community: &str, id: &str) -> bool {
        self.cadres.contains(&key(community, id))
    }

    pub fn topic_raised_on(&self, community: &str, id: &str) -> Option<i32> {
        self.topics.get(&key(community, id)).copied()
    }

    pub fn len(&self) -> usize {
        self.sessions.len() + self.cadres.len() + self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl References {
    /// Adds the keys of rows of `table` (batches with the table's schema, or any batches
    /// whose key and `raised_on` columns have the same names and types).
    pub fn absorb(&mut self, table: crate::Table, batches: &[arrow_array::RecordBatch]) {
        use arrow_array::Array;
        use arrow_array::cast::AsArray;
        use arrow_array::types::Date32Type;
        let id_column = table.key_column();
        for batch in batches {
            let (Some(community), Some(id)) = (
                batch.column_by_name("community_code"),
                batch.column_by_name(id_column),
            ) else {
                continue;
            };
            let raised = batch
                .column_by_name("raised_on")
                .map(|a| a.as_primitive::<Date32Type>().clone());
            for row in 0..batch.num_rows() {
                let (Some(c), Some(i)) =
                    (str_at(community.as_ref(), row), str_at(id.as_ref(), row))
                else {
                    continue;
                };
                match table {
                    crate::Table::Sessions => self.add_session(c, i),
                    crate::Table::Cadres => self.add_cadre(c, i),
                    crate::Table::Topics => {
                        if let Some(r) = raised.as_ref().filter(|r| !r.is_null(row)) {
                            self.add_topic(c, i, r.value(row));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The string at `row` of a Utf8 or Utf8View array (DataFusion reads Parquet strings as views).
fn str_at(array: &dyn arrow_array::Array, row: usize) -> Option<&str> {
    use arrow_array::cast::AsArray;
    use arrow_schema::DataType;
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(array.as_string_view().value(row)),
        _ => None,
    }
}
