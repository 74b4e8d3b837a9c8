//! What the pages' interactive charts draw. Each chart card carries a spec in its
//! `data-live` attribute; `/assets/charts.js` fetches the report JSON the spec names (the
//! same `/api/v1/reports/…` rows the card's CSV button downloads, with the session cookie)
//! and draws it with Apache ECharts. The spec holds no figure of its own: which columns
//! to plot, their Chinese names, units and number format come from [`Figure`], and where a
//! mark leads is built by the same [`Filters`] functions as the tables' links. A chart
//! whose spec is missing keeps its static image.
//!
//! Templates: `{key}` stands for the row's value of column `key` (a figure's key).

use serde::Serialize;
use warehouse::analyses::{ColumnKind, Figure};

use super::Filters;
use crate::charts::ChartName;

/// One chart's spec, as `charts.js` reads it.
#[derive(Debug, Serialize)]
struct Spec {
    /// The report rows to fetch (JSON).
    report: String,
    /// `bar`: one horizontal bar per row, sorted by the first value, largest on top;
    /// `bars`: a group of columns per row, one per value; `line`, `stack`: one series per
    /// `series` name over the `x` categories (a stack adds up the rows of a cell);
    /// `heatmap`: `x` across, `label` down.
    shape: &'static str,
    /// The name of a row's mark (template).
    label: String,
    /// The category across (template), for `line`, `stack` and `heatmap`.
    x: Option<String>,
    /// The series a row belongs to (template), for `line` and `stack`.
    series: Option<String>,
    values: Vec<Value>,
    /// A further tooltip line (template), e.g. the grade.
    detail: Option<String>,
    /// Where a click on a row's mark leads (template; the tables' links).
    link: Option<String>,
    /// The axis title of the values: name and unit.
    axis: String,
}

/// A figure the chart plots.
#[derive(Debug, Serialize)]
struct Value {
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    /// `percent` (a ratio shown ×100 with one decimal and %), `count` (an integer) or
    /// `decimal` (two decimals), as the pages' tables show them.
    format: &'static str,
}

impl Value {
    fn of(figure: Figure) -> Value {
        let format = match figure.kind() {
            ColumnKind::Rate => "percent",
            ColumnKind::Count | ColumnKind::Rank | ColumnKind::Period => "count",
            _ => "decimal",
        };
        let unit = if format == "percent" { "" } else { figure.unit().chinese() };
        Value { key: figure.key(), name: figure.chinese(), unit, format }
    }
}

/// `{key}` of `figure`: the row's value in a template.
fn slot(figure: Figure) -> String {
    format!("{{{}}}", figure.key())
}

/// "第{quarter}季度".
fn quarter_slot() -> String {
    format!("第{}季度", slot(Figure::Quarter))
}

/// The `data-live` spec of chart `name` on a page with filters `f` (the chart's own
/// period: the year for the annual charts), as JSON; `None` for an unknown chart.
pub(super) fn spec(name: &str, f: &Filters) -> Option<String> {
    let chart = ChartName::parse(name).ok()?;
    serde_json::to_string(&chart_spec(chart, f)).ok()
}

