//! `score(values, weights_key)`: the weighted mean of a list of numbers,
//! with weights read from the database under `weights_key`.

use kvdb_api::{Db, DbImport, Udf, UdfError, Value};
use scion_sdk::plugin;

/// The function (stateless).
#[derive(Default)]
pub struct Score;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

#[plugin(uses(Db))]
impl Udf for Score {
    fn name(&self) -> String {
        "score".into()
    }

    fn call(&mut self, args: Vec<Value>) -> Result<Value, UdfError> {
        let [values, weights_key] = args.as_slice() else {
            return Err(UdfError::Arity { expected: 2, got: args.len() as u32 });
        };
        let Value::List(values) = values else {
            return Err(UdfError::Type { index: 0, expected: "list".into() });
        };
        let Value::Text(weights_key) = weights_key else {
            return Err(UdfError::Type { index: 1, expected: "text".into() });
        };
        let weights = match DbImport.get(weights_key.clone()) {
            Some(Value::List(w)) => w,
            Some(_) => return Err(UdfError::Failed(format!("`{weights_key}` is not a list"))),
            None => return Err(UdfError::Failed(format!("no weights under `{weights_key}`"))),
        };
        let (mut sum, mut total) = (0.0, 0.0);
        for (i, v) in values.iter().enumerate() {
            let x = number(v)
                .ok_or_else(|| UdfError::Failed(format!("element {i} is not a number")))?;
            let w = weights.get(i).and_then(number).unwrap_or(1.0);
            sum += x * w;
            total += w;
        }
        Ok(if total == 0.0 { Value::Null } else { Value::Float(sum / total) })
    }
}
