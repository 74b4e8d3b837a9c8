//! Every column a report can have, defined once: its key (the contract's name, which is
//! also the JSON key and the Arrow field name), the Chinese header a clerk reads, its kind
//! (which fixes the Arrow type and how it is shown), its unit and its 口径 — the definition
//! in the words of the data contract. Report columns ([`ReportColumn`]), the charts'
//! 口径 lines, the workbooks' 口径 sheets and the pages all read a figure through its
//! [`Figure`] handle, so a misspelt figure does not compile.
//!
//! The SQL that computes the figures is in `facts` and the report modules, next to their
//! doc comments; a report whose SQL misses a declared column fails with an internal error
//! naming it (see `finish` in the parent module), and the e2e tests run every report.

use serde::Serialize;

use super::ReportColumn;
use crate::arrow::datatypes::DataType;

/// What a column holds; fixes its Arrow type and tells a front-end how to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// A code, id or enum token that identifies the row (Utf8).
    Key,
    /// Year or quarter (Int64).
    Period,
    /// A name, the summary line or the quality flags (Utf8).
    Text,
    /// A count (Int64).
    Count,
    /// A ratio in [0, 1], null when its denominator is 0 (Float64; show as a percent).
    Rate,
    /// A mean of a 1–5 rating dimension (Float64).
    Mean,
    /// A 0–100 score or satisfaction index (Float64).
    Score,
    /// Days (Float64: a median can fall between two days).
    Days,
    /// A competition rank, null when unranked (Int64).
    Rank,
    /// A grade token: excellent, competent, basically_competent, incompetent, not_rated (Utf8).
    Grade,
    /// Yes/no (Boolean).
    Flag,
    /// This quarter's value minus the previous quarter's, in the figure's units.
    Change(Measure),
}

/// The unit of a figure whose change is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Count,
    Rate,
    Mean,
    Score,
    Days,
}

impl ColumnKind {
    /// The Arrow type of a column of this kind in a report's batches.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnKind::Key | ColumnKind::Text | ColumnKind::Grade => DataType::Utf8,
            ColumnKind::Period | ColumnKind::Count | ColumnKind::Rank | ColumnKind::Change(Measure::Count) => {
                DataType::Int64
            }
            ColumnKind::Flag => DataType::Boolean,
            _ => DataType::Float64,
        }
    }

    /// The kind of the change of a figure of this kind. Only counts, rates, means, scores
    /// and days have changes: anything else fails the build (see the check below).
    const fn change(self) -> ColumnKind {
        ColumnKind::Change(match self {
            ColumnKind::Count => Measure::Count,
            ColumnKind::Rate => Measure::Rate,
            ColumnKind::Mean => Measure::Mean,
            ColumnKind::Score => Measure::Score,
            ColumnKind::Days => Measure::Days,
            _ => panic!("only a count, rate, mean, score or number of days has a change"),
        })
    }
}

/// The unit a figure is counted or measured in, as a clerk writes it after the name:
/// 议题数（个）, 满意度指数（分）.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Codes, names, periods, tokens and flags.
    None,
    /// 次: meetings.
    Times,
    /// 个: topics, rectifications, communities.
    Items,
    /// 条: evaluations.
    Entries,
    /// %: a rate, stored as a ratio in [0, 1] and shown as a percent (its change in
    /// percentage points).
    Percent,
    /// 分: a 1–5 rating mean, a 0–100 score or the satisfaction index.
    Points,
    /// 天.
    Days,
    /// 名: a place in a ranking.
    Place,
    /// 人: people at a meeting.
    Persons,
}

impl Unit {
    /// The unit as written after a figure's name ("" for none).
    pub const fn chinese(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Times => "次",
            Unit::Items => "个",
            Unit::Entries => "条",
            Unit::Percent => "%",
            Unit::Points => "分",
            Unit::Days => "天",
            Unit::Place => "名",
            Unit::Persons => "人",
        }
    }
}

