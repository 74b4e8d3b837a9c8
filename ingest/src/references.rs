//! What other tables already hold, for the reference rules: a topic's session and lead
//! cadre, an evaluation's or rectification's topic, all within the same community.
//!
//! Keys are held as 64-bit fingerprints of their text, per community: a million
//! topics load without a string allocation each, and a lookup hashes the row's text
//! instead of following a pointer to compare it. A community holds some thousands of
//! keys, so an id that is not there matches another's fingerprint with a probability
//! near 2^-52 — far below any other way a ledger can be wrong.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// Keys are fingerprints already: the maps hash them again only cheaply.
type Fast = foldhash::fast::FixedState;
type ById<V> = HashMap<u64, V, Fast>;
type ByCommunity<V> = HashMap<u64, ById<V>, Fast>;

/// The 64-bit fingerprint of a community code or an id.
fn fingerprint(text: &str) -> u64 {
    foldhash::quality::FixedState::with_seed(0x5EED_1D5E_u64).hash_one(text)
}

/// Keys of rows other tables hold, by community.
#[derive(Debug, Default, Clone)]
pub struct References {
    sessions: ByCommunity<()>,
    cadres: ByCommunity<()>,
    /// Topic → its raised_on as Date32 days.
    topics: ByCommunity<i32>,
}

fn insert<V>(map: &mut ByCommunity<V>, community: &str, id: &str, value: V) {
    map.entry(fingerprint(community)).or_default().insert(fingerprint(id), value);
}

/// The keys one community holds, found once for a run of its rows (a ledger passes
/// community by community) instead of once per row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommunityKeys<'r> {
    sessions: Option<&'r ById<()>>,
    cadres: Option<&'r ById<()>>,
    topics: Option<&'r ById<i32>>,
}

impl CommunityKeys<'_> {
    pub(crate) fn has_session(&self, id: &str) -> bool {
        self.sessions.is_some_and(|m| m.contains_key(&fingerprint(id)))
    }

    pub(crate) fn has_cadre(&self, id: &str) -> bool {
        self.cadres.is_some_and(|m| m.contains_key(&fingerprint(id)))
    }

    pub(crate) fn topic_raised_on(&self, id: &str) -> Option<i32> {
        self.topics?.get(&fingerprint(id)).copied()
    }

    /// Reads the community's maps through once, in memory order, before its rows look
    /// keys up in them. They were built on another core a second earlier and all of them
    /// exceed the caches: looked up at random, most first touches of an entry waited on
    /// memory (three quarters of the time of topic lookups), while a pass in order is
    /// prefetched by the CPU.
    pub(crate) fn warm(&self) {
        let mut sum = 0u64;
        for ids in [self.sessions, self.cadres].into_iter().flatten() {
            sum = ids.keys().fold(sum, |s, &k| s ^ k);
        }
        if let Some(topics) = self.topics {
            sum = topics.iter().fold(sum, |s, (&k, &v)| s ^ k ^ v as u64);
        }
        std::hint::black_box(sum);
    }
}

impl References {
    pub fn add_session(&mut self, community: &str, id: &str) {
        insert(&mut self.sessions, community, id, ());
    }

    pub fn add_cadre(&mut self, community: &str, id: &str) {
        insert(&mut self.cadres, community, id, ());
    }

    /// `raised_on` in days since 1970-01-01.
    pub fn add_topic(&mut self, community: &str, id: &str, raised_on: i32) {
        insert(&mut self.topics, community, id, raised_on);
    }

