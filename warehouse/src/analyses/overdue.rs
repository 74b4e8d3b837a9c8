//! The overdue list: topics and rectifications past their deadline as of a day, one row
//! each, with the counts per community, lead cadre and county beside every row.

use chrono::{Datelike, NaiveDate};
use datafusion::dataframe::DataFrame;

use super::facts::CLOSED;
use super::sql;
use crate::ScopedSession;
use crate::errors::Result;

/// What a row of the overdue list is: a topic or a rectification (the `item_kind` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Topic,
    Rectification,
}

impl ItemKind {
    pub const ALL: [ItemKind; 2] = [ItemKind::Topic, ItemKind::Rectification];

    pub const fn token(self) -> &'static str {
        match self {
            ItemKind::Topic => "topic",
            ItemKind::Rectification => "rectification",
        }
    }

    pub const fn chinese(self) -> &'static str {
        match self {
            ItemKind::Topic => "议题",
            ItemKind::Rectification => "整改",
        }
    }
}

/// Why a row is on the overdue list (the `overdue` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdue {
    /// Not closed by the as-of day, and its deadline was before that day.
    OpenOverdue,
    /// Closed within the period, after its deadline.
    ClosedLate,
}

impl Overdue {
    pub const ALL: [Overdue; 2] = [Overdue::OpenOverdue, Overdue::ClosedLate];

    pub const fn token(self) -> &'static str {
        match self {
            Overdue::OpenOverdue => "open_overdue",
            Overdue::ClosedLate => "closed_late",
        }
    }

    pub const fn chinese(self) -> &'static str {
        match self {
            Overdue::OpenOverdue => "逾期未办结",
            Overdue::ClosedLate => "逾期办结",
        }
    }
}

/// The first and last day of `year` (or its `quarter`).
pub fn period_days(year: i32, quarter: Option<u32>) -> Option<(NaiveDate, NaiveDate)> {
    let (first_month, months) = match quarter {
        Some(q) => (3 * (q - 1) + 1, 3),
        None => (1, 12),
    };
    let start = NaiveDate::from_ymd_opt(year, first_month, 1)?;
    let end = start.checked_add_months(chrono::Months::new(months))?.pred_opt()?;
    Some((start, end))
}

/// Today in China (UTC+8): the day a county clerk calls today.
pub fn today_in_china() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The as-of day of a period: its last day, or `today` if that is earlier (a period
/// still running is judged as of today).
pub fn as_of(year: i32, quarter: Option<u32>, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let (start, end) = period_days(year, quarter)?;
    Some((start, end.min(today)))
}

/// The overdue list of the period from `start` to the as-of day `as_of` (A):
///
/// - a topic is `open_overdue` when raised on or before A, its deadline is before A, and
///   it was not closed on or before A (status not resolved/explained as of the latest
///   data, or closed_on after A); days overdue = A − deadline;
/// - a topic is `closed_late` when closed (resolved or explained) with closed_on from
///   `start` to A and closed_on after its deadline; days overdue = closed_on − deadline;
/// - a rectification likewise, by opened_on, deadline and closed_on (closed = has a
///   closed_on).
///
/// Open items come from any year (a backlog stays on the list until it is closed); each
/// row carries its topic's title and status and its lead cadre as last ingested (fine
/// print 1). `overdue_in_community`, `overdue_of_cadre` and `overdue_in_county` count the
/// rows of the list with the same community, lead cadre, county.
///
/// ```sql
/// WITH items AS (topics as items UNION ALL rectifications ⟕ their topic),
///      judged AS (overdue = open_overdue | closed_late | null, days_overdue)
/// SELECT …, count(*) OVER (PARTITION BY community_code [, cadre_id] | county_code)
/// FROM judged ⟕ communities ⟕ cadres WHERE overdue IS NOT NULL
/// ```
pub async fn overdue(session: &ScopedSession, start: NaiveDate, as_of: NaiveDate) -> Result<DataFrame> {
    let day = |d: NaiveDate| format!("DATE '{:04}-{:02}-{:02}'", d.year(), d.month(), d.day());
    let (s, a) = (day(start), day(as_of));
    let days = |date: &str| format!("CAST({date} AS BIGINT) - CAST(i.deadline AS BIGINT)");
    let text = format!(
        "WITH items AS (
            SELECT t.county_code, t.community_code, '{topic}' AS item_kind, t.topic_id AS item_id, t.topic_id,
                   t.title, t.status, t.lead_cadre_id AS cadre_id, t.raised_on AS started_on,
                   t.deadline, CASE WHEN t.{CLOSED} THEN t.closed_on END AS closed_on
            FROM topics t
            UNION ALL
            SELECT r.county_code, r.community_code, '{rectification}', r.rectification_id, r.topic_id,
                   t.title, t.status, t.lead_cadre_id, r.opened_on, r.deadline, r.closed_on
            FROM rectifications r
            LEFT JOIN topics t ON r.community_code = t.community_code AND r.topic_id = t.topic_id
         ),
         judged AS (
            SELECT i.*,
                   CASE WHEN i.started_on <= {a} AND i.deadline < {a} AND NOT COALESCE(i.closed_on <= {a}, false)
                             THEN '{open}'
                        WHEN i.closed_on BETWEEN {s} AND {a} AND i.closed_on > i.deadline THEN '{late}'
                   END AS overdue,
                   CASE WHEN COALESCE(i.closed_on <= {a}, false) THEN {closed_days} ELSE {open_days} END AS days_overdue
            FROM items i
         )
         SELECT j.county_code, c.county_name, j.community_code, c.community_name, j.item_kind, j.item_id,
                j.topic_id, j.title, j.cadre_id, k.cadre_name, j.status,
                CAST(j.deadline AS VARCHAR) AS deadline, CAST(j.closed_on AS VARCHAR) AS closed_on,
                '{as_of}' AS as_of, j.overdue, j.days_overdue,
                count(*) OVER (PARTITION BY j.community_code) AS overdue_in_community,
                count(*) OVER (PARTITION BY j.community_code, j.cadre_id) AS overdue_of_cadre,
                count(*) OVER (PARTITION BY j.county_code) AS overdue_in_county
         FROM judged j
         LEFT JOIN communities c ON j.community_code = c.community_code
         LEFT JOIN cadres k ON j.community_code = k.community_code AND j.cadre_id = k.cadre_id
         WHERE j.overdue IS NOT NULL",
        topic = ItemKind::Topic.token(),
        rectification = ItemKind::Rectification.token(),
        open = Overdue::OpenOverdue.token(),
        late = Overdue::ClosedLate.token(),
        closed_days = days("i.closed_on"),
        open_days = days(&a),
        as_of = as_of.format("%Y-%m-%d"),
    );
    sql(&session.ctx, &text).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_period_is_judged_as_of_today() {
        let today = NaiveDate::from_ymd_opt(2025, 8, 14).expect("date");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(as_of(2025, Some(2), today), Some((day(2025, 4, 1), day(2025, 6, 30))));
        assert_eq!(as_of(2025, Some(3), today), Some((day(2025, 7, 1), today)));
        assert_eq!(as_of(2024, None, today), Some((day(2024, 1, 1), day(2024, 12, 31))));
        assert_eq!(as_of(2025, Some(4), today).map(|p| p.1), Some(today));
    }
}
