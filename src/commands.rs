//! What each command does: parse the scope, call the library crates, print for people
//! (Chinese tables) or for scripts (`--json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use ingest::{Scope, Table};
use warehouse::{IngestOptions, IngestOutcome, IngestReport, Warehouse};

use crate::args::ScopeArgs;
use crate::cli::{
    Cli, Command, DemoCommand, Format, GenerateArgs, IngestArgs, IngestFormat, ListArgs, SqlArgs, TemplateArgs,
};
use crate::output;

pub(crate) async fn run(cli: Cli) -> Result<ExitCode> {
    // The object store's endpoint and region (flags or the usual AWS_* variables) reach
    // every place that opens the warehouse as explicit options, not through the environment.
    warehouse::configure_object_store(warehouse::ObjectStoreSettings {
        endpoint: cli.s3_endpoint.clone(),
        region: cli.s3_region.clone(),
    });
    // The engine of every report and SQL query this process runs (a build without the
    // `ballista` feature refuses `ballista://…` here, before anything is read).
    if let Some(engine) = cli.engine.as_deref() {
        warehouse::configure_engine(warehouse::Engine::parse(engine)?);
    }
    let scope = scope_of(&cli.scope)?;
    let user = cli.user.clone().unwrap_or_else(os_user);
    match cli.command {
        Command::Init => init(&cli.warehouse).await,
        Command::Ingest(args) => ingest_files(&cli.warehouse, &scope, &user, &args).await,
        Command::Template(args) => template(&args),
        Command::Tables(args) => tables(&cli.warehouse, &args).await,
        Command::Batches(args) => batches(&cli.warehouse, &args).await,
        Command::Sql(args) => sql(&cli.warehouse, &scope, &args).await,
        Command::Report(args) => crate::reports::run(&cli.warehouse, &scope, &args).await,
        Command::Demo(demo) => match demo.command {
            Some(DemoCommand::Generate(args)) => generate(&args),
            None => {
                let code = demo_run(&cli.warehouse, &user).await?;
                if demo.no_serve || code != ExitCode::SUCCESS {
                    return Ok(code);
                }
                crate::server::demo_serve(&cli.warehouse, demo.listen, &demo.catalog).await
            }
        },
        Command::Serve(args) => crate::server::serve(&cli.warehouse, &args).await,
        Command::User(args) => crate::server::user(&cli.warehouse, &cli.scope, &args).await,
        Command::Token(args) => crate::server::token(&cli.warehouse, &cli.scope, cli.user.as_deref(), &args).await,
        Command::Chart(args) => crate::charts::chart(&cli.warehouse, &scope, &args).await,
        Command::Export(args) => crate::charts::export(&cli.warehouse, &scope, &args).await,
        Command::Freeze(args) => crate::server::freeze(&cli.warehouse, &scope, &args).await,
        Command::Cluster(args) => crate::cluster::run(args).await,
        Command::Bench(args) => crate::charts::bench(&cli.warehouse, &scope, &args).await,
    }
}

fn scope_of(args: &ScopeArgs) -> Result<Scope> {
    Ok(match (&args.county, &args.community) {
        (Some(county), _) => Scope::county(county)?,
        (None, Some(community)) => Scope::community(community)?,
        (None, None) => Scope::Platform,
    })
}

fn os_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "cli".into())
}

async fn init(root: &str) -> Result<ExitCode> {
    let wh = Warehouse::init(root).await?;
    println!("仓库已就绪：{}", wh.location());
    Ok(ExitCode::SUCCESS)
}

/// The table named on the command line, in English or Chinese.
fn table_of(name: &str) -> Result<Table> {
    Table::parse(name).ok_or_else(|| {
        anyhow::anyhow!(
            "未知的表“{name}”；可用：communities(社区)、cadres(干部)、sessions(会议)、topics(议题)、evaluations(评价)、rectifications(整改)"
        )
    })
}

