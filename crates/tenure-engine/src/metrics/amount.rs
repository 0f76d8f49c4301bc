//! Reading amounts: the `amount` of a value event per row, as exact micro-units.
//!
//! Money is summed as integers of 10⁻⁶ units (`i128`), so totals are exact and do not depend on
//! the order in which rows are added — the same for any thread count or input order.

use crate::Dataset;
use crate::eval::{Compiled, StoreRow, Val, eval};
use crate::store::Column;
use tenure_plan::{Expr, Field};

/// Micro-units per unit of money.
pub const MICROS: f64 = 1_000_000.0;

/// A compiled numeric expression with a fast path for a plain numeric column.
pub struct AmountReader<'a> {
    data: &'a Dataset,
    column: Option<&'a Column>,
    compiled: Compiled,
}

impl<'a> AmountReader<'a> {
    /// Compiles `expr` against the dataset.
    pub fn new(data: &'a Dataset, expr: &Expr) -> AmountReader<'a> {
        let column = match expr {
            Expr::Field(Field::Prop(name)) => data
                .store
                .props
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, column)| column)
                .filter(|column| matches!(column, Column::Number(_) | Column::Sparse(_))),
            _ => None,
        };
        AmountReader {
            data,
            column,
            compiled: Compiled::new(expr, &data.store),
        }
    }

    /// The value at `row`, if it is a finite number.
    #[inline]
    pub fn number(&self, row: usize) -> Option<f64> {
        if let Some(column) = self.column {
            return column.number(row).filter(|v| v.is_finite());
        }
        match eval(
            &self.compiled,
            &StoreRow {
                store: &self.data.store,
                row,
            },
        ) {
            Val::Num(value) if value.is_finite() => Some(value),
            Val::Str(text) => crate::store::parse_number(&text),
            _ => None,
        }
    }

    /// The value at `row` in micro-units.
    #[inline]
    pub fn micros(&self, row: usize) -> Option<i128> {
        self.number(row).map(to_micros)
    }
}

/// Rounds an amount to micro-units.
pub fn to_micros(value: f64) -> i128 {
    (value * MICROS).round() as i128
}

pub use tenure_plan::figures::from_micros;
