//! [`Outputs`]: how a process function sends. Each outport publishes to its own
//! queue (`ROLE.OUT`) and to any queue a coordinator connected it to with
//! `connectoutport`. The outputs a process function is handed for one
//! message carry that message's trace ([`crate::trace`]) and go in its
//! delivery mode, unless the participant has a mode of its own
//! (`--delivery`, [`DeliveryMode`]); an outport a coordinator gave a mode
//! (`setoutportdelivery`, from the delivery its graph edges name) sends in that
//! one, whatever else says.

use crate::errors::{NoPort, ProcessError};
use crate::trace::Hop;
use crate::transport::{DeliveryMode, Headers, Transport};
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use prometheus_client::metrics::counter::Counter;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

type Routes = HashMap<String, Route>;

/// Where one outport sends, and how.
#[derive(Clone)]
struct Route {
    queues: Arc<[QueueName]>,
    /// The mode a coordinator gave the port (`setoutportdelivery`).
    mode: Option<DeliveryMode>,
}

/// Sends to the participant's outports. Cheap to clone.
#[derive(Clone)]
pub struct Outputs {
    transport: Arc<dyn Transport>,
    routes: Arc<RwLock<Routes>>,
    /// Messages sent per port, as `health` and the metrics report them
    /// (`runner/stats.rs`); `None`: not counted (outputs made outside a
    /// running participant).
    sent: Option<Arc<HashMap<String, Counter>>>,
    /// The trace of the message being handled: what is sent continues it.
    hop: Option<Arc<Hop>>,
    /// The participant's own delivery mode, if it has one.
    fixed: Option<DeliveryMode>,
    /// The mode what is sent goes in.
    mode: DeliveryMode,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("broker", &self.transport.broker().to_string())
            .finish_non_exhaustive()
    }
}

impl Outputs {
    /// Outputs where each port (by name) publishes to the given queues.
    pub fn new(
        transport: Arc<dyn Transport>,
        ports: impl IntoIterator<Item = (String, QueueName)>,
    ) -> Self {
        let routes = ports
            .into_iter()
            .map(|(port, queue)| {
                let route = Route {
                    queues: Arc::from(vec![queue]),
                    mode: None,
                };
                (port, route)
            })
            .collect();
        Self {
            transport,
            routes: Arc::new(RwLock::new(routes)),
            sent: None,
            hop: None,
            fixed: None,
            mode: DeliveryMode::Persistent,
        }
    }

    /// These outputs, sending in `mode` whatever message they answer
    /// (`None`: in the mode of that message; persistent by default).
    pub(crate) fn delivering(self, mode: Option<DeliveryMode>) -> Self {
        Self {
            fixed: mode,
            mode: mode.unwrap_or_default(),
            ..self
        }
    }

    /// These outputs, answering a message that came in `mode`, as part of
    /// `hop`'s trace.
    pub(crate) fn continuing(self, hop: Option<Arc<Hop>>, mode: DeliveryMode) -> Self {
        Self { hop, ..self }.answering(mode)
    }

    /// These outputs, answering a message that came in `mode`: they send in
    /// that mode, unless the participant has its own.
    pub(crate) fn answering(self, mode: DeliveryMode) -> Self {
        Self {
            mode: self.fixed.unwrap_or(mode),
            ..self
        }
    }

    /// Counts each message sent on a port into its counter in `sent`.
    pub(crate) fn counting(self, sent: HashMap<String, Counter>) -> Self {
        Self {
            sent: Some(Arc::new(sent)),
            ..self
        }
    }

    fn route(&self, port: &str) -> Option<Route> {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        routes.get(port).cloned()
    }

    /// Sends `payload` on outport `port`; returns once the broker confirmed it
    /// on every queue the port feeds. An unknown port is an error naming it.
    pub async fn send(&self, port: &str, payload: impl Into<Bytes>) -> Result<(), ProcessError> {
        self.send_with(port, payload, &Headers::new()).await
    }

    /// [`Outputs::send`] with message headers (dropped where the transport
    /// has none).
    pub async fn send_with(
        &self,
        port: &str,
        payload: impl Into<Bytes>,
        headers: &Headers,
    ) -> Result<(), ProcessError> {
        let route = self.route(port).ok_or_else(|| NoPort::outport(port))?;
        let mode = self.sends_in(&route);
        let payload = payload.into();
        let stamped;
        let headers = match &self.hop {
            Some(hop) => {
                let mut copy = headers.clone();
                hop.stamp(&mut copy);
                stamped = copy;
                &stamped
            }
            None => headers,
        };
        for queue in route.queues.iter() {
            self.transport
                .publish_as(queue, payload.clone(), headers, mode)
                .await?;
        }
        if let Some(counter) = self.sent.as_ref().and_then(|sent| sent.get(port)) {
            counter.inc();
        }
        Ok(())
    }