/// Writes a table's blank template (`yishi template`).
fn template(args: &TemplateArgs) -> Result<ExitCode> {
    use dashboards::templates::{self, TemplateFormat};
    let table = table_of(&args.table)?;
    let format = match args.format {
        crate::cli::TemplateFormat::Xlsx => TemplateFormat::Xlsx,
        crate::cli::TemplateFormat::Csv => TemplateFormat::Csv,
    };
    let bytes = templates::template(table, format)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format.file_name(table)));
    std::fs::write(&out, bytes).with_context(|| format!("无法写入 {}", out.display()))?;
    println!("已生成{}表的导入模板：{}", table.chinese(), out.display());
    if format == TemplateFormat::Xlsx {
        println!("在第一张工作表的表头下逐行填写（红色表头为必填），填写说明见“{}”工作表。", templates::GUIDE_SHEET);
    }
    println!("导入顺序：{}", ingest::guide::table_order());
    Ok(ExitCode::SUCCESS)
}

async fn ingest_files(root: &str, scope: &Scope, user: &str, args: &IngestArgs) -> Result<ExitCode> {
    let table = table_of(&args.table)?;
    let wh = Warehouse::open(root).await?;
    if let (Some(url), Some(query)) = (&args.from, &args.query) {
        return ingest_query(&wh, table, (url, query), scope, user, args).await;
    }
    if args.mapping.is_some() && args.format.is_none() {
        bail!(
            "--mapping 只与 --from（数据库列名的映射）或 --format open311/workorders（工单字段的映射）一起用；台账文件的列名按表头规则认"
        );
    }
    if let Some(format) = args.format {
        return ingest_work_orders(&wh, table, format, scope, user, args).await;
    }
    if args.dry_run {
        return preview_files(&wh, table, scope, user, args).await;
    }
    let mut worst = 0u8;
    let mut reports = Vec::new();
    for path in &args.files {
        let progress = progress_bar(path);
        let tick = |rows: usize| {
            if let Some(bar) = &progress {
                bar.set_message(format!("已读 {rows} 行"));
            }
        };
        let options = IngestOptions { progress: Some(&tick), ..options_of(args, scope, user) };
        let result = wh.ingest_file(table, path, &options).await;
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        match result {
            Ok(report) => {
                let rejected = report.file.as_ref().is_some_and(|f| !f.rejected.is_empty());
                if rejected {
                    let out = rejects_path(args, path);
                    write_rejects(&report, &out)?;
                    worst = worst.max(1);
                }
                if !args.json {
                    print_report(path, &report, args, rejected.then(|| rejects_path(args, path)));
                }
                reports.push(report_json(path, &report));
            }
            Err(e) => {
                reports.push(unreadable(path, &e));
                worst = 2;
            }
        }
    }
    finish(args, &reports, worst)
}

