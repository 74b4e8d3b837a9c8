//! The quarter cells the ingest keeps (issue 20): reports read from them give the same
//! rows as counting the events (`with_aggregates(false)`, the reference path), at every
//! scope, after upserts that move topics between groups, back in time, after a missed
//! update of the cells (a kill between the two commits), and a session sees only its
//! scope's cells.

use std::path::Path;

use dashboards::encoding::json::report_json;
use ingest::generator::{GeneratedSummary, GeneratorConfig};
use ingest::{Scope, Table};
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::Scheme;
use warehouse::{IngestOptions, IngestOutcome, Snapshot, Warehouse};

use crate::support::runtime;

const KINDS: [ReportKind; 7] = [
    ReportKind::Quarterly,
    ReportKind::QuarterlyByCategory,
    ReportKind::QuarterlyByChannel,
    ReportKind::Handling,
    ReportKind::Cadres,
    ReportKind::Communities,
    ReportKind::Counties,
];

/// Ingests `path` into `table` as the platform; it must commit.
async fn ingest(wh: &Warehouse, table: Table, path: &Path) {
    let options = IngestOptions {
        scope: &Scope::Platform,
        user: "aggregates-test",
        partial: false,
        sheet: None,
        header_row: None,
        max_file_bytes: 64 << 20,
        progress: None,
    };
    let report = wh.ingest_file(table, path, &options).await.expect("ingest");
    assert_eq!(report.outcome, IngestOutcome::Committed, "{}: {:?}", path.display(), report.file.map(|f| f.rejected));
}

/// A generated ledger of two counties × four communities × two years (2024–2025), every
/// table ingested into a fresh warehouse in `dir`.
async fn generated(dir: &Path) -> (Warehouse, GeneratedSummary) {
    let config = GeneratorConfig { counties: 2, communities_per_county: 4, years: 2, ..Default::default() };
    let summary = ingest::generator::generate(&config, &dir.join("ledger")).expect("generate");
    let wh = Warehouse::init(dir.join("wh").to_str().expect("utf-8")).await.expect("init");
    for (table, file) in Table::ALL.iter().zip(&summary.files) {
        ingest(&wh, *table, file).await;
    }
    (wh, summary)
}

/// The scopes checked: the platform, the first county, its first community.
fn scopes(summary: &GeneratedSummary) -> Vec<Scope> {
    vec![
        Scope::Platform,
        Scope::county(&summary.county_codes[0]).expect("county"),
        Scope::community(&summary.community_codes[0]).expect("community"),
    ]
}

/// The periods checked: a quarter (whose change reads the year before), a whole year,
/// the first quarter in scope (null changes), a quarter without data.
const PERIODS: [(i32, Option<u32>); 4] = [(2025, Some(1)), (2025, None), (2024, Some(1)), (2026, Some(2))];

/// Fewer, for the checks after each change: both years whole.
const YEARS: [(i32, Option<u32>); 2] = [(2024, None), (2025, None)];

async fn report(
    wh: &Warehouse,
    kind: ReportKind,
    scope: &Scope,
    period: (i32, Option<u32>),
    scheme: &Scheme,
    at: &Snapshot,
) -> Report {
    wh.report(kind, scope, period.0, period.1, scheme, at).await.unwrap_or_else(|e| panic!("{kind} {scope}: {e}"))
}

fn json(report: &Report) -> String {
    serde_json::to_string(&report_json(report)).expect("json")
}

/// Every report of [`KINDS`] × `scopes` × `periods` × `schemes` at `at`: read from the
/// cells (`from_cells` as expected) and byte-identical to counting the events.
async fn same_as_events(
    wh: &Warehouse,
    scopes: &[Scope],
    periods: &[(i32, Option<u32>)],
    schemes: &[Scheme],
    at: &Snapshot,
    from_cells: bool,
) -> usize {
    let events = wh.clone().with_aggregates(false);
    let mut rows = 0;
    for kind in KINDS {
        for scope in scopes {
            // A year's assessment is the same whatever quarter is asked.
            for &period in periods.iter().filter(|p| kind.is_quarterly() || p.1.is_none()) {
                for scheme in schemes {
                    let fast = report(wh, kind, scope, period, scheme, at).await;
                    let reference = report(&events, kind, scope, period, scheme, at).await;
                    let case = format!(
                        "{kind} {scope} {period:?} basically={}",
                        scheme.basically_satisfied_counts_as_satisfied
                    );
                    assert_eq!(fast.meta.from_cells, from_cells, "{case}");
                    assert!(!reference.meta.from_cells, "{case}");
                    assert_eq!(json(&fast), json(&reference), "{case}");
                    rows += fast.num_rows();
                }
            }
        }
    }
    rows
}

