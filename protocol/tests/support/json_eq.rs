//! JSON equality the way JavaScript sees it: numbers compare as numbers
//! (`1e21` == `1000000000000000000000`, `1.0` == `1`), key order is irrelevant.
//! Shared by the corpus test here and the live reference comparison in
//! `tests/tests/fbp_reference.rs`.

use serde_json::Value;

/// `a` and `b` are the same JSON value, numbers compared as `f64`.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}
