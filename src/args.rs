//! Argument groups and value parsers that more than one command uses: the tenant scope
//! (`--county`, `--community`) and byte sizes (`500MB`, `2GiB`). `cli` (every command's
//! arguments) and `server` (the server's and the catalog commands') both read them from
//! here, so neither imports the other's.

use clap::Args;

/// The tenant scope to act in; platform scope when neither is given.
#[derive(Debug, Args)]
pub(crate) struct ScopeArgs {
    /// 以这个县区的账号操作（6 位县区代码）。
    #[arg(long, global = true, env = "YISHI_COUNTY", conflicts_with = "community", value_name = "县区代码")]
    pub(crate) county: Option<String>,

    /// 以这个社区的账号操作（12 位社区代码）。
    #[arg(long, global = true, env = "YISHI_COMMUNITY", value_name = "社区代码")]
    pub(crate) community: Option<String>,
}

/// `--header-row`: a row number as the sheet shows it, 1 to [`ingest::headers::MAX_HEADER_ROW`].
pub(crate) fn parse_header_row(text: &str) -> Result<usize, String> {
    let max = ingest::headers::MAX_HEADER_ROW;
    match text.trim().parse::<usize>() {
        Ok(row) if (1..=max).contains(&row) => Ok(row),
        _ => Err(format!("应为 1 到 {max} 之间的行号（表格左侧显示的行号）")),
    }
}

/// Parses `1048576`, `500MB`, `500MiB`, `2GiB`, `2G`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("“{text}”不是大小（例如 500MB、2GiB）"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("“{text}”的单位无法识别（可用 KB、MB、GB）")),
    };
    n.checked_mul(factor).ok_or_else(|| format!("“{text}”太大"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("500 MB"), Ok(500 << 20));
        assert!(parse_size("lots").is_err());
    }
}
