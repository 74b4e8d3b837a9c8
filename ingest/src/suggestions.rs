//! "是否为：已办结？" after a value outside an enumeration (and "是否为：是？" after a
//! yes/no cell written as yes, 党员 or 群众): the value the clerk most likely meant, when
//! one is clearly closest. Only a suggestion — the contract accepts the
//! Chinese value or the English token and nothing else, so a synonym is never taken in
//! silently.
//!
//! In order: a synonym offices use (已完成 → 已办结, 卫生 → 环境卫生), a value the text is
//! a shortening of (办结 → 已办结), an English token written with spaces, hyphens or
//! capitals, then a typing slip (one character off in a value of three or more, a couple
//! of letters off in a token). Each must point at one value only.

use crate::schema::Enumeration;

/// Terms offices write for an enumeration's values: `(enumeration, [(term, token)])`.
/// Values are named by token, so the Chinese labels stay defined once, in the schema.
const SYNONYMS: &[(&str, &[(&str, &str)])] = &[
    (
        "status",
        &[
            ("已完成", "resolved"),
            ("完成", "resolved"),
            ("已解决", "resolved"),
            ("解决", "resolved"),
            ("已处理", "resolved"),
            ("处理完毕", "resolved"),
            ("办理完毕", "resolved"),
            ("已完结", "resolved"),
            ("完结", "resolved"),
            ("已结案", "resolved"),
            ("结案", "resolved"),
            ("正在办理", "in_progress"),
            ("在办", "in_progress"),
            ("处理中", "in_progress"),
            ("进行中", "in_progress"),
            ("未办", "pending"),
            ("待办", "pending"),
            ("未处理", "pending"),
            ("待处理", "pending"),
            ("未议", "pending"),
            ("已答复", "explained"),
            ("已回复", "explained"),
            ("已说明", "explained"),
            ("解释说明", "explained"),
        ],
    ),
    (
        "category",
        &[
            ("卫生", "sanitation"),
            ("环卫", "sanitation"),
            ("环境", "sanitation"),
            ("垃圾清运", "sanitation"),
            ("物业", "property"),
            ("治安", "safety"),
            ("消防", "safety"),
            ("安全", "safety"),
            ("就业", "employment"),
            ("社保", "employment"),
            ("养老", "care"),
            ("托育", "care"),
            ("纠纷", "disputes"),
            ("矛盾纠纷", "disputes"),
            ("政策", "policy"),
            ("咨询", "policy"),
            ("基建", "infrastructure"),
            ("设施", "infrastructure"),
            ("其它", "other"),
        ],
    ),
    (
        "channel",
        &[
            ("走访", "home_visit"),
            ("入户", "home_visit"),
            ("来访", "walk_in"),
            ("群众来信来访", "walk_in"),
            ("微信", "wechat"),
            ("热线", "hotline"),
            ("电话", "hotline"),
            ("12345", "hotline"),
            ("上级交办", "referral"),
            ("上级转办", "referral"),
            ("网格员上报", "grid"),
            ("物业反馈", "property"),
            ("问卷", "survey"),
            ("调研", "survey"),
        ],
    ),
    ("handling_mode", &[("自办", "self"), ("代办", "proxy"), ("联办", "joint"), ("部门协办", "joint")]),
    (
        "verdict",
        &[
            ("非常满意", "satisfied"),
            ("很满意", "satisfied"),
            ("比较满意", "basically_satisfied"),
            ("较满意", "basically_satisfied"),
            ("一般", "basically_satisfied"),
            ("不太满意", "dissatisfied"),
            ("很不满意", "dissatisfied"),
            ("非常不满意", "dissatisfied"),
        ],
    ),
    (
        "role",
        &[
            ("正书记", "secretary"),
            ("党支部书记", "secretary"),
            ("支部书记", "secretary"),
            ("党委书记", "secretary"),
            ("副主任", "director"),
            ("居委会主任", "director"),
            ("村委会主任", "director"),
            ("两委委员", "member"),
            ("社会工作者", "social_worker"),
            ("网格管理员", "grid_worker"),
        ],
    ),
    (
        "kind",
        &[
            ("例会", "regular"),
            ("定期会议", "regular"),
            ("临时", "irregular"),
            ("临时会议", "irregular"),
            ("紧急", "urgent"),
            ("急事", "urgent"),
            ("特事", "special"),
        ],
    ),
    (
        "form",
        &[
            ("入户", "door_to_door"),
            ("现场办公", "on_site"),
            ("网上", "online"),
            ("微信群", "online"),
            ("视频会议", "online"),
        ],
    ),
    (
        "publicity_channel",
        &[
            ("公告栏", "board"),
            ("宣传栏", "board"),
            ("公开栏", "board"),
            ("微信公众号", "wechat_account"),
            ("微信群", "group_chat"),
            ("业主群", "group_chat"),
        ],
    ),
];

