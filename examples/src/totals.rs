//! `example/Totals`: the pipeline's aggregator. Keeps running totals of the
//! orders it has seen and sends them after each one.

use msgflo_participant::component::Component;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// What has been ordered so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Orders counted.
    pub orders: u64,
    /// Sum of their totals, in cents.
    pub revenue_cents: u64,
    /// Quantity ordered per item.
    pub items: BTreeMap<String, u64>,
    /// Orders per worker that parsed them.
    pub workers: BTreeMap<String, u64>,
}

impl Totals {
    /// Adds one order (an `example/ParseOrder` object).
    pub fn add(&mut self, order: &serde_json::Value) -> Result<(), String> {
        let field = |name: &str| {
            order
                .get(name)
                .ok_or_else(|| format!("order without {name:?}: {order}"))
        };
        let item = field("item")?.as_str().ok_or("item is not text")?;
        let quantity = field("quantity")?
            .as_u64()
            .ok_or("quantity is not a count")?;
        let cents = field("total_cents")?
            .as_u64()
            .ok_or("total_cents is not a count")?;
        let worker = order.get("worker").and_then(|w| w.as_str()).unwrap_or("");
        self.orders += 1;
        self.revenue_cents += cents;
        *self.items.entry(item.to_owned()).or_default() += quantity;
        *self.workers.entry(worker.to_owned()).or_default() += 1;
        Ok(())
    }
}

/// `in`: orders -> `out`: the [`Totals`] after each one.
pub fn totals() -> Component {
    let state = Arc::new(Mutex::new(Totals::default()));
    Component::new("example/Totals")
        .label("Running totals of the orders seen")
        .icon("calculator")
        .inport("in", "object", "a parsed order")
        .outport("out", "object", "the totals so far")
        .process(move |input, out| {
            let state = state.clone();
            async move {
                let order = input.json()?;
                let now = {
                    let mut totals = state.lock().unwrap_or_else(PoisonError::into_inner);
                    totals.add(&order)?;
                    serde_json::to_value(&*totals)?
                };
                out.send_json("out", &now).await
            }
        })
}

#[cfg(test)]
mod tests {
    use super::Totals;
    use serde_json::json;

    #[test]
    fn adds_up_orders() {
        let mut totals = Totals::default();
        for (item, n, cents, w) in [("a", 2, 300, "w1"), ("b", 1, 50, "w2"), ("a", 1, 150, "w1")] {
            let order = json!({"item": item, "quantity": n, "total_cents": cents, "worker": w});
            totals.add(&order).expect("valid order");
        }
        assert_eq!(totals.orders, 3);
        assert_eq!(totals.revenue_cents, 500);
        assert_eq!(totals.items["a"], 3);
        assert_eq!(totals.workers["w1"], 2);
        assert!(totals.add(&json!({"item": "x"})).is_err());
    }
}
