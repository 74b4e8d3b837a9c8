//! What every figure means (口径), in the words of the data contract, keyed by the
//! contract's column name. The charts' 口径 lines and the workbooks' 口径 sheets both read
//! from here, so a definition is written once.

use warehouse::analyses::{ReportColumn, ReportKind};

/// The 口径 of a column: its definition as a county statistician would write it.
pub fn definition(column: &ReportColumn) -> String {
    if let Some(base) = column.key.strip_suffix("_change") {
        return format!(
            "本季度{}减上一自然季度的值，单位同该指标；任一季度为空、或上一季度早于有数据的首年时为空",
            base_name(base)
        );
    }
    match base_definition(column.key) {
        Some(text) => text.to_string(),
        None => format!("{}（见数据契约）", column.chinese),
    }
}

/// The 口径 of a column of a report of `kind`: the score is defined differently for
/// cadres and communities.
pub fn definition_in(kind: ReportKind, column: &ReportColumn) -> String {
    match (kind, column.key) {
        (ReportKind::Cadres, "score") => definition_of("cadre_score"),
        (ReportKind::Communities, "score") => definition_of("community_score"),
        _ => definition(column),
    }
}

/// The Chinese name of a figure by its contract key (for change columns and chart text).
fn base_name(key: &str) -> &'static str {
    match key {
        "sessions_held" => "会议次数",
        "regular_sessions" => "定期会议次数",
        "topics_raised" => "议题数",
        "topics_closed" => "办结数",
        "completion_rate" => "办结率",
        "resolution_rate" => "解决率",
        "on_time_rate" => "按时办结率",
        "publicity_rate" => "公示率",
        "evaluations" => "评价数",
        "satisfaction_rate" => "满意率",
        "attitude_mean" => "态度均分",
        "efficiency_mean" => "效率均分",
        "result_mean" => "结果均分",
        "effect_mean" => "效果均分",
        "satisfaction_index" => "满意度指数",
        "rectifications" => "整改数",
        "rectification_rate" => "整改率",
        "session_rate" => "定期会议达标率",
        "rating_coverage" => "评价覆盖率",
        "days_to_close_median" => "办结天数中位数",
        "days_to_close_p90" => "办结天数90分位",
        _ => "该指标",
    }
}

