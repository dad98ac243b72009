//! Cross-stream batching: elements of one process that share a session (a batch group, see
//! [`crate::inference::load_shared`]) put their images into one inference, as DeepStream's
//! `nvstreammux` + `nvinfer` do, without a muxer element: each stream's thread hands its image
//! in and waits; the batch runs when it holds `max_batch` images or when its first image has
//! waited `timeout`, on the thread of whichever stream found it ready (no thread of its own),
//! and every stream takes its own image's outputs back. One shape per batch: an image of
//! another size waits for the next.
//!
//! Nothing is allocated per frame once each stream's [`Request`] has held one set of outputs
//! and the group has bound an input for each batch size it ran: images and outputs move in and
//! out of the group by value, and the batch input is bound to the session once per size.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::inference::{BoundInput, InputBuffer, InputKind, SharedModel};

/// One stream's image and, after [`BatchGroup::infer`], its outputs.
#[derive(Debug, Default)]
pub struct Request {
    /// The image, `shape` (channels, height, width) in the network's layout.
    pub input: InputBuffer,
    pub shape: [usize; 3],
    /// Each output of the network for this image alone, in the session's order, and its
    /// shape with a batch of 1.
    pub outputs: Vec<Vec<f32>>,
    pub output_shapes: Vec<Vec<i64>>,
    /// Which stream's request this is (given by [`BatchGroup::request`]).
    id: u64,
    error: Option<String>,
}

/// Streams that batch their inferences together.
pub struct BatchGroup {
    model: SharedModel,
    max_batch: usize,
    /// Every batch runs `max_batch` images, a partial one padded: on a GPU provider each new
    /// input shape costs a first run of seconds (see [`crate::inference::warm_up`]), so the
    /// group keeps one, warmed before the first frame.
    padded: bool,
    timeout: Duration,
    state: Mutex<Batches>,
    changed: Condvar,
    /// Batch inputs bound to the session, by image shape and batch size.
    runner: Mutex<Vec<BatchInput>>,
}

/// A batch input bound to the session: `size` images of `shape`.
struct BatchInput {
    shape: [usize; 3],
    size: usize,
    bound: BoundInput,
}

struct Batches {
    /// The batch filling now, its image shape, when its first image came, and its number.
    open: Vec<Request>,
    shape: [usize; 3],
    opened: Instant,
    number: u64,
    /// Requests of batches that ran, waiting for their streams to take them back.
    finished: Vec<Request>,
    /// Emptied batch vectors, reused.
    spare: Vec<Vec<Request>>,
    next_id: u64,
}

/// Batches run in this process and the images in them (for statistics and the tests).
static BATCHES_RUN: AtomicU64 = AtomicU64::new(0);
static IMAGES_RUN: AtomicU64 = AtomicU64::new(0);

/// Batches run by every group of this process so far, and the images in them.
pub fn batches_run() -> (u64, u64) {
    (
        BATCHES_RUN.load(Ordering::Relaxed),
        IMAGES_RUN.load(Ordering::Relaxed),
    )
}

/// Live groups by the session they share.
static GROUPS: LazyLock<Mutex<HashMap<usize, Weak<BatchGroup>>>> = LazyLock::new(Default::default);

impl BatchGroup {
    /// The batch group of `model` (a session from [`crate::inference::load_shared`]), made
    /// with `max_batch` and `timeout` by its first stream; later streams take the group as it
    /// is (`false` in the answer when their values differ, to say so).
    pub fn join(
        model: &SharedModel,
        max_batch: usize,
        timeout: Duration,
    ) -> (Arc<BatchGroup>, bool) {
        let key = Arc::as_ptr(model) as usize;
        let mut groups = GROUPS.lock().expect("group lock is never poisoned");
        groups.retain(|_, g| g.strong_count() > 0);
        if let Some(g) = groups.get(&key).and_then(Weak::upgrade) {
            let same = g.max_batch == max_batch.max(1) && g.timeout == timeout;
            return (g, same);
        }
        let max_batch = max_batch.max(1);
        let padded = !model
            .lock()
            .expect("session lock is never poisoned")
            .on_cpu();
        let g = Arc::new(BatchGroup {
            model: model.clone(),
            max_batch,
            padded,
            timeout,
            state: Mutex::new(Batches {
                open: Vec::with_capacity(max_batch),
                shape: [0; 3],
                opened: Instant::now(),
                number: 0,
                finished: Vec::with_capacity(4 * max_batch),
                spare: (0..3).map(|_| Vec::with_capacity(max_batch)).collect(),
                next_id: 1,
            }),
            changed: Condvar::new(),
            runner: Mutex::new(Vec::new()),
        });
        groups.insert(key, Arc::downgrade(&g));
        (g, true)
    }

    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Warms the group's session for full batches of images of `shape` (see
    /// [`crate::inference::warm_up`]; every batch on a GPU provider, padded), and makes and
    /// runs once the batch input the group runs them with.
    pub fn warm_up(&self, shape: [usize; 3]) -> Result<crate::inference::Warmup, String> {
        let size = self.max_batch;
        let full = [size, shape[0], shape[1], shape[2]];
        let warmed = crate::inference::warm_up(&self.model, &full)?;
        let mut runner = self.runner.lock().expect("runner lock is never poisoned");
        let made = runner.len();
        let at = self.batch_input(&mut runner, shape, size)?;
        if at == made {
            // New: its own first run (another stream's warm-up primed an existing one).
            let mut loaded = self.model.lock().expect("session lock is never poisoned");
            runner[at].bound.prime(&mut loaded.session)?;
        }
        Ok(warmed)
    }

