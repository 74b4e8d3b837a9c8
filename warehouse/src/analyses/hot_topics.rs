//! The hot topics of a period: the topic categories and the recurring titles whose
//! counts rose most against the previous period of the same length.

use datafusion::dataframe::DataFrame;

use super::facts::Span;
use super::sql;
use crate::ScopedSession;
use crate::errors::Result;

/// What a row of the hot topics counts (the `hot_kind` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotKind {
    /// A topic category.
    Category,
    /// A normalised title raised at least twice in the period.
    Title,
}

impl HotKind {
    pub const ALL: [HotKind; 2] = [HotKind::Category, HotKind::Title];

    pub const fn token(self) -> &'static str {
        match self {
            HotKind::Category => "category",
            HotKind::Title => "title",
        }
    }

    pub const fn chinese(self) -> &'static str {
        match self {
            HotKind::Category => "议题类别",
            HotKind::Title => "重复议题",
        }
    }
}

/// SQL: the normalised form of the text column `title` — every white-space character
/// (Unicode White_Space, so the ideographic space U+3000 too) removed, the full-width
/// forms U+FF01–U+FF5E folded to ASCII U+0021–U+007E, letters lower-cased.
pub(crate) fn normalised(title: &str) -> String {
    let full: String = (0xFF01u32..=0xFF5E).filter_map(char::from_u32).collect();
    let half: String = (0x21u32..=0x7E).filter_map(char::from_u32).collect();
    // Single quotes are doubled for the SQL literal (the half-width set holds one).
    let (full, half) = (full.replace('\'', "''"), half.replace('\'', "''"));
    format!("lower(translate(regexp_replace({title}, '\\s+', '', 'g'), '{full}', '{half}'))")
}

/// The hot topics of `year` (or its `quarter`) against the period before of the same
/// length (the quarter before, the year before), over the session's topics by
/// `raised_on`:
///
/// - one `category` row per topic category with a topic in either period;
/// - one `title` row per normalised title ([`normalised`]) raised at least twice in the
///   period, `title` being the earliest-sorting original text of the period.
///
/// Per county of the session. `topics_now`, `topics_before` = topics raised in the
/// period, in the one before; `topics_rise` = now − before; `rise_rank` = competition
/// rank of `topics_rise` (descending) within the county and kind.
///
/// ```sql
/// WITH t AS (topics of both periods, now = raised in the period, title_key),
///      groups AS (per category UNION ALL per title_key HAVING now ≥ 2)
/// SELECT *, now − before, rank() OVER (PARTITION BY hot_kind ORDER BY now − before DESC)
/// ```
pub async fn hot_topics(session: &ScopedSession, year: i32, quarter: Option<u32>) -> Result<DataFrame> {
    let (span, start) = match quarter {
        Some(q) => (Span::of(year, Some(q)).with_previous_quarter(), format!("{year:04}-{:02}-01", 3 * (q - 1) + 1)),
        None => (Span::new((year - 1, 1), (year, 4)), format!("{year:04}-01-01")),
    };
    let text = format!(
        "WITH t AS (
            SELECT t.county_code, t.category, t.title, {key} AS title_key, t.raised_on >= DATE '{start}' AS now
            FROM topics t WHERE {in_span}
         ),
         groups AS (
            SELECT county_code, '{category}' AS hot_kind, category AS hot_category, CAST(NULL AS VARCHAR) AS title_key,
                   CAST(NULL AS VARCHAR) AS title,
                   count(*) FILTER (WHERE now) AS topics_now, count(*) FILTER (WHERE NOT now) AS topics_before
            FROM t GROUP BY county_code, category
            UNION ALL
            SELECT * FROM (
                SELECT county_code, '{title}' AS hot_kind, CAST(NULL AS VARCHAR) AS hot_category, title_key,
                       min(title) FILTER (WHERE now) AS title,
                       count(*) FILTER (WHERE now) AS topics_now, count(*) FILTER (WHERE NOT now) AS topics_before
                FROM t GROUP BY county_code, title_key) titles
            WHERE topics_now >= 2
         ),
         counties AS (SELECT county_code, max(county_name) AS county_name FROM communities GROUP BY county_code)
         SELECT g.*, c.county_name, g.topics_now - g.topics_before AS topics_rise,
                CAST(rank() OVER (PARTITION BY g.county_code, g.hot_kind
                                  ORDER BY g.topics_now - g.topics_before DESC) AS BIGINT) AS rise_rank
         FROM groups g LEFT JOIN counties c ON g.county_code = c.county_code",
        key = normalised("t.title"),
        in_span = span.rows("t", "raised_on"),
        category = HotKind::Category.token(),
        title = HotKind::Title.token(),
    );
    sql(&session.ctx, &text).await
}
