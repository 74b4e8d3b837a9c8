//! Deterministic synthetic-county ledger generator (`yishi demo generate`, tests, benchmarks).
//!
//! It writes the six ledger tables of the data contract for a number of synthetic counties,
//! each with a number of communities, over a number of years, as of 31 December of the last
//! year. Every row obeys the contract's rules: references stay inside their community, a
//! topic carries `closed_on` iff it is closed, dates never precede the dates they follow and
//! never pass the as-of date.
//!
//! Two properties shape the code:
//!
//! * **Determinism.** Identical config, identical bytes. Every community draws from its own
//!   ChaCha8 stream seeded from (seed, county, community), every year of it from (seed,
//!   county, community, year), so a community's rows never depend on how many others are
//!   generated or in which order.
//! * **Streaming.** Only one community-year (a few hundred topics) is held in memory; its
//!   rows go straight to the six open writers. CSV and JSON lines therefore scale to
//!   millions of rows. XLSX keeps its sheet until saved, which Excel's row limit bounds.
//!
//! The simulation in one paragraph: every cadre has a hidden quality level. It drives how
//! often that cadre's topics are closed on time, how often they get stuck, how well
//! residents rate them, and how quickly rectifications are finished — so cadre and
//! community scores spread the way a county's do (a few excellent, most competent, a few
//! weak).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::schema::{
    CATEGORY, CHANNEL, Enumeration, HANDLING_MODE, PUBLICITY_CHANNEL, ROLE, SESSION_FORM, SESSION_KIND, STATUS, Table,
    VERDICT,
};

/// Data rows an XLSX sheet can hold below its header row.
pub const XLSX_MAX_DATA_ROWS: usize = 1_048_575;

/// The file format the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Csv,
    Xlsx,
    Jsonl,
}

impl OutputFormat {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Xlsx => "xlsx",
            OutputFormat::Jsonl => "jsonl",
        }
    }

    /// Parses `csv`, `xlsx` or `jsonl` (also `json`), case-insensitive.
    pub fn parse(text: &str) -> Option<OutputFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(OutputFormat::Csv),
            "xlsx" | "excel" => Some(OutputFormat::Xlsx),
            "jsonl" | "json" | "ndjson" => Some(OutputFormat::Jsonl),
            _ => None,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    pub counties: usize,
    pub communities_per_county: usize,
    pub years: usize,
    /// Years run `last_year - years + 1 ..= last_year`; data are as of 31 December of it.
    pub last_year: i32,
    pub seed: u64,
    pub format: OutputFormat,
    /// Chinese headers, enum values, dates, booleans and list separators; CSV becomes
    /// GB18030 with CRLF line endings (XLSX and JSON lines stay in their own encodings).
    pub chinese: bool,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            counties: 2,
            communities_per_county: 5,
            years: 1,
            last_year: 2025,
            seed: 7,
            format: OutputFormat::Csv,
            chinese: false,
        }
    }
}

impl GeneratorConfig {
    /// The first year generated (may be nonsensical for an invalid config).
    pub fn first_year(&self) -> i32 {
        let years = i32::try_from(self.years).unwrap_or(i32::MAX);
        self.last_year.saturating_sub(years.saturating_sub(1))
    }

    /// The date the data are as of: 31 December of `last_year`.
    pub fn as_of(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.last_year, 12, 31)
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedSummary {
    /// Data rows per table (headers not counted).
    pub rows: BTreeMap<Table, usize>,
    /// One file per table, in [`Table::ALL`] order.
    pub files: Vec<PathBuf>,
    pub county_codes: Vec<String>,
    pub community_codes: Vec<String>,
}

/// Why [`generate`] stopped; messages in Chinese with the English gist.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    #[error("生成参数无效：{reason} (invalid generator config)")]
    InvalidConfig { reason: String },
    #[error("无法写入文件 {path}：{source} (cannot write file)")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("无法写入 CSV 文件 {path}：{source} (cannot write CSV)")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("无法写入 XLSX 文件 {path}：{source} (cannot write XLSX)")]
    Xlsx {
        path: PathBuf,
        #[source]
        source: XlsxError,
    },
    #[error(
        "{table} 表已达 {rows} 行，超过 XLSX 工作表上限 1048575 行，请改用 CSV 或 JSON lines \
         (table {table} exceeds the XLSX limit of 1,048,575 rows; use CSV or JSON lines)"
    )]
    TooManyRowsForXlsx { table: Table, rows: usize },
}

/// Writes one file per table into `out_dir` (created if missing) and returns what it wrote.
pub fn generate(config: &GeneratorConfig, out_dir: &Path) -> Result<GeneratedSummary, GeneratorError> {
    let plan = Plan::new(config)?;
    std::fs::create_dir_all(out_dir).map_err(|source| GeneratorError::Io { path: out_dir.to_path_buf(), source })?;
    let mut writers = Writers::open(config, &plan, out_dir)?;
    let mut summary = GeneratedSummary::default();
    for c in 0..config.counties {
        let county = draw_county(&plan, c, config.communities_per_county);
        for j in 0..config.communities_per_county {
            let code = generate_community(&plan, &county, j, &mut writers)?;
            summary.community_codes.push(code);
        }
        summary.county_codes.push(county.code);
    }
    let (rows, files) = writers.finish()?;
    summary.rows = rows;
    summary.files = files;
    tracing::info!(
        counties = config.counties,
        communities = summary.community_codes.len(),
        rows = ?summary.rows,
        "synthetic ledger written"
    );
    Ok(summary)
}

// ---------------------------------------------------------------------------------------
// Plan: the validated config and the calendar.

const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;
const MAX_YEARS: usize = 30;
/// Town codes run 100..=999 and sequences 001..=999, so a county holds at most this many.
const MAX_COMMUNITIES_PER_COUNTY: usize = 100_000;

struct Year {
    number: i32,
    jan1: NaiveDate,
}

struct Plan {
    seed: u64,
    last_year: i32,
    as_of: NaiveDate,
    years: Vec<Year>,
}

impl Plan {
    fn new(config: &GeneratorConfig) -> Result<Plan, GeneratorError> {
        let invalid = |reason: String| GeneratorError::InvalidConfig { reason };
        if config.counties == 0 || config.communities_per_county == 0 || config.years == 0 {
            return Err(invalid(
                "县区数、每县社区数和年数都至少为 1 (counties, communities per county and years must be at least 1)"
                    .into(),
            ));
        }
        if config.counties > max_counties() {
            return Err(invalid(format!("县区数最多 {} 个 (at most {} counties)", max_counties(), max_counties())));
        }
        if config.communities_per_county > MAX_COMMUNITIES_PER_COUNTY {
            return Err(invalid(format!(
                "每县社区数最多 {MAX_COMMUNITIES_PER_COUNTY} 个 (at most {MAX_COMMUNITIES_PER_COUNTY} communities per county)"
            )));
        }
        if config.years > MAX_YEARS {
            return Err(invalid(format!("年数最多 {MAX_YEARS} (at most {MAX_YEARS} years)")));
        }
        let first = config.first_year();
        if first < MIN_YEAR || config.last_year > MAX_YEAR {
            return Err(invalid(format!(
                "年份须在 {MIN_YEAR}–{MAX_YEAR} 之间 (years must lie within {MIN_YEAR}–{MAX_YEAR})"
            )));
        }
        let bad_date = || invalid("无法构造日期 (date out of range)".into());
        let as_of = config.as_of().ok_or_else(bad_date)?;
        let years = (first..=config.last_year)
            .map(|number| {
                let jan1 = NaiveDate::from_ymd_opt(number, 1, 1).ok_or_else(bad_date)?;
                Ok(Year { number, jan1 })
            })
            .collect::<Result<Vec<_>, GeneratorError>>()?;
        Ok(Plan { seed: config.seed, last_year: config.last_year, as_of, years })
    }

    fn rng(&self, parts: &[u64]) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(mix(self.seed, parts))
    }
}

/// Folds a path of indices into the seed; SplitMix64 so that neighbouring indices give
/// unrelated streams.
fn mix(seed: u64, parts: &[u64]) -> u64 {
    let mut h = splitmix(seed ^ 0x6A09_E667_F3BC_C908);
    for &p in parts {
        h = splitmix(h ^ splitmix(p.wrapping_add(0xD1B5_4A32_D192_ED03)));
    }
    h
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

fn lerp(lo: f64, hi: f64, t: f64) -> f64 {
    lo + (hi - lo) * t
}

/// A uniform pick; every list it is given is a non-empty constant.
fn choose<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    let n = u32::try_from(items.len()).unwrap_or(u32::MAX).max(1);
    items[rng.random_range(0..n) as usize]
}

/// A weighted pick; every table it is given is a non-empty constant.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(item, weight) in items {
        if x < weight {
            return item;
        }
        x -= weight;
    }
    items[items.len() - 1].0
}

// ---------------------------------------------------------------------------------------
// Word lists. Enum values are English tokens; the schema turns them into Chinese.

