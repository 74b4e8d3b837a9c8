//! `yishi report`: the contract's reports for people (a Chinese table with its 口径
//! footer), for spreadsheets (CSV with Chinese headers, XLSX) and for scripts (JSON rows
//! keyed by the contract's names).

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use dashboards::encoding::{csv, json, text};
use ingest::Scope;
use warehouse::Snapshot;
use warehouse::Warehouse;
use warehouse::analyses::{Figure, Report, ReportKind};
use warehouse::scheme::Scheme;

use crate::cli::{Breakdown, OutputFormat, ReportArgs};
use crate::output;

pub(crate) async fn run(root: &str, scope: &Scope, args: &ReportArgs) -> Result<ExitCode> {
    let kind = kind_of(args)?;
    let snapshot = snapshot_of(args)?;
    let wh = Warehouse::open(root).await?;
    wh.check_scope(scope).await?;
    let report = compute(root, &wh, kind, scope, args, snapshot).await?;
    // A period without topics says so, with the years that have them, instead of an
    // empty table.
    let quarter = args.quarter.filter(|_| kind.is_quarterly());
    if let Some(notice) = wh.coverage(scope).await?.empty_notice(args.year, quarter) {
        eprintln!("提示：{notice}");
        if args.format == OutputFormat::Table && report.num_rows() == 0 {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let footer = about(&report, scope);
    let bytes = match args.format {
        OutputFormat::Table if args.all_columns || args.out.is_some() => table(&report, &footer, |_| true).into_bytes(),
        OutputFormat::Table => {
            let shown = |figure| TERMINAL_FIGURES.contains(&figure);
            let people = text::for_people_columns(&report.columns);
            let narrow = people.iter().filter(|&&i| shown(report.columns[i].figure)).count();
            let all = people.len();
            eprintln!(
                "终端只显示主要的 {narrow} 列（共 {all} 列）；全部列加 --all-columns，或存成工作簿：--format xlsx --out 文件名.xlsx"
            );
            table(&report, &footer, shown).into_bytes()
        }
        OutputFormat::Json => serde_json::to_vec_pretty(&json::report_json(&report))?,
        OutputFormat::Csv => csv::report(&report)?,
        OutputFormat::Xlsx => {
            if args.out.is_none() {
                bail!("xlsx 输出需要 --out 文件名，例如 --out 2025年第3季度_满意度分析.xlsx");
            }
            dashboards::xlsx::report_workbook(&report, scope)?
        }
    };
    output::emit(&bytes, args.out.as_deref())?;
    if args.format != OutputFormat::Table {
        eprintln!("{footer}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The report with `--scheme FILE` if given; else, when a catalog is at hand, as the
/// server computes it (each county's scheme in force, a frozen year's result unless
/// `--latest`); else with the contract's default scheme.
async fn compute(
    root: &str,
    wh: &Warehouse,
    kind: ReportKind,
    scope: &Scope,
    args: &ReportArgs,
    snapshot: Snapshot,
) -> Result<Report> {
    // A monthly report's period is its month.
    let period = if kind.is_monthly() { args.month } else { args.quarter };
    if let Some(path) = &args.scheme {
        let scheme = Scheme::from_toml_file(path)?;
        return Ok(wh.report(kind, scope, args.year, period, &scheme, &snapshot).await?);
    }
    let Some(catalog) = crate::server::catalog_at_hand(root, &args.catalog).await? else {
        return Ok(wh.report(kind, scope, args.year, period, &Scheme::default(), &snapshot).await?);
    };
    let state = crate::server::cli_state(wh, catalog);
    let asked = api::reports::Asked { snapshot, latest: args.latest };
    let report = api::reports::report_at(&state, kind, scope, args.year, period, &asked).await;
    state.catalog.close().await;
    Ok((*report.map_err(crate::server::api_error)?).clone())
}

fn kind_of(args: &ReportArgs) -> Result<ReportKind> {
    let kind = ReportKind::parse(&args.kind)
        .ok_or_else(|| anyhow!("未知的报表“{}”；可用：{}", args.kind, ReportKind::choices()))?;
    Ok(match (kind, args.by) {
        (ReportKind::Quarterly, Some(Breakdown::Category)) => ReportKind::QuarterlyByCategory,
        (ReportKind::Quarterly, Some(Breakdown::Channel)) => ReportKind::QuarterlyByChannel,
        (k, Some(_)) if !k.is_quarterly() => bail!("--by 只用于 quarterly 报表"),
        (k, _) => k,
    })
}

/// `--as-of-version 3` (every table) or `topics=3,evaluations=5`; `--as-of 2026-01-31`
/// (the parser the API and the pages share, [`Snapshot::parse`]).
fn snapshot_of(args: &ReportArgs) -> Result<Snapshot> {
    Ok(Snapshot::parse(args.as_of_version.as_deref(), args.as_of.as_deref())?)
}

/// The 口径 line: period, the place by name and the account, scheme and data versions.
fn about(report: &Report, scope: &Scope) -> String {
    let m = &report.meta;
    let period = match m.quarter {
        Some(month) if report.kind.is_monthly() => format!("{}年{month}月", m.year),
        Some(q) => format!("{}年第{q}季度", m.year),
        None => format!("{}年", m.year),
    };
    let versions: Vec<String> = m.versions.iter().map(|(t, v)| format!("{t}={v}")).collect();
    let notes: String = m.notes.iter().map(|n| format!("\n{n}")).collect();
    format!(
        "{}｜{period}｜{}｜评分方案：{}｜数据版本：{}｜共 {} 行{notes}",
        report.kind.chinese(),
        format!("{}（{}）", dashboards::naming::scope_text(scope, [report]), m.scope),
        m.scheme_text(),
        versions.join(","),
        report.num_rows()
    )
}

/// The columns a terminal shows by default, in the report's own order: who and when, and
/// the figures a county reads first. A 49-column table wraps into nothing on a terminal;
/// every column stays in `--all-columns`, CSV, JSON and XLSX.
const TERMINAL_FIGURES: &[Figure] = &[
    Figure::CountyName,
    Figure::CommunityName,
    Figure::CadreName,
    Figure::Quarter,
    Figure::CategoryLabel,
    Figure::ChannelLabel,
    Figure::Communities,
    Figure::TopicsRaised,
    Figure::Topics,
    Figure::CompletionRate,
    Figure::OnTimeRate,
    Figure::SatisfactionRate,
    Figure::SatisfactionIndex,
    Figure::SatisfactionIndexChange,
    Figure::RectificationRate,
    Figure::CadreScore,
    Figure::CommunityScore,
    Figure::AvgScore,
    Figure::RankInCounty,
    Figure::GradeChinese,
];

/// The report as a clerk reads it: the columns people read (labels, not tokens) whose
/// figure `keep` accepts, each cell as [`text::figure`] shows it, and the 口径 line.
fn table(report: &Report, footer: &str, keep: impl Fn(Figure) -> bool) -> String {
    let mut shown = text::for_people_columns(&report.columns);
    shown.retain(|&i| keep(report.columns[i].figure));
    let mut t = output::text_table(shown.iter().map(|i| report.columns[*i].chinese));
    for batch in &report.batches {
        for row in 0..batch.num_rows() {
            t.add_row(shown.iter().map(|i| text::figure(batch.column(*i), row, report.columns[*i].kind)));
        }
    }
    format!("{t}\n{footer}\n")
}
