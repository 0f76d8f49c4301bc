//! Evaluation of plan expressions over the store.
//!
//! Expressions are compiled once: fields become column indexes and regular expressions are
//! built. A predicate that reads a single dictionary-encoded column (the event name, a text
//! property) is evaluated once per distinct value and applied to rows by table lookup, so the
//! common value-event and bot filters cost one array read per row.

use std::borrow::Cow;

use rayon::prelude::*;
use tenure_plan::{BinaryOp, Expr, Field, Function, Literal, UnaryOp};

use crate::store::{Column, EventStore, NULL_CODE};

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// Missing or unknown.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// Text.
    Str(Cow<'a, str>),
    /// A local calendar day.
    Date(i32),
    /// An instant (microseconds UTC) with its local day.
    Time(i64, i32),
    /// A list.
    List(Vec<Val<'a>>),
}

/// A field resolved against the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The event name.
    Event,
    /// The entity id.
    Entity,
    /// The event time.
    Time,
    /// A property column, by index in `EventStore::props`.
    Prop(usize),
    /// An attribute column, by index in `EventStore::attrs`.
    Attr(usize),
    /// A segment's labels, by index in `EventStore::segments`.
    Segment(usize),
    /// A column that no source has: always null.
    Missing,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// A constant.
    Const(Val<'static>),
    /// A list.
    List(Vec<Compiled>),
    /// A field.
    Field(Slot),
    /// A prefix operation.
    Unary(UnaryOp, Box<Compiled>),
    /// An infix operation.
    Binary(BinaryOp, Box<Compiled>, Box<Compiled>),
    /// `x matches 'pattern'` with the pattern built.
    Matches(Box<Compiled>, regex::Regex),
    /// A function call.
    Call(Function, Vec<Compiled>),
}

impl Compiled {
    /// Compiles each breakdown field (`by = […]`) against the store, keyed by its spelling.
    pub fn fields(fields: &[Field], store: &EventStore) -> Vec<(String, Compiled)> {
        fields
            .iter()
            .map(|field| {
                (
                    field.to_string(),
                    Compiled::new(&Expr::Field(field.clone()), store),
                )
            })
            .collect()
    }

    /// Compiles `expr` against the store's columns.
    pub fn new(expr: &Expr, store: &EventStore) -> Compiled {
        match expr {
            Expr::Literal(literal) => Compiled::Const(literal_value(literal)),
            Expr::List(items) => Compiled::List(items.iter().map(|i| Compiled::new(i, store)).collect()),
            Expr::Field(field) => Compiled::Field(slot(field, store)),
            Expr::Unary(op, inner) => Compiled::Unary(*op, Box::new(Compiled::new(inner, store))),
            Expr::Binary(BinaryOp::Matches, left, right) => {
                let pattern = match &**right {
                    Expr::Literal(Literal::String(pattern)) => regex::Regex::new(pattern).ok(),
                    _ => None,
                };
                match pattern {
                    Some(regex) => Compiled::Matches(Box::new(Compiled::new(left, store)), regex),
                    None => Compiled::Const(Val::Null),
                }
            }
            Expr::Binary(op, left, right) => Compiled::Binary(
                *op,
                Box::new(Compiled::new(left, store)),
                Box::new(Compiled::new(right, store)),
            ),
            Expr::Call(function, args) => {
                Compiled::Call(*function, args.iter().map(|a| Compiled::new(a, store)).collect())
            }
            // Validation keeps aggregates and metric scalars out of row expressions.
            Expr::Aggregate(_) | Expr::Scalar(_) => Compiled::Const(Val::Null),
        }
    }

    fn slots(&self, out: &mut Vec<Slot>) {
        match self {
            Compiled::Const(_) => {}
            Compiled::Field(slot) => {
                if !out.contains(slot) {
                    out.push(*slot)
                }
            }
            Compiled::List(items) | Compiled::Call(_, items) => items.iter().for_each(|i| i.slots(out)),
            Compiled::Unary(_, inner) | Compiled::Matches(inner, _) => inner.slots(out),
            Compiled::Binary(_, left, right) => {
                left.slots(out);
                right.slots(out);
            }
        }
    }
}

fn slot(field: &Field, store: &EventStore) -> Slot {
    match field {
        Field::Event => Slot::Event,
        Field::Entity => Slot::Entity,
        Field::Time => Slot::Time,
        Field::Prop(name) => store
            .props
            .iter()
            .position(|(n, _)| n == name)
            .map_or(Slot::Missing, Slot::Prop),
        Field::Attr(name) => store
            .attrs
            .iter()
            .position(|(n, _)| n == name)
            .map_or(Slot::Missing, Slot::Attr),
        Field::Segment(name) => store
            .segments
            .iter()
            .position(|(n, _)| n == name)
            .map_or(Slot::Missing, Slot::Segment),
        // A cohort's `did` is no column: the cohort assignment computes it from t0.
        Field::Did(_) => Slot::Missing,
    }
}

fn literal_value(literal: &Literal) -> Val<'static> {
    match literal {
        Literal::Null => Val::Null,
        Literal::Bool(value) => Val::Bool(*value),
        Literal::Number(value) => Val::Num(*value),
        Literal::String(value) => Val::Str(Cow::Owned(value.clone())),
        Literal::Date(day) => Val::Date(*day),
        Literal::Duration(duration) => Val::Str(Cow::Owned(duration.to_string())),
    }
}

