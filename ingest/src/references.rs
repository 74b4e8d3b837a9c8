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
/// community by community, so a community's fingerprint is taken once per run of rows.
fn absorb_into<V>(
    map: &mut ByCommunity<V>,
    community: &dyn arrow_array::Array,
    id: &dyn arrow_array::Array,
    value: impl Fn(usize) -> Option<V>,
) {
    let mut last: Option<(&str, u64)> = None;
    for row in 0..community.len() {
        let (Some(c), Some(i), Some(v)) = (str_at(community, row), str_at(id, row), value(row)) else {
            continue;
        };
        let key = match last {
            Some((text, key)) if text == c => key,
            _ => fingerprint(c),
        };
        last = Some((c, key));
        map.entry(key).or_default().insert(fingerprint(i), v);
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
