//! The counties and communities of the catalog (for the pages' filters and to check
//! account scopes), copied from the warehouse's communities table: at start and after
//! every committed upload of that table.

use std::collections::BTreeMap;

use dashboards::encoding::text;
use ingest::Scope;

use crate::error::AppResult;
use crate::state::AppState;

impl AppState {
    /// Copies the communities table's counties and communities into the catalog; the
    /// number of communities copied.
    pub async fn sync_places(&self) -> AppResult<usize> {
        let sql = "SELECT DISTINCT community_code, community_name, county_code, county_name FROM communities";
        let result = self.query(&Scope::Platform, sql).await?;
        let mut counties = BTreeMap::new();
        let mut n = 0;
        for batch in &result.batches {
            let text = |i: usize, row: usize| text::plain(batch.column(i), row);
            for row in 0..batch.num_rows() {
                let (code, name, county, county_name) = (text(0, row), text(1, row), text(2, row), text(3, row));
                counties.insert(county.clone(), county_name);
                self.catalog.upsert_community(&code, &county, &name).await?;
                n += 1;
            }
        }
        for (code, name) in counties {
            self.catalog.upsert_county(&code, &name).await?;
        }
        Ok(n)
    }

    /// The place a scope covers as a clerk names it (the charts' words): "东岭社区（安泽县）",
    /// "安泽县" or "全部县区"; a code the catalog does not know is named by its code. Page
    /// titles, prints and download names state it.
    pub async fn place_name(&self, scope: &Scope) -> AppResult<String> {
        let county = match scope.county_code() {
            Some(code) => {
                let found = self.catalog.counties(scope).await?.into_iter().find(|c| c.code == code);
                Some(found.map_or_else(|| format!("县区 {code}"), |c| c.name))
            }
            None => None,
        };
        Ok(match (scope, county) {
            (Scope::Community(code), county) => {
                let found = self.catalog.communities(scope).await?.into_iter().find(|c| &c.code == code);
                let name = found.map_or_else(|| format!("社区 {code}"), |c| c.name);
                county.map_or(name.clone(), |county| format!("{name}（{county}）"))
            }
            (_, Some(county)) => county,
            (_, None) => "全部县区".to_string(),
        })
    }
}