/// Reads the value of a field somewhere: a row of the store, or a dictionary entry.
pub trait FieldSource<'a> {
    /// The value of `slot`.
    fn get(&self, slot: Slot) -> Val<'a>;
    /// The project clock's view of an instant's local day.
    fn local_day(&self, micros: i64) -> i32;
}

/// One row of the store.
pub struct StoreRow<'a> {
    /// The store.
    pub store: &'a EventStore,
    /// The row.
    pub row: usize,
}

/// The value of column `column` at `index`.
pub fn column_value(column: &Column, index: usize) -> Val<'_> {
    match column {
        Column::Text { codes, dict } => match codes.get(index) {
            Some(code) if code != NULL_CODE => Val::Str(Cow::Borrowed(&dict[code as usize])),
            _ => Val::Null,
        },
        Column::Number(_) | Column::Sparse(_) => column.number(index).map_or(Val::Null, Val::Num),
        Column::Bool(values) => values.get(index).copied().flatten().map_or(Val::Null, Val::Bool),
    }
}

impl<'a> FieldSource<'a> for StoreRow<'a> {
    fn get(&self, slot: Slot) -> Val<'a> {
        let store = self.store;
        match slot {
            Slot::Event => store.event.get(self.row).map_or(Val::Null, |code| {
                Val::Str(Cow::Borrowed(store.event_names.get(code)))
            }),
            Slot::Entity => Val::Str(Cow::Borrowed(store.entities.get(store.entity[self.row]))),
            Slot::Time => Val::Time(store.time[self.row], store.day[self.row]),
            Slot::Prop(index) => column_value(&store.props[index].1, self.row),
            Slot::Attr(index) => column_value(&store.attrs[index].1, store.entity[self.row] as usize),
            Slot::Segment(index) => column_value(&store.segments[index].1, store.entity[self.row] as usize),
            Slot::Missing => Val::Null,
        }
    }

    fn local_day(&self, _micros: i64) -> i32 {
        self.store.day[self.row]
    }
}

/// A single field bound to one value (a dictionary entry); every other field is null.
struct DictEntry<'a> {
    slot: Slot,
    value: Val<'a>,
}

impl<'a> FieldSource<'a> for DictEntry<'a> {
    fn get(&self, slot: Slot) -> Val<'a> {
        if slot == self.slot {
            self.value.clone()
        } else {
            Val::Null
        }
    }

    fn local_day(&self, micros: i64) -> i32 {
        micros.div_euclid(crate::calendar::MICROS_PER_DAY) as i32
    }
}

/// Evaluates a compiled expression.
pub fn eval<'a>(expr: &'a Compiled, source: &impl FieldSource<'a>) -> Val<'a> {
    match expr {
        Compiled::Const(value) => value.clone(),
        Compiled::Field(slot) => source.get(*slot),
        Compiled::List(items) => Val::List(items.iter().map(|i| eval(i, source)).collect()),
        Compiled::Unary(UnaryOp::Not, inner) => match eval(inner, source) {
            Val::Bool(value) => Val::Bool(!value),
            _ => Val::Null,
        },
        Compiled::Unary(UnaryOp::Neg, inner) => match number(&eval(inner, source)) {
            Some(value) => Val::Num(-value),
            None => Val::Null,
        },
        Compiled::Binary(BinaryOp::And, left, right) => {
            match (truth(&eval(left, source)), truth(&eval(right, source))) {
                (Some(false), _) | (_, Some(false)) => Val::Bool(false),
                (Some(true), Some(true)) => Val::Bool(true),
                _ => Val::Null,
            }
        }
        Compiled::Binary(BinaryOp::Or, left, right) => {
            match (truth(&eval(left, source)), truth(&eval(right, source))) {
                (Some(true), _) | (_, Some(true)) => Val::Bool(true),
                (Some(false), Some(false)) => Val::Bool(false),
                _ => Val::Null,
            }
        }
        Compiled::Binary(op, left, right) => binary(*op, eval(left, source), eval(right, source)),
        Compiled::Matches(inner, regex) => match eval(inner, source) {
            Val::Str(text) => Val::Bool(regex.is_match(&text)),
            Val::Null => Val::Null,
            other => Val::Bool(regex.is_match(&display(&other))),
        },
        Compiled::Call(function, args) => call(*function, args, source),
    }
}