/// The table of figures: `Variant [/ ChangeVariant] = key, chinese, kind, unit, 口径;`.
/// A change variant is the `<key>_change` column (fine print 9): its header is the
/// figure's with 环比, its kind the figure's change, its unit the figure's.
macro_rules! figures {
    ($(
        $figure:ident $(/ $change:ident)? = $key:literal, $chinese:literal, $kind:ident, $unit:ident,
        $definition:literal;
    )*) => {
        /// A column of the reports: a figure of the data contract, its change from the
        /// previous quarter, or a key, name or period that identifies a row. Each variant's
        /// documentation is its 口径 ([`Figure::definition`]).
        ///
        /// The cadre and the community score share the key `score` but not the definition,
        /// so they are two figures.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Figure {
            $(
                #[doc = $definition]
                $figure,
                $(
                    #[doc = concat!("`", $key, "_change`: ", $chinese, "环比.")]
                    $change,
                )?
            )*
        }

        impl Figure {
            /// Every figure, in the order of this table.
            pub const ALL: &'static [Figure] = &[$(Figure::$figure, $(Figure::$change,)?)*];

            /// The contract's name: the column's key in JSON rows and its Arrow field name.
            pub const fn key(self) -> &'static str {
                match self {
                    $(
                        Figure::$figure => $key,
                        $(Figure::$change => concat!($key, "_change"),)?
                    )*
                }
            }

            /// The header a clerk reads (CSV, XLSX, tables, chart text).
            pub const fn chinese(self) -> &'static str {
                match self {
                    $(
                        Figure::$figure => $chinese,
                        $(Figure::$change => concat!($chinese, "环比"),)?
                    )*
                }
            }

            /// What the column holds: its Arrow type and how it is shown.
            pub const fn kind(self) -> ColumnKind {
                match self {
                    $(
                        Figure::$figure => ColumnKind::$kind,
                        $(Figure::$change => ColumnKind::$kind.change(),)?
                    )*
                }
            }

            /// The unit the figure is counted or measured in (its change's is the same).
            pub const fn unit(self) -> Unit {
                match self {
                    $(
                        Figure::$figure => Unit::$unit,
                        $(Figure::$change => Unit::$unit,)?
                    )*
                }
            }

            /// The 口径: the figure's definition as a county statistician would write it
            /// (the charts' 口径 lines and the workbooks' 口径 sheets).
            pub const fn definition(self) -> &'static str {
                match self {
                    $(
                        Figure::$figure => $definition,
                        $(Figure::$change => concat!(
                            "本季度", $chinese,
                            "减上一自然季度的值，单位同该指标；任一季度为空、或上一季度早于有数据的首年时为空"
                        ),)?
                    )*
                }
            }

            /// The figure's `<key>_change` column, if the quarterly analysis reports one.
            pub const fn change(self) -> Option<Figure> {
                match self {
                    $($(Figure::$figure => Some(Figure::$change),)?)*
                    _ => None,
                }
            }

            /// The figure a `<key>_change` column is the change of.
            pub const fn change_of(self) -> Option<Figure> {
                match self {
                    $($(Figure::$change => Some(Figure::$figure),)?)*
                    _ => None,
                }
            }
        }
    };
}

