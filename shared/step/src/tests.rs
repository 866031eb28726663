use std::cell::RefCell;
use std::rc::Rc;

use super::*;

fn fetch(url: &str) -> Need {
    Need::Fetch(Subrequest {
        method: "GET".to_owned(),
        url: url.to_owned(),
        headers: vec![],
        body: None,
        timeout_ms: 1000,
    })
}

#[test]
fn a_flow_asks_for_each_need_in_turn_and_ends_with_its_outcomes() {
    let mut machine = Machine::new(async {
        let first = need(fetch("https://a.test/1")).await;
        let second = need(Need::Body { limit: 10 }).await;
        (first, second)
    });
    assert_eq!(machine.resume(), Progress::Needs(fetch("https://a.test/1")));
    // Resumed without an outcome, it asks for nothing new.
    assert_eq!(machine.resume(), Progress::Waiting);
    machine.give(Got::Fetched(Fetched::TimedOut));
    assert_eq!(machine.resume(), Progress::Needs(Need::Body { limit: 10 }));
    machine.give(Got::Body(b"{}".to_vec()));
    assert_eq!(
        machine.resume(),
        Progress::Done((Got::Fetched(Fetched::TimedOut), Got::Body(b"{}".to_vec())))
    );
    assert_eq!(machine.resume(), Progress::Waiting, "spent");
}

#[test]
fn flows_of_one_isolate_interleave_and_each_gets_its_own_outcome() {
    let run = |url: &'static str| {
        Machine::new(async move {
            match need(fetch(url)).await {
                Got::Fetched(Fetched::Answer { body, .. }) => body,
                other => format!("{other:?}"),
            }
        })
    };
    let (mut a, mut b) = (run("https://a.test"), run("https://b.test"));
    assert_eq!(a.resume(), Progress::Needs(fetch("https://a.test")));
    assert_eq!(b.resume(), Progress::Needs(fetch("https://b.test")));
    b.give(Got::Fetched(Fetched::Answer {
        status: 200,
        body: "b".into(),
    }));
    a.give(Got::Fetched(Fetched::Answer {
        status: 200,
        body: "a".into(),
    }));
    assert_eq!(b.resume(), Progress::Done("b".to_owned()));
    assert_eq!(a.resume(), Progress::Done("a".to_owned()));
}

/// A hand-made one-shot signal: the second flow waits on it, the first sets it.
#[derive(Default)]
struct Signal {
    set: bool,
    waiting: Option<std::task::Waker>,
}

struct WaitFor(Rc<RefCell<Signal>>);

impl std::future::Future for WaitFor {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let mut signal = self.0.borrow_mut();
        if signal.set {
            std::task::Poll::Ready(())
        } else {
            signal.waiting = Some(cx.waker().clone());
            std::task::Poll::Pending
        }
    }
}

#[test]
fn a_flow_waiting_for_another_is_listed_as_woken_when_that_one_lets_it_go() {
    let signal = Rc::new(RefCell::new(Signal::default()));
    let mut waiter = Machine::new(WaitFor(signal.clone()));
    let setter_signal = signal.clone();
    let mut setter = Machine::new(async move {
        need(Need::Body { limit: 1 }).await;
        let mut signal = setter_signal.borrow_mut();
        signal.set = true;
        if let Some(waker) = signal.waiting.take() {
            waker.wake();
        }
    });
    let _ = take_woken();
    assert_eq!(waiter.resume(), Progress::Waiting);
    assert!(matches!(setter.resume(), Progress::Needs(_)));
    assert!(take_woken().is_empty());
    setter.give(Got::Body(vec![]));
    assert_eq!(setter.resume(), Progress::Done(()));
    assert_eq!(take_woken(), vec![waiter.id()]);
    assert_eq!(waiter.resume(), Progress::Done(()));
}
