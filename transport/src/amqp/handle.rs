//! [`AmqpTransport`]: the [`Transport`] handle. Declarations go to the
//! driver task; publishes go straight to the current session's confirmed
//! channel; each consumer gets its own feeder task.

use super::super::{
    BrokerUrl, ConnectOptions, Consumer, DeliveryMode, Headers, QueueDepth, Result, Transport,
    TransportError,
};
use super::confirmed::Message;
use super::connection::Session;
use super::consumer::{first_subscription, Feeder};
use super::driver::{DriverHandle, Op};
use super::publish::{publish, Route};
use super::state::{elapsed_ms, live_session, State};
use super::{errors, lock, topology};
use async_trait::async_trait;
use bytes::Bytes;
use msgflo_protocol::ids::QueueName;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Longest `close` waits for the consumers to stop.
const CONSUMERS_STOP_WAIT: Duration = Duration::from_secs(5);

/// A connection to RabbitMQ (or any AMQP 0-9-1 broker).
pub(super) struct AmqpTransport {
    broker: BrokerUrl,
    options: ConnectOptions,
    driver: DriverHandle,
    feeders: Mutex<Vec<Running>>,
    closed: AtomicBool,
    /// The discovery queue was declared ([`AmqpTransport::declare_implicit`]).
    implicit_declared: AtomicBool,
}

/// A consumer's feeder task.
struct Running {
    queue: QueueName,
    /// Set to `true` to stop it (`close`, `untap`).
    stop: watch::Sender<bool>,
    /// Its prefetch (`set_prefetch`).
    prefetch: watch::Sender<u16>,
    task: JoinHandle<()>,
}

impl AmqpTransport {
    pub(super) fn new(broker: BrokerUrl, options: ConnectOptions, driver: DriverHandle) -> Self {
        Self {
            broker,
            options,
            driver,
            feeders: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            implicit_declared: AtomicBool::new(false),
        }
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(TransportError::Closed);
        }
        Ok(())
    }

    async fn apply(&self, op: Op) -> Result<()> {
        self.ensure_open()?;
        self.driver.apply(op, self.options.publish_timeout).await
    }

    /// Declares `declarations` whatever is there (our own ports).
    async fn declare(
        &self,
        operation: &'static str,
        queue: &QueueName,
        declarations: Vec<topology::Declaration>,
    ) -> Result<()> {
        self.apply(Op::Declare {
            operation,
            queue: queue.to_string(),
            steps: topology::always(declarations),
        })
        .await
    }

    /// Declares the queues that msgflo declares implicitly (`fbp`), once
    /// per connection: the record declares it again after a reconnect, so
    /// sending many announcements costs no round trip each.
    async fn declare_implicit(&self, queue: &QueueName) -> Result<()> {
        let Some(declarations) = topology::implicit(queue) else {
            return Ok(());
        };
        if self.implicit_declared.load(Ordering::Acquire) {
            return Ok(());
        }
        self.declare("declare", queue, declarations).await?;
        self.implicit_declared.store(true, Ordering::Release);
        Ok(())
    }

    /// The live session, waited for up to the publish timeout; `what` names
    /// the operation in the error when it does not come.
    async fn live(&self, what: impl FnOnce() -> String) -> Result<Arc<Session>> {
        self.ensure_open()?;
        let started = tokio::time::Instant::now();
        let mut state = self.driver.state();
        live_session(&mut state, Some(started + self.options.publish_timeout))
            .await
            .map_err(|unavailable| {
                unavailable.into_error(|| TransportError::Disconnected {
                    broker: self.broker.to_string(),
                    what: what(),
                    waited_ms: elapsed_ms(started),
                })
            })
    }

    async fn publish_to(
        &self,
        route: Route<'_>,
        payload: &Bytes,
        headers: &Headers,
        mode: DeliveryMode,
    ) -> Result<()> {
        self.ensure_open()?;
        let timeout = self.options.publish_timeout;
        let state = self.driver.state();
        let message = Message {
            payload,
            headers,
            mode,
        };
        publish(state, route, message, timeout, &self.broker).await
    }
}

#[async_trait]
impl Transport for AmqpTransport {
    fn broker(&self) -> &BrokerUrl {
        &self.broker
    }

    fn capabilities(&self) -> crate::Capabilities {
        crate::Capabilities::QUEUES
    }

