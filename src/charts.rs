//! `yishi chart`, `yishi export pack` and the hidden `yishi bench charts`: the charts and
//! the quarterly report pack of the `dashboards` crate on the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use dashboards::charts::{self, ChartData, ChartFormat, ChartName, ChartOptions, ChartRequest};
use ingest::Scope;
use warehouse::scheme::Scheme;
use warehouse::{Snapshot, Warehouse};

/// Size of the picture; the defaults fit the text width of an A4 page at 2×.
#[derive(Debug, Args)]
pub(crate) struct SizeArgs {
    /// Width in logical pixels (1/96 inch).
    #[arg(long, default_value_t = 590)]
    pub(crate) width: u32,
    /// Height in logical pixels (default: 400, taller for long lists of communities or cadres).
    #[arg(long)]
    pub(crate) height: Option<u32>,
    /// Device pixels per logical pixel for PNG: 2 = 192 DPI (print), 1 = screen.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) scale: f64,
}

impl SizeArgs {
    fn options(&self) -> ChartOptions {
        ChartOptions { width_px: self.width, height_px: self.height, scale: self.scale }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ChartArgs {
    /// satisfaction_trend, dimensions, rates_by_community, cadre_scores, community_ranking,
    /// topics_by_category, topics_by_channel, satisfaction_heatmap.
    pub(crate) name: String,
    #[arg(long)]
    pub(crate) year: i32,
    /// 1–4 (default: the whole year).
    #[arg(long)]
    pub(crate) quarter: Option<u32>,
    /// png or svg (default: from the --out extension, else png).
    #[arg(long, value_enum)]
    pub(crate) format: Option<ChartFileFormat>,
    /// The file to write.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Scoring scheme TOML (default: the contract's).
    #[arg(long, env = "YISHI_SCHEME")]
    pub(crate) scheme: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) size: SizeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ChartFileFormat {
    Png,
    Svg,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(subcommand)]
    pub(crate) command: ExportCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// Every chart (PNG and SVG) and the workbook of one quarter, with Chinese file names,
    /// e.g. 2025年第3季度_满意度分析_安泽县.xlsx.
    Pack(PackArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PackArgs {
    #[arg(long)]
    pub(crate) year: i32,
    #[arg(long)]
    pub(crate) quarter: u32,
    /// The folder to write into (created if missing).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Scoring scheme TOML (default: the contract's).
    #[arg(long, env = "YISHI_SCHEME")]
    pub(crate) scheme: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) size: SizeArgs,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    pub(crate) command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Time fetching the reports, rendering each chart (PNG and SVG) and the whole pack.
    Charts(BenchChartsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BenchChartsArgs {
    #[arg(long)]
    pub(crate) year: i32,
    #[arg(long)]
    pub(crate) quarter: u32,
    /// Renders per chart and format; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub(crate) runs: usize,
    /// Where the timed pack is written (default: a folder under the system temp dir).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

fn scheme_of(path: Option<&Path>) -> Result<Scheme> {
    Ok(match path {
        Some(path) => Scheme::from_toml_file(path)?,
        None => Scheme::default(),
    })
}

fn format_of(args: &ChartArgs) -> ChartFormat {
    let by_extension = args.out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match (args.format, by_extension.as_deref()) {
        (Some(ChartFileFormat::Svg), _) | (None, Some("svg")) => ChartFormat::Svg,
        _ => ChartFormat::Png,
    }
}

/// `yishi chart NAME …`: one chart to one file.
pub(crate) async fn chart(root: &str, scope: &Scope, args: &ChartArgs) -> Result<ExitCode> {
    let name = ChartName::parse(&args.name)?;
    let scheme = scheme_of(args.scheme.as_deref())?;
    let request = ChartRequest { year: args.year, quarter: args.quarter };
    let wh = Warehouse::open(root).await?;
    let data = ChartData::fetch(&wh, &[name], scope, request, &scheme, &Snapshot::Latest).await?;
    let bytes = charts::render(name, &data, format_of(args), &args.size.options())?;
    std::fs::write(&args.out, bytes).with_context(|| format!("无法写入 {}", args.out.display()))?;
    let period = charts::period_text(name, &data)?;
    eprintln!("已生成 {}（{}，{period}，{}）", args.out.display(), name.chinese(), data.scope_text());
    Ok(ExitCode::SUCCESS)
}

/// `yishi export pack …`: the county's charts and workbook of a quarter.
pub(crate) async fn export(root: &str, scope: &Scope, args: &ExportArgs) -> Result<ExitCode> {
    let ExportCommand::Pack(args) = &args.command;
    if matches!(scope, Scope::Platform) {
        bail!("报表包按县区或社区生成：请加 --county 县区代码（如 --county 141026）或 --community 社区代码");
    }
    let scheme = scheme_of(args.scheme.as_deref())?;
    let request = ChartRequest { year: args.year, quarter: Some(args.quarter) };
    let wh = Warehouse::open(root).await?;
    let pack = dashboards::pack::pack(&wh, scope, request, &scheme, &Snapshot::Latest, &args.size.options()).await?;
    let written = pack.write_to(&args.out)?;
    for path in &written {
        println!("{}", path.display());
    }
    eprintln!("报表包已写入 {}：{} 个文件", args.out.display(), written.len());
    Ok(ExitCode::SUCCESS)
}

/// `yishi bench charts …`: timings for docs/benchmarks.md.
pub(crate) async fn bench(root: &str, scope: &Scope, args: &BenchArgs) -> Result<ExitCode> {
    let BenchCommand::Charts(args) = &args.command;
    let scheme = Scheme::default();
    let request = ChartRequest { year: args.year, quarter: Some(args.quarter) };
    let options = ChartOptions::default();
    let wh = Warehouse::open(root).await?;
    let started = Instant::now();
    let data = ChartData::fetch(&wh, &ChartName::ALL, scope, request, &scheme, &Snapshot::Latest).await?;
    println!("fetch_reports_ms\t{:.1}", millis(started));
    println!("chart\tformat\tmedian_ms\tbytes");
    for name in ChartName::ALL {
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            let mut times = Vec::with_capacity(args.runs);
            let mut size = 0;
            for _ in 0..args.runs.max(1) {
                let t = Instant::now();
                size = charts::render(name, &data, format, &options)?.len();
                times.push(millis(t));
            }
            times.sort_by(f64::total_cmp);
            println!("{name}\t{}\t{:.1}\t{size}", format.extension(), times[times.len() / 2]);
        }
    }
    let out = args.out.clone().unwrap_or_else(|| std::env::temp_dir().join("yishi-bench-pack"));
    let t = Instant::now();
    let pack = dashboards::pack::pack(&wh, scope, request, &scheme, &Snapshot::Latest, &options).await?;
    let files = pack.write_to(&out)?;
    println!("pack_total_ms\t{:.1}\t{} files in {}", millis(t), files.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

fn millis(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
