//! The columns of every report, in output order: the key a JSON row uses (the contract's
//! name), the Chinese header, and the kind that fixes the Arrow type and how a front-end
//! formats it.

use super::{ColumnKind as K, Measure as M, ReportColumn};

const fn c(key: &'static str, chinese: &'static str, kind: K) -> ReportColumn {
    ReportColumn { key, chinese, kind }
}

const COUNTY_CODE: ReportColumn = c("county_code", "县区代码", K::Key);
const COUNTY_NAME: ReportColumn = c("county_name", "县区名称", K::Text);
const COMMUNITY_CODE: ReportColumn = c("community_code", "社区代码", K::Key);
const COMMUNITY_NAME: ReportColumn = c("community_name", "社区名称", K::Text);
const YEAR: ReportColumn = c("year", "年度", K::Period);
const QUARTER: ReportColumn = c("quarter", "季度", K::Period);

/// Per community per quarter: every figure, its change from the previous calendar
/// quarter, and the quality flags.
pub(super) const QUARTERLY: &[ReportColumn] = &[
    COUNTY_CODE,
    COUNTY_NAME,
    COMMUNITY_CODE,
    COMMUNITY_NAME,
    YEAR,
    QUARTER,
    c("sessions_held", "会议次数", K::Count),
    c("regular_sessions", "定期会议次数", K::Count),
    c("topics_raised", "议题数", K::Count),
    c("topics_closed", "办结数", K::Count),
    c("completion_rate", "办结率", K::Rate),
    c("resolution_rate", "解决率", K::Rate),
    c("on_time_rate", "按时办结率", K::Rate),
    c("publicity_rate", "公示率", K::Rate),
    c("evaluations", "评价数", K::Count),
    c("satisfaction_rate", "满意率", K::Rate),
    c("attitude_mean", "态度均分", K::Mean),
    c("efficiency_mean", "效率均分", K::Mean),
    c("result_mean", "结果均分", K::Mean),
    c("effect_mean", "效果均分", K::Mean),
    c("satisfaction_index", "满意度指数", K::Score),
    c("rectifications", "整改数", K::Count),
    c("rectification_rate", "整改率", K::Rate),
    c("session_rate", "定期会议达标率", K::Rate),
    c("rating_coverage", "评价覆盖率", K::Rate),
    c("days_to_close_median", "办结天数中位数", K::Days),
    c("days_to_close_p90", "办结天数90分位", K::Days),
    c("sessions_held_change", "会议次数环比", K::Change(M::Count)),
    c("regular_sessions_change", "定期会议次数环比", K::Change(M::Count)),
    c("topics_raised_change", "议题数环比", K::Change(M::Count)),
    c("topics_closed_change", "办结数环比", K::Change(M::Count)),
    c("completion_rate_change", "办结率环比", K::Change(M::Rate)),
    c("resolution_rate_change", "解决率环比", K::Change(M::Rate)),
    c("on_time_rate_change", "按时办结率环比", K::Change(M::Rate)),
    c("publicity_rate_change", "公示率环比", K::Change(M::Rate)),
    c("evaluations_change", "评价数环比", K::Change(M::Count)),
    c("satisfaction_rate_change", "满意率环比", K::Change(M::Rate)),
    c("attitude_mean_change", "态度均分环比", K::Change(M::Mean)),
    c("efficiency_mean_change", "效率均分环比", K::Change(M::Mean)),
    c("result_mean_change", "结果均分环比", K::Change(M::Mean)),
    c("effect_mean_change", "效果均分环比", K::Change(M::Mean)),
    c("satisfaction_index_change", "满意度指数环比", K::Change(M::Score)),
    c("rectifications_change", "整改数环比", K::Change(M::Count)),
    c("rectification_rate_change", "整改率环比", K::Change(M::Rate)),
    c("session_rate_change", "定期会议达标率环比", K::Change(M::Rate)),
    c("rating_coverage_change", "评价覆盖率环比", K::Change(M::Rate)),
    c("days_to_close_median_change", "办结天数中位数环比", K::Change(M::Days)),
    c("days_to_close_p90_change", "办结天数90分位环比", K::Change(M::Days)),
    c("quality_flags", "数据质量提示", K::Text),
];

