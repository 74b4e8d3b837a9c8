//! Handling, analysed: the joint units (联办单位) a county's topics are routed to, and how
//! each of them does. The mix of handling modes (自办 / 代办 / 联办) per community is a
//! breakdown of the quarterly analysis (`quarterly::breakdown` by `HandlingMode`).

use datafusion::dataframe::DataFrame;

use super::facts::{self, Counted, Span, group_counts_over};
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// Per county × quarter × joint unit: the topics raised in the quarter that list the unit
/// in `units` (whatever their handling mode; a topic listing two units counts for both),
/// how many of them are closed and closed by their deadline, and the evaluations dated in
/// the quarter of topics listing the unit (attributed through the topic as last ingested,
/// like fine print 1). Only units with at least one such topic or evaluation have a row.
///
/// ```sql
/// WITH unit_topics AS (every topic × each element of its `units` list),
///      unit_topic_facts, unit_event_facts AS (topic_facts, event_facts ⋈ unit_topics),
///      group_counts AS (topic and event counts per county_code, year, quarter, unit)
/// SELECT county names, the contract's topic and evaluation figures FROM group_counts
/// ```
pub async fn units(session: &ScopedSession, year: i32, quarter: Option<u32>, scheme: &Scheme) -> Result<DataFrame> {
    let text = format!(
        "WITH unit_topics AS (
            SELECT community_code, topic_id, unit
            FROM (SELECT community_code, topic_id, unnest(string_to_array(units, ';')) AS unit
                  FROM topics WHERE units IS NOT NULL AND units <> '')
            WHERE unit <> ''
         ),
         unit_topic_facts AS (
            SELECT f.*, u.unit FROM topic_facts f
            JOIN unit_topics u ON f.community_code = u.community_code AND f.topic_id = u.topic_id
         ),
         unit_event_facts AS (
            SELECT x.*, u.unit FROM event_facts x
            JOIN unit_topics u ON x.community_code = u.community_code AND x.topic_id = u.topic_id
         ),
         {counts},
         names AS (SELECT county_code, max(county_name) AS county_name FROM communities GROUP BY county_code),
         counts AS (
            SELECT n.county_name, gc.* FROM group_counts gc LEFT JOIN names n ON gc.county_code = n.county_code
         )
         SELECT county_code, county_name, year, quarter, unit, topics_raised AS topics_routed, closed_on_time,
                {topics}, {evaluations}
         FROM counts",
        counts = group_counts_over(
            Counted {
                keys: &["county_code", "year", "quarter", "unit"],
                filter: "TRUE",
                sessions: false,
                ratings: false,
                events: true,
                days: false
            },
            "unit_topic_facts",
            "unit_event_facts"
        ),
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
    );
    facts::query(session, scheme, Span::of(year, quarter), &text).await
}
