//! Running a flow synchronously, one step per call.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::need::{Got, Need, Slot};

/// Which machine a waker belongs to, as [`take_woken`] lists it.
pub type MachineId = u32;

/// Where a call to [`Machine::resume`] left the flow.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress<T> {
    /// The driver is to perform this, then [`Machine::give`] the outcome and resume.
    Needs(Need),
    /// The flow waits for another flow of the isolate; resume it once [`take_woken`] lists it.
    Waiting,
    Done(T),
}

thread_local! {
    /// The slot of the machine being polled, for [`crate::need`].
    static CURRENT: RefCell<Option<Rc<RefCell<Slot>>>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<MachineId> = const { Cell::new(1) };
    /// Machines woken since the last [`take_woken`] (an isolate has one thread, so its wakers
    /// run on it).
    static WOKEN: RefCell<Vec<MachineId>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn current_slot() -> Option<Rc<RefCell<Slot>>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// The machines woken (by another flow releasing what they waited for) since the last call.
pub fn take_woken() -> Vec<MachineId> {
    WOKEN.with(|woken| std::mem::take(&mut *woken.borrow_mut()))
}

struct Wakeup(MachineId);

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        WOKEN.with(|woken| {
            let mut woken = woken.borrow_mut();
            if !woken.contains(&self.0) {
                woken.push(self.0);
            }
        });
    }
}

/// One flow, run step by step.
pub struct Machine<T> {
    id: MachineId,
    flow: Option<Pin<Box<dyn Future<Output = T>>>>,
    slot: Rc<RefCell<Slot>>,
    waker: Waker,
}

impl<T> Machine<T> {
    pub fn new(flow: impl Future<Output = T> + 'static) -> Self {
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id.wrapping_add(1));
            id
        });
        Self {
            id,
            flow: Some(Box::pin(flow)),
            slot: Rc::default(),
            waker: Waker::from(Arc::new(Wakeup(id))),
        }
    }

    pub fn id(&self) -> MachineId {
        self.id
    }

    /// Hands over the outcome of the need the last [`Machine::resume`] returned.
    pub fn give(&mut self, got: Got) {
        self.slot.borrow_mut().got = Some(got);
    }

    /// Polls the flow until it needs something, waits, or ends. After [`Progress::Done`] the
    /// machine is spent: resuming it again answers [`Progress::Waiting`] forever.
    pub fn resume(&mut self) -> Progress<T> {
        let Some(flow) = self.flow.as_mut() else {
            return Progress::Waiting;
        };
        let outer = CURRENT.with(|current| current.replace(Some(self.slot.clone())));
        let polled = flow.as_mut().poll(&mut Context::from_waker(&self.waker));
        CURRENT.with(|current| *current.borrow_mut() = outer);
        match polled {
            Poll::Ready(done) => {
                self.flow = None;
                Progress::Done(done)
            }
            Poll::Pending => match self.slot.borrow_mut().asked.take() {
                Some(need) => Progress::Needs(need),
                None => Progress::Waiting,
            },
        }
    }
}