fn base_definition(key: &str) -> Option<&'static str> {
    Some(match key {
        "county_code" => "县区 6 位行政区划代码（社区代码的前 6 位）",
        "county_name" => "县区名称（社区基础信息表）",
        "community_code" => "社区（村）12 位统计用区划代码",
        "community_name" => "社区（村）名称（社区基础信息表）",
        "year" => "年度：议题按提出日期、评价按评价日期、整改按开始日期、会议按会议日期归属",
        "quarter" => "季度（1–4），归属规则同年度",
        "category" => "议题类别（议题表），按议题归属",
        "channel" => "来源渠道（议题表），按议题归属",
        "cadre_id" => "干部编号（社区内唯一）",
        "cadre_name" => "干部姓名",
        "sessions_held" => "期内召开的说事议事会次数（按会议日期）",
        "regular_sessions" => "期内定期（每月 15 日、30 日）会议次数",
        "topics_raised" | "topics" => "期内提出的议题数（按提出日期）；干部为其牵头负责的议题",
        "topics_closed" => "期内提出且状态为已办结或已解释的议题数（状态以最新数据为准）",
        "completion_rate" => "办结率 = 已办结或已解释的议题 ÷ 期内提出的议题；分母为 0 时为空",
        "resolution_rate" => "解决率 = 已办结（已解决）的议题 ÷ 期内提出的议题；分母为 0 时为空",
        "on_time_rate" => "按时办结率 = 办结日期不晚于办理时限的已办结议题 ÷ 已办结议题；分母为 0 时为空",
        "publicity_rate" => "公示率 = 有公示日期的已办结议题 ÷ 已办结议题；分母为 0 时为空",
        "evaluations" => "期内评价数（按评价日期，不论议题状态）",
        "satisfaction_rate" => "满意率 =（满意 + 基本满意）÷ 评价数，只看总体评价；分母为 0 时为空",
        "attitude_mean" => "态度均分：期内评价态度分（1–5）的平均",
        "efficiency_mean" => "效率均分：期内评价效率分（1–5）的平均",
        "result_mean" => "结果均分：期内评价结果分（1–5）的平均",
        "effect_mean" => "效果均分：期内评价效果分（1–5）的平均",
        "satisfaction_index" => "满意度指数 = 100 ×（每条评价四个维度的平均分 − 1）÷ 4 的平均，0–100；无评价时为空",
        "rectifications" => "期内开始的整改数（按开始日期）",
        "rectification_rate" => "整改率 = 按时完成（完成日期不晚于整改时限）的整改 ÷ 期内开始的整改；无整改时为 1",
        "session_rate" => "定期会议达标率 = min(1, 定期会议次数 ÷ 每季度 6 次或每年 24 次)；无会议为 0",
        "rating_coverage" => "评价覆盖率 = 有评价（任意日期）的已办结议题 ÷ 已办结议题；分母为 0 时为空",
        "days_to_close_median" => "期内提出的已办结议题从提出到办结的天数中位数（线性插值）",
        "days_to_close_p90" => "期内提出的已办结议题从提出到办结的天数 90 分位（线性插值）",
        "quality_flags" => {
            "数据质量提示：small_sample 比率只基于 1–4 个样本；low_rating_coverage 不足一半的已办结议题有评价；\
             closed_before_raised 办结早于提出；closed_after_evaluated 办结晚于首次评价"
        }
        "score" => "得分：干部与社区的计算方式不同，见干部得分、社区得分",
        "cadre_score" => {
            "干部得分 = 30×办结率 + 20×按时办结率 + 35×满意度指数/100 + 15×整改率（其所牵头议题及其评价、整改）；\
             空值计 0；权重以评分方案为准"
        }
        "community_score" => {
            "社区得分 = 25×办结率 + 15×按时办结率 + 35×满意度指数/100 + 10×整改率 + 10×公示率 + 5×定期会议达标率；\
             空值计 0；权重以评分方案为准"
        }
        "rated" => "是否参评：全年牵头议题不少于评分方案的最少议题数（默认 3）",
        "rank_in_community" => "社区内排名（并列同名次，如 1、2、2、4），未评定者不排名",
        "rank_in_county" => "县内排名（并列同名次）；干部只在参评干部中排名",
        "rank_overall" => "在查询范围内全部社区中的排名（并列同名次）",
        "grade" => "等级代码：excellent、competent、basically_competent、incompetent、not_rated",
        "grade_chinese" => {
            "等级：得分 ≥ 90 且在县内参评干部前 20%（名额至少 1 个，并列均入）为优秀；≥ 70 称职；≥ 60 基本称职；\
             其余不称职；议题不足为未评定（阈值与比例以评分方案为准）"
        }
        "county_avg_score" => "县平均分：本县全部社区得分的算术平均",
        "communities" => "县区内社区数（社区基础信息表）",
        "avg_score" => "社区平均得分：本县全部社区得分的算术平均",
        "avg_completion_rate" => "本县各社区办结率的算术平均（空值不计）",
        "avg_on_time_rate" => "本县各社区按时办结率的算术平均（空值不计）",
        "avg_publicity_rate" => "本县各社区公示率的算术平均（空值不计）",
        "avg_satisfaction_index" => "本县各社区满意度指数的算术平均（空值不计）",
        "avg_rectification_rate" => "本县各社区整改率的算术平均（空值不计）",
        "avg_session_rate" => "本县各社区定期会议达标率的算术平均（空值不计）",
        "summary" => "概况：社区数、会议次数、议题数和全县办结率（全县办结数 ÷ 全县议题数）的一句话汇总",
        _ => return None,
    })
}

/// The name of a figure for chart text, by contract key.
pub fn figure_name(key: &str) -> &'static str {
    base_name(key)
}

/// The 口径 of a figure by key alone (for chart footnotes).
pub fn definition_of(key: &str) -> String {
    base_definition(key).map(str::to_string).unwrap_or_else(|| base_name(key).to_string())
}
