//! A frame in flight (`pipelined`): a thread of the element's own restores the frames the
//! streaming thread hands it, so that upstream's next frame (a file read, a decode) is made
//! while this one is restored (by the thread pool, or on the GPU), and the pool goes from one
//! frame to the next without waiting for the streaming thread to come back.
//!
//! The streaming thread queues each input frame and returns once at most one frame is queued
//! or being restored; outputs wait in [`Belt::outgoing`] until the streaming thread pushes
//! them. The worker holds the element's state while it restores a frame; what else changes the
//! state (events, new caps, stopping) first waits for it to finish ([`Worker::settle`]).

use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, MutexGuard};
use std::thread::JoinHandle;

/// What the streaming thread and the worker hand each other.
#[derive(Default)]
struct Belt {
    /// Input frames not yet taken, oldest first.
    incoming: VecDeque<gst::Buffer>,
    /// Restored frames not yet pushed, oldest first.
    outgoing: VecDeque<gst::Buffer>,
    /// The worker is restoring with a frame it took.
    taken: bool,
    /// How restoring failed; every frame after fails with it.
    failed: Option<gst::FlowError>,
    /// The frames are handed to the worker (set with the caps).
    active: bool,
    quit: bool,
}

#[derive(Default)]
struct Shared {
    belt: Mutex<Belt>,
    /// An input frame is queued (or the thread is to quit).
    arrived: Condvar,
    /// A frame was taken or restored.
    moved: Condvar,
    /// Fault injection for the tests (`MEDIAAI_FAULT=vhsrestore-worker`): restoring panics
    /// from the second frame restored on.
    fault: AtomicBool,
}

/// The worker thread and what it shares with the streaming thread.
#[derive(Default)]
pub(super) struct Worker {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Frames the belt holds at most each way: the frame in flight, the next, and for field rate
/// two outputs each.
const BELT: usize = 4;

impl Worker {
    fn belt(&self) -> MutexGuard<'_, Belt> {
        self.shared.belt.lock().expect("belt lock")
    }

    /// Whether input frames go to the worker.
    pub(super) fn active(&self) -> bool {
        self.belt().active
    }

    /// Hands frames to the worker from now on (`on`, starting its thread for `element`), or
    /// restores them on the streaming thread; the worker has settled.
    pub(super) fn set_active(&self, element: &super::super::VhsRestore, on: bool) {
        let mut thread = self.thread.lock().expect("worker thread lock");
        {
            let mut belt = self.belt();
            belt.active = on;
            belt.failed = None;
            belt.incoming.reserve(BELT);
            belt.outgoing.reserve(BELT);
        }
        let fault = on && mediaai_common::panics::fault("vhsrestore-worker");
        self.shared.fault.store(fault, Ordering::Relaxed);
        if on && thread.is_none() {
            let (weak, shared) = (element.downgrade(), self.shared.clone());
            let spawned = std::thread::Builder::new()
                .name("vhsrestore-worker".into())
                .spawn(move || run(weak, shared));
            match spawned {
                Ok(handle) => *thread = Some(handle),
                Err(e) => {
                    gst::warning!(
                        CAT,
                        obj = element,
                        "no worker thread ({e}): restoring on the streaming thread"
                    );
                    self.belt().active = false;
                }
            }
        }
    }

    /// Queues `frame` for the worker and waits until at most one frame is queued or being
    /// restored; an earlier failure is returned instead.
    pub(super) fn submit(&self, frame: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut belt = self.belt();
        if let Some(e) = belt.failed {
            return Err(e);
        }
        belt.incoming.push_back(frame);
        self.shared.arrived.notify_one();
        while belt.failed.is_none() && belt.incoming.len() + usize::from(belt.taken) > 1 {
            belt = self.shared.moved.wait(belt).expect("belt lock");
        }
        belt.failed.map_or(Ok(gst::FlowSuccess::Ok), Err)
    }

    /// The oldest restored frame not yet pushed.
    pub(super) fn output(&self) -> Option<gst::Buffer> {
        self.belt().outgoing.pop_front()
    }

    /// Waits until the worker has restored with every frame queued (`drop_queued`: drops those
    /// not yet taken instead, for a flush): the state is then free.
    pub(super) fn settle(&self, drop_queued: bool) {
        let mut belt = self.belt();
        if drop_queued {
            belt.incoming.clear();
        }
        while belt.taken || !belt.incoming.is_empty() {
            belt = self.shared.moved.wait(belt).expect("belt lock");
        }
    }

