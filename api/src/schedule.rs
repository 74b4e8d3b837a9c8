//! The written reports on schedule (`yishi serve --schedule-counties …`): after each quarter
//! ends (on the configured day after it), each configured county's quarterly document of
//! that quarter (and, if asked, its report pack as one zip), and after the fourth quarter
//! its year-end document too, written to the output folder and recorded in the audit log.
//!
//! A file's name carries the data versions it was computed from
//! (`…_数据版本cadres=1,communities=1,….docx`, `…_报表包_甲县_数据版本….zip`), so a run on
//! unchanged data finds its file
//! and writes nothing, a run after a correction writes a new file beside the old one (the
//! earlier versions are kept), and a clerk tells them apart. The clock is injected
//! ([`Clock`]) so tests can move the day.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Datelike;
/// The clock's date type, for callers that inject a [`Clock`].
pub use chrono::NaiveDate;
use ingest::Scope;
use warehouse::Snapshot;

use crate::accounts::{Account, Role};
use crate::documents::{self, DocumentFormat, Written};
use crate::error::{AppError, AppResult};
use crate::reports::{self, Asked};
use crate::state::AppState;

/// What `yishi serve` is told to write on schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// County codes (6 digits).
    pub counties: Vec<String>,
    /// Write a quarter's documents this many days after its last day (1: the day after).
    pub days_after: u32,
    pub out_dir: PathBuf,
    pub formats: Vec<DocumentFormat>,
    /// Also the quarter's report pack (charts and workbook) as a zip.
    pub pack: bool,
    /// How often the server looks whether something is due.
    pub every: Duration,
}

/// Today's date in China (the quarters end at Beijing midnight).
pub trait Clock: Send + Sync {
    fn today(&self) -> NaiveDate;
}

/// The real clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> NaiveDate {
        warehouse::analyses::overdue::today_in_china()
    }
}

/// The last quarter whose documents are due on `today`: the latest quarter with
/// last day + `days_after` ≤ today.
pub fn due_quarter(today: NaiveDate, days_after: u32) -> (i32, u32) {
    let day = today - chrono::Days::new(u64::from(days_after));
    // The quarter that ended last on or before `day`: the one before `day`'s own, unless
    // `day` is its last day.
    let (year, quarter) = (day.year(), day.month0() / 3 + 1);
    let last = quarter_end(year, quarter);
    if day == last {
        (year, quarter)
    } else if quarter == 1 {
        (year - 1, 4)
    } else {
        (year, quarter - 1)
    }
}

fn quarter_end(year: i32, quarter: u32) -> NaiveDate {
    let (month, day) = match quarter {
        1 => (3, 31),
        2 => (6, 30),
        3 => (9, 30),
        _ => (12, 31),
    };
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// What one scheduled run writes: a document in one format, or the quarter's pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Document(DocumentFormat),
    Pack,
}

impl Product {
    fn extension(self) -> &'static str {
        match self {
            Product::Document(format) => format.extension(),
            Product::Pack => "zip",
        }
    }

    /// The audit log's target: `document 141026 2025Q3 docx`, `pack 141026 2025Q3 zip`.
    fn target(self, county: &str, year: i32, quarter: Option<u32>) -> String {
        let what = if self == Product::Pack { "pack" } else { "document" };
        match quarter {
            Some(q) => format!("{what} {county} {year}Q{q} {}", self.extension()),
            None => format!("{what} {county} {year} {}", self.extension()),
        }
    }

    async fn write(self, state: &AppState, scope: &Scope, (year, quarter): (i32, Option<u32>)) -> AppResult<Written> {
        let asked = Asked { snapshot: Snapshot::Latest, latest: false };
        match (self, quarter) {
            (Product::Document(format), _) => documents::write(state, scope, (year, quarter), format, &asked).await,
            (Product::Pack, Some(q)) => crate::packs::write(state, scope, year, q, &asked).await,
            (Product::Pack, None) => Err(AppError::Internal("报表包按季度生成".into())),
        }
    }
}

/// Who the audit log names for a scheduled run of `county`.
fn actor(county: &str) -> Account {
    let scope = Scope::County(county.to_string());
    Account {
        name: "定时任务".into(),
        display_name: "yishi serve 定时生成".into(),
        role: Role::of(&scope),
        scope,
        via: "schedule",
    }
}