    /// Sends a JSON value on outport `port`.
    pub async fn send_json(
        &self,
        port: &str,
        value: &serde_json::Value,
    ) -> Result<(), ProcessError> {
        self.send(port, serde_json::to_vec(value)?).await
    }

    /// The port exists.
    pub fn has_port(&self, port: &str) -> bool {
        self.route(port).is_some()
    }

    /// Port `port` sends in `mode`, whatever mode its input came in
    /// (`setoutportdelivery`).
    pub(crate) fn set_delivery(&self, port: &str, mode: DeliveryMode) -> Result<(), NoPort> {
        self.change_route(port, |route| route.mode = Some(mode))
    }

    /// Port `port` no longer sends in `mode` if that is the mode it was
    /// given (`unsetoutportdelivery`); a mode given since stays.
    pub(crate) fn unset_delivery(&self, port: &str, mode: DeliveryMode) -> Result<(), NoPort> {
        self.change_route(port, |route| {
            if route.mode == Some(mode) {
                route.mode = None;
            }
        })
    }

    /// The mode what goes out on `route` is sent in: the port's own, else
    /// these outputs'.
    fn sends_in(&self, route: &Route) -> DeliveryMode {
        route.mode.unwrap_or(self.mode)
    }

    /// The mode port `port` sends in.
    #[cfg(test)]
    fn mode_on(&self, port: &str) -> Option<DeliveryMode> {
        self.route(port).map(|route| self.sends_in(&route))
    }

    /// Port `port` also publishes to `queue` (`connectoutport`).
    pub(crate) fn add_route(&self, port: &str, queue: QueueName) -> Result<(), NoPort> {
        self.change_queues(port, |queues| {
            if !queues.contains(&queue) {
                queues.push(queue);
            }
        })
    }

    /// Port `port` no longer publishes to `queue` (`disconnectoutport`).
    pub(crate) fn remove_route(&self, port: &str, queue: &QueueName) -> Result<(), NoPort> {
        self.change_queues(port, |queues| queues.retain(|q| q != queue))
    }

    fn change_queues(
        &self,
        port: &str,
        change: impl FnOnce(&mut Vec<QueueName>),
    ) -> Result<(), NoPort> {
        self.change_route(port, |route| {
            let mut queues = route.queues.to_vec();
            change(&mut queues);
            route.queues = Arc::from(queues);
        })
    }

    fn change_route(&self, port: &str, change: impl FnOnce(&mut Route)) -> Result<(), NoPort> {
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        let route = routes.get_mut(port).ok_or_else(|| NoPort::outport(port))?;
        change(route);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{self, ConnectOptions};
    use DeliveryMode::{Persistent, Transient};

    async fn outputs() -> Outputs {
        let broker = format!("memory://outputs-unit-{}", uuid::Uuid::new_v4().simple());
        let options = ConnectOptions::default();
        let transport = transport::connect(&broker, options)
            .await
            .expect("connects");
        let out = QueueName::new("r.OUT").expect("a queue name");
        Outputs::new(transport, [("out".to_owned(), out)])
    }

    #[tokio::test]
    async fn a_mode_set_on_a_port_wins_and_an_unset_of_an_older_one_leaves_the_newer() {
        let outputs = outputs().await;
        let fixed = outputs.clone().delivering(Some(Persistent));
        let answering = outputs.clone().answering(Transient);
        assert_eq!(fixed.mode_on("out"), Some(Persistent));
        assert_eq!(answering.mode_on("out"), Some(Transient));
        // Over the participant's own mode and the input's, in every clone.
        outputs.set_delivery("out", Transient).unwrap();
        assert_eq!(fixed.mode_on("out"), Some(Transient));
        outputs.set_delivery("out", Persistent).unwrap();
        assert_eq!(answering.mode_on("out"), Some(Persistent));
        // The unset of the first set came last: the second set stays.
        outputs.unset_delivery("out", Transient).unwrap();
        assert_eq!(answering.mode_on("out"), Some(Persistent));
        outputs.unset_delivery("out", Persistent).unwrap();
        assert_eq!(
            answering.mode_on("out"),
            Some(Transient),
            "the input's again"
        );
        assert_eq!(
            fixed.mode_on("out"),
            Some(Persistent),
            "the participant's again"
        );
        let error = outputs.set_delivery("nope", Transient);
        assert_eq!(
            error.unwrap_err().to_string(),
            NoPort::outport("nope").to_string()
        );
    }
}
