//! Long rankings in charts. A chart of 340 cadres has no readable label, so a chart of
//! more than [`MAX_ITEMS`] items shows the first and the last [`ENDS`] in the chart's
//! own order, a marker row where the rest were left out, and a note saying so; the full
//! list stays in the report (the workbook's data sheet, the CSV, the JSON).

/// The most items a chart lists in full.
pub const MAX_ITEMS: usize = 40;
/// Items kept at each end of a longer list.
pub const ENDS: usize = 20;

/// Where a shortened list left items out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The index of the marker item in the shortened list.
    pub at: usize,
    /// Items left out.
    pub left_out: usize,
    /// Items in the full list.
    pub total: usize,
}

impl Gap {
    /// The note for a subtitle: "前20名与后20名，共340人，完整名单见数据表".
    pub fn note(&self, unit: &str) -> String {
        format!("前{ENDS}名与后{ENDS}名，共{}{unit}，完整名单见数据表", self.total)
    }

    /// The marker row's label: "……中间300人未列出……".
    pub fn marker(&self, unit: &str) -> String {
        format!("……中间{}{unit}未列出……", self.left_out)
    }
}

/// `items` as they are when there are at most [`MAX_ITEMS`]; else the first and last
/// [`ENDS`] with `marker(gap)` between them.
pub fn ends<T>(mut items: Vec<T>, marker: impl FnOnce(&Gap) -> T) -> (Vec<T>, Option<Gap>) {
    let total = items.len();
    if total <= MAX_ITEMS {
        return (items, None);
    }
    let gap = Gap { at: ENDS, left_out: total - 2 * ENDS, total };
    let tail = items.split_off(total - ENDS);
    items.truncate(ENDS);
    items.push(marker(&gap));
    items.extend(tail);
    (items, Some(gap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists_stay_whole_and_long_ones_keep_both_ends_in_order() {
        let (same, gap) = ends((0..40).collect(), |_| -1);
        assert_eq!((same.len(), gap), (40, None));
        let (shown, gap) = ends((0..41).collect(), |g| -(g.left_out as i32));
        assert_eq!(gap, Some(Gap { at: 20, left_out: 1, total: 41 }));
        let expected: Vec<i32> = (0..20).chain([-1]).chain(21..41).collect();
        assert_eq!(shown, expected);
        let (shown, gap) = ends((1..=340).collect::<Vec<i32>>(), |_| 0);
        let gap = gap.expect("gap");
        assert_eq!((shown.len(), shown[19], shown[20], shown[21], shown[40]), (41, 20, 0, 321, 340));
        assert_eq!(gap.note("人"), "前20名与后20名，共340人，完整名单见数据表");
        assert_eq!(gap.marker("人"), "……中间300人未列出……");
    }
}
