//! Meetings, analysed: per community and quarter, the sessions held (regular and not),
//! whether the regular ones were held on their days, how many topics each session took
//! up, who attended, and whether a regular session's topics were fixed at least 10 days
//! before it.

use datafusion::dataframe::DataFrame;

use super::facts::{self, Span, quarter_of};
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// Days a regular session's topic must be known before the session (the seed's rule:
/// 议题提前 10 天确定).
pub const FIXED_DAYS_BEFORE: i64 = 10;

/// The meetings analysis for `year` (and `quarter`): one row per community of the
/// reference table and quarter of the span in scope, quarters without a session included
/// (counts 0, means and rates null), like the quarterly analysis (fine print 10).
///
/// A session belongs to the quarter of `held_on`; a topic counts for the session its
/// `session_id` names, whatever its own date. The regular days are the contract's: the
/// 15th and the 30th, February's second being its last day. No column records when a
/// topic was fixed for its session, so `raised_on` stands in for it: a topic of a regular
/// session is fixed early when `held_on − raised_on ≥ 10` days.
///
/// ```sql
/// WITH held AS (sessions in the span: regular, on_schedule),
///      per_session AS (held ⟕ topics by (community_code, session_id): topics, fixed_early),
///      per_quarter AS (counts, sums and means per community_code, year, quarter),
///      grid AS (communities × quarters of the span in years_in_scope)
/// SELECT grid ⟕ per_quarter, with the rates
/// ```
pub async fn meetings(session: &ScopedSession, year: i32, quarter: Option<u32>, scheme: &Scheme) -> Result<DataFrame> {
    let span = Span::of(year, quarter);
    let text = format!(
        "WITH held AS (
            SELECT s.community_code, s.session_id, s.held_on, CAST(s.year AS BIGINT) AS year,
                   {quarter} AS quarter, s.kind = 'regular' AS regular,
                   (date_part('day', s.held_on) IN (15, 30)
                    OR (date_part('month', s.held_on) = 2
                        AND date_part('month', s.held_on + INTERVAL '1 day') = 3)) AS on_schedule,
                   s.attendees, s.resident_reps, s.party_reps
            FROM sessions s WHERE {in_span}
         ),
         per_session AS (
            SELECT h.community_code, h.session_id, min(h.year) AS year, min(h.quarter) AS quarter,
                   bool_or(h.regular) AS regular, bool_or(h.on_schedule) AS on_schedule,
                   min(h.attendees) AS attendees, min(h.resident_reps) AS resident_reps,
                   min(h.party_reps) AS party_reps, count(t.topic_id) AS topics,
                   count(t.topic_id) FILTER (WHERE CAST(h.held_on AS BIGINT) - CAST(t.raised_on AS BIGINT)
                                                   >= {early}) AS fixed_early
            FROM held h
            LEFT JOIN topics t ON h.community_code = t.community_code AND h.session_id = t.session_id
            GROUP BY h.community_code, h.session_id
         ),
         per_quarter AS (
            SELECT community_code, year, quarter,
                   count(*) AS sessions_held,
                   count(*) FILTER (WHERE regular) AS regular_sessions,
                   count(*) FILTER (WHERE regular AND on_schedule) AS regular_on_schedule,
                   sum(topics) AS topics_deliberated,
                   sum(CASE WHEN regular THEN topics ELSE 0 END) AS regular_topics,
                   sum(CASE WHEN regular THEN fixed_early ELSE 0 END) AS topics_fixed_early,
                   avg(CAST(attendees AS DOUBLE)) AS attendees_mean,
                   avg(CAST(resident_reps AS DOUBLE)) AS resident_reps_mean,
                   avg(CAST(party_reps AS DOUBLE)) AS party_reps_mean
            FROM per_session GROUP BY community_code, year, quarter
         ),
         grid AS ({grid}),
         counts AS (
            SELECT g.*,
                   COALESCE(p.sessions_held, 0) AS sessions_held,
                   COALESCE(p.regular_sessions, 0) AS regular_sessions,
                   COALESCE(p.regular_on_schedule, 0) AS regular_on_schedule,
                   COALESCE(p.topics_deliberated, 0) AS topics_deliberated,
                   COALESCE(p.regular_topics, 0) AS regular_topics,
                   COALESCE(p.topics_fixed_early, 0) AS topics_fixed_early,
                   p.attendees_mean, p.resident_reps_mean, p.party_reps_mean
            FROM grid g
            LEFT JOIN per_quarter p
              ON g.community_code = p.community_code AND g.year = p.year AND g.quarter = p.quarter
         )
         SELECT *, sessions_held - regular_sessions AS unscheduled_sessions,
                {on_schedule_rate} AS on_schedule_rate,
                {topics_per_session} AS topics_per_session,
                {fixed_early_rate} AS fixed_early_rate
         FROM counts",
        quarter = quarter_of("s.held_on"),
        in_span = span.rows("s", "held_on"),
        grid = facts::quarter_grid(span),
        early = FIXED_DAYS_BEFORE,
        on_schedule_rate = facts::ratio("regular_on_schedule", "regular_sessions"),
        topics_per_session = facts::ratio("topics_deliberated", "sessions_held"),
        fixed_early_rate = facts::ratio("topics_fixed_early", "regular_topics"),
    );
    facts::query(session, scheme, span, &text).await
}