#[test]
fn reports_from_the_cells_equal_the_events_at_every_scope() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let (wh, summary) = generated(dir.path()).await;
        // 基本满意 counted as satisfied (the contract's default) or not.
        let strict = Scheme { basically_satisfied_counts_as_satisfied: false, ..Scheme::default() };
        let schemes = [Scheme::default(), strict];
        let rows = same_as_events(&wh, &scopes(&summary), &PERIODS, &schemes, &Snapshot::Latest, true).await;
        assert!(rows > 500, "too few rows compared: {rows}");
    });
}

/// Cells built county by county (the 20,000-community ledger's build outgrew the query
/// memory in one piece): each part a commit, only the last recording the versions; the
/// reports read them and equal the events.
#[test]
fn cells_built_in_parts_equal_the_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let config = GeneratorConfig { counties: 3, communities_per_county: 3, years: 2, ..Default::default() };
        let summary = ingest::generator::generate(&config, &dir.path().join("ledger")).expect("generate");
        let root = dir.path().join("wh");
        // One county per part.
        let wh = Warehouse::init(root.to_str().expect("utf-8")).await.expect("init").with_cell_part_rows(1);
        for (table, file) in Table::ALL.iter().zip(&summary.files) {
            ingest(&wh, *table, file).await;
        }
        let log = std::fs::read_dir(root.join("_agg").join("quarter_cells").join("_delta_log"))
            .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
            .unwrap_or(0);
        assert!(log >= 3, "the cells were built in one commit per county: {log} commits");
        let county = Scope::county(&summary.county_codes[1]).expect("county");
        let rows =
            same_as_events(&wh, &[Scope::Platform, county], &YEARS, &[Scheme::default()], &Snapshot::Latest, true)
                .await;
        assert!(rows > 50, "too few rows compared: {rows}");
    });
}

/// Rewrites the topics of `community` in `topics.csv`: each gets another category and
/// channel, the lead cadre of another of its topics, and resolved ⇄ explained. Only
/// those rows, as a community's partial re-export; returns the file.
fn moved_topics(summary: &GeneratedSummary, community: &str, out: &Path) -> std::path::PathBuf {
    let mut reader = csv::Reader::from_path(&summary.files[3]).expect("topics.csv");
    let headers = reader.headers().expect("headers").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (category, channel, cadre, status) = (at("category"), at("channel"), at("lead_cadre_id"), at("status"));
    let rows: Vec<csv::StringRecord> =
        reader.records().map(|r| r.expect("row")).filter(|r| &r[at("community_code")] == community).collect();
    assert!(rows.len() > 5, "the community has topics");
    let categories = ["infrastructure", "sanitation", "property", "safety", "care"];
    let channels = ["home_visit", "walk_in", "wechat", "hotline"];
    let path = out.join("topics-moved.csv");
    let mut writer = csv::Writer::from_path(&path).expect("write");
    writer.write_record(&headers).expect("header");
    for (i, row) in rows.iter().enumerate() {
        let mut fields: Vec<String> = row.iter().map(str::to_string).collect();
        fields[category] = categories.into_iter().find(|c| *c != &row[category]).expect("another").to_string();
        fields[channel] = channels[i % channels.len()].to_string();
        fields[cadre] = rows[(i + 1) % rows.len()][cadre].to_string();
        fields[status] = match &row[status] {
            "resolved" => "explained".to_string(),
            "explained" => "resolved".to_string(),
            other => other.to_string(),
        };
        writer.write_record(&fields).expect("row");
    }
    writer.flush().expect("flush");
    path
}

