//! `yishi cluster scheduler|executor`: an Apache Ballista cluster for `--engine
//! ballista://…` (docs/scale-out.md). Ballista's scheduler and executor run here as
//! libraries so that each opens the warehouse's object store the way yishi does (the
//! `AWS_*` variables, `--s3-endpoint`, `--s3-region`, path-style requests): nothing of the
//! sort travels in a query's plan. Built only with the cargo feature `ballista`.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub(crate) struct ClusterArgs {
    #[command(subcommand)]
    pub(crate) command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// 启动 Ballista 调度器：接收 --engine ballista://… 的查询，分给执行器。
    #[command(
        after_help = "示例：\n  yishi cluster scheduler\n  yishi cluster scheduler --bind 0.0.0.0:50050 --external-host 10.0.0.5\n\n\
                      调度器和执行器都要能读数据仓库所在的对象存储：AWS_ACCESS_KEY_ID、AWS_SECRET_ACCESS_KEY 和 --s3-endpoint、--s3-region（或 AWS_ENDPOINT_URL、AWS_REGION）与导入时相同。"
    )]
    Scheduler(SchedulerArgs),

    /// 启动 Ballista 执行器：向调度器登记，读取对象存储中的数据文件并计算。
    #[command(after_help = "示例：\n  yishi cluster executor --scheduler 10.0.0.5:50050\n  \
                      yishi cluster executor --scheduler 127.0.0.1:50050 --flight-port 50061 --grpc-port 50062 --cores 2\n\n\
                      同一台机器上的多个执行器要用不同的 --flight-port 和 --grpc-port。")]
    Executor(ExecutorArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SchedulerArgs {
    /// 监听地址（主机:端口）；查询端用 --engine ballista://这台机器:端口 连接。
    #[arg(long, env = "YISHI_SCHEDULER_BIND", default_value = "127.0.0.1:50050", value_name = "地址")]
    pub(crate) bind: String,

    /// 执行器和查询端访问调度器用的主机名或 IP（默认：监听地址的主机）。
    #[arg(long, value_name = "主机")]
    pub(crate) external_host: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ExecutorArgs {
    /// 调度器地址（主机:端口）。
    #[arg(long, env = "YISHI_SCHEDULER", default_value = "127.0.0.1:50050", value_name = "地址")]
    pub(crate) scheduler: String,

    /// 监听的本机地址。
    #[arg(long, default_value = "127.0.0.1", value_name = "主机")]
    pub(crate) bind_host: String,

    /// 调度器和其他执行器访问这个执行器用的主机名或 IP（默认：监听地址）。
    #[arg(long, value_name = "主机")]
    pub(crate) external_host: Option<String>,

    /// 传送计算结果的端口（Arrow Flight）。
    #[arg(long, default_value_t = 50051, value_name = "端口")]
    pub(crate) flight_port: u16,

    /// 接收任务的端口（gRPC）。
    #[arg(long, default_value_t = 50052, value_name = "端口")]
    pub(crate) grpc_port: u16,

    /// 同时执行的任务数（默认：CPU 核数）。
    #[arg(long, value_name = "个数")]
    pub(crate) cores: Option<usize>,

    /// 中间结果（shuffle）和溢出文件的文件夹（默认：临时文件夹）。
    #[arg(long, value_name = "文件夹")]
    pub(crate) work_dir: Option<String>,

    /// 计算可用的内存，例如 4GiB（默认：机器内存的一部分，由 Ballista 决定）。
    #[arg(long, value_parser = crate::args::parse_size, value_name = "大小")]
    pub(crate) memory: Option<u64>,
}

/// Runs a scheduler or an executor until it stops.
pub(crate) async fn run(args: ClusterArgs) -> Result<ExitCode> {
    imp::run(args).await
}

#[cfg(not(feature = "ballista"))]
mod imp {
    use super::*;

    pub(super) async fn run(_args: ClusterArgs) -> Result<ExitCode> {
        anyhow::bail!(
            "这个 yishi 编译时没有包含 Ballista 分布式计算（cargo 功能 ballista），不能启动集群；\
             请用 `cargo build --release --features ballista` 编译的版本（见 docs/scale-out.md）"
        )
    }
}

#[cfg(feature = "ballista")]
mod imp {
    use std::sync::Arc;

    use anyhow::{Context, anyhow};
    use ballista_core::registry::BallistaFunctionRegistry;
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    use warehouse::datafusion::execution::session_state::SessionStateBuilder;
    use warehouse::datafusion::prelude::SessionConfig;

    use super::*;

    pub(super) async fn run(args: ClusterArgs) -> Result<ExitCode> {
        match args.command {
            ClusterCommand::Scheduler(a) => scheduler(a).await,
            ClusterCommand::Executor(a) => executor(a).await,
        }
    }

    async fn scheduler(args: SchedulerArgs) -> Result<ExitCode> {
        let address: std::net::SocketAddr =
            args.bind.parse().with_context(|| format!("--bind “{}”应为 主机:端口，例如 0.0.0.0:50050", args.bind))?;
        // Ballista's own session, its object stores ours: the scheduler asks each file
        // of a plan for its size before it splits the scan among the executors.
        let session_builder: ballista_scheduler::SessionBuilder = Arc::new(|config: SessionConfig| {
            let state = ballista_core::utils::default_session_builder(config)?;
            let runtime = warehouse::cluster::cluster_runtime(None)?;
            // Last of the physical rules: windows the executors can rebuild (see the rule).
            Ok(SessionStateBuilder::new_from_existing(state)
                .with_runtime_env(runtime)
                .with_physical_optimizer_rule(Arc::new(warehouse::cluster::WindowsWithoutConstants))
                .build())
        });
        let config = SchedulerConfig {
            bind_host: address.ip().to_string(),
            bind_port: address.port(),
            external_host: args.external_host.unwrap_or_else(|| address.ip().to_string()),
            override_session_builder: Some(session_builder),
            ..SchedulerConfig::default()
        };
        let cluster =
            BallistaCluster::new_from_config(&config).await.map_err(|e| anyhow!("Ballista 调度器无法启动：{e}"))?;
        eprintln!("Ballista 调度器在 {address} 上等待执行器和查询（--engine ballista://{address}）");
        ballista_scheduler::scheduler_process::start_server(cluster, address, Arc::new(config))
            .await
            .map_err(|e| anyhow!("Ballista 调度器停止：{e}"))?;
        Ok(ExitCode::SUCCESS)
    }

    async fn executor(args: ExecutorArgs) -> Result<ExitCode> {
        let (host, port) = args
            .scheduler
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| anyhow!("--scheduler “{}”应为 主机:端口，例如 10.0.0.5:50050", args.scheduler))?;
        let work_dir = args.work_dir.clone();
        let temp = work_dir.clone();
        let runtime: ballista_core::RuntimeProducer =
            Arc::new(move |_config: &SessionConfig| warehouse::cluster::cluster_runtime(temp.as_deref()));
        let defaults = ExecutorProcessConfig::default();
        let config = ExecutorProcessConfig {
            bind_host: args.bind_host.clone(),
            external_host: args.external_host.clone(),
            port: args.flight_port,
            grpc_port: args.grpc_port,
            scheduler_host: host,
            scheduler_port: port,
            vcores: args.cores.unwrap_or(defaults.vcores).max(1),
            work_dir,
            memory_pool_size: args.memory,
            override_runtime_producer: Some(runtime),
            // Every function a DataFusion session has (Ballista's default registry lacks
            // the array functions, e.g. `string_to_array` of the joint-units report).
            override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(
                &SessionStateBuilder::new().with_default_features().build(),
            ))),
            ..defaults
        };
        eprintln!(
            "Ballista 执行器：任务端口 {}:{}，结果端口 {}:{}，调度器 {}",
            args.bind_host, args.grpc_port, args.bind_host, args.flight_port, args.scheduler
        );
        start_executor_process(Arc::new(config)).await.map_err(|e| anyhow!("Ballista 执行器停止：{e}"))?;
        Ok(ExitCode::SUCCESS)
    }
}
