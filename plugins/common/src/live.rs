//! Live operation, one policy for every element whose work on a frame can take longer than the
//! frame lasts (DESIGN.md, Live operation). An element measures how late each frame reaches it
//! against the pipeline's clock ([`lateness`]); a [`Shedder`] says whether to do less on it
//! (the detector skips the network, the upscaler takes its spatial path) and when the element
//! starts and stops shedding, which it posts as `mediaai-overload` element messages. Frames
//! are never dropped for it, and the delay a backlog would pile up stays bounded.
//!
//! Lateness is the element's own measure, not the QoS events of a sink: a sink's lateness
//! includes what downstream costs (an encoder, the network), which shedding here cannot win
//! back, while a frame reaching the element late is exactly the backlog it can.

use std::time::Duration;

/// The element message posted when an element starts (`shedding` true) and stops shedding.
pub const OVERLOAD_MESSAGE: &str = "mediaai-overload";

/// The element message an element posts when its network's first runs are made before frames
/// wait for them ([`warm_up_message`]).
pub const WARM_UP_MESSAGE: &str = "mediaai-warm-up";

/// The `mediaai-warm-up` message of `element`: the network input `shape` run (dimensions
/// joined by `x`), what its first run and a steady run took (ns; a first run of 0: the
/// session had run it), and `when`: `start` (going to PAUSED) or `caps`.
pub fn warm_up_message(
    element: &gst::Element,
    shape: &str,
    first: Duration,
    steady: Duration,
    when: &str,
) -> gst::Message {
    let s = gst::Structure::builder(WARM_UP_MESSAGE)
        .field("shape", shape)
        .field("first-run", first.as_nanos() as u64)
        .field("steady-run", steady.as_nanos() as u64)
        .field("when", when)
        .build();
    gst::message::Element::builder(s).src(element).build()
}

/// Frames in a row without shedding before an element says it is on time again: a second at
/// 25 fps, so that a load at the edge gives one pair of messages, not one per frame.
pub const RECOVERY_FRAMES: u64 = 25;

/// How late a frame with timestamp `pts` reaches `element` now: the clock's running time less
/// the frame's running time in `segment` and the latency upstream (`upstream`, the earliest a
/// live source can hand a frame on). Negative while the element runs ahead of the clock (a
/// file read faster than real time); `None` without a clock, a time segment or a timestamp.
pub fn lateness(
    element: &gst::Element,
    segment: &gst::Segment,
    pts: Option<gst::ClockTime>,
    upstream: gst::ClockTime,
) -> Option<i64> {
    late_since(element, due(segment, pts, upstream)?)
}

/// The running time at which a frame with timestamp `pts` in `segment` is due at an element
/// whose upstream answers latency `upstream`; `None` without a time segment or a timestamp.
pub fn due(
    segment: &gst::Segment,
    pts: Option<gst::ClockTime>,
    upstream: gst::ClockTime,
) -> Option<gst::ClockTime> {
    let segment = segment.downcast_ref::<gst::ClockTime>()?;
    Some(segment.to_running_time(pts?)? + upstream)
}

/// How late `element` is now for a frame [`due`] at running time `due` (ns; negative while
/// early); `None` without a clock.
pub fn late_since(element: &gst::Element, due: gst::ClockTime) -> Option<i64> {
    use gst::prelude::*;
    let now = element.current_running_time()?;
    Some(now.nseconds() as i64 - due.nseconds() as i64)
}

/// Whether `element`'s upstream is live, and the minimum latency it answers (a latency query
/// sent upstream of `pad`, the element's sink pad). Not live, or nothing answered: `None`.
pub fn upstream_live_latency(pad: &gst::Pad) -> Option<gst::ClockTime> {
    use gst::prelude::*;
    let mut query = gst::query::Latency::new();
    if !pad.peer_query(&mut query) {
        return None;
    }
    let (live, min, _) = query.result();
    live.then_some(min)
}

/// The shedding decision of one element, with hysteresis: it sheds work on a frame that
/// reaches it later than `threshold`, and it has stopped shedding once [`RECOVERY_FRAMES`]
/// frames in a row went without. Allocates nothing per frame.
#[derive(Debug, Clone)]
pub struct Shedder {
    threshold: Duration,
    /// Frames shed in the episode under way (0: none under way).
    shed_now: u64,
    /// Frames since the last one shed, in the episode under way.
    since_shed: u64,
    /// The worst lateness seen in the episode under way.
    worst: Duration,
    /// Frames shed since the element started.
    pub shed_total: u64,
}

/// What a frame's judgement changed, for the element to post ([`Shedder::message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Episode {
    /// Nothing to say.
    Unchanged,
    /// The element started shedding on this frame.
    Started,
    /// The element has been on time for [`RECOVERY_FRAMES`] frames.
    Ended,
}

impl Shedder {
    /// Sheds work on frames later than `threshold`.
    pub fn new(threshold: Duration) -> Self {
        Shedder {
            threshold,
            shed_now: 0,
            since_shed: 0,
            worst: Duration::ZERO,
            shed_total: 0,
        }
    }

    pub fn threshold(&self) -> Duration {
        self.threshold
    }

    pub fn set_threshold(&mut self, threshold: Duration) {
        self.threshold = threshold;
    }

    /// Whether an episode of shedding is under way.
    pub fn shedding(&self) -> bool {
        self.shed_now > 0
    }

