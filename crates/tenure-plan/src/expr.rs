//! The typed expression tree of `where`, `exclude`, `amount` and `formula`.

/// A literal value written in an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Any number; integers are exact up to 2^53.
    Number(f64),
    /// `'text'` or `"text"`.
    String(String),
    /// `2025-01-31`, a local calendar date, as days since 1970-01-01.
    Date(i32),
    /// `30d`, `12w`, `6mo`.
    Duration(crate::Duration),
}

/// A column or attribute an expression reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The event name column.
    Event,
    /// The entity id column.
    Entity,
    /// The event time.
    Time,
    /// `props.<column>`: any other column of an event source.
    Prop(String),
    /// `attr.<column>`: a column of the entity-attribute source.
    Attr(String),
    /// `segment.<name>`: the label a segment gives the entity.
    Segment(String),
    /// `did.<event>`: in a cohort's breakdown only, whether the member did value event
    /// `<event>` within the cohort's `did_within` of its start (see [`crate::Did`]).
    Did(String),
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Event => f.write_str("event"),
            Field::Entity => f.write_str("entity"),
            Field::Time => f.write_str("time"),
            Field::Prop(name) => write!(f, "props.{name}"),
            Field::Attr(name) => write!(f, "attr.{name}"),
            Field::Segment(name) => write!(f, "segment.{name}"),
            Field::Did(event) => write!(f, "did.{event}"),
        }
    }
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// Logical `not` (three-valued: `not null` is `null`).
    Not,
    /// Arithmetic negation.
    Neg,
}

