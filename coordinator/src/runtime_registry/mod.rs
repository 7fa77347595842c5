//! The client side of a runtime registry (Flowhub's API; `msgflo-registry`
//! serves it too): `msgflo --registry URL` registers the coordinator —
//! its id, user, `ws://`/`wss://` address as a browser reaches it,
//! protocol `websocket`, type `msgflo`, label, description, secret — and
//! pings it every `--registry-interval` seconds; `msgflo-participants
//! --registry URL` lists the registry's runtimes
//! ([`crate::tools::runtimes`]).
//!
//! Failed requests are retried with back-off and logged, never fatal; a
//! ping answered 404 (a registry that lost its data) registers again. The
//! requests are those of npm `flowhub-registry` 0.2.0: `PUT` and `GET`
//! with `Authorization: Bearer TOKEN`, pings without a token.
//!
//! # Layout
//! - [`wire`] — the JSON: a registration, a listed runtime, a user.
//! - [`error`] — [`RegistryError`]: a failed request, in one line.
//! - [`client`] — [`RegistryClient`]: register, ping, list, user (reqwest
//!   with the transports' rustls configuration).
//! - [`schedule`] — [`Schedule`]: what to request next and when (pure).
//! - [`announce`] — the task doing what the schedule says, and logging.
//! - [`options`] — `msgflo`'s flags, [`RegistryOptions`] (however they
//!   were read), and the [`Announcer`] they make.

pub mod announce;
pub mod client;
pub mod error;
pub mod options;
pub mod schedule;
pub mod wire;

pub use client::{Registered, RegistryClient};
pub use error::RegistryError;
pub use options::{Announcer, RegistryArgs, RegistryOptions};
pub use schedule::Schedule;
pub use wire::{Listed, Registration, User};
