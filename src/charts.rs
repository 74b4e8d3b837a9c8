//! `yishi chart`, `yishi export pack` and the hidden `yishi bench charts`: the charts and
//! the quarterly report pack of the `dashboards` crate on the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use api::charts::ServerReports;
use clap::{Args, Subcommand, ValueEnum};
use dashboards::charts::{self, ChartData, ChartError, ChartFormat, ChartName, ChartOptions, ChartRequest};
use dashboards::sources::{ReportSource, WarehouseReports};
use ingest::Scope;
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::{CountySchemes, Scheme, VersionedScheme};
use warehouse::{Snapshot, Warehouse};

/// Size of the picture; the defaults fit the text width of an A4 page at 2×.
#[derive(Debug, Args)]
pub(crate) struct SizeArgs {
    /// 宽度，逻辑像素（1/96 英寸）。
    #[arg(long, default_value_t = 590, value_name = "像素")]
    pub(crate) width: u32,
    /// 高度，逻辑像素（默认 400；社区或干部多时自动加高）。
    #[arg(long, value_name = "像素")]
    pub(crate) height: Option<u32>,
    /// PNG 的放大倍数：2 = 192 DPI（打印），1 = 屏幕。
    #[arg(long, default_value_t = 2.0, value_name = "倍数")]
    pub(crate) scale: f64,
}

impl SizeArgs {
    fn options(&self) -> ChartOptions {
        ChartOptions { width_px: self.width, height_px: self.height, scale: self.scale }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ChartArgs {
    /// 图：satisfaction_trend、dimensions、rates_by_community、cadre_scores、community_ranking、topics_by_category、topics_by_channel、satisfaction_heatmap（见 yishi --help）。
    #[arg(value_name = "图")]
    pub(crate) name: String,
    /// 年份，例如 2025。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    /// 季度 1–4（默认：全年）。
    #[arg(long, value_name = "季度")]
    pub(crate) quarter: Option<u32>,
    /// png 或 svg（默认：按 --out 的扩展名，否则 png）。
    #[arg(long, value_enum, value_name = "格式")]
    pub(crate) format: Option<ChartFileFormat>,
    /// 写入的文件。
    #[arg(long, value_name = "文件")]
    pub(crate) out: PathBuf,
    /// 考核方案 TOML 文件（默认：账号库中本县区现行的方案；没有账号库时为数据口径的方案）。
    #[arg(long, env = "YISHI_SCHEME", value_name = "文件")]
    pub(crate) scheme: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    #[command(flatten)]
    pub(crate) size: SizeArgs,
}

/// Which data a chart or pack is drawn from: an earlier version, a date, the latest data
/// of a frozen year; and the catalog that holds the county's schemes and freezes.
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// 按较早的数据生成：一个版本号（所有表），或 表=版本,…（与 yishi report 相同）。
    #[arg(long, conflicts_with = "as_of", value_name = "版本")]
    pub(crate) as_of_version: Option<String>,
    /// 按这一天结束时（UTC）的数据生成，例如 2026-01-31。
    #[arg(long, value_name = "日期")]
    pub(crate) as_of: Option<String>,
    /// 年度考核已冻结时也按最新数据计算（默认显示冻结结果，见 yishi freeze）。
    #[arg(long)]
    pub(crate) latest: bool,
    #[command(flatten)]
    pub(crate) catalog: crate::server::CatalogArgs,
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
    /// 一个季度的全部图表（PNG 和 SVG）和工作簿，文件名用中文，例如2025年第3季度_满意度分析_安泽县.xlsx。
    #[command(after_help = "示例：\n  yishi export pack --year 2025 --quarter 3 --county 141026 --out 报表")]
    Pack(PackArgs),
    /// 社区公示海报（A4，PNG 和 PDF）：本季度三率、办结的议题、近期说事议事日和公示页二维码，贴在社区公示栏。
    #[command(
        after_help = "示例：\n  yishi export notice --community 141026100001 --year 2025 --quarter 3 --base-url https://yishi.example.gov.cn"
    )]
    Notice(NoticeArgs),
    /// 书面分析报告（Word 或 PDF）：加 --quarter 为季度报告，例如《安泽县2025年第三季度说事议事工作满意度分析报告》；
    /// 不加 --quarter 为年度报告（四个季度、社区考核与红黑榜、干部考核等级及较上年的变化、逾期事项）。
    /// 由数据生成的文字、表格、图表和口径附录。
    #[command(after_help = "示例：\n  yishi export report --year 2025 --quarter 3 --county 141026\n  \
                      yishi export report --year 2025 --quarter 3 --county 141026 --out 三季度报告.docx\n  \
                      yishi export report --year 2025 --county 141026 --format pdf   年度报告")]
    Report(DocumentArgs),
}

