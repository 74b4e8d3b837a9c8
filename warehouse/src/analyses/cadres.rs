//! The cadre assessment: per cadre per year, the score, competition ranks among rated
//! cadres and the grade with the county's 优秀 quota.

use datafusion::dataframe::DataFrame;

use super::Grade;
use super::cells;
use super::facts::{self, Span, number, rounded};
use super::labels::QualityFlag;
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// The flags a cadre row can carry: rating coverage and closed-after-evaluated need the
/// topic's evaluations of any date, which the cadre counts do not join (see
/// `facts::topic_facts`).
const CADRE_FLAGS: [QualityFlag; 2] = [QualityFlag::SmallSample, QualityFlag::Backdated];

/// The cadre assessment for `year`: a row for every cadre of the cadres table if `year`
/// is in scope. A cadre's topics are those it leads raised in the year; its evaluations and
/// rectifications those dated in the year (evaluated_on, opened_on) of topics it leads,
/// whatever the topic's year (fine print 1). Only the year's rows are read, and every
/// topic's lead cadre.
///
/// `score = w·completion_rate + w·on_time_rate + w·satisfaction_index/100 +
/// w·rectification_rate`, a null component counting 0. A cadre with fewer than
/// `min_topics` topics is not rated: it has a score but no rank and grade `not_rated`.
/// Ranks are competition ranks among the rated cadres of the county (and of the
/// community), on scores rounded to 9 decimals (fine print 7, 8). 优秀 needs the score and
/// a seat: seats = max(1, ⌊quota × rated cadres of the county⌋), and a cadre has a seat
/// iff fewer than `seats` rated cadres score strictly higher — i.e. its competition rank
/// ≤ seats, so ties at the cut-off are all in (fine print 6).
///
/// The session should hold the whole county (see `Warehouse::report`).
///
/// ```sql
/// WITH grid AS (cadres × {year} ∩ years_in_scope, with community and county names),
///      counts AS (grid ⟕ topic, evaluation and rectification counts per cadre),
///      figures AS (the contract's rates),
///      scored AS (score, rated = topics ≥ min_topics),
///      ranked AS (rank() OVER (PARTITION BY county_code, rated ORDER BY round(score, 9) DESC)
///                 for rated cadres, and per community; rated cadres of the county),
///      graded AS (excellent iff round(score, 9) ≥ excellent_score AND rank_in_county ≤ seats,
///                 else competent / basically_competent / incompetent by score),
///      flagged AS (graded with any_backdated)
/// SELECT *, grade_chinese, quality_flags (small_sample, backdated) FROM flagged
/// ```
///
/// With quarter cells matching the session's versions, `counts` sums the cadre's cells of
/// the year ([`cells::cadre_counts`]) and carries the backdated flag, which `flagged`
/// takes in place of the join to `backdated`; the rest of the SQL is the same.
pub async fn cadres(session: &ScopedSession, year: i32, scheme: &Scheme) -> Result<DataFrame> {
    let g = &scheme.grades;
    let filter = format!("year = {year}");
    let keys = ["community_code", "cadre_id", "year"];
    // From the cells the flag comes with the counts; from the events, joined.
    let flagging = cells::flagging(
        session.cells.then(|| cells::cadre_counts(year, scheme)),
        cells::cadre_counted(&filter),
        &keys,
        "graded",
    );
    let score9 = rounded("score");
    let quota = rounded(&format!("{} * rated_in_county", number(g.excellent_quota)));
    let seats = format!("GREATEST(1, CAST(floor({quota}) AS BIGINT))");
    let text = format!(
        "WITH grid AS (
            SELECT k.county_code, c.county_name, k.community_code, c.community_name,
                   k.cadre_id, k.cadre_name, y.year
            FROM cadres k
            CROSS JOIN years_in_scope y
            LEFT JOIN communities c ON k.community_code = c.community_code
            WHERE y.year = {year}
         ),
         {counts},
         figures AS (
            SELECT county_code, county_name, community_code, community_name, cadre_id, cadre_name, year,
                   {topics}, {evaluations}, {rectifications}{carried}
            FROM counts
         ),
         scored AS (
            SELECT *, topics_raised AS topics, {score} AS score, topics_raised >= {min_topics} AS rated
            FROM figures
         ),
         ranked AS (
            SELECT *, {score9} AS score9,
                   CASE WHEN rated THEN CAST(rank() OVER (PARTITION BY county_code, year, rated
                                                          ORDER BY {score9} DESC) AS BIGINT) END AS rank_in_county,
                   CASE WHEN rated THEN CAST(rank() OVER (PARTITION BY community_code, year, rated
                                                          ORDER BY {score9} DESC) AS BIGINT) END AS rank_in_community,
                   sum(CASE WHEN rated THEN 1 ELSE 0 END) OVER (PARTITION BY county_code, year) AS rated_in_county
            FROM scored
         ),
         graded AS (
            SELECT *,
                   CASE WHEN NOT rated THEN '{not_rated}'
                        WHEN score9 >= {excellent} AND rank_in_county <= {seats} THEN '{excellent_token}'
                        WHEN score9 >= {competent} THEN '{competent_token}'
                        WHEN score9 >= {basically} THEN '{basically_token}'
                        ELSE '{incompetent_token}' END AS grade
            FROM ranked
         ),
         {backdated}
         flagged AS ({flagged})
         SELECT *, {grade_chinese} AS grade_chinese, {flags} AS quality_flags
         FROM flagged",
        counts = flagging.counted,
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
        rectifications = facts::rectification_figures(),
        score = score(scheme),
        min_topics = g.min_topics,
        excellent = number(g.excellent_score),
        competent = number(g.competent_score),
        basically = number(g.basically_competent_score),
        not_rated = Grade::NotRated.token(),
        excellent_token = Grade::Excellent.token(),
        competent_token = Grade::Competent.token(),
        basically_token = Grade::BasicallyCompetent.token(),
        incompetent_token = Grade::Incompetent.token(),
        grade_chinese = grade_chinese(),
        carried = flagging.carried,
        backdated = flagging.backdated,
        flagged = flagging.flagged,
        flags = QualityFlag::sql(&CADRE_FLAGS),
    );
    facts::query(session, scheme, Span::year(year), &text).await
}

/// `CASE grade WHEN 'excellent' THEN '优秀' … ELSE '未评定' END`: each grade token's Chinese.
fn grade_chinese() -> String {
    let arms: Vec<String> = Grade::ALL
        .iter()
        .filter(|g| **g != Grade::NotRated)
        .map(|g| format!("WHEN '{}' THEN '{}'", g.token(), g.chinese()))
        .collect();
    format!("CASE grade {} ELSE '{}' END", arms.join(" "), Grade::NotRated.chinese())
}

/// The cadre score in the contract's order of terms; a null component counts 0
/// (rectification_rate is never null).
fn score(scheme: &Scheme) -> String {
    let w = &scheme.cadre;
    format!(
        "{} * COALESCE(completion_rate, 0) + {} * COALESCE(on_time_rate, 0)
         + {} * COALESCE(satisfaction_index, 0) / 100 + {} * rectification_rate",
        number(w.completion_rate),
        number(w.on_time_rate),
        number(w.satisfaction_index),
        number(w.rectification_rate),
    )
}