figures! {
    // The keys, names and periods that identify a row.
    CountyCode = "county_code", "县区代码", Key, None,
        "县区 6 位行政区划代码（社区代码的前 6 位）";
    CountyName = "county_name", "县区名称", Text, None,
        "县区名称（社区基础信息表）";
    CommunityCode = "community_code", "社区代码", Key, None,
        "社区（村）12 位统计用区划代码";
    CommunityName = "community_name", "社区名称", Text, None,
        "社区（村）名称（社区基础信息表）";
    Year = "year", "年度", Period, None,
        "年度：议题按提出日期、评价按评价日期、整改按开始日期、会议按会议日期归属";
    Quarter = "quarter", "季度", Period, None,
        "季度（1–4），归属规则同年度";
    Category = "category", "议题类别代码", Key, None,
        "议题类别的代码（议题表，数据规范的英文代码），按议题归属";
    CategoryLabel = "category_label", "议题类别", Text, None,
        "议题类别（议题表，数据规范的中文名称），按议题归属";
    Channel = "channel", "来源渠道代码", Key, None,
        "来源渠道的代码（议题表，数据规范的英文代码），按议题归属";
    ChannelLabel = "channel_label", "来源渠道", Text, None,
        "来源渠道（议题表，数据规范的中文名称），按议题归属";
    CadreId = "cadre_id", "干部编号", Key, None,
        "干部编号（社区内唯一）";
    CadreName = "cadre_name", "姓名", Text, None,
        "干部姓名";
    // The contract's figures of a period, each with its quarter-over-quarter change.
    SessionsHeld / SessionsHeldChange = "sessions_held", "会议次数", Count, Times,
        "期内召开的说事议事会次数（按会议日期）";
    RegularSessions / RegularSessionsChange = "regular_sessions", "定期会议次数", Count, Times,
        "期内定期（每月 15 日、30 日）会议次数";
    TopicsRaised / TopicsRaisedChange = "topics_raised", "议题数", Count, Items,
        "期内提出的议题数（按提出日期）；干部为其牵头负责的议题";
    TopicsClosed / TopicsClosedChange = "topics_closed", "办结数", Count, Items,
        "期内提出且状态为已办结或已解释的议题数（状态以最新数据为准）";
    CompletionRate / CompletionRateChange = "completion_rate", "办结率", Rate, Percent,
        "办结率 = 已办结或已解释的议题 ÷ 期内提出的议题；分母为 0 时为空";
    ResolutionRate / ResolutionRateChange = "resolution_rate", "解决率", Rate, Percent,
        "解决率 = 已办结（已解决）的议题 ÷ 期内提出的议题；分母为 0 时为空";
    OnTimeRate / OnTimeRateChange = "on_time_rate", "按时办结率", Rate, Percent,
        "按时办结率 = 办结日期不晚于办理时限的已办结议题 ÷ 已办结议题；分母为 0 时为空";
    PublicityRate / PublicityRateChange = "publicity_rate", "公示率", Rate, Percent,
        "公示率 = 有公示日期的已办结议题 ÷ 已办结议题；分母为 0 时为空";
    Evaluations / EvaluationsChange = "evaluations", "评价数", Count, Entries,
        "期内评价数（按评价日期，不论议题状态）";
    SatisfactionRate / SatisfactionRateChange = "satisfaction_rate", "满意率", Rate, Percent,
        "满意率 =（满意 + 基本满意）÷ 评价数，只看总体评价；分母为 0 时为空";
    AttitudeMean / AttitudeMeanChange = "attitude_mean", "态度均分", Mean, Points,
        "态度均分：期内评价态度分（1–5）的平均";
    EfficiencyMean / EfficiencyMeanChange = "efficiency_mean", "效率均分", Mean, Points,
        "效率均分：期内评价效率分（1–5）的平均";
    ResultMean / ResultMeanChange = "result_mean", "结果均分", Mean, Points,
        "结果均分：期内评价结果分（1–5）的平均";
    EffectMean / EffectMeanChange = "effect_mean", "效果均分", Mean, Points,
        "效果均分：期内评价效果分（1–5）的平均";
    SatisfactionIndex / SatisfactionIndexChange = "satisfaction_index", "满意度指数", Score, Points,
        "满意度指数 = 100 ×（每条评价四个维度的平均分 − 1）÷ 4 的平均，0–100；无评价时为空";
    Rectifications / RectificationsChange = "rectifications", "整改数", Count, Items,
        "期内开始的整改数（按开始日期）";
    RectificationRate / RectificationRateChange = "rectification_rate", "整改率", Rate, Percent,
        "整改率 = 按时完成（完成日期不晚于整改时限）的整改 ÷ 期内开始的整改；无整改时为 1";
    SessionRate / SessionRateChange = "session_rate", "定期会议达标率", Rate, Percent,
        "定期会议达标率 = min(1, 定期会议次数 ÷ 每季度 6 次或每年 24 次)；无会议为 0";
    RatingCoverage / RatingCoverageChange = "rating_coverage", "评价覆盖率", Rate, Percent,
        "评价覆盖率 = 有评价（任意日期）的已办结议题 ÷ 已办结议题；分母为 0 时为空";
    DaysToCloseMedian / DaysToCloseMedianChange = "days_to_close_median", "办结天数中位数", Days, Days,
        "期内提出的已办结议题从提出到办结的天数中位数（线性插值）";
    DaysToCloseP90 / DaysToCloseP90Change = "days_to_close_p90", "办结天数90分位", Days, Days,
        "期内提出的已办结议题从提出到办结的天数 90 分位（线性插值）";
    QualityFlags = "quality_flags", "数据质量提示代码", Text, None,
        "数据质量提示的代码，以 ; 分隔：small_sample、low_rating_coverage、closed_after_evaluated、backdated\
         （含义见数据质量提示）";
    QualityFlagsLabel = "quality_flags_label", "数据质量提示", Text, None,
        "数据质量提示：样本过少——议题数、办结数、评价数或整改数有一项为 1–4 个（比率只基于很少的样本）；\
         评价覆盖不足——不足一半的已办结议题有评价；办结晚于评价——有议题的办结日期晚于其首次评价；\
         评价远晚于办结——有期内评价的评价日期比其议题办结日期晚 90 天以上（疑为事后补录）。\
         干部考核只提示样本过少和评价远晚于办结";
    // The cadre assessment.
    Topics = "topics", "议题数", Count, Items,
        "期内提出的议题数（按提出日期）；干部为其牵头负责的议题";
    CadreScore = "score", "得分", Score, Points,
        "干部得分 = 30×办结率 + 20×按时办结率 + 35×满意度指数/100 + 15×整改率（其所牵头议题及其评价、整改）；\
         空值计 0；权重以评分方案为准";
    Rated = "rated", "参评", Flag, None,
        "是否参评：全年牵头议题不少于评分方案的最少议题数（默认 3）";
    RankInCommunity = "rank_in_community", "社区内排名", Rank, Place,
        "社区内排名（并列同名次，如 1、2、2、4），未评定者不排名";
    RankInCounty = "rank_in_county", "县内排名", Rank, Place,
        "县内排名（并列同名次）；干部只在参评干部中排名";
    Grade = "grade", "等级代码", Grade, None,
        "等级代码：excellent、competent、basically_competent、incompetent、not_rated";
    GradeChinese = "grade_chinese", "等级", Text, None,
        "等级：得分 ≥ 90 且在县内参评干部前 20%（名额至少 1 个，并列均入）为优秀；≥ 70 称职；≥ 60 基本称职；\
         其余不称职；议题不足为未评定（阈值与比例以评分方案为准）";
    // The community assessment.
    CommunityScore = "score", "得分", Score, Points,
        "社区得分 = 25×办结率 + 15×按时办结率 + 35×满意度指数/100 + 10×整改率 + 10×公示率 + 5×定期会议达标率；\
         空值计 0；权重以评分方案为准";
    RankOverall = "rank_overall", "总排名", Rank, Place,
        "在查询范围内全部社区中的排名（并列同名次）";
    CountyAvgScore = "county_avg_score", "县平均分", Score, Points,
        "县平均分：本县全部社区得分的算术平均";
    // The county summary.
    Communities = "communities", "社区数", Count, Items,
        "县区内社区数（社区基础信息表）";
    AvgScore = "avg_score", "社区平均得分", Score, Points,
        "社区平均得分：本县全部社区得分的算术平均";
    AvgCompletionRate = "avg_completion_rate", "平均办结率", Rate, Percent,
        "本县各社区办结率的算术平均（空值不计）";
    AvgOnTimeRate = "avg_on_time_rate", "平均按时办结率", Rate, Percent,
        "本县各社区按时办结率的算术平均（空值不计）";
    AvgPublicityRate = "avg_publicity_rate", "平均公示率", Rate, Percent,
        "本县各社区公示率的算术平均（空值不计）";
    AvgSatisfactionIndex = "avg_satisfaction_index", "平均满意度指数", Score, Points,
        "本县各社区满意度指数的算术平均（空值不计）";
    AvgRectificationRate = "avg_rectification_rate", "平均整改率", Rate, Percent,
        "本县各社区整改率的算术平均（空值不计）";
    AvgSessionRate = "avg_session_rate", "平均定期会议达标率", Rate, Percent,
        "本县各社区定期会议达标率的算术平均（空值不计）";
    Summary = "summary", "概况", Text, None,
        "概况：社区数、会议次数、议题数和全县办结率（全县办结数 ÷ 全县议题数）的一句话汇总";
    // Meetings (per community and quarter).
    UnscheduledSessions = "unscheduled_sessions", "不定期会议次数", Count, Times,
        "期内召开的非定期会议（不定期、急事急说、特事特说）次数（按会议日期）";
    RegularOnSchedule = "regular_on_schedule", "按期定期会议次数", Count, Times,
        "期内在规定日期（每月 15 日、30 日，2 月为 15 日和月末）召开的定期会议次数";
    OnScheduleRate = "on_schedule_rate", "定期会议按期率", Rate, Percent,
        "定期会议按期率 = 按期定期会议次数 ÷ 定期会议次数；无定期会议时为空";
    TopicsDeliberated = "topics_deliberated", "上会议题数", Count, Items,
        "会议编号指向期内会议的议题数（不论议题提出日期）";
    TopicsPerSession = "topics_per_session", "场均议题数", Mean, Items,
        "场均议题数 = 上会议题数 ÷ 会议次数；无会议时为空";
    AttendeesMean = "attendees_mean", "场均参会人数", Mean, Persons,
        "场均参会人数：期内会议参会人数的平均；无会议时为空";
    ResidentRepsMean = "resident_reps_mean", "场均居民代表人数", Mean, Persons,
        "场均居民代表人数：期内填写了居民代表人数的会议的平均（未填的会议不计）";
    PartyRepsMean = "party_reps_mean", "场均党员代表人数", Mean, Persons,
        "场均党员代表人数：期内填写了党员代表人数的会议的平均（未填的会议不计）";
    RegularTopics = "regular_topics", "定期会议议题数", Count, Items,
        "会议编号指向期内定期会议的议题数";
    TopicsFixedEarly = "topics_fixed_early", "提前10天确定议题数", Count, Items,
        "定期会议议题中，提出日期不晚于会议日期前 10 天（会议日期 − 提出日期 ≥ 10）的议题数；\
         台账没有“议题确定日期”，以提出日期代替";
    FixedEarlyRate = "fixed_early_rate", "议题提前确定率", Rate, Percent,
        "议题提前确定率 = 提前10天确定议题数 ÷ 定期会议议题数；分母为 0 时为空";
    // Handling: the modes, and the joint units.
    HandlingMode = "handling_mode", "办理方式代码", Key, None,
        "办理方式的代码（议题表）：self、proxy、joint";
    HandlingModeLabel = "handling_mode_label", "办理方式", Text, None,
        "办理方式（议题表，数据规范的中文名称）：社区自办、全程代办、部门联办";
    TopicShare = "topic_share", "议题占比", Rate, Percent,
        "议题占比 = 该办理方式期内提出的议题 ÷ 本社区期内提出的议题；分母为 0 时为空";
    JointUnit = "unit", "联办单位", Key, None,
        "联办单位：议题表“联办单位”列表中的一项（一个议题列多个单位时每个单位各计一次）";
    TopicsRouted = "topics_routed", "交办议题数", Count, Items,
        "期内提出、联办单位列表含该单位的议题数（不论办理方式）";
    ClosedOnTime = "closed_on_time", "按时办结数", Count, Items,
        "办结日期不晚于办理时限的已办结（已办结或已解释）议题数";
    // Publicity.
    TopicsPublicized = "topics_publicized", "公示议题数", Count, Items,
        "期内提出、已办结且有公示日期的议题数";
    BoardShare = "board_share", "公示栏占比", Rate, Percent,
        "公示栏占比 = 公示渠道为公示栏的公示议题 ÷ 公示议题；分母为 0 时为空（未填渠道的公示议题只计入分母）";
    WechatAccountShare = "wechat_account_share", "公众号占比", Rate, Percent,
        "公众号占比 = 公示渠道为公众号的公示议题 ÷ 公示议题；分母为 0 时为空";
    GroupChatShare = "group_chat_share", "居民群占比", Rate, Percent,
        "居民群占比 = 公示渠道为居民群的公示议题 ÷ 公示议题；分母为 0 时为空";
    DaysToPublishMedian = "days_to_publish_median", "办结到公示天数中位数", Days, Days,
        "公示议题的公示日期 − 办结日期（天，公示早于办结时为负）的中位数（线性插值）；无公示议题时为空";
    DaysToPublishMean = "days_to_publish_mean", "办结到公示平均天数", Days, Days,
        "公示议题的公示日期 − 办结日期（天，公示早于办结时为负）的平均；无公示议题时为空";
    // The overdue list (one row per overdue topic or rectification).
    ItemKind = "item_kind", "事项类型代码", Key, None,
        "事项类型的代码：topic（议题）、rectification（整改）";
    ItemKindLabel = "item_kind_label", "事项类型", Text, None,
        "事项类型：议题或整改";
    ItemId = "item_id", "事项编号", Key, None,
        "议题编号（议题）或整改编号（整改），社区内唯一";
    TopicId = "topic_id", "议题编号", Key, None,
        "议题编号（整改为其所属议题）";
    Title = "title", "议题名称", Text, None,
        "议题名称（整改为其所属议题的名称）";
    Status = "status", "办理状态代码", Text, None,
        "议题办理状态的代码（以最新数据为准；整改为其所属议题的状态）：pending、in_progress、resolved、explained";
    StatusLabel = "status_label", "办理状态", Text, None,
        "议题办理状态（以最新数据为准；整改为其所属议题的状态）：待议、办理中、已办结、已解释";
    Deadline = "deadline", "时限", Text, None,
        "议题的办理时限或整改的整改时限（年-月-日）";
    ClosedOn = "closed_on", "办结（完成）日期", Text, None,
        "议题的办结日期（已办结或已解释时）或整改完成日期（年-月-日）；截止日仍未办结的为空";
    AsOf = "as_of", "截止日期", Text, None,
        "判断逾期的截止日：所查期间的最后一天；期间尚未结束时为当天（北京时间）";
    Overdue = "overdue", "逾期类型代码", Key, None,
        "逾期类型的代码：open_overdue（逾期未办结）、closed_late（逾期办结）";
    OverdueLabel = "overdue_label", "逾期类型", Text, None,
        "逾期未办结——截止日前已提出（开始）、时限早于截止日、截止日仍未办结（不论提出年份）；\
         逾期办结——在所查期间内办结（完成），办结日期晚于时限";
    DaysOverdue = "days_overdue", "逾期天数", Count, Days,
        "逾期天数（整天）：逾期未办结为截止日 − 时限，逾期办结为办结日期 − 时限；时限当天不算逾期";
    OverdueInCommunity = "overdue_in_community", "社区逾期数", Count, Items,
        "同一社区在本清单中的逾期事项数";
    OverdueOfCadre = "overdue_of_cadre", "责任人逾期数", Count, Items,
        "同一责任人（议题的牵头干部，以最新数据为准）在本清单中的逾期事项数";
    OverdueInCounty = "overdue_in_county", "县区逾期数", Count, Items,
        "同一县区在本清单（查询范围内）中的逾期事项数";
    // The red and black lists of the community assessment.
    List = "list", "红黑榜代码", Text, None,
        "红黑榜的代码：red（红榜）、black（黑榜）、unranked（样本不足，不参与排名）；不在榜上为空";
    ListLabel = "list_label", "红黑榜", Text, None,
        "红榜、黑榜：年度议题不少于评分方案最少议题数（默认 3）的社区参与排名；N = min(评分方案的榜单名额（默认 5），\
         县内参与排名的社区数 ÷ 3 取整)；得分（保留 9 位小数比较）严格高于它的参与社区少于 N 个为红榜，\
         严格低于它的少于 N 个为黑榜（并列均入，红榜优先）；议题不足为“样本不足，不参与排名”";
    // The monthly analysis.
    Month = "month", "月份", Period, None,
        "月份（1–12）：议题按提出日期、评价按评价日期归属";
    MonthlyScore = "monthly_score", "月度综合得分", Score, Points,
        "月度综合得分 = 100 ×（办结率 + 按时办结率 + 满意率）÷ 3，均为当月值，空值计 0；\
         当月既无议题也无评价的社区为空（不排名）";
    MonthRankInCounty = "month_rank_in_county", "月度县内排名", Rank, Place,
        "当月县内排名：按月度综合得分（保留 9 位小数比较）在本县当月有得分的社区中排名（并列同名次）";
    // The hot topics.
    HotKind = "hot_kind", "热点类型代码", Key, None,
        "热点类型的代码：category（议题类别）、title（重复议题）";
    HotKindLabel = "hot_kind_label", "热点类型", Text, None,
        "热点类型：议题类别——每个在本期或上期有议题的类别一行；重复议题——本期提出不少于 2 次的同一归一化议题名称一行";
    HotCategory = "hot_category", "热点类别代码", Text, None,
        "议题类别的代码（议题类别行；重复议题行为空）";
    HotCategoryLabel = "hot_category_label", "热点类别", Text, None,
        "议题类别的中文名称（议题类别行；重复议题行为空）";
    TitleKey = "title_key", "归一化议题名称", Text, None,
        "议题名称归一化：删去全部空白字符（含全角空格），全角字符 U+FF01–U+FF5E 转为对应半角字符，字母转小写";
    TopicsNow = "topics_now", "本期议题数", Count, Items,
        "本期（所查年度或季度）提出的该类别或该归一化名称的议题数（按提出日期）";
    TopicsBefore = "topics_before", "上期议题数", Count, Items,
        "上期（等长的前一期：上一季度或上一年度）提出的该类别或该归一化名称的议题数";
    TopicsRise = "topics_rise", "增加数", Count, Items,
        "增加数 = 本期议题数 − 上期议题数（可为负）";
    RiseRank = "rise_rank", "上升排名", Rank, Place,
        "按增加数从大到小在同一热点类型中排名（并列同名次）";
}

