//! Command-line arguments. Every flag can also come from the environment (`YISHI_…`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::args::{ScopeArgs, parse_header_row, parse_size};

/// 议事 yishi — 说事议事台账的分析平台（县区季度满意度分析、干部考核、社区排名）。
///
/// 把各社区的台账（CSV：UTF-8 或 GB18030；XLSX；JSON lines）导入数据仓库，按数据口径计算季度满意度分析、干部考核和社区排名，并输出图表、工作簿和网页。
#[derive(Debug, Parser)]
#[command(name = "yishi", version, long_about = None, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// 数据仓库位置：本地文件夹或对象存储地址。
    #[arg(long, global = true, value_name = "位置", env = "YISHI_WAREHOUSE", default_value = "./data")]
    pub(crate) warehouse: String,

    /// 对象存储（s3://）的服务地址，例如 http://10.0.0.5:9000（本地部署的 S3 兼容服务）；不填则用 AWS。
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "地址")]
    pub(crate) s3_endpoint: Option<String>,

    /// 对象存储的区域，例如 cn-north-1。
    #[arg(long, global = true, env = "AWS_REGION", value_name = "区域")]
    pub(crate) s3_region: Option<String>,

    /// 计算引擎：local（本机计算，默认）或 ballista://调度器主机:50050（在 Ballista 集群上算报表和 SQL 查询；需用 --features ballista 编译，见 docs/scale-out.md）。
    #[arg(long, global = true, env = "YISHI_ENGINE", value_name = "引擎")]
    pub(crate) engine: Option<String>,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    /// 操作人，记入导入日志（默认：操作系统用户名）。
    #[arg(long, global = true, env = "YISHI_USER", value_name = "姓名")]
    pub(crate) user: Option<String>,

    /// 在标准错误输出显示运行日志。
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// 创建数据仓库（各表和本机密钥）；可重复执行。
    #[command(after_help = "示例：\n  yishi init\n  yishi init --warehouse D:/议事数据")]
    Init,

    /// 导入台账文件到一张表（每个文件整批提交，要么全部成功，要么不改动）。
    ///
    /// 退出码：0 全部导入；1 有不合格的行（加 --partial 时合格的行照样导入，不合格的行写入待修改文件）；2 用法或文件读写错误。
    #[command(
        after_help = "示例：\n  yishi ingest 社区 台账/社区.xlsx\n  yishi ingest topics 议题台账.csv --community 141026100001\n  yishi ingest 评价 评价.xlsx --partial --rejects-out 待修改.csv\n  yishi ingest 议题 议题台账.xlsx --header-row 4（表头不在前 30 行时指明）\n  yishi ingest 会议 --from mysql://台账:密码@10.0.0.8/shequ --query \"SELECT * FROM meetings\" --mapping 列名.toml --dry-run\n  yishi ingest 议题 12345工单.json --format workorders --mapping 工单映射.toml\n\n导入顺序：社区 → 干部 → 会议 → 议题 → 评价 → 整改（后面的表引用前面的表）。"
    )]
    Ingest(IngestArgs),

    /// 导入模板：一张表的空白 Excel 模板（中文表头、下拉选项、填写说明）或 CSV 表头。
    #[command(
        after_help = "示例：\n  yishi template 议题                              写出 议题_导入模板.xlsx\n  yishi template topics --format csv --out topics.csv"
    )]
    Template(TemplateArgs),

    /// 各表的行数和版本。
    #[command(after_help = "示例：\n  yishi tables\n  yishi tables --county 141026 --json")]
    Tables(ListArgs),

    /// 导入日志：谁在何时导入了哪个文件，结果如何。
    #[command(after_help = "示例：\n  yishi batches\n  yishi batches --community 141026100001 --json")]
    Batches(ListArgs),

    /// 报表：quarterly 季度满意度分析、cadres 干部考核、communities 社区考核、counties 县区汇总、
    /// meetings 议事会议、handling 办理方式、units 联办单位、publicity 公示。
    #[command(
        after_help = "示例：\n  yishi report quarterly --year 2025 --quarter 3 --county 141026\n  yishi report quarterly --year 2025 --quarter 3 --by category --format csv --out 分类.csv\n  yishi report cadres --year 2025 --format xlsx --out 干部考核.xlsx\n  yishi report communities --year 2025 --as-of 2026-01-31"
    )]
    Report(ReportArgs),

    /// 只读 SQL 查询，只查得到本账号范围内的数据（仅 SELECT）。
    #[command(
        after_help = "示例：\n  yishi sql \"SELECT status, count(*) FROM topics GROUP BY status\" --community 141026100001\n  yishi sql \"SELECT * FROM evaluations LIMIT 10\" --format csv --out 评价.csv"
    )]
    Sql(SqlArgs),

    /// 演示：生成模拟的县区台账，导入数据仓库，创建演示账号并启动网页。`yishi demo generate` 只生成台账文件。
    #[command(
        after_help = "示例：\n  yishi demo\n  yishi demo --no-serve\n  yishi demo generate --out 台账 --counties 2 --communities-per-county 5 --years 2 --chinese"
    )]
    Demo(DemoArgs),

    /// 启动网页和 HTTP 接口（默认 http://127.0.0.1:8080/）。
    #[command(
        after_help = "示例：\n  yishi serve\n  yishi serve --listen 0.0.0.0:8080 --catalog postgres://yishi:密码@127.0.0.1/yishi --secure-cookies"
    )]
    Serve(crate::server::ServeArgs),

    /// 网页登录账号：add 添加、passwd 改密码、disable 停用、list 列出。
    #[command(
        after_help = "示例：\n  yishi user add 王芳 --county 141026\n  yishi user add admin --platform --password-stdin < 密码.txt\n  yishi user list"
    )]
    User(crate::server::UserArgs),

    /// 接口令牌：create 创建（只显示一次）、revoke 吊销、list 列出。
    #[command(
        after_help = "示例：\n  yishi token create --county 141026 --label 县大数据中心\n  yishi token revoke yishi_ab12cd\n  yishi token list"
    )]
    Token(crate::server::TokenArgs),

    /// 画一张图（PNG 或 SVG）：satisfaction_trend 满意度趋势、dimensions 分项满意度、rates_by_community 各社区三率、cadre_scores 干部得分、community_ranking 社区排名、
    /// topics_by_category 议题分类、topics_by_channel 议题来源、satisfaction_heatmap 满意度热力图。
    #[command(
        after_help = "示例：\n  yishi chart satisfaction_trend --year 2025 --county 141026 --out 趋势.png\n  yishi chart community_ranking --year 2025 --quarter 3 --county 141026 --format svg --out 排名.svg"
    )]
    Chart(crate::charts::ChartArgs),

    /// 导出：`yishi export pack` 写出一个季度的全部图表和工作簿；`yishi export report` 写出书面分析报告（Word）。
    #[command(after_help = "示例：\n  yishi export pack --year 2025 --quarter 3 --county 141026 --out 报表\n  \
                      yishi export report --year 2025 --quarter 3 --county 141026")]
    Export(crate::charts::ExportArgs),

    /// 冻结一个县区某年度的考核结果：记下年末现行的评分方案版本和各表数据版本，此后按冻结结果显示。
    #[command(
        after_help = "示例：\n  yishi freeze --year 2025 --county 141026\n  yishi report cadres --year 2025 --county 141026 --latest   看最新数据"
    )]
    Freeze(crate::server::FreezeArgs),

    /// Ballista 集群：scheduler 启动调度器、executor 启动执行器（配合 --engine ballista://…；需用 --features ballista 编译）。
    #[command(
        after_help = "示例：\n  yishi cluster scheduler --bind 0.0.0.0:50050\n  yishi cluster executor --scheduler 10.0.0.5:50050\n  yishi report quarterly --year 2025 --quarter 3 --engine ballista://10.0.0.5:50050\n\n部署说明见 docs/scale-out.md。"
    )]
    Cluster(crate::cluster::ClusterArgs),

    /// 性能计时，用于 docs/benchmarks.md（`yishi bench charts`）。
    #[command(hide = true)]
    Bench(crate::charts::BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// 表：社区、干部、会议、议题、评价、整改（或 communities、cadres、sessions、topics、evaluations、rectifications）。
    #[arg(value_name = "表")]
    pub(crate) table: String,

    /// 台账文件（.csv、.xlsx、.jsonl），可以一次给多个。
    #[arg(required_unless_present = "from", conflicts_with = "from", value_name = "文件")]
    pub(crate) files: Vec<PathBuf>,

    /// 从社区自己的数据库读取，而不是文件：postgres://用户:密码@主机/库、mysql://用户:密码@主机/库（MySQL 或 MariaDB）或 sqlite://文件路径（只读连接）。
    #[arg(long, requires = "query", value_name = "地址")]
    pub(crate) from: Option<String>,

    /// 文件格式：默认按内容认台账文件；open311 为 12345 热线等系统导出的 Open311 工单（JSON 或 XML），workorders 为其他格式的 JSON 工单导出（字段名由映射文件指明）；这两种只用于议题表，需 --mapping。
    #[arg(long, value_enum, value_name = "格式")]
    pub(crate) format: Option<IngestFormat>,

    /// 映射文件（TOML）。与 --format open311/workorders 一起用：写明社区代码、责任人编号、办理方式、服务代码对应的议题类别（workorders 还要写明各字段名和工单状态的对应）；与 --from 一起用：[columns] 写明数据库列名对应的台账列（例如 shequ = "社区代码"）。
    #[arg(long, value_name = "文件")]
    pub(crate) mapping: Option<PathBuf>,

    /// 与 --from 一起用：读取台账行的查询；列名按表头的规则认（数据库列名不同时用 AS 改名，例如 SELECT title AS 议题名称）。
    #[arg(long, requires = "from", value_name = "查询")]
    pub(crate) query: Option<String>,

    /// 有不合格的行时，仍导入合格的行；不合格的行写入一个 CSV，改好后再导入。
    #[arg(long)]
    pub(crate) partial: bool,

    /// XLSX：要读的工作表（默认：第一张）。
    #[arg(long, value_name = "工作表")]
    pub(crate) sheet: Option<String>,

    /// CSV/XLSX：表头所在的行号（表格左侧显示的行号，如 3）。默认在前 30 个非空行中自动找表头，跳过标题、填报单位和空行。
    #[arg(long, value_name = "行号", value_parser = parse_header_row)]
    pub(crate) header_row: Option<usize>,

    /// 不合格的行写到哪个文件（默认：当前文件夹下的 <文件名>.rejects.csv）。
    #[arg(long, value_name = "文件")]
    pub(crate) rejects_out: Option<PathBuf>,

    /// 接受的最大文件，例如 500MB、2GiB 或字节数。
    #[arg(long, env = "YISHI_MAX_FILE_SIZE", default_value = "2GiB", value_parser = parse_size, value_name = "大小")]
    pub(crate) max_file_size: u64,

    /// 以 JSON 输出结果（供脚本使用）。
    #[arg(long)]
    pub(crate) json: bool,

    /// 预览：只显示导入后会新增、更新（列出变化的字段）、不变和不合格各多少行，不写入任何数据、不记批次、不写拒绝文件。
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// Formats of ledger files that are not read by their extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IngestFormat {
    /// Open311 GeoReport v2 service requests (JSON or XML).
    Open311,
    /// A JSON work-order export of any field names (a 12345 hotline's), named by the mapping.
    Workorders,
}

