//! The overdue list's section (the overview and the community page): every overdue topic
//! and rectification of the period, linked to its topic and its lead cadre.

use warehouse::analyses::{Figure, Report};

use super::Filters;
use super::data;
use super::html::{Link, escape, linked_table, table_downloads};

/// The columns the section shows (the report has the codes and counts too).
const SHOWN: [Figure; 10] = [
    Figure::CommunityName,
    Figure::ItemKindLabel,
    Figure::ItemId,
    Figure::Title,
    Figure::CadreName,
    Figure::Deadline,
    Figure::ClosedOn,
    Figure::StatusLabel,
    Figure::OverdueLabel,
    Figure::DaysOverdue,
];

/// `<section id="overdue">`: the count, the as-of day, the table (most days overdue first)
/// with links to the topic and cadre pages, and the downloads of the `overdue` report.
pub(super) fn section(f: &Filters, overdue: &Report) -> String {
    let days = data::numbers(overdue, Figure::DaysOverdue);
    let mut order: Vec<usize> = (0..data::rows(overdue)).collect();
    order.sort_by(|a, b| days[*b].unwrap_or(0.0).total_cmp(&days[*a].unwrap_or(0.0)));
    let communities = data::texts(overdue, Figure::CommunityCode);
    let topics = data::texts(overdue, Figure::TopicId);
    let cadres = data::texts(overdue, Figure::CadreId);
    let topic = |row: usize| Some(f.topic_href(communities.get(row)?, topics.get(row).filter(|t| !t.is_empty())?));
    let cadre = |row: usize| Some(f.cadre_href(communities.get(row)?, cadres.get(row).filter(|c| !c.is_empty())?));
    let as_of = data::texts(overdue, Figure::AsOf).into_iter().next().unwrap_or_default();
    let note = if as_of.is_empty() { String::new() } else { format!("截至 {}，", escape(&as_of)) };
    format!(
        "<section class=\"box\" id=\"overdue\"><h3>逾期清单（{} 项）</h3>\
         <p class=\"note\">{note}{}</p>{}{}</section>",
        order.len(),
        escape(Figure::OverdueLabel.definition()),
        table_downloads("overdue", f),
        linked_table(
            overdue,
            &SHOWN,
            Some(&order),
            &[Link { figure: Figure::ItemId, href: &topic }, Link { figure: Figure::CadreName, href: &cadre }]
        )
    )
}