    /// The restored frames not yet pushed (moved into `into`), and how restoring failed, if
    /// it did.
    pub(super) fn take(&self, into: &mut VecDeque<gst::Buffer>) -> Option<gst::FlowError> {
        let mut belt = self.belt();
        into.extend(belt.outgoing.drain(..));
        belt.failed.take()
    }

    /// Ends the thread (the element stops): every frame queued is restored first.
    pub(super) fn stop(&self) {
        self.settle(false);
        self.belt().quit = true;
        self.shared.arrived.notify_all();
        if let Some(handle) = self.thread.lock().expect("worker thread lock").take() {
            let _ = handle.join();
        }
        let mut belt = self.belt();
        (belt.quit, belt.active) = (false, false);
    }
}

impl Drop for Worker {
    /// The element goes without having stopped: the thread ends on its own (not joined: the
    /// last reference to the element may be dropped on it).
    fn drop(&mut self) {
        self.belt().quit = true;
        self.shared.arrived.notify_all();
    }
}

/// The worker thread: waits for frames, then restores them in the thread pool as long as they
/// come, one hand-over to the pool for the run.
fn run(element: glib::WeakRef<super::super::VhsRestore>, shared: Arc<Shared>) {
    loop {
        {
            let mut belt = shared.belt.lock().expect("belt lock");
            while belt.incoming.is_empty() && !belt.quit {
                belt = shared.arrived.wait(belt).expect("belt lock");
            }
            if belt.quit {
                return;
            }
        }
        let Some(element) = element.upgrade() else {
            return;
        };
        // One hand-over to the pool for the run, a thread of it kept busy beside.
        let done = AtomicBool::new(false);
        rayon::join(
            || {
                // Set however the run ends, a panic included: the helper waits for it.
                let _done = Done(&done);
                element.imp().restore_arrivals(&shared);
            },
            || keep_busy(&done),
        );
    }
}

/// Sets its flag when dropped.
struct Done<'a>(&'a AtomicBool);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs the pool's work as it comes until `done`, on a thread of the pool beside the one that
/// restores: between frames and through a frame's serial parts the pool would be idle long
/// enough for its threads to go to sleep, and each frame would then wait for one to wake
/// (50-80 µs on 2 cores of a virtual machine, a tenth of a frame). Only while frames keep
/// coming: the run ends, and this with it, when none is queued.
fn keep_busy(done: &AtomicBool) {
    while !done.load(Ordering::Acquire) {
        if rayon::yield_now() != Some(rayon::Yield::Executed) {
            std::thread::yield_now();
        }
    }
}

impl VhsRestore {
    /// The worker's run in the pool: each queued frame in turn added to the held ones and the
    /// oldest restored, until none is queued. The next frame is taken as the last one's
    /// outputs are handed over, in one hold of the belt's lock: the streaming thread, woken by
    /// the hand-over, would otherwise hold the lock as the worker came back for the frame, and
    /// the worker wait to be woken in turn (70-80 µs a frame on 2 cores of a virtual machine).
    fn restore_arrivals(&self, shared: &Shared) {
        let mut frame = {
            let mut belt = shared.belt.lock().expect("belt lock");
            let frame = belt.incoming.pop_front();
            belt.taken = frame.is_some();
            frame
        };
        let fault = shared.fault.load(Ordering::Relaxed);
        while let Some(taken) = frame {
            let s = *self.settings.lock().expect("settings lock");
            let mut guard = self.state.lock().expect("state lock");
            let (result, message) = match guard.as_mut() {
                Some(state) => {
                    // A panic here must not end the thread with the streaming thread waiting
                    // for this frame: it becomes an element error, and every frame after fails.
                    let held = mediaai_common::panics::caught("restoring a frame", || {
                        assert!(
                            !(fault && state.prev.is_some()),
                            "MEDIAAI_FAULT=vhsrestore-worker"
                        );
                        self.hold(state, taken, &s)
                    });
                    let result = held.unwrap_or_else(|why| {
                        gst::element_imp_error!(self, gst::LibraryError::Failed, ["{why}"]);
                        Err(gst::FlowError::Error)
                    });
                    (result, state.measured.message.take())
                }
                None => (Err(gst::FlowError::Flushing), None),
            };
            frame = {
                let mut belt = shared.belt.lock().expect("belt lock");
                if let Some(state) = guard.as_mut() {
                    belt.outgoing.extend(state.ready.drain(..));
                }
                if let Err(e) = result {
                    belt.failed.get_or_insert(e);
                }
                let next = belt.incoming.pop_front();
                belt.taken = next.is_some();
                next
            };
            drop(guard);
            shared.moved.notify_all();
            self.post(message);
        }
    }
}