/// Real Linfen (Shanxi) counties, used first so small demos look like the real thing.
const REAL_COUNTIES: &[(&str, &str)] = &[
    ("141021", "曲沃县"),
    ("141026", "安泽县"),
    ("141022", "翼城县"),
    ("141023", "襄汾县"),
    ("141024", "洪洞县"),
    ("141025", "古县"),
    ("141027", "浮山县"),
    ("141028", "吉县"),
    ("141029", "乡宁县"),
    ("141030", "大宁县"),
    ("141031", "隰县"),
    ("141032", "永和县"),
    ("141033", "蒲县"),
    ("141034", "汾西县"),
];
/// Province prefixes for synthesised county codes.
const PROVINCES: &[u32] = &[14, 13, 15, 41, 61, 37, 62, 64, 21, 22, 23, 34, 36, 42, 43, 45, 51, 52, 53, 65];
/// Prefecture 10 is left out so synthesised codes can never meet the real Linfen ones.
const PREFECTURES: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 11];
/// County digits 21..=99 (79 per prefecture).
const COUNTY_DIGITS: usize = 79;

fn max_counties() -> usize {
    REAL_COUNTIES.len() + PROVINCES.len() * PREFECTURES.len() * COUNTY_DIGITS
}

const COUNTY_A: &[&str] = &[
    "清", "长", "永", "安", "兴", "文", "和", "泰", "乐", "昌", "灵", "定", "丰", "广", "盛", "宏", "景", "嘉", "瑞",
    "通",
];
const COUNTY_B: &[&str] = &[
    "源", "川", "水", "谷", "原", "河", "陵", "池", "丘", "林", "台", "阳", "平", "远", "化", "德", "江", "关", "岗",
    "泉",
];
const TOWN_A: &[&str] = &[
    "山", "东", "西", "南", "北", "新", "凤", "城", "桥", "王", "李", "高", "龙", "马", "白", "石", "杨", "柳", "河",
    "黄", "青", "金", "古", "上",
];
const TOWN_B: &[&str] = &["下", "关", "庄", "堡", "店", "村", "头", "口", "寨", "集", "坡", "里"];
const COMMUNITY_A: &[&str] = &[
    "霞", "华", "东", "西", "南", "北", "新", "安", "和", "平", "兴", "康", "福", "金", "青", "龙", "凤", "桃", "柳",
    "杏", "阳", "泉", "文", "明", "永", "宁", "嘉", "瑞", "祥", "盛", "丰", "春", "景", "翠", "云", "乐", "荣", "建",
    "光", "民",
];
const COMMUNITY_B: &[&str] = &[
    "寨", "岗", "苑", "园", "坊", "街", "庄", "湾", "岭", "沟", "坪", "里", "源", "堡", "营", "桥", "门", "关", "峪",
    "河",
];
/// A prime, so `offset + i * STRIDE` walks every combination once before repeating.
const STRIDE: usize = 7919;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪",
    "田", "任", "姜", "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康", "毛",
    "邱", "秦", "江", "史", "武", "侯", "段", "雷", "乔", "牛", "常", "申", "温", "翟",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "玉", "兰", "萍", "红", "鑫", "斌", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁",
    "龙", "林", "欣", "佳", "文", "亮", "建", "波", "辉", "鹏", "飞", "春", "梅", "丹", "雪", "琳", "晨", "晓", "峰",
    "成", "志", "海", "东", "国", "庆", "生", "荣", "德", "永", "福", "新", "利", "金", "云", "凤", "燕", "婷", "雅",
    "琪", "慧", "颖", "淑", "珍", "红", "军", "民", "胜", "保", "全", "喜", "爱", "丽",
];
const NUMERALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
const URBAN_PLACES: &[&str] =
    &["东区", "西区", "南区", "北区", "广场", "菜市场", "小学门口", "老街", "幼儿园旁", "停车场"];
const VILLAGE_PLACES: &[&str] =
    &["村委会附近", "老街", "广场", "小学门口", "村口", "东头", "西头", "菜市场", "文化广场"];
const UNITS: &[&str] = &[
    "派出所",
    "生态环境局",
    "医保局",
    "城管局",
    "人社局",
    "卫健局",
    "交通运输局",
    "自来水公司",
    "燃气公司",
    "供电公司",
    "市场监管局",
    "司法所",
    "物业公司",
    "消防救援大队",
    "住建局",
    "民政局",
    "教育局",
];

const REGULAR: &str = "regular";
const URGENT: &str = "urgent";
const PENDING: &str = "pending";
const IN_PROGRESS: &str = "in_progress";
const RESOLVED: &str = "resolved";
const EXPLAINED: &str = "explained";
const DISSATISFIED: &str = "dissatisfied";

const FORMS_REGULAR: &[(&str, u32)] =
    &[("hall", 55), ("on_site", 14), ("door_to_door", 12), ("online", 10), ("police_resident", 5), ("elders", 4)];
const FORMS_EXTRA: &[(&str, u32)] = &[("on_site", 45), ("door_to_door", 25), ("hall", 20), ("online", 10)];
const EXTRA_KINDS: &[(&str, u32)] = &[(URGENT, 40), ("special", 35), ("irregular", 25)];
const EXTRA_SESSIONS_PER_YEAR: &[(u32, u32)] = &[(0, 20), (1, 30), (2, 25), (3, 15), (4, 10)];
const SKIP_REGULAR: &[(f64, u32)] = &[(0.0, 60), (0.04, 30), (0.12, 10)];

const CATEGORIES_URBAN: &[(&str, u32)] = &[
    ("sanitation", 97),
    ("infrastructure", 86),
    ("property", 72),
    ("disputes", 41),
    ("policy", 37),
    ("safety", 27),
    ("care", 19),
    ("other", 19),
    ("employment", 13),
];
const CATEGORIES_VILLAGE: &[(&str, u32)] = &[
    ("infrastructure", 95),
    ("sanitation", 85),
    ("disputes", 60),
    ("policy", 50),
    ("safety", 25),
    ("care", 25),
    ("employment", 20),
    ("other", 19),
    ("property", 12),
];
/// 急事急说: what cannot wait for the 15th.
const CATEGORIES_URGENT: &[(&str, u32)] =
    &[("safety", 40), ("infrastructure", 35), ("sanitation", 10), ("disputes", 10), ("property", 5)];
const CHANNELS_URBAN: &[(&str, u32)] = &[
    ("home_visit", 125),
    ("grid", 102),
    ("wechat", 87),
    ("walk_in", 47),
    ("property", 29),
    ("referral", 13),
    ("hotline", 8),
    ("survey", 5),
];
const CHANNELS_VILLAGE: &[(&str, u32)] = &[
    ("home_visit", 140),
    ("grid", 100),
    ("walk_in", 70),
    ("wechat", 50),
    ("referral", 15),
    ("hotline", 8),
    ("survey", 6),
    ("property", 4),
];
/// 代办 services suit individual requests; works suit departments together.
const MODES_SERVICE: &[(&str, u32)] = &[("self", 40), ("proxy", 45), ("joint", 15)];
const MODES_WORKS: &[(&str, u32)] = &[("self", 40), ("joint", 45), ("proxy", 15)];
const MODES_OTHER: &[(&str, u32)] = &[("self", 65), ("joint", 25), ("proxy", 10)];
const PUBLICITY: &[(&str, u32)] = &[("board", 40), ("wechat_account", 35), ("group_chat", 25)];
const OTHER_ROLES: &[(&str, u32)] = &[("member", 3), ("grid_leader", 2), ("grid_worker", 4), ("social_worker", 2)];
const EVALUATIONS_PER_TOPIC: &[(usize, u32)] = &[(0, 8), (1, 12), (2, 20), (3, 25), (4, 20), (5, 15)];

fn issues(category: &str) -> &'static [&'static str] {
    match category {
        "infrastructure" => &[
            "道路坑洼需修补",
            "楼道照明不亮",
            "下水道堵塞",
            "健身器材损坏",
            "排水沟破损",
            "桥面栏杆松动",
            "路灯不亮",
            "自来水管漏水",
            "外墙渗水维修",
            "无障碍通道缺失",
        ],
        "sanitation" => &[
            "垃圾清运不及时",
            "公厕卫生差",
            "楼道堆放杂物",
            "绿化带杂草丛生",
            "污水外溢异味大",
            "流浪犬扰民",
            "餐馆油烟扰民",
            "建筑垃圾乱堆",
        ],
        "property" => &[
            "电梯频繁故障",
            "物业服务不到位",
            "物业费收支不透明",
            "小区门禁损坏",
            "车位管理混乱",
            "电动车充电桩不足",
            "维修基金使用不公开",
        ],
        "safety" => &[
            "消防通道被占用",
            "夜间治安巡逻不足",
            "灭火器过期",
            "电动车楼道充电隐患",
            "燃气管道老化",
            "监控摄像头损坏",
        ],
        "employment" => &["失业登记办理", "灵活就业社保缴纳", "公益岗位申请", "技能培训报名", "养老保险转移接续"],
        "care" => {
            &["老年食堂开设需求", "留守儿童看护", "居家养老服务申请", "托育机构缺乏", "高龄补贴申领", "独居老人探访"]
        }
        "disputes" => {
            &["占道停车纠纷", "邻里噪音纠纷", "宅基地边界争议", "赡养纠纷调解", "楼上漏水纠纷", "宠物扰民纠纷"]
        }
        "policy" => &[
            "户籍迁移咨询",
            "惠民补贴政策咨询",
            "适龄儿童入学政策",
            "旧改政策咨询",
            "农村合作医疗政策",
            "危房改造政策",
            "低保申请条件咨询",
        ],
        _ => &["志愿服务活动建议", "文体活动场地需求", "快递柜设置建议", "社区图书室开放时间"],
    }
}

