//! The red and black lists (红榜、黑榜) of communities: one rule, computed with the
//! community assessment (its `list` column), which the chart, the pages and the workbook
//! all read.

use super::facts::rounded;
use crate::scheme::Scheme;

/// A community's place on the lists (the `list` token); no list is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunityList {
    /// Among the county's top N by score, ties at the cut-off all in.
    Red,
    /// Among the county's bottom N by score, ties at the cut-off all in.
    Black,
    /// Fewer topics in the year than the scheme's minimum: on no list.
    Unranked,
}

impl CommunityList {
    pub const ALL: [CommunityList; 3] = [CommunityList::Red, CommunityList::Black, CommunityList::Unranked];

    pub const fn token(self) -> &'static str {
        match self {
            CommunityList::Red => "red",
            CommunityList::Black => "black",
            CommunityList::Unranked => "unranked",
        }
    }

    pub const fn chinese(self) -> &'static str {
        match self {
            CommunityList::Red => "红榜",
            CommunityList::Black => "黑榜",
            CommunityList::Unranked => "样本不足，不参与排名",
        }
    }

    pub fn parse(token: &str) -> Option<CommunityList> {
        CommunityList::ALL.into_iter().find(|l| l.token() == token)
    }
}

/// The CTE `listed` over the CTE `from` (one row per community and year with
/// `county_code`, `topics_raised` and `score`): its rows with `list`.
///
/// A community is ranked for the lists when it has at least `grades.min_topics` topics
/// raised in the year. Among the ranked communities of its county, N = min(lists.size,
/// ⌊ranked ÷ 3⌋); `red` when fewer than N ranked communities score strictly higher (its
/// competition rank from the top ≤ N), `black` when fewer than N score strictly lower
/// and it is not red; scores compared at 9 decimals (fine print 8).
pub(crate) fn listed(from: &str, scheme: &Scheme) -> String {
    let score9 = rounded("score");
    let window = |order: &str| {
        format!(
            "CASE WHEN sampled THEN rank() OVER (PARTITION BY county_code, year, sampled ORDER BY {score9} {order}) END"
        )
    };
    let n = format!("LEAST({}, sampled_in_county / 3)", scheme.lists.size);
    format!(
        "sampled AS (SELECT *, topics_raised >= {min} AS sampled FROM {from}),
         placed AS (
            SELECT *, {top} AS top_place, {bottom} AS bottom_place,
                   sum(CASE WHEN sampled THEN 1 ELSE 0 END) OVER (PARTITION BY county_code, year) AS sampled_in_county
            FROM sampled
         ),
         listed AS (
            SELECT *, CASE WHEN NOT sampled THEN '{unranked}'
                           WHEN top_place <= {n} THEN '{red}'
                           WHEN bottom_place <= {n} THEN '{black}' END AS list
            FROM placed
         )",
        min = scheme.grades.min_topics,
        top = window("DESC"),
        bottom = window("ASC"),
        unranked = CommunityList::Unranked.token(),
        red = CommunityList::Red.token(),
        black = CommunityList::Black.token(),
    )
}