#[derive(Debug, Args)]
pub(crate) struct TemplateArgs {
    /// 表：社区、干部、会议、议题、评价、整改（或 communities、cadres、sessions、topics、evaluations、rectifications）。
    #[arg(value_name = "表")]
    pub(crate) table: String,
    /// 模板格式：xlsx（带下拉选项和填写说明）或 csv（只有表头）。
    #[arg(long, value_enum, default_value_t = TemplateFormat::Xlsx, value_name = "格式")]
    pub(crate) format: TemplateFormat,
    /// 写到这个文件（默认：当前文件夹下的 <表名>_导入模板.xlsx）。
    #[arg(long, value_name = "文件")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TemplateFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// 报表：quarterly（季度满意度分析）、cadres（干部考核）、communities（社区考核）、counties（县区汇总）、
    /// meetings（议事会议分析）、handling（办理方式分析）、units（联办单位分析）、publicity（公示分析）、
    /// overdue（逾期清单）、monthly（月度三率排名）、hot_topics（热点议题）。
    #[arg(value_name = "报表")]
    pub(crate) kind: String,
    /// 年份，例如 2025。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    /// 季度 1–4，仅季度报表和逾期清单（默认：全年）。
    #[arg(long, value_name = "季度")]
    pub(crate) quarter: Option<u32>,
    /// 月份 1–12，仅 monthly 报表（默认：全年各月）。
    #[arg(long, value_name = "月份", value_parser = clap::value_parser!(u32).range(1..=12))]
    pub(crate) month: Option<u32>,
    /// 季度报表按议题分类（category）或来源渠道（channel）细分。
    #[arg(long, value_enum, value_name = "维度")]
    pub(crate) by: Option<Breakdown>,
    /// 考核方案 TOML 文件（默认：数据口径的方案）。
    #[arg(long, env = "YISHI_SCHEME", value_name = "文件")]
    pub(crate) scheme: Option<PathBuf>,
    /// 输出格式：table 终端表格、csv、json、xlsx 工作簿。
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, value_name = "格式")]
    pub(crate) format: OutputFormat,
    /// 写入这个文件而不是终端（xlsx 必须给）。
    #[arg(long, value_name = "文件")]
    pub(crate) out: Option<PathBuf>,
    /// 按较早的数据重算：一个版本号（所有表），或 表=版本,…（报表脚注列出的形式）。
    #[arg(long, conflicts_with = "as_of", value_name = "版本")]
    pub(crate) as_of_version: Option<String>,
    /// 按这一天结束时（UTC）的数据重算，例如 2026-01-31。
    #[arg(long, value_name = "日期")]
    pub(crate) as_of: Option<String>,
    /// 终端表格显示全部列（默认只显示主要指标；csv、json、xlsx 总是全部列）。
    #[arg(long)]
    pub(crate) all_columns: bool,
    /// 年度考核已冻结时也按最新数据计算（默认显示冻结结果，见 yishi freeze）。
    #[arg(long)]
    pub(crate) latest: bool,
    #[command(flatten)]
    pub(crate) catalog: crate::server::CatalogArgs,
}