impl Figure {
    /// The column that holds this token column's Chinese labels (see `labels`).
    pub const fn label(self) -> Option<Figure> {
        match self {
            Figure::Category => Some(Figure::CategoryLabel),
            Figure::Channel => Some(Figure::ChannelLabel),
            Figure::QualityFlags => Some(Figure::QualityFlagsLabel),
            Figure::Grade => Some(Figure::GradeChinese),
            Figure::HandlingMode => Some(Figure::HandlingModeLabel),
            Figure::ItemKind => Some(Figure::ItemKindLabel),
            Figure::Status => Some(Figure::StatusLabel),
            Figure::Overdue => Some(Figure::OverdueLabel),
            Figure::List => Some(Figure::ListLabel),
            Figure::HotKind => Some(Figure::HotKindLabel),
            Figure::HotCategory => Some(Figure::HotCategoryLabel),
            _ => None,
        }
    }

    /// The token column a label column labels: [`Figure::label`] read backwards, so the
    /// pairs are written once.
    pub fn label_of(self) -> Option<Figure> {
        Figure::ALL.iter().copied().find(|token| token.label() == Some(self))
    }

    /// The figure as a column of a report.
    pub const fn column(self) -> ReportColumn {
        ReportColumn { key: self.key(), chinese: self.chinese(), kind: self.kind(), figure: self }
    }

