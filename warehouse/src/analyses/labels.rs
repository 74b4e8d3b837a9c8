//! The Chinese labels of the reports' token columns, from one place each: the contract's
//! enumerations (`ingest::schema`, the same definitions the readers accept values by), the
//! grades ([`Grade`]) and the quality flags ([`QualityFlag`], defined here only). A report
//! carries each token column's label beside it (`category` and `category_label`, …):
//! JSON keeps the tokens for programs, and everything a person reads shows the label.

use ingest::schema::{CATEGORY, CHANNEL, HANDLING_MODE, STATUS};

use super::figures::{Figure, Grade};
use super::hot_topics::HotKind;
use super::lists::CommunityList;
use super::overdue::{ItemKind, Overdue};

/// A data-quality flag of a report row (the `quality_flags` column holds their tokens
/// joined with `;`). Which report computes which flag: docs/analyses.md.
///
/// There is no "closed before raised" flag: ingest refuses such a topic
/// (`closed_before_raised` row error), so it could never fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualityFlag {
    /// A rate of the row rests on 1–4 cases.
    SmallSample,
    /// Fewer than half of the closed topics were rated.
    LowRatingCoverage,
    /// A topic of the row was closed after its first evaluation.
    ClosedAfterEvaluated,
    /// An evaluation of the row is dated more than [`BACKDATED_DAYS`] after its topic was
    /// closed: likely entered long after the fact.
    Backdated,
}

/// An evaluation dated more than this many days after its topic's closure is backdated.
pub const BACKDATED_DAYS: i64 = 90;

impl QualityFlag {
    pub const ALL: [QualityFlag; 4] = [
        QualityFlag::SmallSample,
        QualityFlag::LowRatingCoverage,
        QualityFlag::ClosedAfterEvaluated,
        QualityFlag::Backdated,
    ];

    /// The token in the `quality_flags` column.
    pub const fn token(self) -> &'static str {
        match self {
            QualityFlag::SmallSample => "small_sample",
            QualityFlag::LowRatingCoverage => "low_rating_coverage",
            QualityFlag::ClosedAfterEvaluated => "closed_after_evaluated",
            QualityFlag::Backdated => "backdated",
        }
    }

    /// The flag as a clerk reads it.
    pub const fn chinese(self) -> &'static str {
        match self {
            QualityFlag::SmallSample => "样本过少",
            QualityFlag::LowRatingCoverage => "评价覆盖不足",
            QualityFlag::ClosedAfterEvaluated => "办结晚于评价",
            QualityFlag::Backdated => "评价远晚于办结",
        }
    }

    pub fn parse(token: &str) -> Option<QualityFlag> {
        QualityFlag::ALL.into_iter().find(|f| f.token() == token)
    }

    /// The SQL condition of the flag over a row of counts: small sample when a rate of
    /// the row rests on 1–4 cases (topics raised, topics closed, evaluations or
    /// rectifications opened; session_rate's denominator is a target, not a sample), low
    /// rating coverage when fewer than half of the closed topics were rated (compared at
    /// 9 decimals, fine print 8), and the flags of the row's facts (`any_…` columns).
    const fn condition(self) -> &'static str {
        match self {
            QualityFlag::SmallSample => {
                "topics_raised BETWEEN 1 AND 4 OR topics_closed BETWEEN 1 AND 4
                 OR evaluations BETWEEN 1 AND 4 OR rectifications BETWEEN 1 AND 4"
            }
            QualityFlag::LowRatingCoverage => "round(rating_coverage, 9) < 0.5",
            QualityFlag::ClosedAfterEvaluated => "any_closed_after_evaluated",
            QualityFlag::Backdated => "any_backdated",
        }
    }

    /// `concat_ws(';', CASE WHEN … THEN 'token' END, …)` over `flags`: the `quality_flags`
    /// column of a report that can compute these flags. `concat_ws` skips the nulls; no
    /// flag gives "". The report derives `quality_flags_label` from the tokens.
    pub(crate) fn sql(flags: &[QualityFlag]) -> String {
        let arms: Vec<String> =
            flags.iter().map(|f| format!("CASE WHEN {} THEN '{}' END", f.condition(), f.token())).collect();
        format!("concat_ws(';', {})", arms.join(",\n    "))
    }
}

/// The label of a token of `figure`'s column: the enumeration's Chinese value, the grade's
/// name, or the flags' labels joined with "、". `None` when `figure` holds no tokens. A
/// token no definition knows is kept as it is (it is still better shown than hidden).
pub fn label(figure: Figure, token: &str) -> Option<String> {
    let label = match figure {
        Figure::Category | Figure::HotCategory => CATEGORY.chinese(token).unwrap_or(token).to_string(),
        Figure::Channel => CHANNEL.chinese(token).unwrap_or(token).to_string(),
        Figure::HandlingMode => HANDLING_MODE.chinese(token).unwrap_or(token).to_string(),
        Figure::Grade => Grade::parse(token).map_or(token, |g| g.chinese()).to_string(),
        Figure::Status => STATUS.chinese(token).unwrap_or(token).to_string(),
        Figure::ItemKind => {
            ItemKind::ALL.iter().find(|k| k.token() == token).map_or(token, |k| k.chinese()).to_string()
        }
        Figure::Overdue => Overdue::ALL.iter().find(|k| k.token() == token).map_or(token, |k| k.chinese()).to_string(),
        Figure::HotKind => HotKind::ALL.iter().find(|k| k.token() == token).map_or(token, |k| k.chinese()).to_string(),
        Figure::List => CommunityList::parse(token).map_or(token, |l| l.chinese()).to_string(),
        Figure::QualityFlags => token
            .split(';')
            .filter(|t| !t.is_empty())
            .map(|t| QualityFlag::parse(t).map_or(t, |f| f.chinese()))
            .collect::<Vec<_>>()
            .join("、"),
        _ => return None,
    };
    Some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_in_chinese() {
        assert_eq!(label(Figure::Category, "care").as_deref(), Some("养老托育"));
        assert_eq!(label(Figure::Channel, "home_visit").as_deref(), Some("入户走访"));
        assert_eq!(label(Figure::Grade, "basically_competent").as_deref(), Some("基本称职"));
        assert_eq!(
            label(Figure::QualityFlags, "small_sample;closed_after_evaluated;backdated").as_deref(),
            Some("样本过少、办结晚于评价、评价远晚于办结")
        );
        assert_eq!(label(Figure::QualityFlags, "").as_deref(), Some(""));
        assert_eq!(label(Figure::CommunityName, "care"), None);
    }

    #[test]
    fn every_label_column_is_of_a_token_column() {
        for f in Figure::ALL {
            if let Some(l) = f.label() {
                assert_eq!(l.label_of(), Some(*f));
                assert!(label(*f, "x").is_some(), "{f} has a label column but no labels");
            }
        }
    }
}