/// The ingest options the command line asks for (no progress report).
/// `yishi ingest TABLE --from URL --query SQL`: the query's rows as one batch, with the
/// same checks, rejects file and report as a file's.
async fn ingest_query(
    wh: &Warehouse,
    table: Table,
    (url, query): (&str, &str),
    scope: &Scope,
    user: &str,
    args: &IngestArgs,
) -> Result<ExitCode> {
    if args.format.is_some() {
        bail!(
            "--from 不能与 --format 一起用：数据库查询的结果按表头规则读取（列名不同时用 --mapping 映射文件或 AS 改名）"
        );
    }
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("无法读取映射文件 {}", path.display()))?;
            match ingest::database::ColumnMapping::from_toml(&text, &path.display().to_string(), table) {
                Ok(mapping) => Some(mapping),
                Err(e) => {
                    eprintln!("错误：{e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        None => None,
    };
    let csv = match ingest::database::query_to_csv(url, query, mapping.as_ref(), args.max_file_size).await {
        Ok(csv) => csv,
        Err(e) => {
            eprintln!("错误：{e}");
            return Ok(ExitCode::from(2));
        }
    };
    // The batch log names the source: the address without its password, and the query.
    let query_shown: String = query.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
    let source = format!("{}：{query_shown}", ingest::database::redacted(url));
    let shown = Path::new("数据库查询.csv");
    let options = options_of(args, scope, user);
    if args.dry_run {
        // The file's preview on the query's answer: nothing written, no batch, no rejects.
        return match wh.preview_bytes(table, shown, &csv, &options).await {
            Ok(preview) => {
                if !args.json {
                    println!("来源：{source}");
                    print_preview(shown, &preview);
                }
                let errors: Vec<&ingest::RowError> = preview.file.iter().flat_map(|f| f.errors()).collect();
                let worst = if preview.rows_rejected > 0 { 1 } else { 0 };
                let json = serde_json::json!({"file": shown.display().to_string(), "source": source, "preview": preview, "errors": errors});
                finish(args, &[json], worst)
            }
            Err(e) => finish(args, &[unreadable(shown, &e)], 2),
        };
    }
    let report = match wh.ingest_converted(table, &source, &csv, &options).await {
        Ok(report) => report,
        Err(e) => return finish(args, &[unreadable(shown, &e)], 2),
    };
    let rejected = report.file.as_ref().is_some_and(|f| !f.rejected.is_empty());
    if rejected {
        write_rejects(&report, &rejects_path(args, shown))?;
    }
    if !args.json {
        println!("来源：{source}");
        print_report(shown, &report, args, rejected.then(|| rejects_path(args, shown)));
    }
    finish(args, &[report_json(shown, &report)], if rejected { 1 } else { 0 })
}

/// `yishi ingest 议题 工单.json --format open311 --mapping 映射.toml`: Open311 work orders
/// as topics, each file one batch (`ingest::open311`); `--format workorders`: a hotline's
/// own JSON export, its field names and statuses named by the mapping, the same way.
async fn ingest_work_orders(
    wh: &Warehouse,
    table: Table,
    format: IngestFormat,
    scope: &Scope,
    user: &str,
    args: &IngestArgs,
) -> Result<ExitCode> {
    let flag = match format {
        IngestFormat::Open311 => "open311",
        IngestFormat::Workorders => "workorders",
    };
    if table != Table::Topics {
        bail!("--format {flag} 只用于议题表（yishi ingest 议题 工单.json --format {flag} --mapping 映射.toml）");
    }
    let Some(mapping_path) = &args.mapping else {
        bail!(
            "--format {flag} 需要 --mapping 映射文件：写明社区代码、责任人编号和服务代码对应的议题类别{}（见 docs/ingest.md）",
            if format == IngestFormat::Workorders {
                "，以及工单各字段的字段名和工单状态的对应"
            } else {
                ""
            }
        );
    };
    let text = std::fs::read_to_string(mapping_path)
        .with_context(|| format!("无法读取映射文件 {}", mapping_path.display()))?;
    let shown_path = mapping_path.display().to_string();
    let mapping = ingest::open311::Open311Mapping::from_toml(&text, &shown_path)?;
    if format == IngestFormat::Workorders {
        mapping.check_work_orders(&shown_path)?;
    }
    let convert = |file: &[u8]| match format {
        IngestFormat::Open311 => ingest::open311::to_topics_csv(file, &mapping),
        IngestFormat::Workorders => ingest::open311::work_orders_to_topics_csv(file, &mapping),
    };
    let (mut worst, mut results) = (0u8, Vec::new());
    for path in &args.files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let converted = ingest::read_file(path, args.max_file_size)
            .map_err(|e| e.to_string())
            .and_then(|file| convert(&file).map_err(|e| e.to_string()));
        let csv = match converted {
            Ok(csv) => csv,
            Err(e) => {
                eprintln!("错误：{}：{e}", path.display());
                results.push(serde_json::json!({"file": path.display().to_string(), "error": e}));
                worst = 2;
                continue;
            }
        };
        let options = options_of(args, scope, user);
        if args.dry_run {
            // The converted rows previewed as a CSV file's (named .csv: a .json name would
            // be read as JSON lines): nothing written.
            let stem = path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            match wh.preview_bytes(table, Path::new(&format!("{stem}.csv")), &csv, &options).await {
                Ok(preview) => {
                    worst = worst.max(u8::from(preview.rows_rejected > 0));
                    if !args.json {
                        print_preview(path, &preview);
                    }
                    let errors: Vec<&ingest::RowError> = preview.file.iter().flat_map(|f| f.errors()).collect();
                    results.push(
                        serde_json::json!({"file": path.display().to_string(), "preview": preview, "errors": errors}),
                    );
                }
                Err(e) => {
                    results.push(unreadable(path, &e));
                    worst = 2;
                }
            }
            continue;
        }
        match wh.ingest_converted(table, &name, &csv, &options).await {
            Ok(report) => {
                let rejected = report.file.as_ref().is_some_and(|f| !f.rejected.is_empty());
                if rejected {
                    write_rejects(&report, &rejects_path(args, path))?;
                    worst = worst.max(1);
                }
                if !args.json {
                    print_report(path, &report, args, rejected.then(|| rejects_path(args, path)));
                }
                results.push(report_json(path, &report));
            }
            Err(e) => {
                results.push(unreadable(path, &e));
                worst = 2;
            }
        }
    }
    finish(args, &results, worst)
}

