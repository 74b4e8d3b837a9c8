//! Errors of the warehouse, with messages a county clerk can act on.

/// What went wrong in the warehouse.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("仓库位置“{0}”无效：{1} (bad_location)")]
    Location(String, String),

    #[error("仓库 {0} 尚未初始化，请先运行 `yishi init --warehouse {0}` (not_initialised)")]
    NotInitialised(String),

    #[error("读写仓库文件 {path} 失败：{source} (io_error)")]
    Io { path: String, source: std::io::Error },

    #[error("Delta 表 {table} 操作失败：{source} (delta_error)")]
    Delta { table: &'static str, source: deltalake::DeltaTableError },

    #[error("查询失败：{0} (query_error)")]
    Query(#[from] datafusion::error::DataFusionError),

    #[error("数据格式错误：{0} (arrow_error)")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    #[error("{0}")]
    Ingest(#[from] ingest::IngestError),

    #[error("请求无效：{0} (invalid_request)")]
    InvalidRequest(String),

    #[error("查询被拒绝：{0} (sql_refused)")]
    SqlRefused(String),

    /// A query past one of its bounds (a series or a text too large); the message ends
    /// with the bound's token.
    #[error("{0}")]
    Bounded(String),

    #[error("查询超过 {0} 秒仍未完成，已取消；请缩小范围（县区、季度）或简化查询后重试 (timeout)")]
    Timeout(u64),

    #[error("{0} 表同时有其他写入，本批未写入；请重新上传 (conflict)")]
    Conflict(&'static str),

    #[error(
        "未知的{what}代码“{code}”：仓库的社区名录中没有这个{what}；请检查代码（县区 6 位、社区 12 位数字），或先导入社区名录 (unknown_code)"
    )]
    UnknownCode { what: &'static str, code: String },

    #[error("仓库元数据损坏：{0} (corrupt_metadata)")]
    Metadata(String),

    /// `--engine` / `YISHI_ENGINE` names no engine this build can use, or the cluster
    /// cannot be reached.
    #[error("计算引擎：{0} (bad_engine)")]
    Engine(String),

    /// An aggregate the ingest keeps (the reports fall back to the events meanwhile).
    #[error("汇总表 {name} 操作失败：{source} (aggregate_error)")]
    Aggregate { name: &'static str, source: deltalake::DeltaTableError },
}

impl WarehouseError {
    pub(crate) fn delta(table: ingest::Table) -> impl FnOnce(deltalake::DeltaTableError) -> WarehouseError {
        move |source| {
            use deltalake::kernel::transaction::TransactionError as T;
            match &source {
                // Another writer committed first (another process: this one serialises its
                // own writers per table) and delta-rs gave up retrying.
                deltalake::DeltaTableError::VersionAlreadyExists(_)
                | deltalake::DeltaTableError::Transaction {
                    source: T::VersionAlreadyExists(_) | T::CommitConflict(_) | T::MaxCommitAttempts(_),
                } => WarehouseError::Conflict(table.name()),
                _ => WarehouseError::Delta { table: table.name(), source },
            }
        }
    }

    pub(crate) fn aggregate(name: &'static str) -> impl FnOnce(deltalake::DeltaTableError) -> WarehouseError {
        move |source| WarehouseError::Aggregate { name, source }
    }

    pub(crate) fn io(path: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> WarehouseError {
        let path = path.to_string();
        move |source| WarehouseError::Io { path, source }
    }
}

pub type Result<T, E = WarehouseError> = std::result::Result<T, E>;