    /// The name with its unit, as an axis title: 满意度指数（分）, 议题数（个）.
    pub fn with_unit(self) -> String {
        match self.unit() {
            Unit::None => self.chinese().to_string(),
            unit => format!("{}（{}）", self.chinese(), unit.chinese()),
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

// Every figure's kind is evaluated when the crate is built: a change marked on a figure
// that has none (a key, a name, a rank) stops the build rather than a report.
const _: () = {
    let mut i = 0;
    while i < Figure::ALL.len() {
        let _ = Figure::ALL[i].kind();
        i += 1;
    }
};

/// A cadre's grade (the `grade` token and its `grade_chinese`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 优秀: score ≥ the 优秀 line and within the county's quota.
    Excellent,
    /// 称职.
    Competent,
    /// 基本称职.
    BasicallyCompetent,
    /// 不称职.
    Incompetent,
    /// 未评定: fewer topics in the year than the scheme's minimum.
    NotRated,
}

impl Grade {
    /// Best first.
    pub const ALL: [Grade; 5] =
        [Grade::Excellent, Grade::Competent, Grade::BasicallyCompetent, Grade::Incompetent, Grade::NotRated];

    /// The token in the `grade` column.
    pub const fn token(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Competent => "competent",
            Grade::BasicallyCompetent => "basically_competent",
            Grade::Incompetent => "incompetent",
            Grade::NotRated => "not_rated",
        }
    }

    /// The grade as a clerk writes it (the `grade_chinese` column).
    pub const fn chinese(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Competent => "称职",
            Grade::BasicallyCompetent => "基本称职",
            Grade::Incompetent => "不称职",
            Grade::NotRated => "未评定",
        }
    }

    /// The grade of a `grade` token.
    pub fn parse(token: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.token() == token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_but_for_the_two_scores() {
        let mut keys: Vec<&str> = Figure::ALL.iter().map(|f| f.key()).collect();
        keys.sort_unstable();
        let total = keys.len();
        keys.dedup();
        assert_eq!(total - keys.len(), 1, "only `score` is shared (cadre and community score)");
    }

    #[test]
    fn a_change_column_is_named_after_its_figure() {
        for f in Figure::ALL {
            if let Some(c) = f.change() {
                assert_eq!(c.key(), format!("{}_change", f.key()));
                assert_eq!(c.chinese(), format!("{}环比", f.chinese()));
                assert_eq!(c.change_of(), Some(*f));
                assert!(matches!(c.kind(), ColumnKind::Change(_)));
            }
        }
        assert_eq!(Figure::SatisfactionIndexChange.key(), "satisfaction_index_change");
        assert_eq!(Figure::SatisfactionIndex.with_unit(), "满意度指数（分）");
    }
}
