//! `example/ParseOrder`: the pipeline's worker. Reads an order line
//! `"ITEM,QUANTITY,UNIT_PRICE"` (a JSON string) and sends the order as an
//! object. A line it cannot read is an error: the participant nacks it and
//! the broker dead-letters it (`dead-ROLE.IN`), where the pipeline's
//! `rejected` role picks it up.

use msgflo_participant::component::{Component, ProcessError};
use serde::Serialize;
use serde_json::Value;

/// One parsed order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// What was ordered.
    pub item: String,
    /// How many.
    pub quantity: u64,
    /// Price of one.
    pub unit_price: f64,
    /// `quantity * unit_price`, in cents (whole numbers add up exactly).
    pub total_cents: u64,
    /// The participant that parsed it (shows round-robin between workers).
    pub worker: String,
}

/// Parses `ITEM,QUANTITY,UNIT_PRICE`.
pub fn parse_line(line: &str, worker: &str) -> Result<Order, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [item, quantity, price] = fields.as_slice() else {
        return Err(format!(
            "expected ITEM,QUANTITY,UNIT_PRICE, got {} field(s) in {line:?}",
            fields.len()
        ));
    };
    if item.is_empty() {
        return Err(format!("no item in {line:?}"));
    }
    let quantity: u64 = quantity
        .parse()
        .map_err(|e| format!("quantity {quantity:?} in {line:?}: {e}"))?;
    let unit_price: f64 = price
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| format!("unit price {price:?} in {line:?} is not a price"))?;
    let total = (unit_price * 100.0).round() * quantity as f64;
    Ok(Order {
        item: (*item).to_owned(),
        quantity,
        unit_price,
        total_cents: total as u64,
        worker: worker.to_owned(),
    })
}

/// `in`: an order line (JSON string) -> `out`: the [`Order`]; unreadable
/// lines fail (and are dead-lettered).
pub fn parse_order(participant: &str) -> Component {
    let worker = participant.to_owned();
    Component::new("example/ParseOrder")
        .label("Parses an order line ITEM,QUANTITY,UNIT_PRICE")
        .icon("list-alt")
        .inport("in", "string", "an order line")
        .outport("out", "object", "the parsed order")
        .process(move |input, out| {
            let worker = worker.clone();
            async move {
                let Value::String(line) = input.json()? else {
                    return Err(ProcessError::from("an order line must be a JSON string"));
                };
                let order = parse_line(&line, &worker)?;
                out.send_json("out", &serde_json::to_value(&order)?).await
            }
        })
}

#[cfg(test)]
mod tests {
    use super::parse_line;

    #[test]
    fn reads_an_order_line() {
        let order = parse_line("widget, 3, 2.50", "w1").expect("valid");
        assert_eq!(
            (order.item.as_str(), order.quantity, order.total_cents),
            ("widget", 3, 750)
        );
    }

    #[test]
    fn names_what_is_wrong_with_a_bad_line() {
        let err = parse_line("gadget,many,1.00", "w1").expect_err("bad quantity");
        assert!(err.contains("quantity \"many\""), "{err}");
        assert!(parse_line("a,b", "w").is_err());
        assert!(parse_line("a,1,-2", "w").is_err());
    }
}