/// The format of the written report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DocumentFormat {
    Docx,
    Pdf,
}

#[derive(Debug, Args)]
pub(crate) struct DocumentArgs {
    /// 年份，例如 2025。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    /// 季度 1–4；不写则生成全年的年度报告。
    #[arg(long, value_name = "季度")]
    pub(crate) quarter: Option<u32>,
    /// docx（Word，默认，可修改）或 pdf（A4，内嵌中文字体，任何电脑上都显示汉字）。
    #[arg(long, value_enum, default_value = "docx", value_name = "格式")]
    pub(crate) format: DocumentFormat,
    /// 写入的文件（默认：当前文件夹下的 2025年第3季度_满意度分析报告_安泽县.docx）。
    #[arg(long, value_name = "文件")]
    pub(crate) out: Option<PathBuf>,
    /// 考核方案 TOML 文件（默认：账号库中本县区现行的方案；没有账号库时为数据口径的方案）。
    #[arg(long, env = "YISHI_SCHEME", value_name = "文件")]
    pub(crate) scheme: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataArgs,
}

#[derive(Debug, Args)]
pub(crate) struct NoticeArgs {
    /// 年份，例如 2025。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    /// 季度 1–4。
    #[arg(long, value_name = "季度")]
    pub(crate) quarter: u32,
    /// 写入的文件夹（没有则创建；默认：当前文件夹）。
    #[arg(long, value_name = "文件夹", default_value = ".")]
    pub(crate) out: PathBuf,
    /// 居民访问本平台的地址，二维码指向 <地址>/public/<社区代码>。
    #[arg(long, env = "YISHI_PUBLIC_URL", value_name = "地址", default_value = "http://127.0.0.1:8080")]
    pub(crate) base_url: String,
    #[command(flatten)]
    pub(crate) catalog: crate::server::CatalogArgs,
}

