//! Command-line arguments. Every flag can also come from the environment (`YISHI_…`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::args::{ScopeArgs, parse_size};

/// 议事 yishi — 说事议事台账的分析平台（县区季度满意度分析、干部考核、社区排名）。
///
/// Ingests community ledgers (CSV in UTF-8 or GB18030, XLSX, JSON lines) into a Delta
/// warehouse and computes the figures of the data contract.
#[derive(Debug, Parser)]
#[command(name = "yishi", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Warehouse root: a local folder or an object-store URL.
    #[arg(long, global = true, env = "YISHI_WAREHOUSE", default_value = "./data")]
    pub(crate) warehouse: String,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    /// Who is acting, recorded in the batch log (default: the OS user).
    #[arg(long, global = true, env = "YISHI_USER")]
    pub(crate) user: Option<String>,

    /// Log progress to stderr.
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the warehouse (tables and the installation secret); safe to repeat.
    Init,

    /// Ingest ledger files into a table (each file one atomic batch).
    ///
    /// Exit status: 0 when every row was committed, 1 when rows were rejected (with
    /// --partial the valid rows are committed all the same), 2 for usage or I/O errors.
    Ingest(IngestArgs),

    /// 导入模板：一张表的空白 Excel 模板（中文表头、下拉选项、填写说明）或 CSV 表头。
    ///
    /// 示例：yishi template 议题 → 当前文件夹下的 议题_导入模板.xlsx；
    /// yishi template topics --format csv --out topics.csv
    Template(TemplateArgs),

    /// Row counts and versions per table.
    Tables(ListArgs),

    /// The batch log: who ingested which file, when, with what result.
    Batches(ListArgs),

    /// A report of the data contract: quarterly, cadres, communities or counties.
    Report(ReportArgs),

    /// Read-only SQL over the tables in your scope (SELECT only).
    Sql(SqlArgs),

    /// Demo: generate a synthetic county set, ingest it into the warehouse, create a demo
    /// login and serve the dashboards. `yishi demo generate` only writes the ledger files.
    Demo(DemoArgs),

    /// Serve the HTTP API and the dashboards (default http://127.0.0.1:8080/).
    Serve(crate::server::ServeArgs),

    /// Logins of the dashboards: add, passwd, disable, list.
    User(crate::server::UserArgs),

    /// API tokens: create (printed once), revoke, list.
    Token(crate::server::TokenArgs),

    /// A chart as PNG or SVG: satisfaction_trend, dimensions, rates_by_community, cadre_scores,
    /// community_ranking, topics_by_category, topics_by_channel, satisfaction_heatmap.
    Chart(crate::charts::ChartArgs),

    /// Exports: `yishi export pack` writes every chart and the workbook of a quarter.
    Export(crate::charts::ExportArgs),

    /// Timings for docs/benchmarks.md (`yishi bench charts`).
    #[command(hide = true)]
    Bench(crate::charts::BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Table: communities, cadres, sessions, topics, evaluations, rectifications (or 社区, 干部, 会议, 议题, 评价, 整改).
    pub(crate) table: String,

    /// Ledger files (.csv, .xlsx, .jsonl).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,

    /// Commit the valid rows even when some are rejected; the rejects go to a CSV to fix and ingest again.
    #[arg(long)]
    pub(crate) partial: bool,

    /// XLSX: the sheet to read (default: the first).
    #[arg(long)]
    pub(crate) sheet: Option<String>,

    /// Where to write the rejected rows (default: <file>.rejects.csv in the current folder).
    #[arg(long)]
    pub(crate) rejects_out: Option<PathBuf>,

    /// Largest file accepted, e.g. 500MB, 2GiB or bytes.
    #[arg(long, env = "YISHI_MAX_FILE_SIZE", default_value = "2GiB", value_parser = parse_size)]
    pub(crate) max_file_size: u64,

    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,

    /// 预览：只显示导入后会新增、更新（列出变化的字段）、不变和不合格各多少行，不写入任何数据、不记批次、不写拒绝文件。
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TemplateArgs {
    /// 表：communities、cadres、sessions、topics、evaluations、rectifications（或 社区、干部、会议、议题、评价、整改）
    pub(crate) table: String,
    /// 模板格式：xlsx（带下拉选项和填写说明）或 csv（只有表头）
    #[arg(long, value_enum, default_value_t = TemplateFormat::Xlsx)]
    pub(crate) format: TemplateFormat,
    /// 写到这个文件（默认：当前文件夹下的 <表名>_导入模板.xlsx）
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TemplateFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// quarterly (季度满意度分析), cadres (干部考核), communities (社区考核), counties (县区汇总).
    pub(crate) kind: String,
    #[arg(long)]
    pub(crate) year: i32,
    /// 1–4, quarterly reports only (default: every quarter of the year).
    #[arg(long)]
    pub(crate) quarter: Option<u32>,
    /// quarterly: break down by topic category or source channel.
    #[arg(long, value_enum)]
    pub(crate) by: Option<Breakdown>,
    /// Scoring scheme TOML (default: the contract's).
    #[arg(long, env = "YISHI_SCHEME")]
    pub(crate) scheme: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) format: OutputFormat,
    /// Write to this file instead of stdout (required for xlsx).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Recompute on earlier data: one version for every table, or table=version,… as a
    /// report's footer lists them.
    #[arg(long, conflicts_with = "as_of")]
    pub(crate) as_of_version: Option<String>,
    /// Recompute on the data as it was at the end of this date (UTC), e.g. 2026-01-31.
    #[arg(long)]
    pub(crate) as_of: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Breakdown {
    Category,
    Channel,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// One query, e.g. "SELECT status, count(*) FROM topics GROUP BY status".
    pub(crate) query: String,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) format: OutputFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Table,
    Csv,
    Json,
    Xlsx,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print as JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    #[command(subcommand)]
    pub(crate) command: Option<DemoCommand>,
    /// Where the demo server listens.
    #[arg(long, env = "YISHI_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: std::net::SocketAddr,
    /// Stop after ingesting (no demo login, no server).
    #[arg(long)]
    pub(crate) no_serve: bool,
    #[command(flatten)]
    pub(crate) catalog: crate::server::CatalogArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DemoCommand {
    /// Write a realistic synthetic ledger set in the contract's format.
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Output folder.
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[arg(long, default_value_t = 2)]
    pub(crate) counties: usize,
    #[arg(long, default_value_t = 5)]
    pub(crate) communities_per_county: usize,
    #[arg(long, default_value_t = 1)]
    pub(crate) years: usize,
    /// The last year of data (data are as of its 31 December).
    #[arg(long, default_value_t = 2025)]
    pub(crate) last_year: i32,
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub(crate) format: Format,
    /// GB18030 CSV with Chinese headers, values and dates.
    #[arg(long)]
    pub(crate) chinese: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Xlsx,
    Jsonl,
}