/// An infix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// Logical `or` (three-valued).
    Or,
    /// Logical `and` (three-valued).
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `x in [a, b]`: membership in a list.
    In,
    /// `text contains 'part'`: substring test.
    Contains,
    /// `text matches 'regex'`: regular-expression search.
    Matches,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`, which yields `null` on division by zero.
    Div,
    /// `%`, which yields `null` on division by zero.
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Contains => "contains",
            BinaryOp::Matches => "matches",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

/// A scalar function of the expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `lower(text)`
    Lower,
    /// `upper(text)`
    Upper,
    /// `coalesce(a, b, …)`: the first non-null argument.
    Coalesce,
    /// `abs(x)`
    Abs,
    /// `round(x)` or `round(x, digits)`
    Round,
    /// `min(a, b, …)`: the smallest non-null argument.
    Min,
    /// `max(a, b, …)`: the largest non-null argument.
    Max,
    /// `date(x)`: the local calendar date of a time, or a date parsed from text.
    Date,
    /// `days_between(a, b)`: whole calendar days from `a` to `b` (b − a).
    DaysBetween,
    /// `if(condition, then, otherwise)`: `then` where the condition is true, `otherwise` where it
    /// is false or null (SQL's `CASE WHEN`).
    If,
}

impl Function {
    /// Every function, for lookups and suggestions.
    pub const ALL: [Function; 10] = [
        Function::Lower,
        Function::Upper,
        Function::Coalesce,
        Function::Abs,
        Function::Round,
        Function::Min,
        Function::Max,
        Function::Date,
        Function::DaysBetween,
        Function::If,
    ];

    /// The function's name as written.
    pub fn name(self) -> &'static str {
        match self {
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Coalesce => "coalesce",
            Function::Abs => "abs",
            Function::Round => "round",
            Function::Min => "min",
            Function::Max => "max",
            Function::Date => "date",
            Function::DaysBetween => "days_between",
            Function::If => "if",
        }
    }

    /// The accepted argument counts, as an inclusive range (`usize::MAX` = unbounded).
    pub fn arity(self) -> (usize, usize) {
        match self {
            Function::Lower | Function::Upper | Function::Abs | Function::Date => (1, 1),
            Function::Round => (1, 2),
            Function::DaysBetween => (2, 2),
            Function::If => (3, 3),
            Function::Coalesce | Function::Min | Function::Max => (1, usize::MAX),
        }
    }
}

/// A resolved expression: every name is a field or a folded constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal value (constants are folded into literals).
    Literal(Literal),
    /// A list literal, the right-hand side of `in`.
    List(Vec<Expr>),
    /// A column, attribute or segment.
    Field(Field),
    /// A prefix operation.
    Unary(UnaryOp, Box<Expr>),
    /// An infix operation.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(Function, Vec<Expr>),
    /// An aggregate over a value event's rows (formulas only).
    Aggregate(Aggregate),
    /// Another metric's scalar, such as `revenue.nrr` (formulas only).
    Scalar(ScalarRef),
}

/// What an aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AggregateKind {
    /// `count(e)`: rows.
    Count,
    /// `entities(e, at_least = n)`: entities with at least `n` rows.
    Entities(u32),
    /// `sum(e.amount)`
    Sum,
    /// `avg(e.amount)`
    Avg,
    /// `min(e.amount)`
    Min,
    /// `max(e.amount)`
    Max,
}

/// An aggregate over the rows of a value event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregate {
    /// What to compute.
    pub kind: AggregateKind,
    /// Index of the value event in the plan.
    pub event: usize,
}

/// A reference to another metric's scalar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScalarRef {
    /// The metric's name.
    pub metric: String,
    /// The scalar's name.
    pub scalar: String,
}

impl Expr {
    /// Calls `visit` on every field the expression reads.
    pub fn for_each_field(&self, visit: &mut impl FnMut(&Field)) {
        match self {
            Expr::Literal(_) => {}
            Expr::Field(field) => visit(field),
            Expr::List(items) | Expr::Call(_, items) => {
                items.iter().for_each(|item| item.for_each_field(visit))
            }
            Expr::Unary(_, inner) => inner.for_each_field(visit),
            Expr::Binary(_, left, right) => {
                left.for_each_field(visit);
                right.for_each_field(visit);
            }
            Expr::Aggregate(_) | Expr::Scalar(_) => {}
        }
    }

    /// Calls `visit` on every sub-expression, this one first.
    pub fn walk(&self, visit: &mut impl FnMut(&Expr)) {
        visit(self);
        match self {
            Expr::List(items) | Expr::Call(_, items) => items.iter().for_each(|item| item.walk(visit)),
            Expr::Unary(_, inner) => inner.walk(visit),
            Expr::Binary(_, left, right) => {
                left.walk(visit);
                right.walk(visit);
            }
            _ => {}
        }
    }

    /// The distinct fields the expression reads, sorted.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields = Vec::new();
        self.for_each_field(&mut |field| {
            if !fields.contains(field) {
                fields.push(field.clone());
            }
        });
        fields.sort();
        fields
    }
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Number(value) => write!(f, "{value}"),
            Literal::String(value) => write!(f, "'{}'", value.replace('\'', "\\'")),
            Literal::Date(days) => match chrono::NaiveDate::from_num_days_from_ce_opt(
                days + crate::time::UNIX_EPOCH_DAYS_FROM_CE,
            ) {
                Some(date) => write!(f, "{date}"),
                None => write!(f, "date({days})"),
            },
            Literal::Duration(duration) => write!(f, "{duration}"),
        }
    }
}

impl std::fmt::Display for Expr {
    /// Prints the expression fully parenthesised, for `explain`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Literal(literal) => write!(f, "{literal}"),
            Expr::Field(field) => write!(f, "{field}"),
            Expr::List(items) => {
                f.write_str("[")?;
                write_joined(f, items)?;
                f.write_str("]")
            }
            Expr::Unary(UnaryOp::Not, inner) => write!(f, "(not {inner})"),
            Expr::Unary(UnaryOp::Neg, inner) => write!(f, "(-{inner})"),
            Expr::Binary(op, left, right) => write!(f, "({left} {} {right})", op.symbol()),
            Expr::Call(function, args) => {
                write!(f, "{}(", function.name())?;
                write_joined(f, args)?;
                f.write_str(")")
            }
            Expr::Aggregate(aggregate) => {
                let (name, amount) = match aggregate.kind {
                    AggregateKind::Count => ("count", false),
                    AggregateKind::Entities(1) => ("entities", false),
                    AggregateKind::Entities(n) => {
                        return write!(f, "entities(event#{}, at_least = {n})", aggregate.event);
                    }
                    AggregateKind::Sum => ("sum", true),
                    AggregateKind::Avg => ("avg", true),
                    AggregateKind::Min => ("min", true),
                    AggregateKind::Max => ("max", true),
                };
                write!(
                    f,
                    "{name}(event#{}{})",
                    aggregate.event,
                    if amount { ".amount" } else { "" }
                )
            }
            Expr::Scalar(reference) => write!(f, "{}.{}", reference.metric, reference.scalar),
        }
    }
}

fn write_joined(f: &mut std::fmt::Formatter<'_>, items: &[Expr]) -> std::fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