    fn is_connected(&self) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        matches!(&*self.driver.state().borrow(), State::Up(session) if session.alive())
    }

    fn reconnects(&self) -> u64 {
        self.driver.reconnects()
    }

    async fn declare_inport(&self, queue: &QueueName) -> Result<()> {
        self.declare(
            "declare inport",
            queue,
            topology::inport(queue, self.options.queue_type),
        )
        .await
    }

    async fn declare_outport(&self, queue: &QueueName) -> Result<()> {
        self.declare("declare outport", queue, topology::outport(queue))
            .await
    }

    async fn publish(&self, outport: &QueueName, payload: Bytes) -> Result<()> {
        self.publish_with(outport, payload, &Headers::new()).await
    }

    async fn publish_with(
        &self,
        outport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        self.publish_as(outport, payload, headers, DeliveryMode::Persistent)
            .await
    }

    async fn publish_as(
        &self,
        outport: &QueueName,
        payload: Bytes,
        headers: &Headers,
        mode: DeliveryMode,
    ) -> Result<()> {
        let route = Route {
            operation: "publish to",
            queue: outport.as_str(),
            exchange: outport.as_str(),
            routing_key: "",
        };
        self.publish_to(route, &payload, headers, mode).await
    }

    async fn send_to_inport(&self, inport: &QueueName, payload: Bytes) -> Result<()> {
        self.send_to_inport_with(inport, payload, &Headers::new())
            .await
    }

    async fn send_to_inport_with(
        &self,
        inport: &QueueName,
        payload: Bytes,
        headers: &Headers,
    ) -> Result<()> {
        self.declare_implicit(inport).await?;
        let route = Route {
            operation: "send to",
            queue: inport.as_str(),
            exchange: "",
            routing_key: inport.as_str(),
        };
        self.publish_to(route, &payload, headers, DeliveryMode::Persistent)
            .await
    }

    async fn inport_exists(&self, inport: &QueueName) -> Result<bool> {
        let session = self.live(|| format!("look for {inport}")).await?;
        session
            .queue_exists(inport.as_str())
            .await
            .map_err(|error| errors::broker("look for", inport.as_str(), &error))
    }

    async fn inport_depths(&self, inports: &[QueueName]) -> Result<Vec<Option<QueueDepth>>> {
        let what = || format!("count the messages of {} queues", inports.len());
        let session = self.live(what).await?;
        let names: Vec<&str> = inports.iter().map(QueueName::as_str).collect();
        let first = inports.first().map_or("", QueueName::as_str);
        session
            .queue_depths(&names)
            .await
            .map_err(|error| errors::broker("count the messages of", first, &error))
    }

    async fn consume(&self, inport: &QueueName, prefetch: u16) -> Result<Consumer> {
        self.ensure_open()?;
        self.declare_implicit(inport).await?;
        let timeout = self.options.publish_timeout;
        let first =
            first_subscription(self.driver.state(), inport, prefetch, timeout, &self.broker)
                .await?;
        // Room for whatever a raised prefetch lets the broker send; slots
        // are allocated only as they fill.
        let (deliveries, receiver) = mpsc::channel(usize::from(u16::MAX));
        let (stop, stopped) = watch::channel(false);
        let (prefetch_now, prefetch_rx) = watch::channel(prefetch);
        let feeder = Feeder {
            queue: Arc::new(inport.clone()),
            prefetch: prefetch_rx,
            state: self.driver.state(),
            shutdown: stopped,
            deliveries,
            max_backoff: self.options.max_backoff,
        };
        let task = tokio::spawn(feeder.run(first));
        let mut feeders = lock(&self.feeders);
        feeders.retain(|feeder| !feeder.task.is_finished());
        feeders.push(Running {
            queue: inport.clone(),
            stop,
            prefetch: prefetch_now,
            task,
        });
        tracing::debug!(queue = %inport, prefetch, "consuming");
        Ok(Consumer::new(inport.clone(), receiver))
    }

    async fn set_prefetch(&self, inport: &QueueName, prefetch: u16) -> Result<()> {
        self.ensure_open()?;
        let mut feeders = lock(&self.feeders);
        feeders.retain(|feeder| !feeder.task.is_finished());
        let mut changed = 0;
        for feeder in feeders.iter().filter(|f| f.queue == *inport) {
            feeder.prefetch.send_replace(prefetch);
            changed += 1;
        }
        match changed {
            0 => Err(TransportError::not_consumed(inport)),
            _ => Ok(()),
        }
    }

    /// Declares each end only if it is missing (a peer's queue or exchange
    /// is left as its owner declared it), then binds; see `topology.rs`.
    async fn bind(&self, outport: &QueueName, inport: &QueueName) -> Result<()> {
        self.apply(Op::Declare {
            operation: "bind",
            queue: format!("{inport} to {outport}"),
            steps: topology::bind(outport, inport, self.options.queue_type),
        })
        .await
    }

    async fn unbind(&self, outport: &QueueName, inport: &QueueName) -> Result<()> {
        self.apply(Op::Unbind {
            queue: format!("{inport} from {outport}"),
            binding: topology::binding(outport, inport),
        })
        .await
    }

    /// Stops the tap's consumer (its channel closes), unbinds and deletes
    /// its queue; the record forgets both, so a reconnect declares neither.
    async fn untap(&self, outport: &QueueName, tap: &QueueName) -> Result<()> {
        for feeder in lock(&self.feeders).iter().filter(|f| f.queue == *tap) {
            feeder.stop.send_replace(true);
        }
        self.unbind(outport, tap).await?;
        self.apply(Op::Delete {
            queue: tap.to_string(),
        })
        .await
    }

    /// Stops the consumers (their unacked messages go back to the broker),
    /// then closes the channels and the connection. Closing twice is fine.
    async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let feeders = std::mem::take(&mut *lock(&self.feeders));
        let stopped = futures_util::future::join_all(feeders.into_iter().map(|feeder| {
            feeder.stop.send_replace(true);
            feeder.task
        }));
        if tokio::time::timeout(CONSUMERS_STOP_WAIT, stopped)
            .await
            .is_err()
        {
            tracing::debug!(broker = %self.broker, "consumers did not stop in time");
        }
        self.driver.close().await;
        tracing::debug!(broker = %self.broker, "closed");
        Ok(())
    }
}
