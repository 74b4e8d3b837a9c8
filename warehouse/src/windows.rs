//! Physical optimiser rules that give a window the sort DataFusion meant to give it.
//!
//! A window needs its input sorted by every PARTITION BY column. DataFusion leaves out of
//! that sort a column it knows to be constant below it (the report's quarter or year
//! fixed by a filter, the one county of a county's session), and then two things can
//! forget the constant above the sort:
//! - on a Ballista executor, a stage rebuilt behind a shuffle reader knows no constants
//!   ([`WindowsWithoutConstants`], the scheduler's last rule);
//! - in this process, a hash join between the sort and the window (DataFusion 55 keeps
//!   the probe side's order through the join but not the constants it was sorted under):
//!   the plan's own sanity check then refused the handling-mode report of a county, "does
//!   not satisfy order requirements", once its join sides were swapped ([`WindowsSorted`],
//!   a local session's rule right before that check).
//!
//! Both put the missing columns first in the sort below the window. A column that is
//! constant moves no row; one that is not is a PARTITION BY key, whose groups any
//! order of the keys keeps together.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::physical_expr::{EquivalenceProperties, LexOrdering, PhysicalSortExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{
    ChildrenPropertiesMode, ExecutionPlan, ExecutionPlanProperties, InputOrderMode, ReplaceChildrenOptions,
};

/// Which PARTITION BY columns a window's input must be sorted by that its sort leaves
/// out: `plain` knows the input's sort order alone, `known` all the input's properties.
type Missing = fn(
    plain: &[usize],
    known: &EquivalenceProperties,
    known_covered: &[usize],
    index: usize,
    expr: &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
) -> bool;

/// Re-sorts below every window of `plan` that misses PARTITION BY columns by `missing`.
fn resort_windows(plan: Arc<dyn ExecutionPlan>, missing: Missing) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let (input, window_expr) = if let Some(w) = node.downcast_ref::<BoundedWindowAggExec>() {
            if w.input_order_mode != InputOrderMode::Sorted {
                return Ok(Transformed::no(node));
            }
            (w.input(), w.window_expr())
        } else if let Some(w) = node.downcast_ref::<WindowAggExec>() {
            (w.input(), w.window_expr())
        } else {
            return Ok(Transformed::no(node));
        };
        let partition_by = window_expr[0].partition_by();
        let order: Vec<PhysicalSortExpr> = input.output_ordering().map(|o| o.to_vec()).unwrap_or_default();
        let plain = EquivalenceProperties::new_with_orderings(input.schema(), [order.clone()]);
        let (_, covered) = plain.find_longest_permutation(partition_by)?;
        let known = input.equivalence_properties();
        let (_, known_covered) = known.find_longest_permutation(partition_by)?;
        let missing: Vec<PhysicalSortExpr> = partition_by
            .iter()
            .enumerate()
            .filter(|(i, e)| missing(&covered, known, &known_covered, *i, e))
            .map(|(_, e)| PhysicalSortExpr::new_default(Arc::clone(e)))
            .collect();
        if missing.is_empty() {
            return Ok(Transformed::no(node));
        }
        // Re-sort below the window: the sort that is there, or the input's own order.
        let (below, keys, preserve, fetch) = match input.downcast_ref::<SortExec>() {
            Some(sort) => (Arc::clone(sort.input()), sort.expr().to_vec(), sort.preserve_partitioning(), sort.fetch()),
            None => (Arc::clone(input), order, true, None),
        };
        let Some(ordering) = LexOrdering::new(missing.into_iter().chain(keys)) else {
            return Ok(Transformed::no(node));
        };
        let sorted: Arc<dyn ExecutionPlan> =
            Arc::new(SortExec::new(ordering, below).with_preserve_partitioning(preserve).with_fetch(fetch));
        let recompute = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
        Ok(Transformed::yes(node.replace_children(vec![sorted], recompute)?))
    })
    .map(|t| t.data)
}

/// The Ballista scheduler's last physical rule: a window whose input is sorted without a
/// PARTITION BY column that is constant there gets that column into the sort right below
/// it.
///
/// The scheduler knows such a column is constant (from a filter, or a partition value put
/// back as a literal) and leaves it out of the window's sort; the executors rebuild the
/// stage from its wire form, where a shuffle reader knows no constants, and refused the
/// window: "Expects PARTITION BY expression to be ordered" (the community assessment, the
/// monthly ranking, a community's overdue list), "All partition by columns should have an
/// ordering" (a window over the whole partition).
#[cfg(feature = "ballista")]
#[derive(Debug, Default)]
pub struct WindowsWithoutConstants;

#[cfg(feature = "ballista")]
impl PhysicalOptimizerRule for WindowsWithoutConstants {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        resort_windows(plan, |plain, known, _, i, e| !plain.contains(&i) && known.is_expr_constant(e).is_some())
    }

    fn name(&self) -> &str {
        "yishi_windows_without_constants"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A local session's rule right before DataFusion's sanity check: a window whose input
/// is not sorted by every PARTITION BY column, by all DataFusion knows of that input, gets
/// the missing ones into the sort right below it.
#[derive(Debug, Default)]
pub(crate) struct WindowsSorted;

impl PhysicalOptimizerRule for WindowsSorted {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        resort_windows(plan, |_, _, known_covered, i, _| !known_covered.contains(&i))
    }

    fn name(&self) -> &str {
        "yishi_windows_sorted"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// DataFusion's physical optimiser rules with [`WindowsSorted`] right before the last,
/// the sanity check.
pub(crate) fn local_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules;
    let at = rules.iter().position(|r| r.name() == "SanityCheckPlan").unwrap_or(rules.len());
    rules.insert(at, Arc::new(WindowsSorted));
    rules
}