fn options_of<'a>(args: &'a IngestArgs, scope: &'a Scope, user: &'a str) -> IngestOptions<'a> {
    IngestOptions {
        scope,
        user,
        partial: args.partial,
        sheet: args.sheet.as_deref(),
        header_row: args.header_row,
        max_file_bytes: args.max_file_size,
        progress: None,
    }
}

/// A file that could not be ingested or previewed: said on stderr, and its JSON line.
fn unreadable(path: &Path, e: &warehouse::WarehouseError) -> serde_json::Value {
    eprintln!("错误：{}：{e}", path.display());
    serde_json::json!({"file": path.display().to_string(), "error": e.to_string()})
}

/// Prints the files' JSON with `--json`; the exit status is the worst file's.
fn finish(args: &IngestArgs, results: &[serde_json::Value], worst: u8) -> Result<ExitCode> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(results)?);
    }
    Ok(ExitCode::from(worst))
}

/// `--dry-run`: what each file would do, nothing written. Exit status as for a real
/// ingest: 1 when rows would be rejected, 2 when a file cannot be read.
async fn preview_files(wh: &Warehouse, table: Table, scope: &Scope, user: &str, args: &IngestArgs) -> Result<ExitCode> {
    let mut worst = 0u8;
    let mut previews = Vec::new();
    for path in &args.files {
        let options = options_of(args, scope, user);
        match wh.preview_file(table, path, &options).await {
            Ok(preview) => {
                if preview.rows_rejected > 0 {
                    worst = worst.max(1);
                }
                if !args.json {
                    print_preview(path, &preview);
                }
                let errors: Vec<&ingest::RowError> = preview.file.iter().flat_map(|f| f.errors()).collect();
                previews.push(
                    serde_json::json!({"file": path.display().to_string(), "preview": preview, "errors": errors}),
                );
            }
            Err(e) => {
                previews.push(unreadable(path, &e));
                worst = 2;
            }
        }
    }
    finish(args, &previews, worst)
}

fn print_preview(path: &Path, preview: &warehouse::Preview) {
    let name = path.display();
    if let Some(file) = &preview.file {
        for error in file.errors() {
            eprintln!("{name}: {error}");
        }
    }
    println!("{name}: 预览（未写入）：{}", preview.summary());
    if !preview.changes.is_empty() {
        let more = if preview.rows_updated > preview.changes.len() { "（仅列出前几条）" } else { "" };
        println!("{name}: 将更新的行{more}：");
        for change in &preview.changes {
            println!("  {}", change.describe());
        }
    }
}