fn truth(value: &Val<'_>) -> Option<bool> {
    match value {
        Val::Bool(value) => Some(*value),
        _ => None,
    }
}

fn number(value: &Val<'_>) -> Option<f64> {
    match value {
        Val::Num(value) => Some(*value),
        Val::Str(text) => crate::store::parse_number(text),
        Val::Bool(flag) => Some(f64::from(u8::from(*flag))),
        _ => None,
    }
}

fn display(value: &Val<'_>) -> String {
    match value {
        Val::Null => String::new(),
        Val::Bool(flag) => flag.to_string(),
        Val::Num(number) => number.to_string(),
        Val::Str(text) => text.to_string(),
        Val::Date(day) => crate::calendar::day_label(*day),
        Val::Time(micros, _) => micros.to_string(),
        Val::List(_) => String::new(),
    }
}

/// Compares two values; `None` when either is null or they cannot be compared.
fn compare(left: &Val<'_>, right: &Val<'_>) -> Option<std::cmp::Ordering> {
    match (left, right) {
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        (Val::Time(a, _), Val::Time(b, _)) => Some(a.cmp(b)),
        (Val::Time(_, day), Val::Date(date)) => Some(day.cmp(date)),
        (Val::Date(date), Val::Time(_, day)) => Some(date.cmp(day)),
        (Val::Num(_), Val::Str(_) | Val::Bool(_)) | (Val::Str(_) | Val::Bool(_), Val::Num(_)) => {
            number(left)?.partial_cmp(&number(right)?)
        }
        (Val::Str(text), Val::Bool(flag)) | (Val::Bool(flag), Val::Str(text)) => {
            let parsed = match text.as_ref() {
                "true" => true,
                "false" => false,
                _ => return None,
            };
            let order = parsed.cmp(flag);
            Some(if matches!(left, Val::Str(_)) {
                order
            } else {
                order.reverse()
            })
        }
        _ => None,
    }
}

fn binary<'a>(op: BinaryOp, left: Val<'a>, right: Val<'a>) -> Val<'a> {
    use std::cmp::Ordering::*;
    let comparison = |accept: fn(std::cmp::Ordering) -> bool| match compare(&left, &right) {
        Some(order) => Val::Bool(accept(order)),
        None => Val::Null,
    };
    match op {
        BinaryOp::Eq => comparison(|o| o == Equal),
        BinaryOp::Ne => comparison(|o| o != Equal),
        BinaryOp::Lt => comparison(|o| o == Less),
        BinaryOp::Le => comparison(|o| o != Greater),
        BinaryOp::Gt => comparison(|o| o == Greater),
        BinaryOp::Ge => comparison(|o| o != Less),
        BinaryOp::In => {
            if left == Val::Null {
                return Val::Null;
            }
            let Val::List(items) = right else { return Val::Null };
            let mut saw_null = false;
            for item in &items {
                match compare(&left, item) {
                    Some(Equal) => return Val::Bool(true),
                    None if *item == Val::Null => saw_null = true,
                    _ => {}
                }
            }
            if saw_null { Val::Null } else { Val::Bool(false) }
        }
        BinaryOp::Contains => match (&left, &right) {
            (Val::Null, _) | (_, Val::Null) => Val::Null,
            (Val::Str(text), Val::Str(part)) => Val::Bool(text.contains(part.as_ref())),
            _ => Val::Bool(display(&left).contains(&display(&right))),
        },
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
            let (Some(a), Some(b)) = (number(&left), number(&right)) else {
                return Val::Null;
            };
            let result = match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                BinaryOp::Div if b == 0.0 => return Val::Null,
                BinaryOp::Div => a / b,
                BinaryOp::Rem if b == 0.0 => return Val::Null,
                _ => a % b,
            };
            if result.is_finite() {
                Val::Num(result)
            } else {
                Val::Null
            }
        }
        BinaryOp::Or | BinaryOp::And | BinaryOp::Matches => Val::Null,
    }
}

