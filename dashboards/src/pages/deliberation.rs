//! The deliberation sections of the pages: a community's meetings and handling modes of the
//! period (community page) and the joint units of its topics (overview), each a table of
//! the report with its downloads.

use warehouse::analyses::{Figure, Report};

use super::Filters;
use super::html::{escape, report_table, table_downloads};

/// A section `id` titled `title` with `report`'s `figures` and the report's downloads.
fn section(id: &str, title: &str, report: &Report, figures: &[Figure], f: &Filters) -> String {
    let body = if report.num_rows() == 0 {
        "<p class=\"note\">本期没有数据。</p>".to_string()
    } else {
        report_table(report, figures, None)
    };
    format!(
        "<section class=\"box\" id=\"{id}\"><h3>{}</h3>{}{body}</section>",
        escape(title),
        table_downloads(report.kind.name(), f)
    )
}

/// The community page's 议事会议 and 办理方式 sections.
pub fn community_sections(meetings: &Report, handling: &Report, f: &Filters) -> String {
    use Figure::*;
    let meeting_figures = [
        Quarter,
        SessionsHeld,
        RegularSessions,
        OnScheduleRate,
        TopicsPerSession,
        AttendeesMean,
        ResidentRepsMean,
        PartyRepsMean,
        FixedEarlyRate,
    ];
    let handling_figures =
        [Quarter, HandlingModeLabel, TopicShare, TopicsRaised, CompletionRate, OnTimeRate, SatisfactionRate];
    let period = f.period();
    section("meetings", &format!("{period} 议事会议情况"), meetings, &meeting_figures, f)
        + &section("handling", &format!("{period} 办理方式（自办、代办、联办）"), handling, &handling_figures, f)
}

/// The overview's 联办单位 section: which departments the topics were routed to and how
/// each did.
pub fn units_section(units: &Report, f: &Filters) -> String {
    use Figure::*;
    let figures = [CountyName, Quarter, JointUnit, TopicsRouted, CompletionRate, OnTimeRate, SatisfactionRate];
    section("units", &format!("{} 联办单位办理情况", f.period()), units, &figures, f)
}