    /// Where in `runner` the batch input for `size` images of `shape` is, made and bound
    /// the first time.
    fn batch_input(
        &self,
        runner: &mut Vec<BatchInput>,
        shape: [usize; 3],
        size: usize,
    ) -> Result<usize, String> {
        if let Some(i) = runner
            .iter()
            .position(|b| b.shape == shape && b.size == size)
        {
            return Ok(i);
        }
        let loaded = self.model.lock().expect("session lock is never poisoned");
        let full = [size, shape[0], shape[1], shape[2]];
        runner.push(BatchInput {
            shape,
            size,
            bound: BoundInput::new(&loaded, &full)?,
        });
        Ok(runner.len() - 1)
    }

    /// What the group's network takes as input values.
    pub fn input_kind(&self) -> Result<InputKind, String> {
        let loaded = self.model.lock().expect("session lock is never poisoned");
        let [input] = loaded.session.inputs() else {
            return Err("the model has not one input".into());
        };
        InputKind::of(input.dtype().tensor_type())
    }

    /// A stream's request for images of `shape` (values of `kind`), its input allocated once.
    pub fn request(&self, shape: [usize; 3], kind: InputKind) -> Request {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        Request {
            input: InputBuffer::zeros(kind, shape.iter().product()),
            shape,
            id,
            ..Default::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Batches> {
        self.state.lock().expect("batch lock is never poisoned")
    }

    /// Runs `request`'s image in a batch with other streams' images and leaves its outputs in
    /// it. Waits at most the group's timeout for the batch to fill, then the inference.
    pub fn infer(&self, request: &mut Request) -> Result<(), String> {
        if request.input.len() != request.shape.iter().product::<usize>() {
            return Err(format!(
                "an input of {} values for images of {:?}",
                request.input.len(),
                request.shape
            ));
        }
        let id = request.id;
        let shape = request.shape;
        let mut s = self.lock();
        // An open batch of another shape runs first.
        while !s.open.is_empty() && s.shape != shape {
            s = self.wait(s);
        }
        if s.open.is_empty() {
            s.shape = shape;
            s.opened = Instant::now();
        }
        s.open.push(std::mem::take(request));
        let mine = s.number;
        loop {
            if let Some(i) = s.finished.iter().position(|r| r.id == id) {
                *request = s.finished.swap_remove(i);
                return match request.error.take() {
                    Some(e) => Err(e),
                    None => Ok(()),
                };
            }
            if s.number == mine {
                let deadline = s.opened + self.timeout;
                let now = Instant::now();
                if s.open.len() >= self.max_batch || now >= deadline {
                    s = self.lead(s);
                    continue;
                }
                s = self
                    .changed
                    .wait_timeout(s, deadline - now)
                    .expect("batch lock is never poisoned")
                    .0;
            } else {
                // Another stream runs this batch.
                s = self.wait(s);
            }
        }
    }

    fn wait<'a>(&self, s: MutexGuard<'a, Batches>) -> MutexGuard<'a, Batches> {
        self.changed.wait(s).expect("batch lock is never poisoned")
    }

    /// Takes the open batch, runs it unlocked, and hands its requests back.
    fn lead<'a>(&'a self, mut s: MutexGuard<'a, Batches>) -> MutexGuard<'a, Batches> {
        let next = s
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.max_batch));
        let mut batch = std::mem::replace(&mut s.open, next);
        s.number += 1;
        drop(s);
        // Streams waiting for the open batch to take their shape may go on.
        self.changed.notify_all();
        let result = self.run(&mut batch);
        BATCHES_RUN.fetch_add(1, Ordering::Relaxed);
        IMAGES_RUN.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut s = self.lock();
        for mut r in batch.drain(..) {
            if let Err(e) = &result {
                r.error = Some(e.clone());
            }
            s.finished.push(r);
        }
        s.spare.push(batch);
        self.changed.notify_all();
        s
    }

    /// One inference of `batch`'s images; each request gets its image's part of every output.
    fn run(&self, batch: &mut [Request]) -> Result<(), String> {
        let k = batch.len();
        let size = if self.padded {
            self.max_batch.max(k)
        } else {
            k
        };
        let shape = batch[0].shape;
        let len: usize = shape.iter().product();
        let mut runner = self.runner.lock().expect("runner lock is never poisoned");
        let at = self.batch_input(&mut runner, shape, size)?;
        let bound = &mut runner[at].bound;
        let mut data = bound.data_mut();
        for (i, r) in batch.iter().enumerate() {
            data.copy_from(i * len, &r.input)?;
        }
        let mut loaded = self.model.lock().expect("session lock is never poisoned");
        let outputs = bound.run(&mut loaded.session)?;
        for (o, (name, value)) in outputs.iter().enumerate() {
            let (dims, values) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| format!("output {name}: {e}"))?;
            if dims.first() != Some(&(size as i64)) || values.len() % size != 0 {
                return Err(format!(
                    "output {name} has shape {dims:?} for a batch of {size}"
                ));
            }
            let per = values.len() / size;
            for (i, r) in batch.iter_mut().enumerate() {
                if r.outputs.len() <= o {
                    r.outputs.push(Vec::with_capacity(per));
                    r.output_shapes.push(Vec::with_capacity(dims.len()));
                }
                r.outputs[o].clear();
                r.outputs[o].extend_from_slice(&values[i * per..(i + 1) * per]);
                r.output_shapes[o].clear();
                r.output_shapes[o].push(1);
                r.output_shapes[o].extend_from_slice(&dims[1..]);
            }
        }
        Ok(())
    }
}