fn call<'a>(function: Function, args: &'a [Compiled], source: &impl FieldSource<'a>) -> Val<'a> {
    let mut values = args.iter().map(|a| eval(a, source));
    match function {
        Function::Lower | Function::Upper => match values.next() {
            Some(Val::Str(text)) => {
                let converted = if function == Function::Lower {
                    text.to_lowercase()
                } else {
                    text.to_uppercase()
                };
                Val::Str(Cow::Owned(converted))
            }
            Some(Val::Null) | None => Val::Null,
            Some(other) => Val::Str(Cow::Owned(display(&other))),
        },
        Function::Coalesce => values.find(|v| *v != Val::Null).unwrap_or(Val::Null),
        Function::Abs => values
            .next()
            .as_ref()
            .and_then(number)
            .map_or(Val::Null, |v| Val::Num(v.abs())),
        Function::Round => {
            let value = values.next().as_ref().and_then(number);
            let digits = values.next().as_ref().and_then(number).unwrap_or(0.0);
            match value {
                Some(value) => {
                    let scale = 10f64.powi(digits.clamp(-15.0, 15.0) as i32);
                    Val::Num((value * scale).round() / scale)
                }
                None => Val::Null,
            }
        }
        Function::Min | Function::Max => {
            let mut best: Option<Val<'a>> = None;
            for value in values.filter(|v| *v != Val::Null) {
                best = match best {
                    None => Some(value),
                    Some(current) => {
                        let replace = match compare(&value, &current) {
                            Some(std::cmp::Ordering::Less) => function == Function::Min,
                            Some(std::cmp::Ordering::Greater) => function == Function::Max,
                            _ => false,
                        };
                        Some(if replace { value } else { current })
                    }
                };
            }
            best.unwrap_or(Val::Null)
        }
        Function::Date => match values.next() {
            Some(Val::Time(micros, _)) => Val::Date(source.local_day(micros)),
            Some(Val::Date(day)) => Val::Date(day),
            Some(Val::Str(text)) => chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_or(Val::Null, |d| Val::Date(tenure_plan::time::days_from_date(d))),
            _ => Val::Null,
        },
        Function::DaysBetween => {
            let day = |value: Option<Val<'a>>| match value {
                Some(Val::Time(micros, _)) => Some(source.local_day(micros)),
                Some(Val::Date(day)) => Some(day),
                _ => None,
            };
            match (day(values.next()), day(values.next())) {
                (Some(a), Some(b)) => Val::Num(f64::from(b - a)),
                _ => Val::Null,
            }
        }
        Function::If => {
            // A null condition takes the second branch, as SQL's CASE WHEN.
            let taken = if values.next() == Some(Val::Bool(true)) {
                0
            } else {
                1
            };
            values.nth(taken).unwrap_or(Val::Null)
        }
    }
}

/// Rows per parallel task; fixed so that work splits the same way on any thread count.
pub const CHUNK_ROWS: usize = 1 << 16;

/// `true` for every row where the predicate is true (null and false both fail).
pub fn row_mask(expr: &Expr, store: &EventStore) -> Vec<bool> {
    true_rows(&Compiled::new(expr, store), store)
}