#[test]
fn upserts_and_time_travel_read_the_right_cells() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let (wh, summary) = generated(dir.path()).await;
        let scopes = scopes(&summary);
        let platform = Scope::Platform;
        let before = report(
            &wh,
            ReportKind::QuarterlyByCategory,
            &platform,
            (2025, None),
            &Scheme::default(),
            &Snapshot::Latest,
        )
        .await;
        assert!(before.meta.from_cells);

        // A community re-exports its topics with groups, lead cadres and statuses moved:
        // only its county's cells are rebuilt, and every report still agrees.
        let moved = moved_topics(&summary, &summary.community_codes[0], dir.path());
        ingest(&wh, Table::Topics, &moved).await;
        same_as_events(&wh, &scopes, &YEARS, &[Scheme::default()], &Snapshot::Latest, true).await;
        let after = report(
            &wh,
            ReportKind::QuarterlyByCategory,
            &platform,
            (2025, None),
            &Scheme::default(),
            &Snapshot::Latest,
        )
        .await;
        assert_ne!(json(&before), json(&after), "the re-export moved topics between categories");

        // The versions before the re-export read the cells of that time again.
        let old = before.meta.snapshot();
        let again =
            report(&wh, ReportKind::QuarterlyByCategory, &platform, (2025, None), &Scheme::default(), &old).await;
        assert!(again.meta.from_cells, "time travel to a version the cells recorded");
        assert_eq!(json(&again), json(&before));
        same_as_events(&wh, &scopes, &YEARS, &[Scheme::default()], &old, true).await;

        // Versions no cells recorded (topics from before the re-export with evaluations
        // of now: never a state of the warehouse) count the events, and still agree.
        let mut mixed = old.clone();
        if let Snapshot::Versions(v) = &mut mixed {
            v.insert(Table::Evaluations, after.meta.versions["evaluations"]);
            v.insert(Table::Sessions, 0);
        }
        same_as_events(&wh, &scopes[..1], &YEARS, &[Scheme::default()], &mixed, false).await;
    });
}

#[test]
fn a_missed_update_of_the_cells_falls_back_until_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let (wh, summary) = generated(dir.path()).await;
        let scopes = scopes(&summary);
        // The batch commits but the cells are not updated: the state a kill between the
        // two commits leaves.
        let moved = moved_topics(&summary, &summary.community_codes[0], dir.path());
        ingest(&wh.clone().with_aggregates(false), Table::Topics, &moved).await;
        same_as_events(&wh, &scopes, &YEARS, &[Scheme::default()], &Snapshot::Latest, false).await;

        // The next batch (another county's, whose cells alone would not be enough)
        // rebuilds every county.
        let other =
            summary.community_codes.iter().find(|c| c[..6] != summary.community_codes[0][..6]).expect("county 2");
        let moved = moved_topics(&summary, other, dir.path());
        ingest(&wh, Table::Topics, &moved).await;
        same_as_events(&wh, &scopes, &YEARS, &[Scheme::default()], &Snapshot::Latest, true).await;

        // Missed again, then repaired (what `yishi init` runs).
        let moved = moved_topics(&summary, &summary.community_codes[1], dir.path());
        ingest(&wh.clone().with_aggregates(false), Table::Topics, &moved).await;
        same_as_events(&wh, &scopes[..1], &YEARS, &[Scheme::default()], &Snapshot::Latest, false).await;
        assert!(wh.repair_aggregates().await.expect("repair"), "rebuilt");
        assert!(!wh.repair_aggregates().await.expect("repair"), "already current");
        same_as_events(&wh, &scopes, &YEARS, &[Scheme::default()], &Snapshot::Latest, true).await;
    });
}

#[test]
fn a_session_sees_only_its_scopes_cells() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let (wh, summary) = generated(dir.path()).await;
        let distinct = |column: &str, scope: Scope| {
            let wh = wh.clone();
            let column = column.to_string();
            async move {
                let session = wh.session_with_cells(&scope, &Snapshot::Latest).await.expect("session");
                assert!(session.cells, "{scope}");
                let sql = format!("SELECT DISTINCT {column} AS v FROM quarter_cells ORDER BY v");
                let batches = session.ctx.sql(&sql).await.expect("sql").collect().await.expect("rows");
                let mut seen = Vec::new();
                for batch in batches {
                    let values =
                        warehouse::arrow::compute::cast(batch.column(0), &warehouse::arrow::datatypes::DataType::Utf8)
                            .expect("cast");
                    let values = warehouse::arrow::array::AsArray::as_string::<i32>(&values);
                    seen.extend(values.iter().flatten().map(str::to_string));
                }
                seen.sort();
                seen
            }
        };
        let county = &summary.county_codes[0];
        let community = &summary.community_codes[0];
        let mut counties = summary.county_codes.clone();
        counties.sort();
        assert_eq!(distinct("county_code", Scope::Platform).await, counties);
        assert_eq!(distinct("county_code", Scope::county(county).expect("county")).await, vec![county.clone()]);
        let own = distinct("community_code", Scope::community(community).expect("community")).await;
        assert_eq!(own, vec![community.clone()]);
        // The unscoped table is reachable by no name.
        let session =
            wh.session_with_cells(&Scope::community(community).expect("c"), &Snapshot::Latest).await.expect("s");
        assert!(session.ctx.sql("SELECT * FROM \"_agg\".quarter_cells").await.is_err());
    });
}