/// A half-month, the period of one regular session (held on the 15th and the 30th): the
/// 1st–15th or the 16th–last day of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfMonth {
    pub year: i32,
    pub month: u32,
    /// The 16th–last day.
    pub second: bool,
}

impl HalfMonth {
    /// The latest half-month ended before `today`: on the 1st–15th the previous month's
    /// second half, from the 16th this month's first.
    pub fn last_completed(today: chrono::NaiveDate) -> HalfMonth {
        use chrono::Datelike;
        if today.day() > 15 {
            return HalfMonth { year: today.year(), month: today.month(), second: false };
        }
        let (year, month) = if today.month() == 1 { (today.year() - 1, 12) } else { (today.year(), today.month() - 1) };
        HalfMonth { year, month, second: true }
    }

    pub fn first_day(self) -> chrono::NaiveDate {
        let day = if self.second { 16 } else { 1 };
        chrono::NaiveDate::from_ymd_opt(self.year, self.month, day).unwrap_or(chrono::NaiveDate::MIN)
    }

    pub fn last_day(self) -> chrono::NaiveDate {
        if !self.second {
            return chrono::NaiveDate::from_ymd_opt(self.year, self.month, 15).unwrap_or(chrono::NaiveDate::MIN);
        }
        let (year, month) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        chrono::NaiveDate::from_ymd_opt(year, month, 1).and_then(|d| d.pred_opt()).unwrap_or(chrono::NaiveDate::MIN)
    }

    /// 「2025年9月下半月」.
    pub fn chinese(self) -> String {
        format!("{}年{}月{}半月", self.year, self.month, if self.second { "下" } else { "上" })
    }

    /// 「2025-09-2」: the half-month in an alert's key.
    pub fn key(self) -> String {
        format!("{}-{:02}-{}", self.year, self.month, if self.second { 2 } else { 1 })
    }
}

impl crate::Warehouse {
    /// The communities of `scope` (the reference table) that held no regular session in
    /// `half` (`kind = 'regular'`, `held_on` within it; an urgent session does not stand
    /// in for one), as (code, name) by code.
    ///
    /// ```sql
    /// SELECT c.community_code, c.community_name FROM communities c
    /// LEFT JOIN (regular sessions held in the half-month) s USING community_code
    /// WHERE s.community_code IS NULL
    /// ```
    pub async fn without_regular_session(
        &self,
        scope: &ingest::Scope,
        half: HalfMonth,
    ) -> Result<Vec<(String, String)>> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::DataType;
        let text = format!(
            "SELECT c.community_code, c.community_name FROM communities c
             LEFT JOIN (SELECT DISTINCT community_code FROM sessions
                        WHERE kind = 'regular' AND held_on >= DATE '{first}' AND held_on <= DATE '{last}') s
               ON c.community_code = s.community_code
             WHERE s.community_code IS NULL ORDER BY c.community_code",
            first = half.first_day(),
            last = half.last_day(),
        );
        let result = self.sql(scope, &text).await?;
        let mut found = Vec::new();
        for batch in &result.batches {
            // Text may come back as Utf8View; read it as plain Utf8.
            let column = |i: usize| datafusion::arrow::compute::cast(batch.column(i), &DataType::Utf8);
            let (codes, names) = (column(0)?, column(1)?);
            let (codes, names) = (codes.as_string::<i32>(), names.as_string::<i32>());
            for i in (0..batch.num_rows()).filter(|i| codes.is_valid(*i)) {
                let name = if names.is_valid(i) { names.value(i) } else { "" };
                found.push((codes.value(i).to_string(), name.to_string()));
            }
        }
        Ok(found)
    }
}