/// The rows where `compiled` is true. An expression that reads one text column or the event is
/// worked out once per distinct value. One that reads more, under `and` or `or`, has each side
/// worked out on its own and the masks combined (in three-valued logic a conjunction is true
/// where both sides are, a disjunction where either is); any other is evaluated row by row.
fn true_rows(compiled: &Compiled, store: &EventStore) -> Vec<bool> {
    let mut slots = Vec::new();
    compiled.slots(&mut slots);
    let passes = |value: Val<'_>| value == Val::Bool(true);
    match slots.as_slice() {
        [] => {
            let value = passes(eval(
                compiled,
                &DictEntry {
                    slot: Slot::Missing,
                    value: Val::Null,
                },
            ));
            vec![value; store.len()]
        }
        [Slot::Event] => {
            let table: Vec<bool> = store
                .event_names
                .values()
                .iter()
                .map(|name| {
                    passes(eval(
                        compiled,
                        &DictEntry {
                            slot: Slot::Event,
                            value: Val::Str(Cow::Borrowed(name)),
                        },
                    ))
                })
                .collect();
            store
                .event
                .par_map(|code| table.get(code as usize).copied().unwrap_or(false))
        }
        [Slot::Prop(index)] if matches!(store.props[*index].1, Column::Text { .. }) => {
            let Column::Text { codes, dict } = &store.props[*index].1 else {
                unreachable!()
            };
            let slot = Slot::Prop(*index);
            let table: Vec<bool> = dict
                .iter()
                .map(|v| {
                    passes(eval(
                        compiled,
                        &DictEntry {
                            slot,
                            value: Val::Str(Cow::Borrowed(v)),
                        },
                    ))
                })
                .collect();
            let null = passes(eval(
                compiled,
                &DictEntry {
                    slot,
                    value: Val::Null,
                },
            ));
            codes.par_map(|code| {
                if code == NULL_CODE {
                    null
                } else {
                    table[code as usize]
                }
            })
        }
        _ => match compiled {
            Compiled::Binary(op @ (BinaryOp::And | BinaryOp::Or), left, right) => {
                let (mut rows, other) = rayon::join(|| true_rows(left, store), || true_rows(right, store));
                let combine: fn(&mut bool, bool) = match op {
                    BinaryOp::And => |row, other| *row &= other,
                    _ => |row, other| *row |= other,
                };
                rows.par_iter_mut()
                    .with_min_len(CHUNK_ROWS)
                    .zip(other)
                    .for_each(|(row, other)| combine(row, other));
                rows
            }
            _ => (0..store.len())
                .into_par_iter()
                .with_min_len(CHUNK_ROWS)
                .map(|row| passes(eval(compiled, &StoreRow { store, row })))
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Codes;

    /// A store of `rows` rows: an event, a text property `t` (with missing values) and a number
    /// property `n` (with missing values), filled by a fixed pseudo-random sequence.
    fn store(rows: usize) -> EventStore {
        let mut random = crate::test_random::Xorshift::new();
        let mut next = |below: u64| random.below(below);
        let mut store = EventStore::default();
        for name in ["open", "pay", "quit"] {
            store.event_names.intern(name);
        }
        let mut texts = Vec::new();
        let mut numbers = Vec::new();
        for _ in 0..rows {
            store.event.push(next(3) as u32);
            texts.push(match next(4) {
                3 => NULL_CODE,
                code => code as u32,
            });
            numbers.push(match next(5) {
                4 => f64::NAN,
                value => value as f64,
            });
        }
        let dict: Vec<Box<str>> = ["web", "Googlebot", "internal"]
            .iter()
            .map(|t| (*t).into())
            .collect();
        store.props = vec![
            (
                "t".to_string(),
                Column::Text {
                    codes: Codes::from(texts),
                    dict,
                },
            ),
            ("n".to_string(), Column::Number(numbers)),
        ];
        store.entity = vec![0; rows];
        store.time = vec![0; rows];
        store.day = vec![0; rows];
        store
    }

    fn field(field: Field) -> Box<Expr> {
        Box::new(Expr::Field(field))
    }

    fn text(value: &str) -> Box<Expr> {
        Box::new(Expr::Literal(Literal::String(value.to_string())))
    }

    #[test]
    fn combined_masks_agree_with_evaluating_each_row() {
        let store = store(5_000);
        let bot = Expr::Binary(BinaryOp::Contains, field(Field::Prop("t".into())), text("bot"));
        let internal = Expr::Binary(BinaryOp::Eq, field(Field::Prop("t".into())), text("internal"));
        let paid = Expr::Binary(BinaryOp::Eq, field(Field::Event), text("pay"));
        let low = Expr::Binary(
            BinaryOp::Lt,
            field(Field::Prop("n".into())),
            Box::new(Expr::Literal(Literal::Number(2.0))),
        );
        let not = |e: &Expr| Expr::Unary(UnaryOp::Not, Box::new(e.clone()));
        let and = |a: &Expr, b: &Expr| Expr::Binary(BinaryOp::And, Box::new(a.clone()), Box::new(b.clone()));
        let or = |a: &Expr, b: &Expr| Expr::Binary(BinaryOp::Or, Box::new(a.clone()), Box::new(b.clone()));
        let null = Expr::Literal(Literal::Null);
        let expressions = [
            or(&bot, &and(&internal, &low)),
            and(&or(&bot, &paid), &not(&low)),
            or(&and(&paid, &null), &low),
            and(&not(&or(&bot, &internal)), &paid),
            or(&null, &and(&low, &not(&paid))),
        ];
        for expr in &expressions {
            let compiled = Compiled::new(expr, &store);
            let by_row: Vec<bool> = (0..store.len())
                .map(|row| eval(&compiled, &StoreRow { store: &store, row }) == Val::Bool(true))
                .collect();
            let mask = row_mask(expr, &store);
            assert_eq!(mask, by_row, "{expr:?}");
            // Each expression keeps some rows and drops others, so both sides are exercised.
            assert!(mask.contains(&true) && mask.contains(&false), "{expr:?}");
        }
    }
}