/// Consultations are mostly answered (explained) rather than fixed (resolved).
fn explained_share(category: &str) -> f64 {
    match category {
        "policy" => 0.7,
        "employment" => 0.35,
        "care" => 0.15,
        _ => 0.04,
    }
}

fn modes_for(category: &str) -> &'static [(&'static str, u32)] {
    match category {
        "policy" | "employment" | "care" => MODES_SERVICE,
        "infrastructure" | "safety" => MODES_WORKS,
        _ => MODES_OTHER,
    }
}

fn comments(verdict: &str) -> &'static [&'static str] {
    match verdict {
        "satisfied" => &["态度很好", "问题已解决", "办事效率高", "感谢社区", "基本解决了"],
        "basically_satisfied" => &["效果一般", "希望加快进度", "还需跟进", "建议定期回访"],
        _ => &["没有彻底解决", "办事效率有待提高", "问题反复出现", "希望尽快整改", "迟迟没有回复"],
    }
}

const OUTCOMES: &[&str] = &[
    "已完成整改并公示",
    "已重新维修并回访",
    "已协调相关部门处理完毕",
    "已向居民解释并获认可",
    "已更换设备",
    "已约谈责任人并整改到位",
];

// ---------------------------------------------------------------------------------------
// Places and people.

struct County {
    index: u64,
    code: String,
    name: String,
    per_town: usize,
    town_offset: usize,
    name_offset: usize,
}

struct Place {
    code: String,
    name: String,
    town: String,
    village: bool,
    households: i64,
    residents: i64,
    party_members: i64,
    /// Chance that a regular session is skipped (lowers session_rate).
    skip_regular: f64,
    /// Shifts every cadre's quality: some communities are run better than others.
    management: f64,
}

struct Cadre {
    id: String,
    name: String,
    role: &'static str,
    party: bool,
    /// 0 (weak) ..= 1 (excellent).
    quality: f64,
}

/// Code and name of the county at `index`: the real ones first, then synthesised codes
/// that are distinct by construction.
fn county_identity(index: usize) -> (String, String) {
    if let Some((code, name)) = REAL_COUNTIES.get(index) {
        return ((*code).to_string(), (*name).to_string());
    }
    let k = index - REAL_COUNTIES.len();
    let per_province = PREFECTURES.len() * COUNTY_DIGITS;
    let province = PROVINCES[(k / per_province) % PROVINCES.len()];
    let rest = k % per_province;
    let prefecture = PREFECTURES[rest / COUNTY_DIGITS];
    let code = format!("{province:02}{prefecture:02}{:02}", 21 + rest % COUNTY_DIGITS);
    let combo = (k * 37 + 11) % (COUNTY_A.len() * COUNTY_B.len());
    let name = format!("{}{}县", COUNTY_A[combo / COUNTY_B.len()], COUNTY_B[combo % COUNTY_B.len()]);
    (code, name)
}

fn draw_county(plan: &Plan, c: usize, communities: usize) -> County {
    let mut rng = plan.rng(&[0, c as u64]);
    let (code, name) = county_identity(c);
    // Enough communities per town that town codes stay within 100..=999.
    let per_town = (rng.random_range(3..=8u32) as usize).max(communities.div_ceil(900));
    let town_offset = rng.random_range(0..(TOWN_A.len() * TOWN_B.len()) as u32) as usize;
    let name_offset = rng.random_range(0..(COMMUNITY_A.len() * COMMUNITY_B.len()) as u32) as usize;
    County { index: c as u64, code, name, per_town, town_offset, name_offset }
}

fn town_name(plan: &Plan, county: &County, town: usize) -> (String, bool) {
    let combo = (county.town_offset + town * STRIDE) % (TOWN_A.len() * TOWN_B.len());
    let street = mix(plan.seed, &[3, county.index, town as u64]) % 10 < 3;
    let suffix = if street { "街道" } else { "镇" };
    let name = format!("{}{}{suffix}", TOWN_A[combo / TOWN_B.len()], TOWN_B[combo % TOWN_B.len()]);
    (name, street)
}

fn community_name(county: &County, j: usize, village: bool) -> String {
    let combo = (county.name_offset + j * STRIDE) % (COMMUNITY_A.len() * COMMUNITY_B.len());
    let suffix = if village { "村" } else { "社区" };
    format!("{}{}{suffix}", COMMUNITY_A[combo / COMMUNITY_B.len()], COMMUNITY_B[combo % COMMUNITY_B.len()])
}

fn draw_place(plan: &Plan, county: &County, j: usize, rng: &mut ChaCha8Rng) -> Place {
    let town_index = j / county.per_town;
    let code = format!("{}{:03}{:03}", county.code, 100 + town_index, j % county.per_town + 1);
    let (town, street) = town_name(plan, county, town_index);
    let village = !street && chance(rng, 0.6);
    let households = if village { rng.random_range(150..=900i64) } else { rng.random_range(800..=5000i64) };
    let residents = (households as f64 * lerp(2.3, 3.1, rng.random::<f64>())).round() as i64;
    let party_share = lerp(0.018, 0.04, rng.random::<f64>());
    let party_members = ((residents as f64 * party_share).round() as i64).max(5);
    Place {
        code,
        name: community_name(county, j, village),
        town,
        village,
        households,
        residents,
        party_members,
        skip_regular: pick(rng, SKIP_REGULAR),
        management: lerp(-0.05, 0.05, rng.random::<f64>()),
    }
}

fn push_person_name(rng: &mut ChaCha8Rng, out: &mut String) {
    out.clear();
    out.push_str(choose(rng, SURNAMES));
    out.push_str(choose(rng, GIVEN));
    if chance(rng, 0.6) {
        out.push_str(choose(rng, GIVEN));
    }
}

/// About one cadre in eight excellent, one in ten weak, the rest in between.
fn draw_quality(rng: &mut ChaCha8Rng, management: f64) -> f64 {
    let tier = rng.random::<f64>();
    let t = rng.random::<f64>();
    let q = if tier < 0.12 {
        lerp(0.9, 1.0, t)
    } else if tier < 0.9 {
        lerp(0.45, 0.88, t)
    } else {
        lerp(0.0, 0.2, t)
    };
    (q + management).clamp(0.0, 1.0)
}

fn draw_staff(rng: &mut ChaCha8Rng, management: f64) -> Vec<Cadre> {
    let n = rng.random_range(5..=9u32) as usize;
    let mut staff = Vec::with_capacity(n);
    for i in 0..n {
        let role = match i {
            0 => "secretary",
            1 => "director",
            2 if chance(rng, 0.8) => "deputy_secretary",
            _ => pick(rng, OTHER_ROLES),
        };
        let party = match role {
            "secretary" | "deputy_secretary" => true,
            "director" => chance(rng, 0.8),
            _ => chance(rng, 0.45),
        };
        let mut name = String::new();
        push_person_name(rng, &mut name);
        let quality = draw_quality(rng, management);
        staff.push(Cadre { id: format!("C{:02}", i + 1), name, role, party, quality });
    }
    staff
}

/// Secretary and director take a little more of the load.
fn pick_lead(rng: &mut ChaCha8Rng, staff: &[Cadre]) -> usize {
    let weight = |c: &Cadre| {
        if matches!(c.role, "secretary" | "director") { 12 } else { 10 }
    };
    let total: u32 = staff.iter().map(weight).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (i, cadre) in staff.iter().enumerate() {
        if x < weight(cadre) {
            return i;
        }
        x -= weight(cadre);
    }
    0
}

// ---------------------------------------------------------------------------------------
// Sessions and topics of one community-year.

struct Session {
    id: String,
    held_on: NaiveDate,
    kind: &'static str,
    form: &'static str,
    attendees: i64,
    resident_reps: Option<i64>,
    party_reps: Option<i64>,
    units: Vec<&'static str>,
}

struct Topic {
    id: String,
    session: Option<usize>,
    title: String,
    category: &'static str,
    channel: &'static str,
    raised_on: NaiveDate,
    lead: usize,
    mode: &'static str,
    units: Vec<&'static str>,
    deadline: NaiveDate,
    status: &'static str,
    closed_on: Option<NaiveDate>,
    publicized_on: Option<NaiveDate>,
    publicity: Option<&'static str>,
}

fn ymd(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// The 15th and the 30th of every month; February's second is its last day.
fn regular_dates(year: i32) -> Vec<NaiveDate> {
    let mut dates = Vec::with_capacity(24);
    for month in 1..=12 {
        dates.extend(NaiveDate::from_ymd_opt(year, month, 15));
        let second = if month == 2 {
            NaiveDate::from_ymd_opt(year, 3, 1).and_then(|d| d.pred_opt())
        } else {
            NaiveDate::from_ymd_opt(year, month, 30)
        };
        dates.extend(second);
    }
    dates
}

fn is_regular_day(d: NaiveDate) -> bool {
    d.day() == 15 || d.day() == 30 || (d.month() == 2 && d.succ_opt().is_some_and(|n| n.month() == 3))
}

fn draw_units(rng: &mut ChaCha8Rng, min: u32, max: u32) -> Vec<&'static str> {
    let n = rng.random_range(min..=max) as usize;
    let mut units = Vec::with_capacity(n);
    // A bounded number of tries: the list is far longer than n, so repeats are rare.
    for _ in 0..n * 4 {
        if units.len() == n {
            break;
        }
        let unit = choose(rng, UNITS);
        if !units.contains(&unit) {
            units.push(unit);
        }
    }
    units
}

