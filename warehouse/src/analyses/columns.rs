//! The columns of every report, in output order, by figure (see `figures` for each one's
//! key, header, kind, unit and 口径).

use super::ReportColumn;
use super::figures::Figure::{self, *};

/// The columns of `figures`, in order.
const fn columns<const N: usize>(figures: [Figure; N]) -> [ReportColumn; N] {
    let mut out = [CountyCode.column(); N];
    let mut i = 0;
    while i < N {
        out[i] = figures[i].column();
        i += 1;
    }
    out
}

/// Per community per quarter: every figure, its change from the previous calendar
/// quarter, and the quality flags.
pub(super) const QUARTERLY: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    CommunityCode,
    CommunityName,
    Year,
    Quarter,
    SessionsHeld,
    RegularSessions,
    TopicsRaised,
    TopicsClosed,
    CompletionRate,
    ResolutionRate,
    OnTimeRate,
    PublicityRate,
    Evaluations,
    SatisfactionRate,
    AttitudeMean,
    EfficiencyMean,
    ResultMean,
    EffectMean,
    SatisfactionIndex,
    Rectifications,
    RectificationRate,
    SessionRate,
    RatingCoverage,
    DaysToCloseMedian,
    DaysToCloseP90,
    SessionsHeldChange,
    RegularSessionsChange,
    TopicsRaisedChange,
    TopicsClosedChange,
    CompletionRateChange,
    ResolutionRateChange,
    OnTimeRateChange,
    PublicityRateChange,
    EvaluationsChange,
    SatisfactionRateChange,
    AttitudeMeanChange,
    EfficiencyMeanChange,
    ResultMeanChange,
    EffectMeanChange,
    SatisfactionIndexChange,
    RectificationsChange,
    RectificationRateChange,
    SessionRateChange,
    RatingCoverageChange,
    DaysToCloseMedianChange,
    DaysToCloseP90Change,
    QualityFlags,
    QualityFlagsLabel,
]);

/// The figures of a breakdown row (no session figures, no changes) after its group and
/// the group's label.
macro_rules! breakdown {
    ($group:expr, $label:expr) => {
        &columns([
            CountyCode,
            CountyName,
            CommunityCode,
            CommunityName,
            Year,
            Quarter,
            $group,
            $label,
            TopicsRaised,
            TopicsClosed,
            CompletionRate,
            ResolutionRate,
            OnTimeRate,
            PublicityRate,
            Evaluations,
            SatisfactionRate,
            AttitudeMean,
            EfficiencyMean,
            ResultMean,
            EffectMean,
            SatisfactionIndex,
            Rectifications,
            RectificationRate,
        ])
    };
}

pub(super) const BY_CATEGORY: &[ReportColumn] = breakdown!(Category, CategoryLabel);
pub(super) const BY_CHANNEL: &[ReportColumn] = breakdown!(Channel, ChannelLabel);

/// Per cadre per year.
pub(super) const CADRES: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    CommunityCode,
    CommunityName,
    CadreId,
    CadreName,
    Year,
    Topics,
    TopicsClosed,
    CompletionRate,
    OnTimeRate,
    Evaluations,
    SatisfactionRate,
    SatisfactionIndex,
    Rectifications,
    RectificationRate,
    CadreScore,
    Rated,
    RankInCommunity,
    RankInCounty,
    Grade,
    GradeChinese,
    QualityFlags,
    QualityFlagsLabel,
]);

/// Per community per year.
pub(super) const COMMUNITIES: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    CommunityCode,
    CommunityName,
    Year,
    SessionsHeld,
    RegularSessions,
    TopicsRaised,
    TopicsClosed,
    Evaluations,
    Rectifications,
    CompletionRate,
    OnTimeRate,
    PublicityRate,
    SatisfactionIndex,
    RectificationRate,
    SessionRate,
    CommunityScore,
    RankInCounty,
    RankOverall,
    CountyAvgScore,
    QualityFlags,
    QualityFlagsLabel,
    List,
    ListLabel,
]);

/// Per county per year.
pub(super) const COUNTIES: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    Year,
    Communities,
    SessionsHeld,
    TopicsRaised,
    TopicsClosed,
    CompletionRate,
    AvgScore,
    AvgCompletionRate,
    AvgOnTimeRate,
    AvgPublicityRate,
    AvgSatisfactionIndex,
    AvgRectificationRate,
    AvgSessionRate,
    Summary,
    QualityFlags,
    QualityFlagsLabel,
]);

/// The columns of a per community × quarter report: its keys, then `figures`.
macro_rules! per_community_quarter {
    ($($figure:expr),* $(,)?) => {
        &columns([CountyCode, CountyName, CommunityCode, CommunityName, Year, Quarter, $($figure),*])
    };
}

/// Per community per quarter: the meetings.
pub(super) const MEETINGS: &[ReportColumn] = per_community_quarter![
    SessionsHeld,
    RegularSessions,
    UnscheduledSessions,
    RegularOnSchedule,
    OnScheduleRate,
    TopicsDeliberated,
    TopicsPerSession,
    AttendeesMean,
    ResidentRepsMean,
    PartyRepsMean,
    RegularTopics,
    TopicsFixedEarly,
    FixedEarlyRate,
];

/// Per community × quarter × handling mode.
pub(super) const HANDLING: &[ReportColumn] = per_community_quarter![
    HandlingMode,
    HandlingModeLabel,
    TopicShare,
    TopicsRaised,
    TopicsClosed,
    CompletionRate,
    OnTimeRate,
    Evaluations,
    SatisfactionRate,
    SatisfactionIndex,
];

/// Per county × quarter × joint unit.
pub(super) const UNITS: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    Year,
    Quarter,
    JointUnit,
    TopicsRouted,
    TopicsClosed,
    CompletionRate,
    ClosedOnTime,
    OnTimeRate,
    Evaluations,
    SatisfactionRate,
    SatisfactionIndex,
]);

/// Per community per quarter: publicity.
pub(super) const PUBLICITY: &[ReportColumn] = per_community_quarter![
    TopicsClosed,
    TopicsPublicized,
    PublicityRate,
    BoardShare,
    WechatAccountShare,
    GroupChatShare,
    DaysToPublishMedian,
    DaysToPublishMean,
];

/// One row per overdue topic or rectification, with the counts per community, cadre and
/// county.
pub(super) const OVERDUE: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    CommunityCode,
    CommunityName,
    ItemKind,
    ItemKindLabel,
    ItemId,
    TopicId,
    Title,
    CadreId,
    CadreName,
    Status,
    StatusLabel,
    Deadline,
    ClosedOn,
    AsOf,
    Overdue,
    OverdueLabel,
    DaysOverdue,
    OverdueInCommunity,
    OverdueOfCadre,
    OverdueInCounty,
]);

/// Per community per month: the 三率 and the monthly ranking.
pub(super) const MONTHLY: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    CommunityCode,
    CommunityName,
    Year,
    Month,
    TopicsRaised,
    TopicsClosed,
    CompletionRate,
    OnTimeRate,
    Evaluations,
    SatisfactionRate,
    MonthlyScore,
    MonthRankInCounty,
]);

/// Per topic category and recurring title of the period: counts now and before.
pub(super) const HOT_TOPICS: &[ReportColumn] = &columns([
    CountyCode,
    CountyName,
    HotKind,
    HotKindLabel,
    HotCategory,
    HotCategoryLabel,
    TitleKey,
    Title,
    TopicsNow,
    TopicsBefore,
    TopicsRise,
    RiseRank,
]);
