//! Issue 30's prototype: save-connection as a sans-IO flow ([`flow`], edge-step), driven by
//! `driver.mjs`, which does the fetches, the body, WebCrypto's ES256 and the `Response` natively
//! and calls into wasm synchronously at each step: no promise is awaited from Rust. Built by
//! `bench/sansio/build.sh`; measured against the function's worker-build in `scripts/bench.sh`
//! (bench/README.md). The flow's inputs are validated by save-connection's own module.
#![forbid(unsafe_code)]

#[path = "../../../functions/save-connection/src/connection_input.rs"]
mod connection_input;
pub mod flow;
mod log;
mod rest;
mod settings;
mod step_text;

use std::cell::RefCell;
use std::rc::Rc;

use edge_step::{Fetched, Got, Machine, Progress};
use wasm_bindgen::prelude::wasm_bindgen;

pub use flow::{After, Incoming, Reply};
pub use settings::{Settings, WANTED};

/// The time, from the driver's clock (`Date.now()` inside a Worker; the system clock natively).
pub fn now() -> edge_auth::UnixTime {
    edge_auth::UnixTime::from_millis(clock_millis())
}

#[cfg(target_arch = "wasm32")]
fn clock_millis() -> u64 {
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Date)]
        fn now() -> f64;
    }
    now() as u64
}

#[cfg(not(target_arch = "wasm32"))]
fn clock_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

thread_local! {
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
}

/// The names of the settings the driver is to pass to [`configure`], one per line.
#[wasm_bindgen]
pub fn wanted_settings() -> String {
    WANTED.join("\n")
}

/// The settings, as `name\nvalue\n…` pairs (a missing one left out), once per isolate.
#[wasm_bindgen]
pub fn configure(pairs: &str) {
    let mut lines = pairs.split('\n');
    let mut values = Vec::new();
    while let (Some(name), Some(value)) = (lines.next(), lines.next()) {
        values.push((name.to_owned(), value.to_owned()));
    }
    SETTINGS.with(|s| *s.borrow_mut() = Some(Rc::new(Settings::new(values))));
}

/// The machines woken since the last call, comma-separated (see edge-step's `take_woken`).
#[wasm_bindgen]
pub fn woken() -> String {
    edge_step::take_woken()
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// One request: the answer's flow, then the work after it.
#[wasm_bindgen]
pub struct Flow {
    main: Option<Machine<(Reply, Option<After>)>>,
    after: Option<Machine<()>>,
}

#[wasm_bindgen]
impl Flow {
    #[wasm_bindgen(constructor)]
    pub fn new(
        method: String,
        url: String,
        authorization: Option<String>,
        content_length: Option<String>,
        cf_ray: Option<String>,
        x_request_id: Option<String>,
    ) -> Flow {
        let settings = SETTINGS.with(|s| s.borrow().clone()).unwrap_or_default();
        let req = Incoming {
            method,
            url,
            authorization,
            content_length,
            cf_ray,
            x_request_id,
        };
        Flow {
            main: Some(Machine::new(flow::serve(req, settings))),
            after: None,
        }
    }

    /// The id edge-step's `woken` lists for this flow's running machine.
    pub fn id(&self) -> u32 {
        match (&self.main, &self.after) {
            (Some(main), _) => main.id(),
            (None, Some(after)) => after.id(),
            (None, None) => 0,
        }
    }

    /// Runs to the next step (see `step_text`).
    pub fn step(&mut self) -> String {
        if let Some(main) = self.main.as_mut() {
            return match main.resume() {
                Progress::Done((reply, after)) => {
                    self.main = None;
                    self.after = after.map(Machine::new);
                    step_text::answer(&reply, self.after.is_some())
                }
                progress => step_text::progress(progress),
            };
        }
        match self.after.as_mut().map(Machine::resume) {
            Some(Progress::Done(())) | None => {
                self.after = None;
                step_text::finished()
            }
            Some(progress) => step_text::progress(progress),
        }
    }

    fn give(&mut self, got: Got) -> String {
        if let Some(machine) = self.main.as_mut() {
            machine.give(got);
        } else if let Some(machine) = self.after.as_mut() {
            machine.give(got);
        }
        self.step()
    }

    /// A subrequest's answer.
    pub fn fetched(&mut self, status: u16, body: String) -> String {
        self.give(Got::Fetched(Fetched::Answer { status, body }))
    }

    /// A subrequest that gave no answer: `0` timed out, `1` not sent, `2` body unreadable.
    pub fn fetch_failed(&mut self, kind: u8, message: String) -> String {
        self.give(Got::Fetched(match kind {
            0 => Fetched::TimedOut,
            1 => Fetched::SendFailed(message),
            _ => Fetched::ReadFailed(message),
        }))
    }

    /// The request body.
    pub fn body(&mut self, bytes: Vec<u8>) -> String {
        self.give(Got::Body(bytes))
    }

    /// The body went past its limit (`true`) or could not be read (`false`).
    pub fn body_failed(&mut self, too_large: bool) -> String {
        self.give(if too_large {
            Got::BodyTooLarge
        } else {
            Got::BodyUnreadable
        })
    }

    /// Whether a key import or a signature check succeeded.
    pub fn done(&mut self, ok: bool) -> String {
        self.give(Got::Done(ok))
    }
}

#[cfg(test)]
mod tests;