fn progress_bar(path: &Path) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let large = std::fs::metadata(path).map(|m| m.len() > 8 << 20).unwrap_or(false);
    if !large || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("正在读取 {}", path.display()));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn rejects_path(args: &IngestArgs, path: &Path) -> PathBuf {
    if let (Some(out), 1) = (&args.rejects_out, args.files.len()) {
        return out.clone();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "ledger".into());
    let dir = args.rejects_out.clone().filter(|p| p.is_dir()).unwrap_or_else(|| PathBuf::from("."));
    dir.join(format!("{stem}.rejects.csv"))
}

fn write_rejects(report: &IngestReport, out: &Path) -> Result<()> {
    if let Some(file) = &report.file {
        std::fs::write(out, file.rejects_csv()).with_context(|| format!("无法写入 {}", out.display()))?;
    }
    Ok(())
}

fn print_report(path: &Path, report: &IngestReport, args: &IngestArgs, rejects: Option<PathBuf>) {
    let r = &report.record;
    let name = path.display();
    if let Some(file) = &report.file {
        for error in file.errors() {
            eprintln!("{name}: {error}");
        }
        if !file.ignored_headers.is_empty() {
            eprintln!("{name}: 忽略了无法识别的列：{}", file.ignored_headers.join("、"));
        }
        if let Some(row) = file.header_row.filter(|row| *row > 1) {
            eprintln!("{name}: 表头在第 {row} 行，其上的标题、填报单位等行未导入");
        }
        for skipped in &file.skipped {
            eprintln!("{name}: 跳过第 {} 行（说明或合计行）：“{}”", skipped.row, skipped.text);
        }
    }
    match report.outcome {
        IngestOutcome::Unchanged => println!("{name}: 该文件已导入过（SHA-256 相同），未做任何更改。"),
        IngestOutcome::Refused => println!(
            "{name}: 有 {} 行不合格，本批次未写入任何数据（严格模式）。修改后重新导入，或加 --partial 只导入合格的 {} 行。",
            r.rows_rejected, r.rows_accepted
        ),
        IngestOutcome::Committed => println!(
            "{name}: 已写入 {} 表 {} 行（新增 {}，更新 {}，不变 {}），表版本 {}{}",
            r.table,
            r.rows_accepted,
            r.rows_inserted,
            r.rows_updated,
            r.rows_unchanged,
            r.version.unwrap_or_default(),
            if r.rows_rejected > 0 { format!("；拒绝 {} 行", r.rows_rejected) } else { String::new() }
        ),
    }
    if let Some(out) = rejects {
        let verb = if args.partial { "被拒绝的行" } else { "不合格的行" };
        println!("{name}: {verb}已保存到 {}，修改后可重新导入。", out.display());
    }
}

fn report_json(path: &Path, report: &IngestReport) -> serde_json::Value {
    let errors: Vec<&ingest::RowError> = report.file.iter().flat_map(|f| f.errors()).collect();
    serde_json::json!({
        "file": path.display().to_string(),
        "outcome": report.outcome,
        "batch": report.record,
        "header_row": report.file.as_ref().and_then(|f| f.header_row),
        "skipped": report.file.as_ref().map(|f| f.skipped.as_slice()).unwrap_or_default(),
        "errors": errors,
    })
}