fn chart_spec(chart: ChartName, f: &Filters) -> Spec {
    let report = |kind: &str| format!("/api/v1/reports/{kind}?{}", f.query());
    let community = slot(Figure::CommunityName);
    let community_each_quarter =
        if f.quarter.is_some() { community.clone() } else { format!("{community} {}", quarter_slot()) };
    let community_link = Some(f.community_template(false));
    let base = |shape, report: String, label: String, values: &[Figure]| Spec {
        report,
        shape,
        label,
        x: None,
        series: None,
        values: values.iter().copied().map(Value::of).collect(),
        detail: None,
        link: None,
        axis: values.first().map_or_else(String::new, |v| v.with_unit()),
    };
    match chart {
        ChartName::CommunityRanking => Spec {
            detail: Some(slot(Figure::CountyName)),
            link: community_link,
            ..base("bar", report("communities"), community, &[Figure::CommunityScore])
        },
        ChartName::CadreScores => Spec {
            detail: Some(slot(Figure::GradeChinese)),
            link: Some(f.cadre_template()),
            ..base(
                "bar",
                report("cadres"),
                format!("{}（{community}）", slot(Figure::CadreName)),
                &[Figure::CadreScore],
            )
        },
        ChartName::RatesByCommunity => {
            let (kind, label) =
                if f.quarter.is_some() { ("quarterly", community_each_quarter) } else { ("communities", community) };
            let rates = [Figure::CompletionRate, Figure::OnTimeRate, Figure::PublicityRate];
            Spec { link: community_link, axis: "比率（%）".into(), ..base("bars", report(kind), label, &rates) }
        }
        ChartName::Dimensions => {
            let means = [Figure::AttitudeMean, Figure::EfficiencyMean, Figure::ResultMean, Figure::EffectMean];
            let link = Some(f.community_template(f.quarter.is_none()));
            Spec {
                link,
                axis: "评分（1–5 分）".into(),
                ..base("bars", report("quarterly"), community_each_quarter, &means)
            }
        }
        ChartName::SatisfactionTrend | ChartName::SatisfactionHeatmap => {
            let shape = if chart == ChartName::SatisfactionTrend { "line" } else { "heatmap" };
            Spec {
                x: Some(quarter_slot()),
                series: Some(community.clone()),
                link: Some(f.community_template(true)),
                ..base(shape, report("quarterly"), community, &[Figure::SatisfactionIndex])
            }
        }
        ChartName::TopicsByCategory | ChartName::TopicsByChannel => {
            let (kind, group) = if chart == ChartName::TopicsByCategory {
                ("quarterly_by_category", Figure::CategoryLabel)
            } else {
                ("quarterly_by_channel", Figure::ChannelLabel)
            };
            Spec {
                x: Some(quarter_slot()),
                series: Some(slot(group)),
                ..base("stack", report(kind), slot(group), &[Figure::TopicsRaised])
            }
        }
    }
}

impl Filters {
    /// The community page of a row (template `{county_code}`, `{community_code}`), in
    /// these filters' period or, with `each_quarter`, in the row's quarter (`{quarter}`).
    fn community_template(&self, each_quarter: bool) -> String {
        let quarter = if each_quarter { Some(slot(Figure::Quarter)) } else { self.quarter.map(|q| q.to_string()) };
        super::community_url(
            self.year,
            quarter.as_deref(),
            Some(&slot(Figure::CountyCode)),
            &slot(Figure::CommunityCode),
        )
    }

    /// The cadre page of a row (template `{community_code}`, `{cadre_id}`).
    fn cadre_template(&self) -> String {
        self.cadre_href(&slot(Figure::CommunityCode), &slot(Figure::CadreId)).replace("%7B", "{").replace("%7D", "}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(quarter: Option<u32>) -> Filters {
        Filters { year: 2025, quarter, county: Some("141026".into()), community: None }
    }

    #[test]
    fn links_are_the_tables_links_with_slots() {
        let f = filters(None);
        let code = "141026100001";
        let filled = |template: &str| {
            template.replace("{county_code}", "141026").replace("{community_code}", code).replace("{cadre_id}", "K1")
        };
        assert_eq!(filled(&f.community_template(false)), f.community_href(code));
        assert_eq!(filled(&f.cadre_template()), f.cadre_href(code, "K1"));
        let q3 = filled(&f.community_template(true)).replace("{quarter}", "3");
        assert_eq!(q3, filters(Some(3)).community_href(code));
    }

    #[test]
    fn every_chart_has_a_spec_in_chinese() {
        for chart in ChartName::ALL {
            let spec = spec(chart.name(), &filters(Some(3))).expect("spec");
            let json: serde_json::Value = serde_json::from_str(&spec).expect("json");
            for v in json["values"].as_array().expect("values") {
                assert!(!v["name"].as_str().unwrap_or_default().is_ascii(), "{}: {v}", chart.name());
            }
            assert!(json["report"].as_str().is_some_and(|r| r.starts_with("/api/v1/reports/")));
        }
        assert!(spec("nonsense", &filters(None)).is_none());
    }
}
