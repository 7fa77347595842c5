//! msgflo-rs coordinator: participant registry, graph -> broker bindings, the FBP
//! protocol server, the component library, and the msgflo CLI tools.
//!
//! The pure parts (registry, bindings plan, graph editing, library) take
//! inputs and return results; [`live`] is the one task that does the IO.
//! It depends on `msgflo-protocol` (wire types), `msgflo-transport` (the
//! brokers) and `msgflo-cli` (what the programs share), not on the
//! participant runtime.
//!
//! # Layout
//! - [`registry`] — participants by id, first/last seen, expiry (pure).
//! - [`bindings`] — graph edges -> broker links (queue bindings on AMQP,
//!   `connectinport` on MQTT), pending edges, diff against what is applied:
//!   the one planner of the coordinator ([`core`]) and of `msgflo-setup`
//!   ([`tools::setup_plan`]).
//! - [`delivery`] — the delivery mode of each outport, from the
//!   `delivery` its edges name (told to participants with `setoutportdelivery` on
//!   AMQP).
//! - [`routes`] — msgflo's wiring nodes (`msgflo/RoundRobin` with its
//!   `DEADLETTER` route, `msgflo/PubSub`) resolved to participant routes.
//! - [`calls`] — calling participants (`health`, `drain`, their own calls)
//!   over the broker, answers matched by id, with deadlines.
//! - [`links`] — applying a link on the broker (bind, or `connectinport`);
//!   [`relay`] — forwarding an edge's messages where neither does.
//! - [`components`] — the component catalogue: `component:list` from the
//!   participants and the library.
//! - [`fbp`] — the FBP protocol's `graph:*` commands as a state machine.
//! - [`flowhub`] — the "Open in Flowhub" link `msgflo` prints.
//! - [`library`] — msgflo's component library config and command templates.
//! - [`spawn`] — starting, stopping and reaping participant processes;
//!   [`forward`] — how their output lines are passed on.
//! - [`core`] — the coordinator's decisions, pure: clients, discovery,
//!   network start/stop, the desired links and taps, IIPs; edits and edge
//!   watching of a graph participant's graph forwarded to every
//!   participant of its role (`core/forward.rs`, `core/watches.rs`), and
//!   replayed to one that joins the role later (`core/replay.rs`).
//! - [`live`] — the executor around the core: the event loop, broker
//!   operations in tasks with deadlines, child processes.
//! - [`server`] — the WebSocket server (subprotocol `noflo`); [`http`] —
//!   plain HTTP on the same port (`/metrics`, the live view), [`snapshot`]
//!   what `/metrics` shows; [`view`] — the live web view on `/`;
//!   [`client`] —
//!   connecting to it, for the tools, the benchmark and the tests;
//!   [`latency`] — a histogram of durations (how long FBP answers took).
//! - [`embedded`] — `--broker embedded`: an MQTT broker (rumqttd) inside
//!   the coordinator, for a whole msgflo system from one command.
//! - [`try_it`] — the commands `msgflo --broker embedded` prints for trying
//!   its graph from another terminal.
//! - [`ping`] — `--ping-url`: telling a registry the runtime is alive.
//! - [`runtime_registry`] — `--registry`: registering with a runtime
//!   registry (Flowhub's API, `msgflo-registry`) and pinging it; the
//!   client `msgflo-participants --registry` lists with.
//! - [`tls`] — `--tls-cert` / `--tls-key`: the server's `wss://` identity.
//! - [`tokens_file`] — `--tokens FILE`: tokens with rights (send to
//!   inports, receive outports, edit), read at start and on SIGHUP; the
//!   rights themselves are decided in [`core`] (`core/rights.rs`,
//!   `core/tokens.rs`).
//! - [`graph_file`] — graph files in either format (`.fbp` or JSON): detect the
//!   format, load, convert, write (atomically for `--auto-save`).
//! - [`tools`] — the command-line tools' logic: `msgflo-send-message`,
//!   `msgflo-dump-message`, `msgflo-participants`, `msgflo-procfile`,
//!   `msgflo-setup`, `msgflo-register` (thin binaries in `src/bin/`).
//! - `src/bin/msgflo.rs` — the coordinator; `src/bin/msgflo-graph.rs` — prints
//!   the JSON graph of a `.fbp` file and the `.fbp` of a JSON graph;
//!   `src/bin/msgflo-*.rs` — the tools' arguments.

pub mod bindings;
pub mod calls;
pub mod client;
pub mod components;
pub mod core;
pub mod delivery;
pub mod embedded;
pub mod fbp;
pub mod flowhub;
pub mod forward;
pub mod graph_file;
pub mod http;
pub mod latency;
pub mod library;
pub mod links;
pub mod live;
pub mod ping;
pub mod registry;
pub mod relay;
pub mod routes;
pub mod runtime_registry;
pub mod server;
pub mod snapshot;
pub mod spawn;
pub mod tls;
pub mod tokens_file;
pub mod tools;
pub mod try_it;
pub mod view;