#[derive(Debug, Args)]
pub(crate) struct PackArgs {
    /// 年份，例如 2025。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    /// 季度 1–4。
    #[arg(long, value_name = "季度")]
    pub(crate) quarter: u32,
    /// 写入的文件夹（没有则创建）。
    #[arg(long, value_name = "文件夹")]
    pub(crate) out: PathBuf,
    /// 考核方案 TOML 文件（默认：账号库中本县区现行的方案；没有账号库时为数据口径的方案）。
    #[arg(long, env = "YISHI_SCHEME", value_name = "文件")]
    pub(crate) scheme: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataArgs,
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
    /// 计时：取报表、画每张图（PNG 和 SVG）、写整个报表包。
    Charts(BenchChartsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BenchChartsArgs {
    /// 年份。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    /// 季度 1–4。
    #[arg(long, value_name = "季度")]
    pub(crate) quarter: u32,
    /// 每张图每种格式画几次；报告中位数。
    #[arg(long, default_value_t = 5, value_name = "次数")]
    pub(crate) runs: usize,
    /// 计时用的报表包写到哪里（默认：系统临时文件夹下）。
    #[arg(long, value_name = "文件夹")]
    pub(crate) out: Option<PathBuf>,
}

fn format_of(args: &ChartArgs) -> ChartFormat {
    let by_extension = args.out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match (args.format, by_extension.as_deref()) {
        (Some(ChartFileFormat::Svg), _) | (None, Some("svg")) => ChartFormat::Svg,
        _ => ChartFormat::Png,
    }
}

/// Where a command's charts get their reports: with `--scheme FILE` (or without a
/// catalog) the warehouse with that scheme (or the contract's default); with a catalog at
/// hand, as the server computes them (each county's scheme in force, a frozen year's
/// assessment as frozen unless `--latest`), so the CLI, the pages and the API agree.
enum Source<'a> {
    Warehouse(WarehouseReports<'a>),
    Server(ServerReports<'a>),
}

impl ReportSource for Source<'_> {
    async fn report(
        &self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
    ) -> Result<Report, ChartError> {
        match self {
            Source::Warehouse(s) => s.report(kind, scope, year, quarter).await,
            Source::Server(s) => s.report(kind, scope, year, quarter).await,
        }
    }

    async fn scheme_of(&self, scope: &Scope, report: &Report) -> Result<Scheme, ChartError> {
        match self {
            Source::Warehouse(s) => s.scheme_of(scope, report).await,
            Source::Server(s) => s.scheme_of(scope, report).await,
        }
    }
}

/// What a source is made of, owned by the command while it runs.
struct Sourcing {
    wh: Warehouse,
    schemes: CountySchemes,
    snapshot: Snapshot,
    state: Option<api::AppState>,
    latest: bool,
}

impl Sourcing {
    async fn open(root: &str, scheme: Option<&Path>, data: &DataArgs) -> Result<Sourcing> {
        let snapshot = Snapshot::parse(data.as_of_version.as_deref(), data.as_of.as_deref())?;
        let wh = Warehouse::open(root).await?;
        let (schemes, state) = match scheme {
            Some(path) => (CountySchemes::one(VersionedScheme::unversioned(Scheme::from_toml_file(path)?)), None),
            None => match crate::server::catalog_at_hand(root, &data.catalog).await? {
                Some(catalog) => (CountySchemes::default(), Some(crate::server::cli_state(&wh, catalog))),
                None => (CountySchemes::default(), None),
            },
        };
        Ok(Sourcing { wh, schemes, snapshot, state, latest: data.latest })
    }

    fn source(&self) -> Source<'_> {
        match &self.state {
            Some(state) => {
                let asked = api::reports::Asked { snapshot: self.snapshot.clone(), latest: self.latest };
                Source::Server(ServerReports { state, asked })
            }
            None => Source::Warehouse(WarehouseReports::new(&self.wh, &self.schemes, &self.snapshot)),
        }
    }

    async fn close(self) {
        if let Some(state) = self.state {
            state.catalog.close().await;
        }
    }
}

/// `yishi chart NAME …`: one chart to one file.
pub(crate) async fn chart(root: &str, scope: &Scope, args: &ChartArgs) -> Result<ExitCode> {
    let name = ChartName::parse(&args.name)?;
    let request = ChartRequest { year: args.year, quarter: args.quarter };
    let sourcing = Sourcing::open(root, args.scheme.as_deref(), &args.data).await?;
    let data = dashboards::sources::chart_data(&sourcing.source(), name, scope, request).await;
    sourcing.close().await;
    let data = data?;
    let bytes = charts::render(name, &data, format_of(args), &args.size.options())?;
    std::fs::write(&args.out, bytes).with_context(|| format!("无法写入 {}", args.out.display()))?;
    let period = charts::period_text(name, &data)?;
    eprintln!("已生成 {}（{}，{period}，{}）", args.out.display(), name.chinese(), data.scope_text());
    Ok(ExitCode::SUCCESS)
}

/// `yishi export pack …` or `yishi export report …`.
pub(crate) async fn export(root: &str, scope: &Scope, args: &ExportArgs) -> Result<ExitCode> {
    match &args.command {
        ExportCommand::Pack(args) => export_pack(root, scope, args).await,
        ExportCommand::Report(args) => export_document(root, scope, args).await,
        ExportCommand::Notice(args) => notice(root, scope, args).await,
    }
}

/// `yishi export report …`: the written report of a quarter, or of the year without
/// `--quarter`, as DOCX or PDF.
async fn export_document(root: &str, scope: &Scope, args: &DocumentArgs) -> Result<ExitCode> {
    let sourcing = Sourcing::open(root, args.scheme.as_deref(), &args.data).await?;
    let (source, options) = (sourcing.source(), ChartOptions::default());
    let document = match args.quarter {
        Some(quarter) => dashboards::documents::quarterly(&source, scope, args.year, quarter, &options).await,
        None => dashboards::documents::yearly(&source, scope, args.year, &options).await,
    };
    drop(source);
    sourcing.close().await;
    let document = document?;
    let (bytes, extension) = match args.format {
        DocumentFormat::Docx => (dashboards::documents::docx::write(&document)?, "docx"),
        DocumentFormat::Pdf => (dashboards::documents::pdf::write(&document)?, "pdf"),
    };
    let out = match &args.out {
        Some(path) => path.clone(),
        None => PathBuf::from(dashboards::documents::file_name(&document, extension)),
    };
    std::fs::write(&out, bytes)
        .with_context(|| format!("无法写入 {}；请检查文件夹是否存在、是否有写权限", out.display()))?;
    println!("{}", out.display());
    eprintln!("已生成《{}》：{}", document.title, out.display());
    Ok(ExitCode::SUCCESS)
}

/// `yishi export pack …`: the county's charts and workbook of a quarter.
async fn export_pack(root: &str, scope: &Scope, args: &PackArgs) -> Result<ExitCode> {
    if matches!(scope, Scope::Platform) {
        bail!("报表包按县区或社区生成：请加 --county 县区代码（如 --county 141026）或 --community 社区代码");
    }
    let request = ChartRequest { year: args.year, quarter: Some(args.quarter) };
    let sourcing = Sourcing::open(root, args.scheme.as_deref(), &args.data).await?;
    let pack = dashboards::pack::pack_from(&sourcing.source(), scope, request, &args.size.options()).await;
    sourcing.close().await;
    let written = pack?.write_to(&args.out)?;
    for path in &written {
        println!("{}", path.display());
    }
    eprintln!("报表包已写入 {}：{} 个文件", args.out.display(), written.len());
    Ok(ExitCode::SUCCESS)
}

/// `yishi export notice …`: the community's A4 公示 poster as PNG and PDF. The catalog
/// at hand says whether cadres appear by name; without one, a throwaway catalog serves
/// the computation (by role only). Warns when the public page the QR code leads to is off.
async fn notice(root: &str, scope: &Scope, args: &NoticeArgs) -> Result<ExitCode> {
    let Scope::Community(community) = scope else {
        bail!("公示海报按社区生成：请加 --community 社区代码（如 --community 141026100001）");
    };
    let wh = Warehouse::open(root).await?;
    let throwaway = std::env::temp_dir().join(format!("yishi-notice-{}.db", std::process::id()));
    let catalog = match crate::server::catalog_at_hand(root, &args.catalog).await? {
        Some(catalog) => catalog,
        None => api::Catalog::open(&format!("sqlite://{}?mode=rwc", throwaway.display()))
            .await
            .map_err(crate::server::api_error)?,
    };
    let state = crate::server::cli_state(&wh, catalog);
    let setting = state.catalog.public_page(community).await.map_err(crate::server::api_error)?;
    let names = setting.as_ref().is_some_and(|s| s.show_names == 1);
    let page = api::public::page_data(&state, community, Some(args.year), Some(args.quarter), names).await;
    state.catalog.close().await;
    let _ = std::fs::remove_file(&throwaway);
    let page = page.map_err(crate::server::api_error)?;
    let url = format!("{}/public/{community}", args.base_url.trim_end_matches('/'));
    std::fs::create_dir_all(&args.out).with_context(|| format!("无法创建 {}", args.out.display()))?;
    let stem = format!("{}_公示_{}", page.period, dashboards::naming::file_safe(&page.community_name));
    for (ext, bytes) in [
        ("png", dashboards::charts::notice::poster_png(&page, &url)?),
        ("pdf", dashboards::charts::notice::poster_pdf(&page, &url)?),
    ] {
        let path = args.out.join(format!("{stem}.{ext}"));
        std::fs::write(&path, bytes).with_context(|| format!("无法写入 {}", path.display()))?;
        println!("{}", path.display());
    }
    if setting.is_none() {
        eprintln!("提示：社区 {community} 的公示页尚未开通，二维码指向的 {url} 暂时打不开；请在网页“公示页”中开通");
    }
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
    let schemes = CountySchemes::one(VersionedScheme::unversioned(scheme.clone()));
    let pack = dashboards::pack::pack(&wh, scope, request, &schemes, &Snapshot::Latest, &options).await?;
    let files = pack.write_to(&out)?;
    println!("pack_total_ms\t{:.1}\t{} files in {}", millis(t), files.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

fn millis(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