/// The runs of one server: the files tried in this process, so a period without data is
/// not tried (and audited) again until its data change.
#[derive(Debug, Default)]
pub struct Runs {
    tried: HashSet<PathBuf>,
}

impl Runs {
    /// Writes every document due on `today` that is not written yet for the current data;
    /// returns the files written.
    pub async fn run_due(&mut self, state: &AppState, schedule: &Schedule, today: NaiveDate) -> Vec<PathBuf> {
        let (year, quarter) = due_quarter(today, schedule.days_after);
        let mut periods = vec![(year, Some(quarter))];
        // The year-end documents come with the fourth quarter's, in January.
        if quarter == 4 {
            periods.push((year, None));
        }
        let tag = match versions_tag(state).await {
            Ok(tag) => tag,
            Err(e) => {
                tracing::error!(error = %e, "schedule: data versions unreadable");
                return Vec::new();
            }
        };
        let mut written = Vec::new();
        for county in &schedule.counties {
            for period in &periods {
                let mut products: Vec<Product> = schedule.formats.iter().map(|f| Product::Document(*f)).collect();
                // The pack is a quarter's (its workbook and charts are by quarter).
                if schedule.pack && period.1.is_some() {
                    products.push(Product::Pack);
                }
                for product in products {
                    if let Some(path) = self.one(state, schedule, county, *period, product, &tag).await {
                        written.push(path);
                    }
                }
            }
        }
        written
    }

    /// One document or pack, unless its file (for these data versions) exists or was tried.
    async fn one(
        &mut self,
        state: &AppState,
        schedule: &Schedule,
        county: &str,
        (year, quarter): (i32, Option<u32>),
        product: Product,
        tag: &str,
    ) -> Option<PathBuf> {
        let key = schedule.out_dir.join(format!("{county}_{year}_{quarter:?}_{tag}.{}", product.extension()));
        if !self.tried.insert(key) {
            return None;
        }
        let scope = Scope::County(county.to_string());
        let target = product.target(county, year, quarter);
        let account = actor(county);
        let outcome = match product.write(state, &scope, (year, quarter)).await {
            Ok(document) => save(&schedule.out_dir, &document, tag).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Some(path)) => {
                tracing::info!(county, year, ?quarter, path = %path.display(), "schedule: file written");
                state.catalog.audit(Some(&account), "schedule", &target, &path.display().to_string(), 200).await;
                Some(path)
            }
            // Written by an earlier run of the server on the same data.
            Ok(None) => None,
            Err(e) => {
                let (status, _, message) = e.parts();
                tracing::warn!(county, year, ?quarter, error = %message, "schedule: nothing written");
                state.catalog.audit(Some(&account), "schedule", &target, &message, status.as_u16()).await;
                None
            }
        }
    }
}

/// "cadres=1,communities=1,evaluations=2,…": the versions the documents read, as
/// `--as-of-version` takes them.
async fn versions_tag(state: &AppState) -> AppResult<String> {
    let versions = reports::versions_of(state, &Snapshot::Latest).await?;
    let parts: Vec<String> = versions.iter().map(|(t, v)| format!("{}={v}", t.name())).collect();
    Ok(parts.join(","))
}

/// Writes `document` as `<its name>_数据版本<tag>.<ext>` in `dir`; `None` if that file
/// exists (the same document of the same data).
async fn save(dir: &Path, document: &Written, tag: &str) -> AppResult<Option<PathBuf>> {
    let (stem, extension) = document.file_name.rsplit_once('.').unwrap_or((&document.file_name, ""));
    let path = dir.join(format!("{stem}_数据版本{tag}.{extension}"));
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(None);
    }
    let io = |e: std::io::Error| AppError::Internal(format!("写入 {}：{e}", path.display()));
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    // Written under a temporary name and renamed, so a half-written file never has the
    // final name (and is never taken for done).
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, &document.bytes).await.map_err(io)?;
    tokio::fs::rename(&partial, &path).await.map_err(io)?;
    Ok(Some(path))
}

/// Looks every `schedule.every` whether documents are due (first at once) until `stop`.
pub async fn run(state: AppState, schedule: Schedule, clock: impl Clock, stop: impl std::future::Future<Output = ()>) {
    let mut runs = Runs::default();
    let mut tick = tokio::time::interval(schedule.every.max(Duration::from_secs(1)));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {
                runs.run_due(&state, &schedule, clock.today()).await;
            }
        }
    }
}