fn draw_session(rng: &mut ChaCha8Rng, held_on: NaiveDate, kind: &'static str, id: String) -> Session {
    let regular = kind == REGULAR;
    let form = pick(rng, if regular { FORMS_REGULAR } else { FORMS_EXTRA });
    let attendees = if regular { rng.random_range(11..=28i64) } else { rng.random_range(8..=25i64) };
    let resident_reps = chance(rng, 0.95).then(|| rng.random_range(3..=attendees / 2));
    let party_reps = chance(rng, 0.9).then(|| rng.random_range(1..=(attendees / 3).min(8)));
    let units = if chance(rng, if regular { 0.25 } else { 0.7 }) { draw_units(rng, 1, 2) } else { Vec::new() };
    Session { id, held_on, kind, form, attendees, resident_reps, party_reps, units }
}

fn draw_sessions(rng: &mut ChaCha8Rng, place: &Place, year: &Year) -> Vec<Session> {
    let mut sessions = Vec::with_capacity(30);
    for held_on in regular_dates(year.number) {
        if chance(rng, place.skip_regular) {
            continue;
        }
        sessions.push(draw_session(rng, held_on, REGULAR, format!("S{}", ymd(held_on))));
    }
    let year_days = if NaiveDate::from_ymd_opt(year.number, 2, 29).is_some() { 366 } else { 365 };
    let extras = pick(rng, EXTRA_SESSIONS_PER_YEAR);
    let mut dates: Vec<NaiveDate> = (0..extras)
        .map(|_| {
            let d = year.jan1 + days(rng.random_range(0..year_days));
            // An extra meeting never falls on a regular day: that one would simply be held.
            if is_regular_day(d) { d + days(1) } else { d }
        })
        .collect();
    dates.sort_unstable();
    let mut previous = None;
    let mut n = 0;
    for held_on in dates {
        n = if previous == Some(held_on) { n + 1 } else { 1 };
        previous = Some(held_on);
        let kind = pick(rng, EXTRA_KINDS);
        sessions.push(draw_session(rng, held_on, kind, format!("S{}-{n}", ymd(held_on))));
    }
    sessions.sort_by_key(|s| s.held_on);
    sessions
}

fn draw_title(rng: &mut ChaCha8Rng, village: bool, category: &str) -> String {
    let mut title = String::with_capacity(48);
    if village {
        if chance(rng, 0.5) {
            title.push_str(choose(rng, NUMERALS));
            title.push('组');
        } else {
            title.push_str(choose(rng, VILLAGE_PLACES));
        }
    } else if chance(rng, 0.6) {
        let _ = write!(title, "{}号楼", rng.random_range(1..=30u32));
    } else {
        title.push_str(choose(rng, URBAN_PLACES));
    }
    title.push_str(choose(rng, issues(category)));
    title
}

fn draw_topics(
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    place: &Place,
    staff: &[Cadre],
    sessions: &[Session],
    year: &Year,
) -> Vec<Topic> {
    let mut topics = Vec::with_capacity(320);
    let mut previous_regular = year.jan1 - days(1);
    for (index, session) in sessions.iter().enumerate() {
        // Matters reach a regular meeting from the fortnight before it; urgent ones at once.
        let (count, window) = if session.kind == REGULAR {
            let gap = (session.held_on - previous_regular).num_days();
            previous_regular = session.held_on;
            (rng.random_range(6..=12u32), (gap - 1).clamp(0, 14))
        } else if session.kind == URGENT {
            (rng.random_range(1..=3u32), 2)
        } else {
            (rng.random_range(2..=5u32), 4)
        };
        for _ in 0..count {
            let back = rng.random_range(0..=window);
            let raised = (session.held_on - days(back)).max(year.jan1);
            topics.push(draw_topic(rng, plan, place, staff, Some((index, session)), raised));
        }
    }
    if year.number == plan.last_year {
        // Matters raised after the last meeting wait for the next one: 待议.
        for _ in 0..rng.random_range(2..=5u32) {
            let raised = (plan.as_of - days(rng.random_range(0..=8))).max(year.jan1);
            topics.push(draw_topic(rng, plan, place, staff, None, raised));
        }
    }
    topics.sort_by_key(|t| t.raised_on);
    for (n, topic) in topics.iter_mut().enumerate() {
        topic.id = format!("T{}{:04}", year.number, n + 1);
    }
    topics
}

fn draw_topic(
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    place: &Place,
    staff: &[Cadre],
    session: Option<(usize, &Session)>,
    raised_on: NaiveDate,
) -> Topic {
    let urgent = session.is_some_and(|(_, s)| s.kind == URGENT);
    let categories = if urgent {
        CATEGORIES_URGENT
    } else if place.village {
        CATEGORIES_VILLAGE
    } else {
        CATEGORIES_URBAN
    };
    let category = pick(rng, categories);
    let title = draw_title(rng, place.village, category);
    let channel = pick(rng, if place.village { CHANNELS_VILLAGE } else { CHANNELS_URBAN });
    let lead = pick_lead(rng, staff);
    let mode = pick(rng, modes_for(category));
    let units = match mode {
        "joint" => draw_units(rng, 1, 3),
        "proxy" if chance(rng, 0.6) => draw_units(rng, 1, 1),
        _ => Vec::new(),
    };
    let start = session.map_or(raised_on, |(_, s)| s.held_on);
    let (lo, hi) = match (urgent, mode) {
        (true, _) => (7, 12),
        (false, "self") => (7, 21),
        (false, "proxy") => (10, 30),
        _ => (14, 30),
    };
    // The deadline is set at the meeting, so it leaves a few days after it.
    let waited = (start - raised_on).num_days();
    let span = rng.random_range(lo..=hi).max(waited + 3).min(30);
    let mut topic = Topic {
        id: String::new(),
        session: session.map(|(i, _)| i),
        title,
        category,
        channel,
        raised_on,
        lead,
        mode,
        units,
        deadline: raised_on + days(span),
        status: PENDING,
        closed_on: None,
        publicized_on: None,
        publicity: None,
    };
    let quality = staff.get(lead).map_or(0.5, |c| c.quality);
    settle(rng, plan, &mut topic, start, quality);
    topic
}

/// Decides when the topic would be closed and whether that has happened by the as-of date.
fn settle(rng: &mut ChaCha8Rng, plan: &Plan, topic: &mut Topic, start: NaiveDate, q: f64) {
    let stuck = chance(rng, 0.01 + 0.25 * (1.0 - q).powi(3));
    let explained = chance(rng, explained_share(topic.category));
    let on_time = chance(rng, 0.35 + 0.63 * q);
    let room = (topic.deadline - start).num_days().max(0);
    let late_max = 5 + (25.0 * (1.0 - q)).round() as i64;
    let planned = match (on_time, explained) {
        (true, true) => start + days(rng.random_range(0..=room.min(5))),
        (true, false) => start + days(rng.random_range(0..=room)),
        (false, _) => topic.deadline + days(rng.random_range(1..=late_max)),
    };
    let publicize = chance(rng, 0.5 + 0.45 * q);
    let publicized_on = planned + days(rng.random_range(0..=7));
    let publicity = pick(rng, PUBLICITY);
    if topic.session.is_none() {
        topic.status = PENDING;
        return;
    }
    if stuck || planned > plan.as_of {
        topic.status = IN_PROGRESS;
        return;
    }
    topic.status = if explained { EXPLAINED } else { RESOLVED };
    topic.closed_on = Some(planned);
    if publicize && publicized_on <= plan.as_of {
        topic.publicized_on = Some(publicized_on);
        topic.publicity = Some(publicity);
    }
}

// ---------------------------------------------------------------------------------------
// Writing one community.

fn generate_community(plan: &Plan, county: &County, j: usize, w: &mut Writers) -> Result<String, GeneratorError> {
    let mut rng = plan.rng(&[1, county.index, j as u64]);
    let place = draw_place(plan, county, j, &mut rng);
    w.row(
        Table::Communities,
        &[
            Cell::Text(&place.code),
            Cell::Text(&place.name),
            Cell::Text(&county.code),
            Cell::Text(&county.name),
            Cell::Text(&place.town),
            Cell::Int(place.households),
            Cell::Int(place.residents),
            Cell::Int(place.party_members),
        ],
    )?;
    let staff = draw_staff(&mut rng, place.management);
    for cadre in &staff {
        w.row(
            Table::Cadres,
            &[
                Cell::Text(&place.code),
                Cell::Text(&cadre.id),
                Cell::Text(&cadre.name),
                Cell::Enum(&ROLE, cadre.role),
                Cell::Bool(cadre.party),
            ],
        )?;
    }
    for year in &plan.years {
        let mut rng = plan.rng(&[2, county.index, j as u64, year.number as u64]);
        write_year(&mut rng, plan, &place, &staff, year, w)?;
    }
    Ok(place.code)
}