/// The figures of a breakdown row (no session figures, no changes).
macro_rules! breakdown {
    ($group:expr) => {
        &[
            COUNTY_CODE,
            COUNTY_NAME,
            COMMUNITY_CODE,
            COMMUNITY_NAME,
            YEAR,
            QUARTER,
            $group,
            c("topics_raised", "议题数", K::Count),
            c("topics_closed", "办结数", K::Count),
            c("completion_rate", "办结率", K::Rate),
            c("resolution_rate", "解决率", K::Rate),
            c("on_time_rate", "按时办结率", K::Rate),
            c("publicity_rate", "公示率", K::Rate),
            c("evaluations", "评价数", K::Count),
            c("satisfaction_rate", "满意率", K::Rate),
            c("attitude_mean", "态度均分", K::Mean),
            c("efficiency_mean", "效率均分", K::Mean),
            c("result_mean", "结果均分", K::Mean),
            c("effect_mean", "效果均分", K::Mean),
            c("satisfaction_index", "满意度指数", K::Score),
            c("rectifications", "整改数", K::Count),
            c("rectification_rate", "整改率", K::Rate),
        ]
    };
}

pub(super) const BY_CATEGORY: &[ReportColumn] = breakdown!(c("category", "议题类别", K::Key));
pub(super) const BY_CHANNEL: &[ReportColumn] = breakdown!(c("channel", "来源渠道", K::Key));

/// Per cadre per year.
pub(super) const CADRES: &[ReportColumn] = &[
    COUNTY_CODE,
    COUNTY_NAME,
    COMMUNITY_CODE,
    COMMUNITY_NAME,
    c("cadre_id", "干部编号", K::Key),
    c("cadre_name", "姓名", K::Text),
    YEAR,
    c("topics", "议题数", K::Count),
    c("topics_closed", "办结数", K::Count),
    c("completion_rate", "办结率", K::Rate),
    c("on_time_rate", "按时办结率", K::Rate),
    c("evaluations", "评价数", K::Count),
    c("satisfaction_rate", "满意率", K::Rate),
    c("satisfaction_index", "满意度指数", K::Score),
    c("rectifications", "整改数", K::Count),
    c("rectification_rate", "整改率", K::Rate),
    c("score", "得分", K::Score),
    c("rated", "参评", K::Flag),
    c("rank_in_community", "社区内排名", K::Rank),
    c("rank_in_county", "县内排名", K::Rank),
    c("grade", "等级代码", K::Grade),
    c("grade_chinese", "等级", K::Text),
];

/// Per community per year.
pub(super) const COMMUNITIES: &[ReportColumn] = &[
    COUNTY_CODE,
    COUNTY_NAME,
    COMMUNITY_CODE,
    COMMUNITY_NAME,
    YEAR,
    c("sessions_held", "会议次数", K::Count),
    c("regular_sessions", "定期会议次数", K::Count),
    c("topics_raised", "议题数", K::Count),
    c("topics_closed", "办结数", K::Count),
    c("evaluations", "评价数", K::Count),
    c("rectifications", "整改数", K::Count),
    c("completion_rate", "办结率", K::Rate),
    c("on_time_rate", "按时办结率", K::Rate),
    c("publicity_rate", "公示率", K::Rate),
    c("satisfaction_index", "满意度指数", K::Score),
    c("rectification_rate", "整改率", K::Rate),
    c("session_rate", "定期会议达标率", K::Rate),
    c("score", "得分", K::Score),
    c("rank_in_county", "县内排名", K::Rank),
    c("rank_overall", "总排名", K::Rank),
    c("county_avg_score", "县平均分", K::Score),
];

/// Per county per year.
pub(super) const COUNTIES: &[ReportColumn] = &[
    COUNTY_CODE,
    COUNTY_NAME,
    YEAR,
    c("communities", "社区数", K::Count),
    c("sessions_held", "会议次数", K::Count),
    c("topics_raised", "议题数", K::Count),
    c("topics_closed", "办结数", K::Count),
    c("completion_rate", "办结率", K::Rate),
    c("avg_score", "社区平均得分", K::Score),
    c("avg_completion_rate", "平均办结率", K::Rate),
    c("avg_on_time_rate", "平均按时办结率", K::Rate),
    c("avg_publicity_rate", "平均公示率", K::Rate),
    c("avg_satisfaction_index", "平均满意度指数", K::Score),
    c("avg_rectification_rate", "平均整改率", K::Rate),
    c("avg_session_rate", "平均定期会议达标率", K::Rate),
    c("summary", "概况", K::Text),
];