    /// Judges a frame: `work` says whether the element would do its costly work on it,
    /// `lateness` how late it came (ns, see [`lateness`]). Returns whether to shed that work,
    /// and what changed.
    pub fn judge(&mut self, work: bool, lateness: Option<i64>) -> (bool, Episode) {
        let late = lateness
            .filter(|&l| l > 0)
            .map(|l| Duration::from_nanos(l as u64));
        let shed = work && late.is_some_and(|l| l > self.threshold);
        if shed {
            return (true, self.shed_one(late.unwrap_or_default()));
        }
        if self.shed_now == 0 {
            return (false, Episode::Unchanged);
        }
        self.since_shed += 1;
        if self.since_shed >= RECOVERY_FRAMES {
            return (false, Episode::Ended);
        }
        (false, Episode::Unchanged)
    }

    /// Counts a frame shed `late` after it was due, in the episode under way or a new one.
    fn shed_one(&mut self, late: Duration) -> Episode {
        self.shed_total += 1;
        self.since_shed = 0;
        self.worst = self.worst.max(late);
        self.shed_now += 1;
        if self.shed_now == 1 {
            Episode::Started
        } else {
            Episode::Unchanged
        }
    }

    /// Counts work shed by the element's own later judgement (e.g. once a queue it waited in
    /// is behind it), `late` ns after the frame was due; the message to post when that starts
    /// an episode.
    pub fn record_shed(
        &mut self,
        element: &gst::Element,
        late: i64,
        what: &str,
    ) -> Option<gst::Message> {
        let episode = self.shed_one(Duration::from_nanos(late.max(0) as u64));
        self.message(episode, what)
            .map(|s| gst::message::Element::builder(s).src(element).build())
    }

    /// The `mediaai-overload` structure for `episode` (`None` for [`Episode::Unchanged`]):
    /// `shedding`, `threshold` (ns), `what` (what the element does less of, in words); when it
    /// ends, `frames-shed` and `worst-lateness` (ns) of the episode. Ending resets the episode.
    pub fn message(&mut self, episode: Episode, what: &str) -> Option<gst::Structure> {
        let started = match episode {
            Episode::Unchanged => return None,
            Episode::Started => true,
            Episode::Ended => false,
        };
        let mut s = gst::Structure::builder(OVERLOAD_MESSAGE)
            .field("shedding", started)
            .field("threshold", self.threshold.as_nanos() as u64)
            .field("what", what);
        if !started {
            s = s
                .field("frames-shed", self.shed_now)
                .field("worst-lateness", self.worst.as_nanos() as u64);
            self.shed_now = 0;
            self.since_shed = 0;
            self.worst = Duration::ZERO;
        }
        Some(s.build())
    }

    /// Judges the frame `pts` that `element` (whose input segment is `segment`, behind a live
    /// upstream of latency `upstream`) would do its costly work on when `work`: how late it
    /// came ([`lateness`]), whether to shed that work ([`Self::judge`]), and the
    /// `mediaai-overload` message from `element` to post when shedding starts or ends, `what`
    /// saying what it does less of.
    pub fn judge_frame(
        &mut self,
        element: &gst::Element,
        segment: &gst::Segment,
        pts: Option<gst::ClockTime>,
        upstream: gst::ClockTime,
        work: bool,
        what: &str,
    ) -> (bool, Option<gst::Message>) {
        let late = lateness(element, segment, pts, upstream);
        let (shed, episode) = self.judge(work, late);
        let message = self
            .message(episode, what)
            .map(|s| gst::message::Element::builder(s).src(element).build());
        (shed, message)
    }

    /// Forgets the episode under way (a flush, new caps).
    pub fn reset(&mut self) {
        self.shed_now = 0;
        self.since_shed = 0;
        self.worst = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn sheds_only_late_work_and_says_when_it_starts_and_ends() {
        gst::init().unwrap();
        let mut s = Shedder::new(Duration::from_millis(50));
        assert_eq!(s.judge(true, Some(10 * MS)), (false, Episode::Unchanged));
        assert_eq!(s.judge(true, None), (false, Episode::Unchanged));
        // A late frame the element would not work on anyway sheds nothing.
        assert_eq!(s.judge(false, Some(80 * MS)), (false, Episode::Unchanged));
        assert_eq!(s.judge(true, Some(80 * MS)), (true, Episode::Started));
        assert!(s.shedding());
        assert_eq!(s.judge(true, Some(120 * MS)), (true, Episode::Unchanged));
        let started = s.message(Episode::Started, "x").unwrap();
        assert!(started.get::<bool>("shedding").unwrap());
        for _ in 1..RECOVERY_FRAMES {
            assert_eq!(s.judge(true, Some(MS)), (false, Episode::Unchanged));
        }
        assert_eq!(s.judge(true, Some(MS)), (false, Episode::Ended));
        let ended = s.message(Episode::Ended, "x").unwrap();
        assert!(!ended.get::<bool>("shedding").unwrap());
        assert_eq!(ended.get::<u64>("frames-shed").unwrap(), 2);
        assert_eq!(ended.get::<u64>("worst-lateness").unwrap(), 120 * MS as u64);
        assert!(!s.shedding());
        assert_eq!(s.shed_total, 2);
        // A new episode starts afresh.
        assert_eq!(s.judge(true, Some(60 * MS)), (true, Episode::Started));
    }

    #[test]
    fn a_frame_shed_within_the_recovery_restarts_its_count() {
        let mut s = Shedder::new(Duration::from_millis(50));
        assert!(s.judge(true, Some(60 * MS)).0);
        for _ in 0..RECOVERY_FRAMES - 1 {
            assert!(!s.judge(true, Some(0)).0);
        }
        assert_eq!(s.judge(true, Some(70 * MS)), (true, Episode::Unchanged));
        for _ in 0..RECOVERY_FRAMES - 1 {
            assert_eq!(s.judge(false, None).1, Episode::Unchanged);
        }
        assert_eq!(s.judge(false, None).1, Episode::Ended);
    }
}
