//! Publicity, analysed: per community and quarter, which channel closed topics were
//! published on (公示栏, 公众号, 居民群) and how many days after closure.

use datafusion::dataframe::DataFrame;

use super::facts::{self, CLOSED, Span, quarter_of};
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// The publicity channels with a share column each: (token, share column).
pub const CHANNEL_SHARES: [(&str, &str); 3] =
    [("board", "board_share"), ("wechat_account", "wechat_account_share"), ("group_chat", "group_chat_share")];

/// The publicity analysis for `year` (and `quarter`): one row per community of the
/// reference table and quarter of the span in scope (fine print 10). Its topics are the
/// closed topics raised in the quarter (the Period rule); a closed topic is published
/// when it has a `publicized_on`. A channel's share = published topics of that channel ÷
/// published topics (a published topic without a channel counts in the denominator
/// only). Days to publish = `publicized_on − closed_on` of each published topic — negative
/// when the publication is dated before the closure, which is kept, not hidden — and
/// their median (linear interpolation, as `percentile_cont`) and mean.
///
/// ```sql
/// WITH closed_topics AS (closed topics raised in the span: channel, days),
///      per_quarter AS (counts per channel, sorted days, mean per community, year, quarter),
///      grid AS (communities × quarters of the span in years_in_scope)
/// SELECT grid ⟕ per_quarter, with the rates and the median
/// ```
pub async fn publicity(session: &ScopedSession, year: i32, quarter: Option<u32>, scheme: &Scheme) -> Result<DataFrame> {
    let span = Span::of(year, quarter);
    let channel_counts: Vec<String> = CHANNEL_SHARES
        .iter()
        .map(|(token, share)| format!("count(*) FILTER (WHERE days IS NOT NULL AND ch = '{token}') AS {share}_n"))
        .collect();
    let channel_zeroes: Vec<String> =
        CHANNEL_SHARES.iter().map(|(_, share)| format!("COALESCE(p.{share}_n, 0) AS {share}_n")).collect();
    let shares: Vec<String> = CHANNEL_SHARES
        .iter()
        .map(|(_, share)| format!("{} AS {share}", facts::ratio(&format!("{share}_n"), "topics_publicized")))
        .collect();
    let text = format!(
        "WITH closed_topics AS (
            SELECT t.community_code, CAST(t.year AS BIGINT) AS year, {quarter} AS quarter,
                   t.publicity_channel AS ch,
                   CAST(t.publicized_on AS BIGINT) - CAST(t.closed_on AS BIGINT) AS days
            FROM topics t WHERE {in_span} AND t.{CLOSED}
         ),
         per_quarter AS (
            SELECT community_code, year, quarter, count(*) AS topics_closed,
                   count(days) AS topics_publicized, {channel_counts},
                   array_sort(array_agg(days) FILTER (WHERE days IS NOT NULL), 'ASC', 'NULLS LAST') AS publish_days,
                   avg(CAST(days AS DOUBLE)) AS days_to_publish_mean
            FROM closed_topics GROUP BY community_code, year, quarter
         ),
         grid AS ({grid}),
         counts AS (
            SELECT g.*, COALESCE(p.topics_closed, 0) AS topics_closed,
                   COALESCE(p.topics_publicized, 0) AS topics_publicized, {channel_zeroes},
                   p.publish_days, p.days_to_publish_mean
            FROM grid g
            LEFT JOIN per_quarter p
              ON g.community_code = p.community_code AND g.year = p.year AND g.quarter = p.quarter
         )
         SELECT *, {publicity_rate} AS publicity_rate, {shares},
                {median} AS days_to_publish_median
         FROM counts",
        quarter = quarter_of("t.raised_on"),
        in_span = span.rows("t", "raised_on"),
        channel_counts = channel_counts.join(", "),
        channel_zeroes = channel_zeroes.join(", "),
        grid = facts::quarter_grid(span),
        publicity_rate = facts::ratio("topics_publicized", "topics_closed"),
        shares = shares.join(", "),
        median = facts::percentile("publish_days", "topics_publicized", 1, 2),
    );
    facts::query(session, scheme, span, &text).await
}