/// 示例 of `yishi --help`: the first commands of a county statistician.
const EXAMPLES: &str = "示例：
  yishi demo                                   生成演示数据并打开网页
  yishi ingest 议题 议题台账.xlsx               导入台账
  yishi report quarterly --year 2025 --quarter 3 --county 141026
  yishi export pack --year 2025 --quarter 3 --county 141026 --out 报表
  yishi export report --year 2025 --quarter 3 --county 141026   书面分析报告（Word）

各命令的说明：yishi <命令> --help";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Breakdown {
    Category,
    Channel,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// 一条查询，例如 "SELECT status, count(*) FROM topics GROUP BY status"。
    #[arg(value_name = "查询")]
    pub(crate) query: String,
    /// 输出格式：table 终端表格、csv、json、xlsx 工作簿。
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, value_name = "格式")]
    pub(crate) format: OutputFormat,
    /// 写入这个文件而不是终端。
    #[arg(long, value_name = "文件")]
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
    /// 以 JSON 输出（供脚本使用）。
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    #[command(subcommand)]
    pub(crate) command: Option<DemoCommand>,
    /// 演示网页的监听地址。
    #[arg(long, env = "YISHI_LISTEN", default_value = "127.0.0.1:8080", value_name = "地址")]
    pub(crate) listen: std::net::SocketAddr,
    /// 导入后即停止（不建演示账号，不启动网页）。
    #[arg(long)]
    pub(crate) no_serve: bool,
    #[command(flatten)]
    pub(crate) catalog: crate::server::CatalogArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DemoCommand {
    /// 按数据口径的格式生成一套逼真的模拟台账。
    #[command(
        after_help = "示例：\n  yishi demo generate --out 台账 --counties 2 --communities-per-county 5 --years 2\n  yishi demo generate --out 台账 --chinese --format xlsx"
    )]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// 输出文件夹。
    #[arg(long, value_name = "文件夹")]
    pub(crate) out: PathBuf,
    /// 县区个数。
    #[arg(long, default_value_t = 2, value_name = "个数")]
    pub(crate) counties: usize,
    /// 每个县区的社区个数。
    #[arg(long, default_value_t = 5, value_name = "个数")]
    pub(crate) communities_per_county: usize,
    /// 年数。
    #[arg(long, default_value_t = 1, value_name = "年数")]
    pub(crate) years: usize,
    /// 数据的最后一年（数据截至该年 12 月 31 日）。
    #[arg(long, default_value_t = 2025, value_name = "年份")]
    pub(crate) last_year: i32,
    /// 随机种子（同一种子生成同样的数据）。
    #[arg(long, default_value_t = 7, value_name = "种子")]
    pub(crate) seed: u64,
    /// 文件格式：csv、xlsx、jsonl。
    #[arg(long, value_enum, default_value_t = Format::Csv, value_name = "格式")]
    pub(crate) format: Format,
    /// 生成 GB18030 编码的 CSV，表头、取值和日期用中文。
    #[arg(long)]
    pub(crate) chinese: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Xlsx,
    Jsonl,
}