async fn tables(root: &str, args: &ListArgs) -> Result<ExitCode> {
    let wh = Warehouse::open(root).await?;
    let infos = wh.tables().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&infos)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::text_table(["表", "名称", "行数", "版本", "文件数"]);
    for i in infos {
        let version = i.version.map(|v| v.to_string()).unwrap_or_else(|| "—".into());
        t.add_row(vec![i.table.to_string(), i.chinese.to_string(), i.rows.to_string(), version, i.files.to_string()]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

async fn batches(root: &str, args: &ListArgs) -> Result<ExitCode> {
    let wh = Warehouse::open(root).await?;
    let records = wh.batches().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::text_table([
        "时间", "用户", "范围", "表", "文件", "SHA-256", "接受", "新增", "更新", "不变", "拒绝", "结果", "版本",
    ]);
    for r in records {
        let outcome = match r.outcome.as_str() {
            "committed" => outcome_text(IngestOutcome::Committed),
            "refused" => outcome_text(IngestOutcome::Refused),
            _ => outcome_text(IngestOutcome::Unchanged),
        };
        t.add_row(vec![
            r.started_at.get(..19).unwrap_or(&r.started_at).replace('T', " "),
            r.user,
            r.scope,
            Table::parse(&r.table).map(|t| t.chinese().to_string()).unwrap_or(r.table),
            r.file_name,
            r.file_sha256.get(..12).unwrap_or_default().to_string(),
            r.rows_accepted.to_string(),
            r.rows_inserted.to_string(),
            r.rows_updated.to_string(),
            r.rows_unchanged.to_string(),
            r.rows_rejected.to_string(),
            outcome.to_string(),
            r.version.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

/// Generates the demo county set into the warehouse folder, ingests it and shows the tables.
async fn demo_run(root: &str, user: &str) -> Result<ExitCode> {
    let config =
        ingest::generator::GeneratorConfig { counties: 2, communities_per_county: 6, years: 2, ..Default::default() };
    // Beside a local warehouse; for one in object storage, in the working folder (the
    // ledger files are the clerk's to open, not objects).
    let local = warehouse::Location::parse(root)?.local_dir();
    let ledger = local.unwrap_or_default().join("demo-ledger");
    println!(
        "生成演示台账：{} 个县区 × {} 个社区 × {} 年 → {}",
        config.counties,
        config.communities_per_county,
        config.years,
        ledger.display()
    );
    let summary = ingest::generator::generate(&config, &ledger)?;
    let wh = Warehouse::init(root).await?;
    for (table, file) in Table::ALL.iter().zip(&summary.files) {
        let options = IngestOptions {
            scope: &Scope::Platform,
            user,
            partial: false,
            sheet: None,
            header_row: None,
            max_file_bytes: ingest::DEFAULT_MAX_FILE_BYTES,
            progress: None,
        };
        let report = wh.ingest_file(*table, file, &options).await?;
        let r = &report.record;
        println!("导入 {}：{} 行，{}", table.chinese(), r.rows_accepted, outcome_text(report.outcome));
    }
    tables(root, &ListArgs { json: false }).await
}

fn outcome_text(outcome: IngestOutcome) -> &'static str {
    match outcome {
        IngestOutcome::Committed => "已写入",
        IngestOutcome::Refused => "已拒绝",
        IngestOutcome::Unchanged => "已导入过，未变化",
    }
}

fn generate(args: &GenerateArgs) -> Result<ExitCode> {
    let config = ingest::generator::GeneratorConfig {
        counties: args.counties,
        communities_per_county: args.communities_per_county,
        years: args.years,
        last_year: args.last_year,
        seed: args.seed,
        format: match args.format {
            Format::Csv => ingest::generator::OutputFormat::Csv,
            Format::Xlsx => ingest::generator::OutputFormat::Xlsx,
            Format::Jsonl => ingest::generator::OutputFormat::Jsonl,
        },
        chinese: args.chinese,
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("无法创建 {}", args.out.display()))?;
    let summary = ingest::generator::generate(&config, &args.out)?;
    let mut t = output::text_table(["表", "行数", "文件"]);
    for (table, file) in Table::ALL.iter().zip(&summary.files) {
        let rows = summary.rows.get(table).copied().unwrap_or(0);
        t.add_row(vec![table.chinese().to_string(), rows.to_string(), file.display().to_string()]);
    }
    println!("{t}");
    println!("按顺序导入：communities → cadres → sessions → topics → evaluations → rectifications");
    Ok(ExitCode::SUCCESS)
}

async fn sql(root: &str, scope: &Scope, args: &SqlArgs) -> Result<ExitCode> {
    let wh = Warehouse::open(root).await?;
    let result = wh.sql(scope, &args.query).await?;
    let headers: Vec<String> = result.schema.fields().iter().map(|f| f.name().clone()).collect();
    let bytes = output::render(&result.batches, &headers, args.format)?;
    output::emit(&bytes, args.out.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