/// What offices write for 是 and 否 besides the contract's forms (是/否, true/false, 1/0).
const BOOL_TERMS: &[(&str, &str)] = &[
    ("yes", "是"),
    ("y", "是"),
    ("对", "是"),
    ("有", "是"),
    ("是的", "是"),
    ("党员", "是"),
    ("中共党员", "是"),
    ("√", "是"),
    ("no", "否"),
    ("n", "否"),
    ("无", "否"),
    ("不是", "否"),
    ("非党员", "否"),
    ("群众", "否"),
    ("×", "否"),
];

/// 是 or 否 for a yes/no cell written another way (yes, 党员, 群众, √), if clearly meant.
pub(crate) fn suggest_bool(text: &str) -> Option<&'static str> {
    let text = text.trim();
    BOOL_TERMS.iter().find(|(term, _)| term.eq_ignore_ascii_case(text)).map(|(_, value)| *value)
}

/// The Chinese value `text` most likely meant, when one is clearly closest.
pub(crate) fn suggest(enumeration: &Enumeration, text: &str) -> Option<&'static str> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    synonym(enumeration, text)
        .or_else(|| only(enumeration, |zh, _| text.chars().count() >= 2 && zh.contains(text)))
        .or_else(|| token_spelling(enumeration, text))
        .or_else(|| slip(enumeration, text))
        .and_then(|token| enumeration.chinese(token))
}

fn synonym(enumeration: &Enumeration, text: &str) -> Option<&'static str> {
    let (_, terms) = SYNONYMS.iter().find(|(name, _)| *name == enumeration.name)?;
    terms.iter().find(|(term, _)| *term == text).map(|(_, token)| *token)
}

/// The token of the one value that `is` holds for, if exactly one does.
fn only(enumeration: &Enumeration, is: impl Fn(&str, &str) -> bool) -> Option<&'static str> {
    let mut found = enumeration.values.iter().filter(|(zh, en)| is(zh, en));
    let (_, token) = found.next()?;
    found.next().is_none().then_some(*token)
}

/// `In Progress`, `in-progress`, `IN_PROGRESS ` for `in_progress`.
fn token_spelling(enumeration: &Enumeration, text: &str) -> Option<&'static str> {
    let spelled: String =
        text.chars().map(|c| if matches!(c, ' ' | '-') { '_' } else { c.to_ascii_lowercase() }).collect();
    only(enumeration, |_, en| en == spelled)
}

/// A typing slip: one character off a Chinese value of three or more characters
/// (已办接, 已完结 → 已办结), at most one letter off a token of up to six letters and two
/// off a longer one (resolvd, dissatisified). Two values as close: no suggestion.
fn slip(enumeration: &Enumeration, text: &str) -> Option<&'static str> {
    let close = |zh: &str, en: &str| {
        let chinese = zh.chars().count() >= 3 && strsim::levenshtein(zh, text) <= 1;
        let allowed = if en.len() > 6 { 2 } else { 1 };
        let english =
            text.is_ascii() && en.len() >= 4 && strsim::damerau_levenshtein(en, &text.to_ascii_lowercase()) <= allowed;
        chinese || english
    };
    only(enumeration, close)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CATEGORY, ROLE, SESSION_KIND, STATUS, VERDICT};

    #[test]
    fn terms_offices_use_suggest_the_contracts_value() {
        assert_eq!(suggest(&STATUS, "已完成"), Some("已办结"));
        assert_eq!(suggest(&STATUS, " 已解决 "), Some("已办结"));
        assert_eq!(suggest(&CATEGORY, "卫生"), Some("环境卫生"));
        assert_eq!(suggest(&VERDICT, "不太满意"), Some("不满意"));
        assert_eq!(suggest(&ROLE, "支部书记"), Some("书记"));
    }

    #[test]
    fn shortenings_spellings_and_slips() {
        assert_eq!(suggest(&STATUS, "办结"), Some("已办结"));
        assert_eq!(suggest(&STATUS, "已办接"), Some("已办结"));
        assert_eq!(suggest(&STATUS, "In Progress"), Some("办理中"));
        assert_eq!(suggest(&STATUS, "resolvd"), Some("已办结"));
        assert_eq!(suggest(&VERDICT, "dissatisified"), Some("不满意"));
    }

    #[test]
    fn yes_no_cells_written_another_way() {
        for (text, meant) in [("Yes", Some("是")), ("党员", Some("是")), ("群众", Some("否")), (" N ", Some("否"))]
        {
            assert_eq!(suggest_bool(text), meant, "{text}");
        }
        assert_eq!(suggest_bool("也许"), None);
    }

    #[test]
    fn nothing_is_suggested_without_one_clear_value() {
        // 满意 is in three values; 期 is one character; the rest is nothing like a value.
        for text in ["意", "期", "天气", "xyz", "", "未知"] {
            assert_eq!(suggest(&VERDICT, text), None, "{text}");
            assert_eq!(suggest(&STATUS, text), None, "{text}");
        }
        // 正书记 is one character off 副书记, but offices mean 书记: the synonym wins.
        assert_eq!(suggest(&ROLE, "正书记"), Some("书记"));
        // One character off each of two values (急事急说, 特事特说).
        assert_eq!(suggest(&SESSION_KIND, "急事特说"), None);
    }
}