    /// The keys `community` holds (none if the warehouse has no rows of it).
    pub(crate) fn of(&self, community: &str) -> CommunityKeys<'_> {
        let key = fingerprint(community);
        CommunityKeys {
            sessions: self.sessions.get(&key),
            cadres: self.cadres.get(&key),
            topics: self.topics.get(&key),
        }
    }

    /// How many keys are held in all.
    pub fn len(&self) -> usize {
        let count = |m: &ByCommunity<()>| m.values().map(HashMap::len).sum::<usize>();
        count(&self.sessions) + count(&self.cadres) + self.topics.values().map(HashMap::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the keys of rows of `table` (batches with the table's schema, or any batches
    /// whose key and `raised_on` columns have the same names; strings as Utf8 or Utf8View).
    pub fn absorb(&mut self, table: crate::Table, batches: &[arrow_array::RecordBatch]) {
        use arrow_array::Array;
        use arrow_array::cast::AsArray;
        use arrow_array::types::Date32Type;
        let id_column = table.key_column();
        for batch in batches {
            let (Some(community), Some(id)) = (batch.column_by_name("community_code"), batch.column_by_name(id_column))
            else {
                continue;
            };
            let (community, id) = (community.as_ref(), id.as_ref());
            match table {
                crate::Table::Sessions => absorb_into(&mut self.sessions, community, id, |_| Some(())),
                crate::Table::Cadres => absorb_into(&mut self.cadres, community, id, |_| Some(())),
                crate::Table::Topics => {
                    let Some(raised) = batch.column_by_name("raised_on") else { continue };
                    let raised = raised.as_primitive::<Date32Type>();
                    absorb_into(&mut self.topics, community, id, |row| raised.is_valid(row).then(|| raised.value(row)));
                }
                _ => {}
            }
        }
    }
}

/// Adds every row's key (and value, rows without one skipped) to `map`. Rows come
/// community by community: a run of one community's rows finds its map once, and makes
/// room for the run at once instead of growing the map step by step.
fn absorb_into<V>(
    map: &mut ByCommunity<V>,
    community: &dyn arrow_array::Array,
    id: &dyn arrow_array::Array,
    value: impl Fn(usize) -> Option<V>,
) {
    let (Some(communities), Some(ids)) = (Strings::of(community), Strings::of(id)) else {
        return;
    };
    let rows = community.len();
    let mut start = 0;
    while start < rows {
        let code = communities.get(start);
        let end = (start + 1..rows).find(|&row| communities.get(row) != code).unwrap_or(rows);
        if let Some(code) = code {
            let keys = map.entry(fingerprint(code)).or_default();
            keys.reserve(end - start);
            for row in start..end {
                if let (Some(id), Some(v)) = (ids.get(row), value(row)) {
                    keys.insert(fingerprint(id), v);
                }
            }
        }
        start = end;
    }
}

/// A string column as DataFusion or a reader hands it over (DataFusion reads Parquet
/// strings as views), its type found once rather than for every row.
enum Strings<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(array: &'a dyn arrow_array::Array) -> Option<Strings<'a>> {
        let any = array.as_any();
        any.downcast_ref()
            .map(Strings::Utf8)
            .or_else(|| any.downcast_ref().map(Strings::LargeUtf8))
            .or_else(|| any.downcast_ref().map(Strings::View))
    }

    fn get(&self, row: usize) -> Option<&'a str> {
        use arrow_array::Array;
        match self {
            Strings::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            Strings::LargeUtf8(a) => a.is_valid(row).then(|| a.value(row)),
            Strings::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Date32Array, RecordBatch, StringArray, StringViewArray};

    use super::References;
    use crate::Table;

    fn topics(communities: ArrayRef, ids: ArrayRef, raised: Vec<Option<i32>>) -> RecordBatch {
        let raised: ArrayRef = Arc::new(Date32Array::from(raised));
        RecordBatch::try_from_iter([("community_code", communities), ("topic_id", ids), ("raised_on", raised)])
            .expect("batch")
    }

    /// Runs of communities that come back, a missing id and a missing date, as plain
    /// strings and as views: each key lands in its own community's map.
    #[test]
    fn absorbs_runs_of_communities_from_strings_and_views() {
        let codes = ["A", "A", "B", "A", "C"];
        let ids = [Some("T1"), Some("T2"), Some("T1"), Some("T3"), None];
        let raised = vec![Some(1), Some(2), Some(3), None, Some(5)];
        let plain = topics(
            Arc::new(StringArray::from(codes.to_vec())),
            Arc::new(StringArray::from(ids.to_vec())),
            raised.clone(),
        );
        let views = topics(
            Arc::new(StringViewArray::from(codes.to_vec())),
            Arc::new(StringViewArray::from(ids.to_vec())),
            raised,
        );
        for batch in [plain, views] {
            let mut references = References::default();
            references.absorb(Table::Topics, &[batch]);
            assert_eq!(references.len(), 3, "A/T3 has no date and C's row no id");
            assert_eq!(references.of("A").topic_raised_on("T1"), Some(1));
            assert_eq!(references.of("A").topic_raised_on("T2"), Some(2));
            assert_eq!(references.of("A").topic_raised_on("T3"), None);
            assert_eq!(references.of("B").topic_raised_on("T1"), Some(3));
            assert_eq!(references.of("B").topic_raised_on("T2"), None);
            assert_eq!(references.of("C").topic_raised_on("T1"), None);
        }
    }
}
