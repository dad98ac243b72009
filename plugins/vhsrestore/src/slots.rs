//! Three slots for copies of the frames around the one restored (before, at and after it),
//! kept between frames so that each input frame is copied once: into the GPU's resident
//! buffer, or padded for the CPU's deinterlacer.

/// Which frame (by the caller's key) each of three slots holds.
#[derive(Debug, Default)]
pub struct FrameSlots {
    keys: [Option<usize>; 3],
}

impl FrameSlots {
    /// The slots of the frames keyed `keys` (the caller's names for them, unique while it
    /// holds the frames): those not yet in a slot are copied by `fill(slot, i)` (`i`: the
    /// index in `keys`) into a slot none of `keys` holds. An error from `fill` leaves that
    /// slot empty and is returned. The caller must [`Self::retain`] only the frames it still
    /// holds once it lets one go, so that a key reused for another frame never finds stale
    /// pixels.
    pub fn assign<E>(
        &mut self,
        keys: [usize; 3],
        mut fill: impl FnMut(usize, usize) -> Result<(), E>,
    ) -> Result<[usize; 3], E> {
        let mut out = [0; 3];
        for (i, key) in keys.iter().enumerate() {
            if let Some(slot) = self.keys.iter().position(|s| *s == Some(*key)) {
                out[i] = slot;
                continue;
            }
            // Three slots for at most three keys: one not wanted always remains.
            let wanted = |s: &Option<usize>| s.is_some_and(|k| keys.contains(&k));
            let slot = (0..3)
                .find(|&s| !wanted(&self.keys[s]))
                .expect("a slot no key wants");
            self.keys[slot] = None;
            fill(slot, i)?;
            self.keys[slot] = Some(*key);
            out[i] = slot;
        }
        Ok(out)
    }

    /// Forgets every slot whose key is not in `keys`.
    pub fn retain(&mut self, keys: &[usize]) {
        for s in &mut self.keys {
            if s.is_some_and(|k| !keys.contains(&k)) {
                *s = None;
            }
        }
    }

    /// Forgets every frame (flush, discontinuity).
    pub fn reset(&mut self) {
        self.keys = [None; 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_frame_is_copied_once_while_it_is_held() {
        let mut slots = FrameSlots::default();
        let mut copies = Vec::new();
        let run = |slots: &mut FrameSlots, copies: &mut Vec<usize>, keys: [usize; 3]| {
            slots
                .assign(keys, |_, i| {
                    copies.push(keys[i]);
                    Ok::<_, ()>(())
                })
                .unwrap()
        };
        // The first frame is its own previous frame; then the window slides one frame a call.
        let a = run(&mut slots, &mut copies, [10, 10, 11]);
        assert_eq!(a[0], a[1]);
        let b = run(&mut slots, &mut copies, [10, 11, 12]);
        assert_eq!((b[0], b[1]), (a[1], a[2]));
        let c = run(&mut slots, &mut copies, [11, 12, 13]);
        assert_eq!((c[0], c[1]), (b[1], b[2]));
        assert_ne!(c[2], c[0]);
        assert_ne!(c[2], c[1]);
        assert_eq!(copies, [10, 11, 12, 13]);
        // A released frame's key, reused for another frame, is copied again.
        slots.retain(&[12, 13]);
        run(&mut slots, &mut copies, [12, 13, 11]);
        assert_eq!(copies, [10, 11, 12, 13, 11]);
        // A failed copy leaves no key behind.
        assert!(slots.assign([20, 20, 20], |_, _| Err(())).is_err());
        let before = copies.len();
        run(&mut slots, &mut copies, [20, 20, 20]);
        assert_eq!(copies[before..], [20]);
    }
}
