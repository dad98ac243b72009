//! State that only the streaming thread touches, reached without a lock.
//!
//! Real-time paths (audio) must never block on a mutex that an application thread could hold.
//! [`Exclusive`] hands out `&mut T` to one caller at a time through a single atomic flag; a
//! second caller at the same moment is refused instead of waiting, and decides what to do (an
//! element error, or skipping a query).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// A value borrowed mutably by one caller at a time, never blocking.
#[derive(Default)]
pub struct Exclusive<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through `with`, which gives out `&mut T` to one caller at
// a time (the flag's compare-exchange admits one), so sharing the cell between threads is
// sharing a `Mutex<T>`-like object: sound when `T` may move between threads.
unsafe impl<T: Send> Sync for Exclusive<T> {}

impl<T> Exclusive<T> {
    pub fn new(value: T) -> Self {
        Exclusive {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` on the value, or returns `None` at once when another caller holds it.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        /// Clears the flag when `f` returns or unwinds.
        struct Release<'a>(&'a AtomicBool);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _release = Release(&self.busy);
        // SAFETY: the compare-exchange above succeeded, so no other `with` runs until
        // `_release` clears the flag after `f`; this is the only live reference to the value.
        let value = unsafe { &mut *self.value.get() };
        Some(f(value))
    }
}

/// An `f32` read and written atomically (its bits in an `AtomicU32`): settings a real-time
/// path reads without a lock.
#[derive(Debug, Default)]
pub struct AtomicF32(std::sync::atomic::AtomicU32);

impl AtomicF32 {
    pub fn new(v: f32) -> Self {
        AtomicF32(std::sync::atomic::AtomicU32::new(v.to_bits()))
    }
    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
    pub fn set(&self, v: f32) {
        self.0.store(v.to_bits(), Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::Exclusive;

    #[test]
    fn one_borrower_at_a_time_and_released_after_a_panic() {
        let cell = Exclusive::new(1);
        assert_eq!(
            cell.with(|v| cell.with(|w| *w).is_none() && *v == 1),
            Some(true)
        );
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cell.with(|_| panic!("inside"));
        }));
        assert_eq!(cell.with(|v| *v + 1), Some(2));
    }
}