fn write_year(
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    place: &Place,
    staff: &[Cadre],
    year: &Year,
    w: &mut Writers,
) -> Result<(), GeneratorError> {
    let sessions = draw_sessions(rng, place, year);
    let topics = draw_topics(rng, plan, place, staff, &sessions, year);
    for s in &sessions {
        w.row(
            Table::Sessions,
            &[
                Cell::Text(&place.code),
                Cell::Text(&s.id),
                Cell::Date(s.held_on),
                Cell::Enum(&SESSION_KIND, s.kind),
                Cell::Enum(&SESSION_FORM, s.form),
                Cell::Int(s.attendees),
                s.resident_reps.map_or(Cell::Null, Cell::Int),
                s.party_reps.map_or(Cell::Null, Cell::Int),
                Cell::list(&s.units),
            ],
        )?;
    }
    for t in &topics {
        let session = t.session.and_then(|i| sessions.get(i));
        let lead = staff.get(t.lead).map_or("", |c| c.id.as_str());
        w.row(
            Table::Topics,
            &[
                Cell::Text(&place.code),
                Cell::Text(&t.id),
                session.map_or(Cell::Null, |s| Cell::Text(&s.id)),
                Cell::Text(&t.title),
                Cell::Enum(&CATEGORY, t.category),
                Cell::Enum(&CHANNEL, t.channel),
                Cell::Date(t.raised_on),
                Cell::Text(lead),
                Cell::Enum(&HANDLING_MODE, t.mode),
                Cell::list(&t.units),
                Cell::Date(t.deadline),
                Cell::Enum(&STATUS, t.status),
                t.closed_on.map_or(Cell::Null, Cell::Date),
                t.publicized_on.map_or(Cell::Null, Cell::Date),
                t.publicity.map_or(Cell::Null, |p| Cell::Enum(&PUBLICITY_CHANNEL, p)),
            ],
        )?;
    }
    let mut scratch = Scratch::default();
    for t in &topics {
        let quality = staff.get(t.lead).map_or(0.5, |c| c.quality);
        write_feedback(rng, plan, place, t, quality, &mut scratch, w)?;
    }
    Ok(())
}

/// Reused buffers for the per-row strings of evaluations.
#[derive(Default)]
struct Scratch {
    id: String,
    respondent: String,
}

/// Four dimensions around the lead cadre's quality; a minority of residents is unhappy
/// whatever happens, more so with weaker cadres.
fn draw_scores(rng: &mut ChaCha8Rng, q: f64, late: bool) -> [i64; 4] {
    let mut base = 2.7 + 2.1 * q + (rng.random::<f64>() + rng.random::<f64>() - 1.0) * 1.2;
    if chance(rng, 0.03 + 0.3 * (1.0 - q).powi(2)) {
        base -= 1.5 + rng.random::<f64>();
    }
    let mut scores = [0i64; 4];
    for s in scores.iter_mut() {
        *s = (base + (rng.random::<f64>() - 0.5) * 1.2).round().clamp(1.0, 5.0) as i64;
    }
    // Residents mark efficiency down when the deadline was missed.
    if late && chance(rng, 0.6) {
        scores[1] = (scores[1] - 1).max(1);
    }
    scores
}

/// Verdict from the mean of the four dimensions: ≥ 3.75 满意, ≥ 2.75 基本满意, else 不满意.
fn verdict_of(scores: [i64; 4]) -> &'static str {
    let sum: i64 = scores.iter().sum();
    if sum >= 15 {
        "satisfied"
    } else if sum >= 11 {
        "basically_satisfied"
    } else {
        DISSATISFIED
    }
}

fn write_feedback(
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    place: &Place,
    topic: &Topic,
    quality: f64,
    scratch: &mut Scratch,
    w: &mut Writers,
) -> Result<(), GeneratorError> {
    let Some(closed_on) = topic.closed_on else {
        return Ok(());
    };
    let count = pick(rng, EVALUATIONS_PER_TOPIC).min(5);
    let mut dates = [closed_on; 5];
    for d in dates.iter_mut().take(count) {
        *d = closed_on + days(rng.random_range(1..=12));
    }
    let dates = &mut dates[..count];
    dates.sort_unstable();
    let late = closed_on > topic.deadline;
    let number = topic.id.get(1..).unwrap_or(&topic.id);
    let mut first_dissatisfied = None;
    // Residents asked after the as-of date have not answered yet.
    for (k, &evaluated_on) in dates.iter().filter(|d| **d <= plan.as_of).enumerate() {
        let scores = draw_scores(rng, quality, late);
        let verdict = verdict_of(scores);
        if verdict == DISSATISFIED && first_dissatisfied.is_none() {
            first_dissatisfied = Some(evaluated_on);
        }
        let comment = chance(rng, 0.3).then(|| choose(rng, comments(verdict)));
        push_person_name(rng, &mut scratch.respondent);
        scratch.id.clear();
        let _ = write!(scratch.id, "E{number}-{}", k + 1);
        w.row(
            Table::Evaluations,
            &[
                Cell::Text(&place.code),
                Cell::Text(&scratch.id),
                Cell::Text(&topic.id),
                Cell::Date(evaluated_on),
                Cell::Text(&scratch.respondent),
                Cell::Int(scores[0]),
                Cell::Int(scores[1]),
                Cell::Int(scores[2]),
                Cell::Int(scores[3]),
                Cell::Enum(&VERDICT, verdict),
                comment.map_or(Cell::Null, Cell::Text),
            ],
        )?;
    }
    match first_dissatisfied {
        Some(evaluated_on) if chance(rng, 0.85) => {
            write_rectification(rng, plan, place, topic, quality, evaluated_on, w)
        }
        _ => Ok(()),
    }
}

/// One rectification per topic, opened a few days after its first dissatisfied verdict.
fn write_rectification(
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    place: &Place,
    topic: &Topic,
    q: f64,
    evaluated_on: NaiveDate,
    w: &mut Writers,
) -> Result<(), GeneratorError> {
    let opened_on = evaluated_on + days(rng.random_range(1..=5));
    let deadline = opened_on + days(rng.random_range(10..=30));
    let closed_on = if chance(rng, 0.3 + 0.65 * q) {
        opened_on + days(rng.random_range(1..=(deadline - opened_on).num_days()))
    } else {
        deadline + days(rng.random_range(1..=25))
    };
    let outcome = choose(rng, OUTCOMES);
    if opened_on > plan.as_of {
        return Ok(());
    }
    // Not finished by the as-of date: still open, no outcome yet.
    let closed_on = (closed_on <= plan.as_of).then_some(closed_on);
    let id = format!("R{}", topic.id.get(1..).unwrap_or(&topic.id));
    w.row(
        Table::Rectifications,
        &[
            Cell::Text(&place.code),
            Cell::Text(&id),
            Cell::Text(&topic.id),
            Cell::Date(opened_on),
            Cell::Date(deadline),
            closed_on.map_or(Cell::Null, Cell::Date),
            closed_on.map_or(Cell::Null, |_| Cell::Text(outcome)),
        ],
    )
}

// ---------------------------------------------------------------------------------------
// Cells and their text in either language.

/// One value of a row, typed so that each writer can render it its own way.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    Date(NaiveDate),
    Enum(&'static Enumeration, &'static str),
    Bool(bool),
    List(&'a [&'static str]),
}

impl<'a> Cell<'a> {
    fn list(items: &'a [&'static str]) -> Cell<'a> {
        if items.is_empty() { Cell::Null } else { Cell::List(items) }
    }

    fn render(self, chinese: bool, out: &mut String) {
        match self {
            Cell::Null => {}
            Cell::Text(s) => out.push_str(s),
            Cell::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Cell::Date(d) => push_date(d, chinese, out),
            Cell::Enum(e, token) => {
                out.push_str(if chinese { e.chinese(token).unwrap_or(token) } else { token });
            }
            Cell::Bool(b) => out.push_str(match (chinese, b) {
                (true, true) => "是",
                (true, false) => "否",
                (false, true) => "true",
                (false, false) => "false",
            }),
            Cell::List(items) => {
                let separator = if chinese { "、" } else { ";" };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(separator);
                    }
                    out.push_str(item);
                }
            }
        }
    }
}

fn push_date(d: NaiveDate, chinese: bool, out: &mut String) {
    let _ = if chinese {
        write!(out, "{}年{}月{}日", d.year(), d.month(), d.day())
    } else {
        write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    };
}

fn push_json_str(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    let year = u16::try_from(d.year()).unwrap_or(1900);
    ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8)
}

// ---------------------------------------------------------------------------------------
// Writers: one open file per table.

/// A write failure before the path is attached.
enum Fault {
    Io(io::Error),
    Csv(csv::Error),
    Xlsx(XlsxError),
}

impl From<io::Error> for Fault {
    fn from(e: io::Error) -> Self {
        Fault::Io(e)
    }
}

impl From<csv::Error> for Fault {
    fn from(e: csv::Error) -> Self {
        Fault::Csv(e)
    }
}

