//! [`TestOutlet`]: an outlet the state-machine tests can look into and fill
//! up or close.

use super::dispatch::{Handout, Offer, Outlet};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

#[derive(Default)]
struct Inbox {
    got: VecDeque<Handout>,
    /// Hand-outs it takes before it is full; `None`: no limit.
    room: Option<usize>,
    gone: bool,
}

/// A consumer's outlet for tests; clones share one inbox.
#[derive(Clone, Default)]
pub(super) struct TestOutlet(Rc<RefCell<Inbox>>);

impl TestOutlet {
    /// An outlet that takes `room` hand-outs, then is full.
    pub(super) fn with_room(room: usize) -> Self {
        let outlet = Self::default();
        outlet.set_room(Some(room));
        outlet
    }

    /// Takes everything handed out so far.
    pub(super) fn take(&self) -> Vec<Handout> {
        self.0.borrow_mut().got.drain(..).collect()
    }

    /// The payloads handed out so far, as text; takes them.
    pub(super) fn texts(&self) -> Vec<String> {
        self.take()
            .iter()
            .map(|h| String::from_utf8_lossy(&h.payload).into_owned())
            .collect()
    }

    /// Sets how many more hand-outs it takes.
    pub(super) fn set_room(&self, room: Option<usize>) {
        self.0.borrow_mut().room = room;
    }

    /// Makes it refuse everything from now on, as a dropped receiver.
    pub(super) fn close(&self) {
        self.0.borrow_mut().gone = true;
    }
}

impl Outlet for TestOutlet {
    fn offer(&mut self, handout: Handout) -> Offer {
        let mut inbox = self.0.borrow_mut();
        if inbox.gone {
            return Offer::Gone;
        }
        match inbox.room {
            Some(0) => return Offer::Full,
            Some(n) => inbox.room = Some(n - 1),
            None => {}
        }
        inbox.got.push_back(handout);
        Offer::Taken
    }
}
