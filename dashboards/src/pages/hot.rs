//! The hot topics' section of the overview: the categories and recurring titles that rose
//! most against the period before, with the counts behind them.

use warehouse::analyses::hot_topics::HotKind;
use warehouse::analyses::{Figure, Report};

use super::Filters;
use super::data;
use super::html::{escape, report_table, table_downloads};

/// Rows of each kind shown, at most (the download has them all).
const SHOWN_ROWS: usize = 10;

/// `<section id="hot-topics">`: the categories and the recurring titles, each by rise.
pub(super) fn section(f: &Filters, hot: &Report) -> String {
    let kinds = data::texts(hot, Figure::HotKind);
    let ranks = data::numbers(hot, Figure::RiseRank);
    let rows_of = |kind: HotKind| {
        let mut rows: Vec<usize> = (0..kinds.len()).filter(|&i| kinds[i] == kind.token()).collect();
        rows.sort_by(|a, b| ranks[*a].unwrap_or(f64::MAX).total_cmp(&ranks[*b].unwrap_or(f64::MAX)));
        rows.truncate(SHOWN_ROWS);
        rows
    };
    let counts = [Figure::TopicsNow, Figure::TopicsBefore, Figure::TopicsRise];
    let categories =
        report_table(hot, &[&[Figure::HotCategoryLabel][..], &counts].concat(), Some(&rows_of(HotKind::Category)));
    let titles = report_table(hot, &[&[Figure::Title][..], &counts].concat(), Some(&rows_of(HotKind::Title)));
    format!(
        "<section class=\"box\" id=\"hot-topics\"><h3>热点议题（与上一等长期间相比）</h3>\
         <p class=\"note\">{}；{}</p>{}\
         <div class=\"grid2\"><div><h4>议题类别</h4>{categories}</div><div><h4>重复议题</h4>{titles}</div></div></section>",
        escape(Figure::TopicsBefore.definition()),
        escape(Figure::TitleKey.definition()),
        table_downloads("hot_topics", f),
    )
}