impl From<XlsxError> for Fault {
    fn from(e: XlsxError) -> Self {
        Fault::Xlsx(e)
    }
}

impl Fault {
    fn at(self, path: &Path) -> GeneratorError {
        let path = path.to_path_buf();
        match self {
            Fault::Io(source) => GeneratorError::Io { path, source },
            Fault::Csv(source) => GeneratorError::Csv { path, source },
            Fault::Xlsx(source) => GeneratorError::Xlsx { path, source },
        }
    }
}

fn create(path: &Path) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 16, File::create(path)?))
}

/// GB18030 output under the CSV writer: the CSV writer quotes in UTF-8 and hands over
/// chunks, which are encoded here. CSV's quoting characters are ASCII, which GB18030 keeps
/// as is, so this equals quoting the encoded text. A chunk may end inside a character; its
/// tail waits for the next chunk.
struct Gb18030Write<W: Write> {
    inner: W,
    encoder: encoding_rs::Encoder,
    pending: Vec<u8>,
    encoded: Vec<u8>,
    /// Two-byte codes of BMP characters already met (`0x1_0000 | code`, 0 = not yet).
    /// encoding_rs without its `fast-gb-hanzi-encode` feature searches its index for every
    /// hanzi, which made Chinese CSV five times slower than English; the generator's
    /// vocabulary is a few hundred characters, so a lazily filled table removes that.
    two_byte: Vec<u32>,
}

impl<W: Write> Gb18030Write<W> {
    fn new(inner: W) -> Self {
        Gb18030Write {
            inner,
            encoder: encoding_rs::GB18030.new_encoder(),
            pending: Vec::with_capacity(1 << 14),
            encoded: Vec::with_capacity(1 << 14),
            two_byte: vec![0; 0x1_0000],
        }
    }

    fn encode(&mut self, complete: usize) -> io::Result<()> {
        let text = std::str::from_utf8(&self.pending[..complete])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.encoded.clear();
        for ch in text.chars() {
            if ch.is_ascii() {
                self.encoded.push(ch as u8);
                continue;
            }
            let slot = self.two_byte.get_mut(ch as usize);
            if let Some(code) = slot.as_deref().copied().filter(|c| *c != 0) {
                self.encoded.extend_from_slice(&[(code >> 8) as u8, code as u8]);
                continue;
            }
            let mut utf8 = [0u8; 4];
            let mut gb = [0u8; 4];
            // GB18030 maps every Unicode scalar, so nothing is ever unmappable.
            let (_, _, written) =
                self.encoder.encode_from_utf8_without_replacement(ch.encode_utf8(&mut utf8), &mut gb, false);
            let bytes = &gb[..written.min(4)];
            if let (Some(slot), [hi, lo]) = (slot, bytes) {
                *slot = 0x1_0000 | (u32::from(*hi) << 8) | u32::from(*lo);
            }
            self.encoded.extend_from_slice(bytes);
        }
        self.inner.write_all(&self.encoded)
    }
}

impl<W: Write> Write for Gb18030Write<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let complete = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        self.encode(complete)?;
        self.pending.drain(..complete);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "incomplete UTF-8 at the end of a CSV record"));
        }
        self.inner.flush()
    }
}

struct JsonlOut {
    out: BufWriter<File>,
    /// `"name":` for every column, escaped once.
    keys: Vec<String>,
    line: String,
}

impl JsonlOut {
    fn write(&mut self, cells: &[Cell<'_>], chinese: bool, scratch: &mut String) -> io::Result<()> {
        self.line.clear();
        self.line.push('{');
        let mut first = true;
        for (key, cell) in self.keys.iter().zip(cells) {
            if matches!(cell, Cell::Null) {
                continue;
            }
            if !first {
                self.line.push(',');
            }
            first = false;
            self.line.push_str(key);
            if let Cell::Int(n) = cell {
                let _ = write!(self.line, "{n}");
            } else {
                scratch.clear();
                cell.render(chinese, scratch);
                push_json_str(scratch, &mut self.line);
            }
        }
        self.line.push_str("}\n");
        self.out.write_all(self.line.as_bytes())
    }
}

struct XlsxOut {
    workbook: Workbook,
    sheet: Worksheet,
    date_format: Format,
}

impl XlsxOut {
    fn open(table: Table, headers: &[&str], chinese: bool, created: NaiveDate) -> Result<XlsxOut, XlsxError> {
        let mut workbook = Workbook::new();
        // A fixed creation time: identical config must give identical bytes.
        workbook.set_properties(&DocProperties::new().set_creation_datetime(&excel_date(created)?));
        let mut sheet = Worksheet::new();
        sheet.set_name(if chinese { table.chinese() } else { table.name() })?;
        let bold = Format::new().set_bold();
        for (col, header) in headers.iter().enumerate() {
            let col = col as u16;
            sheet.write_string_with_format(0, col, *header, &bold)?;
            sheet.set_column_width(col, 14)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(XlsxOut { workbook, sheet, date_format: Format::new().set_num_format("yyyy-mm-dd") })
    }

    fn write(&mut self, row: u32, cells: &[Cell<'_>], chinese: bool, scratch: &mut String) -> Result<(), XlsxError> {
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            match *cell {
                Cell::Null => {}
                Cell::Int(n) => {
                    self.sheet.write_number(row, col, n as f64)?;
                }
                Cell::Date(d) => {
                    self.sheet.write_datetime_with_format(row, col, excel_date(d)?, &self.date_format)?;
                }
                other => {
                    scratch.clear();
                    other.render(chinese, scratch);
                    self.sheet.write_string(row, col, scratch.as_str())?;
                }
            }
        }
        Ok(())
    }
}

enum Out {
    /// UTF-8 (LF) or GB18030 (CRLF) CSV.
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Jsonl(JsonlOut),
    Xlsx(Box<XlsxOut>),
}

impl Out {
    fn open(
        path: &Path,
        table: Table,
        headers: &[&str],
        config: &GeneratorConfig,
        created: NaiveDate,
    ) -> Result<Out, Fault> {
        Ok(match (config.format, config.chinese) {
            (OutputFormat::Csv, chinese) => {
                let file = create(path)?;
                let (inner, terminator): (Box<dyn Write>, _) = if chinese {
                    (Box::new(Gb18030Write::new(file)), csv::Terminator::CRLF)
                } else {
                    (Box::new(file), csv::Terminator::Any(b'\n'))
                };
                let mut writer = csv::WriterBuilder::new().terminator(terminator).from_writer(inner);
                writer.write_record(headers)?;
                Out::Csv(Box::new(writer))
            }
            (OutputFormat::Jsonl, _) => {
                let keys = headers
                    .iter()
                    .map(|h| {
                        let mut key = String::new();
                        push_json_str(h, &mut key);
                        key.push(':');
                        key
                    })
                    .collect();
                Out::Jsonl(JsonlOut { out: create(path)?, keys, line: String::new() })
            }
            (OutputFormat::Xlsx, chinese) => Out::Xlsx(Box::new(XlsxOut::open(table, headers, chinese, created)?)),
        })
    }

