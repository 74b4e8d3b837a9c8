//! What the warehouse holds for a scope, so that an empty answer is never silent: whether
//! a county or community code is known at all (in the communities table, the reference
//! list of places), and in which periods the scope has topics.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use ingest::Scope;

use crate::Warehouse;
use crate::errors::{Result, WarehouseError};

/// The years and quarters in which a scope has topics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// `(year, quarter)` of every quarter with at least one topic raised, in order.
    pub quarters: Vec<(i32, u32)>,
}

impl Coverage {
    /// The years with topics, in order.
    pub fn years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.quarters.iter().map(|(y, _)| *y).collect();
        years.dedup();
        years
    }

    /// Whether the period (a year, or a quarter of it) has topics.
    pub fn has(&self, year: i32, quarter: Option<u32>) -> bool {
        self.quarters.iter().any(|(y, q)| *y == year && quarter.is_none_or(|want| want == *q))
    }

    /// "2019年该范围内没有议题；有议题的年份：2024、2025" when the period has none.
    pub fn empty_notice(&self, year: i32, quarter: Option<u32>) -> Option<String> {
        if self.has(year, quarter) {
            return None;
        }
        let period = match quarter {
            Some(q) => format!("{year}年第{q}季度"),
            None => format!("{year}年"),
        };
        let years: Vec<String> = self.years().iter().map(|y| y.to_string()).collect();
        let known = if years.is_empty() {
            "仓库中该范围还没有任何议题，请先导入议题台账".to_string()
        } else {
            format!("有议题的年份：{}", years.join("、"))
        };
        Some(format!("{period}该范围内没有议题；{known}"))
    }
}

impl Warehouse {
    /// Fails with [`WarehouseError::UnknownCode`] when a county or community scope names
    /// a code the communities table does not hold.
    pub async fn check_scope(&self, scope: &Scope) -> Result<()> {
        // The scope's codes are digits only (checked by Scope::county / Scope::community).
        let digits = |code: &str| code.chars().filter(char::is_ascii_digit).collect::<String>();
        let (what, code, sql) = match scope {
            Scope::Platform => return Ok(()),
            Scope::County(code) => ("县区", code, format!("county_code = '{}'", digits(code))),
            // With the county's partition (a community's code begins with its county's, as
            // its scope assumes): without it the check read every county's file, ~20 ms of
            // a one-community report in the server at 2,000 communities.
            Scope::Community(code) => {
                let community = digits(code);
                let county: String = community.chars().take(6).collect();
                ("社区", code, format!("county_code = '{county}' AND community_code = '{community}'"))
            }
        };
        let sql = format!("SELECT count(*) AS n FROM communities WHERE {sql}");
        let result = self.sql(&Scope::Platform, &sql).await?;
        if first_number(&result.batches) > 0 {
            Ok(())
        } else {
            Err(WarehouseError::UnknownCode { what, code: code.clone() })
        }
    }

    /// The quarters in which `scope` has topics.
    pub async fn coverage(&self, scope: &Scope) -> Result<Coverage> {
        let sql = "SELECT DISTINCT CAST(date_part('year', raised_on) AS BIGINT) AS y, \
                   CAST(date_part('quarter', raised_on) AS BIGINT) AS q FROM topics ORDER BY y, q";
        let result = self.sql(scope, sql).await?;
        let mut quarters = Vec::new();
        for batch in &result.batches {
            let (years, qs) =
                (batch.column(0).as_primitive::<Int64Type>(), batch.column(1).as_primitive::<Int64Type>());
            for i in (0..batch.num_rows()).filter(|i| years.is_valid(*i) && qs.is_valid(*i)) {
                if let (Ok(y), Ok(q)) = (i32::try_from(years.value(i)), u32::try_from(qs.value(i))) {
                    quarters.push((y, q));
                }
            }
        }
        Ok(Coverage { quarters })
    }
}

fn first_number(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> i64 {
    batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .map(|b| {
            let a = b.column(0).as_primitive::<Int64Type>();
            if a.is_null(0) { 0 } else { a.value(0) }
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::Coverage;

    #[test]
    fn an_empty_period_names_the_years_that_have_topics() {
        let c = Coverage { quarters: vec![(2024, 4), (2025, 1), (2025, 3)] };
        assert_eq!(c.empty_notice(2025, None), None);
        assert_eq!(c.empty_notice(2025, Some(1)), None);
        assert_eq!(c.empty_notice(2019, None).as_deref(), Some("2019年该范围内没有议题；有议题的年份：2024、2025"));
        assert_eq!(
            c.empty_notice(2025, Some(2)).as_deref(),
            Some("2025年第2季度该范围内没有议题；有议题的年份：2024、2025")
        );
        let none = Coverage::default();
        assert!(none.empty_notice(2025, None).is_some_and(|n| n.contains("还没有任何议题")));
    }
}
