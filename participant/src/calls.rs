//! Calls a participant answers ([`msgflo_protocol::calls`]): the built-in
//! `health`, `drain` and `set-prefetch`, and the component author's own,
//! each registered with one typed call:
//!
//! ```
//! use msgflo_participant::calls::Calls;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Reload { path: String }
//! #[derive(Serialize)]
//! struct Reloaded { entries: usize }
//!
//! let calls = Calls::new().handle("reload", |req: Reload| async move {
//!     let text = std::fs::read_to_string(&req.path).map_err(|e| e.to_string())?;
//!     Ok::<_, String>(Reloaded { entries: text.lines().count() })
//! });
//! assert!(calls.names().any(|n| n == "reload"));
//! ```
//!
//! Give them to the participant in [`Options::calls`](crate::runner::Options::calls).
//! A call with arguments that do not fit the handler's type, or one no
//! handler has, is answered with an error that says so; a handler's own
//! error is the answer's error.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

/// What a handler is, once its types are erased.
type Handler = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;

/// The calls a participant answers besides the built-in ones.
#[derive(Clone, Default)]
pub struct Calls {
    handlers: BTreeMap<String, Handler>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

/// The names of the built-in calls, which a handler cannot take.
pub const BUILT_IN: [&str; 5] = [
    msgflo_protocol::calls::DRAIN,
    msgflo_protocol::calls::FBP,
    msgflo_protocol::calls::HEALTH,
    msgflo_protocol::calls::SAVE,
    msgflo_protocol::calls::SET_PREFETCH,
];

impl Calls {
    /// No calls of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers call `name` with `handler`: its arguments are read as `Req`
    /// (`null` arguments fit `()` and `Option`s), its `Ok` becomes the
    /// result and its `Err` the error. A later handler of the same name
    /// replaces an earlier one.
    pub fn handle<Req, Resp, E, F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + 'static,
        E: Display + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, E>> + Send + 'static,
    {
        let call = name.to_owned();
        let erased: Handler = Arc::new(move |args: Value| {
            let request = serde_json::from_value::<Req>(args)
                .map_err(|e| format!("the arguments of {call:?} do not fit: {e}"));
            let run = request.map(&handler);
            async move {
                let response = run?.await.map_err(|e| e.to_string())?;
                serde_json::to_value(response).map_err(|e| e.to_string())
            }
            .boxed()
        });
        self.handlers.insert(name.to_owned(), erased);
        self
    }

    /// The names of the calls registered here (not the built-in ones).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    /// A registered name that a built-in call has, if any.
    pub(crate) fn clash(&self) -> Option<&str> {
        self.names().find(|name| BUILT_IN.contains(name))
    }

    /// Runs call `name`; `None` when there is no such handler.
    pub(crate) fn run(
        &self,
        name: &str,
        args: Value,
    ) -> Option<BoxFuture<'static, Result<Value, String>>> {
        self.handlers.get(name).map(|handler| handler(args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Add {
        a: i64,
        b: i64,
    }

    fn calls() -> Calls {
        Calls::new()
            .handle(
                "add",
                |req: Add| async move { Ok::<_, String>(req.a + req.b) },
            )
            .handle("fail", |(): ()| async move { Err::<(), _>("it broke") })
    }

    #[tokio::test]
    async fn typed_handlers_answer_with_their_result_or_error() {
        let calls = calls();
        let sum = calls
            .run("add", json!({"a": 2, "b": 3}))
            .expect("a handler");
        assert_eq!(sum.await, Ok(json!(5)));
        let failed = calls.run("fail", Value::Null).expect("a handler");
        assert_eq!(failed.await, Err("it broke".to_owned()));
        assert!(calls.run("nope", Value::Null).is_none());
        assert_eq!(calls.names().collect::<Vec<_>>(), ["add", "fail"]);
    }

    #[tokio::test]
    async fn arguments_that_do_not_fit_say_so() {
        let answer = calls().run("add", json!({"a": "two"})).expect("a handler");
        let error = answer.await.expect_err("does not fit");
        assert!(
            error.starts_with("the arguments of \"add\" do not fit: invalid type: string \"two\""),
            "{error}"
        );
    }

    #[test]
    fn built_in_names_are_found_as_clashes() {
        assert_eq!(calls().clash(), None);
        let clashing = calls().handle("health", |(): ()| async move { Ok::<_, String>(()) });
        assert_eq!(clashing.clash(), Some("health"));
    }
}