    fn finish(self, path: &Path) -> Result<(), Fault> {
        match self {
            Out::Csv(mut writer) => writer.flush()?,
            Out::Jsonl(mut jsonl) => jsonl.out.flush()?,
            Out::Xlsx(xlsx) => {
                let XlsxOut { mut workbook, sheet, .. } = *xlsx;
                workbook.push_worksheet(sheet);
                workbook.save(path)?;
            }
        }
        Ok(())
    }
}

struct Sink {
    table: Table,
    path: PathBuf,
    rows: usize,
    /// Rendered fields of the current CSV row, reused.
    fields: Vec<String>,
    scratch: String,
    out: Out,
}

impl Sink {
    fn write(&mut self, cells: &[Cell<'_>], chinese: bool) -> Result<(), GeneratorError> {
        let row = self.rows + 1;
        let result = match &mut self.out {
            Out::Csv(writer) => {
                fill(&mut self.fields, cells, chinese);
                writer.write_record(&self.fields).map_err(Fault::from)
            }
            Out::Jsonl(jsonl) => jsonl.write(cells, chinese, &mut self.scratch).map_err(Fault::from),
            Out::Xlsx(xlsx) => {
                if row > XLSX_MAX_DATA_ROWS {
                    return Err(GeneratorError::TooManyRowsForXlsx { table: self.table, rows: row });
                }
                let index = u32::try_from(row).unwrap_or(u32::MAX);
                xlsx.write(index, cells, chinese, &mut self.scratch).map_err(Fault::from)
            }
        };
        result.map_err(|fault| fault.at(&self.path))?;
        self.rows = row;
        Ok(())
    }
}

fn fill(fields: &mut [String], cells: &[Cell<'_>], chinese: bool) {
    for (field, cell) in fields.iter_mut().zip(cells) {
        field.clear();
        cell.render(chinese, field);
    }
}

struct Writers {
    sinks: Vec<Sink>,
    chinese: bool,
}

impl Writers {
    fn open(config: &GeneratorConfig, plan: &Plan, dir: &Path) -> Result<Writers, GeneratorError> {
        let mut sinks = Vec::with_capacity(Table::ALL.len());
        for table in Table::ALL {
            let path = dir.join(format!("{}.{}", table.name(), config.format.extension()));
            let headers: Vec<&'static str> =
                table.columns().iter().map(|c| if config.chinese { c.chinese() } else { c.name }).collect();
            let out = Out::open(&path, table, &headers, config, plan.as_of).map_err(|f| f.at(&path))?;
            let fields = vec![String::new(); headers.len()];
            sinks.push(Sink { table, path, rows: 0, fields, scratch: String::new(), out });
        }
        Ok(Writers { sinks, chinese: config.chinese })
    }

    fn row(&mut self, table: Table, cells: &[Cell<'_>]) -> Result<(), GeneratorError> {
        debug_assert_eq!(cells.len(), table.columns().len(), "{table}: row out of step with the schema");
        // Sinks are opened in Table::ALL order, which is the enum's discriminant order.
        match self.sinks.get_mut(table as usize) {
            Some(sink) => sink.write(cells, self.chinese),
            None => Ok(()),
        }
    }

    fn finish(self) -> Result<(BTreeMap<Table, usize>, Vec<PathBuf>), GeneratorError> {
        let mut rows = BTreeMap::new();
        let mut files = Vec::with_capacity(self.sinks.len());
        for sink in self.sinks {
            sink.out.finish(&sink.path).map_err(|f| f.at(&sink.path))?;
            rows.insert(sink.table, sink.rows);
            files.push(sink.path);
        }
        Ok((rows, files))
    }
}

// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use super::*;

    type Row = BTreeMap<String, String>;

    fn small(seed: u64) -> GeneratorConfig {
        GeneratorConfig { counties: 1, communities_per_county: 2, years: 1, seed, ..GeneratorConfig::default() }
    }

    fn rows(dir: &Path, table: Table) -> Vec<Row> {
        let path = dir.join(format!("{}.csv", table.name()));
        let mut reader = csv::Reader::from_path(&path).expect("open csv");
        let headers = reader.headers().expect("headers").clone();
        reader
            .records()
            .map(|r| {
                let r = r.expect("record");
                headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
            })
            .collect()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("ISO date")
    }

    fn key(row: &Row, column: &str) -> (String, String) {
        (row["community_code"].clone(), row[column].clone())
    }

    fn is_closed(status: &str) -> bool {
        status == RESOLVED || status == EXPLAINED
    }

    #[test]
    fn same_seed_same_bytes_other_seed_differs() {
        let (a, b, c) =
            (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
        let summary = generate(&small(7), a.path()).expect("generate");
        generate(&small(7), b.path()).expect("generate");
        generate(&small(8), c.path()).expect("generate");
        assert_eq!(summary.files.len(), 6);
        for table in Table::ALL {
            let name = format!("{}.csv", table.name());
            let first = std::fs::read(a.path().join(&name)).expect("read");
            assert_eq!(first, std::fs::read(b.path().join(&name)).expect("read"), "{name}");
        }
        for name in ["cadres.csv", "topics.csv", "evaluations.csv"] {
            let first = std::fs::read(a.path().join(name)).expect("read");
            assert_ne!(first, std::fs::read(c.path().join(name)).expect("read"), "{name}");
        }
    }

    #[test]
    fn references_stay_within_the_community_and_keys_are_unique() {
        let dir = tempfile::tempdir().expect("dir");
        let config = GeneratorConfig { years: 2, ..small(11) };
        generate(&config, dir.path()).expect("generate");
        let set = |table: Table| {
            let rows = rows(dir.path(), table);
            let keys: BTreeSet<_> = rows.iter().map(|r| key(r, table.key_column())).collect();
            assert_eq!(keys.len(), rows.len(), "duplicate keys in {table}");
            keys
        };
        let cadres = set(Table::Cadres);
        let sessions = set(Table::Sessions);
        let topics = set(Table::Topics);
        set(Table::Evaluations);
        set(Table::Rectifications);
        for t in rows(dir.path(), Table::Topics) {
            assert!(cadres.contains(&key(&t, "lead_cadre_id")), "{t:?}");
            if !t["session_id"].is_empty() {
                assert!(sessions.contains(&key(&t, "session_id")), "{t:?}");
            }
        }
        for table in [Table::Evaluations, Table::Rectifications] {
            for r in rows(dir.path(), table) {
                assert!(topics.contains(&key(&r, "topic_id")), "{r:?}");
            }
        }
    }

    #[test]
    fn topics_close_iff_closed_and_dates_are_ordered() {
        let dir = tempfile::tempdir().expect("dir");
        let config = GeneratorConfig { years: 2, ..small(3) };
        generate(&config, dir.path()).expect("generate");
        let as_of = config.as_of().expect("as of");
        let held: HashMap<_, _> =
            rows(dir.path(), Table::Sessions).iter().map(|s| (key(s, "session_id"), date(&s["held_on"]))).collect();
        let topics = rows(dir.path(), Table::Topics);
        let mut statuses = BTreeSet::new();
        for t in &topics {
            let raised = date(&t["raised_on"]);
            let span = (date(&t["deadline"]) - raised).num_days();
            assert!((7..=30).contains(&span), "{t:?}");
            assert!(raised <= as_of);
            assert_eq!(is_closed(&t["status"]), !t["closed_on"].is_empty(), "{t:?}");
            if !t["closed_on"].is_empty() {
                let closed = date(&t["closed_on"]);
                assert!(closed >= raised && closed <= as_of, "{t:?}");
            }
            assert_eq!(t["publicized_on"].is_empty(), t["publicity_channel"].is_empty(), "{t:?}");
            if !t["publicized_on"].is_empty() {
                let publicized = date(&t["publicized_on"]);
                assert!(publicized >= raised && publicized <= as_of, "{t:?}");
            }
            if let Some(held_on) = held.get(&key(t, "session_id")) {
                assert!(raised <= *held_on, "{t:?}");
            }
            statuses.insert(t["status"].clone());
        }
        let expected: BTreeSet<String> =
            [PENDING, IN_PROGRESS, RESOLVED, EXPLAINED].iter().map(|s| s.to_string()).collect();
        assert_eq!(statuses, expected);
        let closed = topics.iter().filter(|t| is_closed(&t["status"])).count();
        assert!(closed * 10 >= topics.len() * 8, "most topics are closed: {closed}/{}", topics.len());
        let late = topics.iter().filter(|t| !t["closed_on"].is_empty() && t["closed_on"] > t["deadline"]).count();
        assert!(late > 0, "some topics close late");
    }

    #[test]
    fn evaluations_and_rectifications_follow_their_topics() {
        let dir = tempfile::tempdir().expect("dir");
        let config = GeneratorConfig { years: 2, ..small(5) };
        generate(&config, dir.path()).expect("generate");
        let as_of = config.as_of().expect("as of");
        let topics: HashMap<_, _> =
            rows(dir.path(), Table::Topics).into_iter().map(|t| (key(&t, "topic_id"), t)).collect();
        let evaluations = rows(dir.path(), Table::Evaluations);
        assert!(!evaluations.is_empty());
        let mut verdicts = BTreeSet::new();
        for e in &evaluations {
            let topic = &topics[&key(e, "topic_id")];
            let evaluated = date(&e["evaluated_on"]);
            assert!(evaluated >= date(&topic["raised_on"]), "{e:?}");
            assert!(evaluated > date(&topic["closed_on"]) && evaluated <= as_of, "{e:?}");
            assert!(!e["respondent"].is_empty());
            let sum: i64 = ["attitude", "efficiency", "result", "effect"]
                .iter()
                .map(|c| {
                    let v: i64 = e[*c].parse().expect("score");
                    assert!((1..=5).contains(&v));
                    v
                })
                .sum();
            assert_eq!(e["verdict"], verdict_of([sum, 0, 0, 0]), "{e:?}");
            verdicts.insert(e["verdict"].clone());
        }
        assert_eq!(verdicts.len(), 3, "all three verdicts occur");
        let mut rectified = BTreeSet::new();
        for r in rows(dir.path(), Table::Rectifications) {
            assert!(rectified.insert(key(&r, "topic_id")), "one rectification per topic");
            let opened = date(&r["opened_on"]);
            assert!(opened <= as_of && date(&r["deadline"]) >= opened, "{r:?}");
            assert_eq!(r["closed_on"].is_empty(), r["outcome"].is_empty());
            if !r["closed_on"].is_empty() {
                let closed = date(&r["closed_on"]);
                assert!(closed >= opened && closed <= as_of, "{r:?}");
            }
            let dissatisfied = evaluations.iter().any(|e| {
                key(e, "topic_id") == key(&r, "topic_id")
                    && e["verdict"] == DISSATISFIED
                    && date(&e["evaluated_on"]) < opened
            });
            assert!(dissatisfied, "{r:?}");
        }
        assert!(!rectified.is_empty());
    }

    #[test]
    fn row_counts_fall_in_the_promised_ranges() {
        let dir = tempfile::tempdir().expect("dir");
        let summary = generate(&small(7), dir.path()).expect("generate");
        assert_eq!(summary.county_codes, ["141021"]);
        assert_eq!(summary.community_codes.len(), 2);
        for code in &summary.community_codes {
            assert!(code.len() == 12 && code.starts_with("141021") && code.bytes().all(|b| b.is_ascii_digit()));
        }
        for table in Table::ALL {
            assert_eq!(summary.rows[&table], rows(dir.path(), table).len(), "{table}");
        }
        assert_eq!(summary.rows[&Table::Communities], 2);
        let cadres = rows(dir.path(), Table::Cadres);
        let topics = rows(dir.path(), Table::Topics);
        for code in &summary.community_codes {
            let staff: Vec<_> = cadres.iter().filter(|c| &c["community_code"] == code).collect();
            assert!((5..=9).contains(&staff.len()), "{code}: {} cadres", staff.len());
            for role in ["secretary", "director"] {
                assert_eq!(staff.iter().filter(|c| c["role"] == role).count(), 1);
            }
            let mut per_session: HashMap<&str, usize> = HashMap::new();
            for t in topics.iter().filter(|t| &t["community_code"] == code) {
                *per_session.entry(t["session_id"].as_str()).or_default() += 1;
            }
            for s in rows(dir.path(), Table::Sessions).iter().filter(|s| &s["community_code"] == code) {
                let n = per_session.get(s["session_id"].as_str()).copied().unwrap_or(0);
                if s["kind"] == REGULAR {
                    assert!((6..=12).contains(&n), "{s:?}: {n} topics");
                    let day = date(&s["held_on"]);
                    assert!(is_regular_day(day) && s["session_id"] == format!("S{}", ymd(day)));
                } else {
                    assert!((1..=5).contains(&n) && s["session_id"].contains('-'), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn chinese_csv_is_gb18030_with_chinese_headers_and_values() {
        let dir = tempfile::tempdir().expect("dir");
        let config = GeneratorConfig { chinese: true, ..small(7) };
        generate(&config, dir.path()).expect("generate");
        for table in Table::ALL {
            let bytes = std::fs::read(dir.path().join(format!("{}.csv", table.name()))).expect("read");
            assert!(std::str::from_utf8(&bytes).is_err(), "{table} is not UTF-8");
            let text = encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(&bytes)
                .expect("valid GB18030");
            assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'), "CRLF only");
            let headers: Vec<&str> = table.columns().iter().map(|c| c.chinese()).collect();
            assert_eq!(text.split("\r\n").next(), Some(headers.join(",").as_str()));
        }
        let topics = std::fs::read(dir.path().join("topics.csv")).expect("read");
        let text = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(&topics).expect("decode");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            let record = record.expect("record");
            assert!(STATUS.values.iter().any(|(zh, _)| *zh == &record[11]), "{record:?}");
            assert!(CATEGORY.values.iter().any(|(zh, _)| *zh == &record[4]));
            assert!(record[6].contains('年') && record[6].ends_with('日'));
            assert!(!record[9].contains(';'));
        }
        let cadres = std::fs::read(dir.path().join("cadres.csv")).expect("read");
        let text = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(&cadres).expect("decode");
        for line in text.lines().skip(1) {
            assert!(line.ends_with(",是") || line.ends_with(",否"), "{line}");
        }
    }

    #[test]
    fn gb18030_writer_matches_encoding_rs_across_chunk_boundaries() {
        let text = "社区代码,议题、𠀀ok€·2025年3月15日\r\n";
        let (expected, _, _) = encoding_rs::GB18030.encode(text);
        for split in 0..=text.len() {
            let mut w = Gb18030Write::new(Vec::new());
            w.write_all(&text.as_bytes()[..split]).expect("write");
            w.write_all(&text.as_bytes()[split..]).expect("write");
            w.write_all(text.as_bytes()).expect("write again, from the cache");
            w.flush().expect("flush");
            assert_eq!(w.inner, [expected.as_ref(), expected.as_ref()].concat(), "split {split}");
        }
    }

    #[test]
    fn jsonl_rows_are_objects_with_numbers_and_no_empty_values() {
        let dir = tempfile::tempdir().expect("dir");
        let config = GeneratorConfig { format: OutputFormat::Jsonl, communities_per_county: 1, ..small(7) };
        let summary = generate(&config, dir.path()).expect("generate");
        let text = std::fs::read_to_string(dir.path().join("evaluations.jsonl")).expect("read");
        let mut lines = 0;
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("json");
            assert!(value["attitude"].is_u64() && value["community_code"].is_string(), "{line}");
            assert!(value.get("comment").is_none_or(|c| c.as_str().is_some_and(|s| !s.is_empty())));
            lines += 1;
        }
        assert_eq!(lines, summary.rows[&Table::Evaluations]);
        let topics = std::fs::read_to_string(dir.path().join("topics.jsonl")).expect("read");
        assert!(topics.lines().any(|l| l.contains("\"status\":\"pending\"") && !l.contains("closed_on")));
    }

    #[test]
    fn xlsx_has_date_cells_and_is_deterministic() {
        use calamine::{Data, Reader, Xlsx, open_workbook};
        let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
        let config = GeneratorConfig { format: OutputFormat::Xlsx, communities_per_county: 1, ..small(7) };
        generate(&config, a.path()).expect("generate");
        generate(&config, b.path()).expect("generate");
        let path = a.path().join("sessions.xlsx");
        assert_eq!(std::fs::read(&path).expect("read"), std::fs::read(b.path().join("sessions.xlsx")).expect("read"));
        let mut workbook: Xlsx<_> = open_workbook(&path).expect("open xlsx");
        let range = workbook.worksheet_range_at(0).expect("sheet").expect("range");
        let mut rows = range.rows();
        let header: Vec<String> = rows.next().expect("header").iter().map(|c| c.to_string()).collect();
        let names: Vec<&str> = Table::Sessions.columns().iter().map(|c| c.name).collect();
        assert_eq!(header, names);
        let first = rows.next().expect("row");
        assert!(matches!(first[2], Data::DateTime(_)), "{:?}", first[2]);
        assert!(matches!(first[5], Data::Float(_) | Data::Int(_)), "{:?}", first[5]);
    }

    #[test]
    fn xlsx_refuses_more_rows_than_a_sheet_holds() {
        let dir = tempfile::tempdir().expect("dir");
        let config = GeneratorConfig { format: OutputFormat::Xlsx, ..small(1) };
        let plan = Plan::new(&config).expect("plan");
        let mut writers = Writers::open(&config, &plan, dir.path()).expect("open");
        let cells = [
            Cell::Text("141021100001"),
            Cell::Text("C01"),
            Cell::Text("王伟"),
            Cell::Enum(&ROLE, "member"),
            Cell::Bool(true),
        ];
        writers.row(Table::Cadres, &cells).expect("first row fits");
        writers.sinks[Table::Cadres as usize].rows = XLSX_MAX_DATA_ROWS;
        let err = writers.row(Table::Cadres, &cells).expect_err("sheet full");
        assert!(
            matches!(err, GeneratorError::TooManyRowsForXlsx { table: Table::Cadres, rows } if rows == XLSX_MAX_DATA_ROWS + 1),
            "{err}"
        );
    }

    #[test]
    fn invalid_configs_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        for config in [
            GeneratorConfig { counties: 0, ..small(1) },
            GeneratorConfig { years: 0, ..small(1) },
            GeneratorConfig { last_year: 1800, ..small(1) },
            GeneratorConfig { counties: max_counties() + 1, ..small(1) },
        ] {
            let err = generate(&config, dir.path()).expect_err("refused");
            assert!(matches!(err, GeneratorError::InvalidConfig { .. }), "{err}");
        }
    }

    #[test]
    fn county_codes_are_real_first_then_distinct() {
        assert_eq!(county_identity(0), ("141021".to_string(), "曲沃县".to_string()));
        assert_eq!(county_identity(1).0, "141026");
        let codes: BTreeSet<String> = (0..max_counties()).map(|i| county_identity(i).0).collect();
        assert_eq!(codes.len(), max_counties());
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
    }

    #[test]
    fn every_token_has_a_chinese_value() {
        let check = |e: &Enumeration, tokens: &mut dyn Iterator<Item = &'static str>| {
            for token in tokens {
                assert!(e.chinese(token).is_some(), "{} has no {token}", e.name);
            }
        };
        check(&CATEGORY, &mut CATEGORIES_URBAN.iter().chain(CATEGORIES_VILLAGE).chain(CATEGORIES_URGENT).map(|p| p.0));
        check(&CHANNEL, &mut CHANNELS_URBAN.iter().chain(CHANNELS_VILLAGE).map(|p| p.0));
        check(&SESSION_FORM, &mut FORMS_REGULAR.iter().chain(FORMS_EXTRA).map(|p| p.0));
        check(&SESSION_KIND, &mut EXTRA_KINDS.iter().map(|p| p.0).chain([REGULAR]));
        check(&HANDLING_MODE, &mut MODES_SERVICE.iter().map(|p| p.0));
        check(&PUBLICITY_CHANNEL, &mut PUBLICITY.iter().map(|p| p.0));
        check(&ROLE, &mut OTHER_ROLES.iter().map(|p| p.0).chain(["secretary", "director", "deputy_secretary"]));
        check(&STATUS, &mut [PENDING, IN_PROGRESS, RESOLVED, EXPLAINED].into_iter());
        check(&VERDICT, &mut ["satisfied", "basically_satisfied", DISSATISFIED].into_iter());
    }
}
