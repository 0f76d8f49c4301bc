//! Row expressions (value events' `where`, the `exclude` rule) as SQL over the `rows` columns.
//!
//! SQL's `NULL` logic is the expression language's: comparisons with `NULL` are `NULL`, `and`
//! and `or` are three-valued, and a row passes a filter only when it is true. What the compiler
//! does not translate yet is refused with the reason, never approximated.

use tenure_plan::{BinaryOp, Expr, Field, Function, Literal, UnaryOp};

use crate::Dialect;

/// The SQL of a row expression, or what keeps it from being translated.
pub(crate) fn row_sql(expr: &Expr, dialect: &dyn Dialect) -> Result<String, String> {
    Ok(match expr {
        Expr::Literal(literal) => literal_sql(literal, dialect)?,
        Expr::Field(field) => field_sql(field, dialect)?,
        Expr::List(_) => return Err("a list outside `in`".to_string()),
        Expr::Unary(UnaryOp::Not, inner) => format!("(NOT {})", row_sql(inner, dialect)?),
        Expr::Unary(UnaryOp::Neg, inner) => format!("(- {})", row_sql(inner, dialect)?),
        Expr::Binary(op, left, right) => binary_sql(*op, left, right, dialect)?,
        Expr::Call(function, args) => call_sql(*function, args, dialect)?,
        Expr::Aggregate(_) | Expr::Scalar(_) => return Err("an aggregate in a row expression".to_string()),
    })
}

fn literal_sql(literal: &Literal, dialect: &dyn Dialect) -> Result<String, String> {
    Ok(match literal {
        Literal::Null => "NULL".to_string(),
        Literal::Bool(value) => if *value { "TRUE" } else { "FALSE" }.to_string(),
        Literal::Number(value) if value.is_finite() => format!("{value:?}"),
        Literal::Number(_) => return Err("a number that is not finite".to_string()),
        Literal::String(text) => dialect.string(text),
        Literal::Date(_) => return Err("a date literal (not yet translated to SQL)".to_string()),
        Literal::Duration(_) => return Err("a duration literal (not yet translated to SQL)".to_string()),
    })
}

fn field_sql(field: &Field, dialect: &dyn Dialect) -> Result<String, String> {
    Ok(match field {
        Field::Event => "event".to_string(),
        Field::Entity => "entity".to_string(),
        Field::Prop(name) => dialect.identifier(&format!("props.{name}")),
        Field::Time => return Err("`time` in an expression (not yet translated to SQL)".to_string()),
        Field::Attr(_) => return Err("an entity attribute (not yet translated to SQL)".to_string()),
        Field::Segment(_) => return Err("a plugin segment, which is computed in process".to_string()),
        Field::Did(_) => return Err("a cohort's `did`, which is no column".to_string()),
    })
}

fn binary_sql(op: BinaryOp, left: &Expr, right: &Expr, dialect: &dyn Dialect) -> Result<String, String> {
    let operator = match op {
        BinaryOp::Or => "OR",
        BinaryOp::And => "AND",
        BinaryOp::Eq => "=",
        BinaryOp::Ne => "<>",
        BinaryOp::In => {
            let Expr::List(items) = right else {
                return Err("`in` without a list".to_string());
            };
            // Text compared with text: a list of numbers would compare by value in the
            // expression language, which is not translated yet.
            if !items
                .iter()
                .all(|i| matches!(i, Expr::Literal(Literal::String(_))))
            {
                return Err("`in` over values other than text (not yet translated to SQL)".to_string());
            }
            let items: Vec<String> = items
                .iter()
                .map(|i| row_sql(i, dialect))
                .collect::<Result<_, _>>()?;
            return Ok(format!("({} IN ({}))", row_sql(left, dialect)?, items.join(", ")));
        }
        BinaryOp::Contains => {
            return Ok(dialect.contains(&row_sql(left, dialect)?, &row_sql(right, dialect)?));
        }
        other => return Err(format!("the operator {other:?} (not yet translated to SQL)")),
    };
    if matches!(op, BinaryOp::Eq | BinaryOp::Ne) && !both_text(left, right) {
        return Err("a comparison of values that may not be text (not yet translated to SQL)".to_string());
    }
    Ok(format!(
        "({} {operator} {})",
        row_sql(left, dialect)?,
        row_sql(right, dialect)?
    ))
}

/// Whether a comparison compares text with text ([`is_text`]). A property may hold numbers,
/// which the expression language compares by value; that is not translated yet.
fn both_text(left: &Expr, right: &Expr) -> bool {
    is_text(left) && is_text(right)
}

/// Whether an expression is text for certain: the event name, the entity, a text literal,
/// `lower` or `upper` of something, or an `if` whose branches both are.
fn is_text(expr: &Expr) -> bool {
    match expr {
        Expr::Field(Field::Event | Field::Entity)
        | Expr::Literal(Literal::String(_))
        | Expr::Call(Function::Lower | Function::Upper, _) => true,
        Expr::Call(Function::If, args) => args[1..].iter().all(is_text),
        _ => false,
    }
}

fn call_sql(function: Function, args: &[Expr], dialect: &dyn Dialect) -> Result<String, String> {
    let args: Vec<String> = args
        .iter()
        .map(|a| row_sql(a, dialect))
        .collect::<Result<_, _>>()?;
    Ok(match function {
        Function::Lower => format!("lower({})", args.join(", ")),
        Function::Upper => format!("upper({})", args.join(", ")),
        Function::Coalesce => format!("coalesce({})", args.join(", ")),
        Function::If => format!("CASE WHEN {} THEN {} ELSE {} END", args[0], args[1], args[2]),
        other => {
            return Err(format!(
                "the function `{}` (not yet translated to SQL)",
                other.name()
            ));
        }
    })
}
