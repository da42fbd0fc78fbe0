//! How much work one transaction of a long pass takes on (the quarter's end, retention, a
//! re-derivation): while it runs, SQLite's writers and the audit head wait for it, so a pass that
//! meets a backlog — the first start after a load of millions — must not hold them for seconds.
//! [`Pace`] measures each batch and sizes the next one so a batch takes about [`Pace::AIM`].

use std::time::{Duration, Instant};

/// The size of a pass's next batch, from how long the last ones took.
#[derive(Debug, Clone)]
pub struct Pace {
    size: usize,
    min: usize,
    max: usize,
    started: Option<Instant>,
}

impl Pace {
    /// What one batch should take: requests queue behind it for about this long.
    pub const AIM: Duration = Duration::from_millis(25);
    /// The pause after each batch: a request waiting for the write lock takes it here (SQLite's
    /// waiting is polling, so a pass that takes the lock again at once could starve it).
    pub const PAUSE: Duration = Duration::from_millis(10);

    /// Batches of `start` items, never fewer than `min` nor more than `max`.
    pub fn new(start: usize, min: usize, max: usize) -> Pace {
        let min = min.max(1);
        let max = max.max(min);
        Pace {
            size: start.clamp(min, max),
            min,
            max,
            started: None,
        }
    }

    /// The next batch's size; the batch's time runs from here until [`Pace::done`].
    pub fn begin(&mut self) -> usize {
        self.started = Some(Instant::now());
        self.size
    }

    /// The batch asked for by the last [`Pace::begin`] is written: the next one is halved when it
    /// took longer than twice the aim, grown by half when it took under half; then the pass
    /// pauses ([`Pace::PAUSE`]) so what waits goes first.
    pub async fn done(&mut self) {
        self.measure();
        tokio::time::sleep(Self::PAUSE).await;
    }

    fn measure(&mut self) {
        let Some(started) = self.started.take() else {
            return;
        };
        let took = started.elapsed();
        if took > Self::AIM * 4 {
            tracing::warn!(
                size = self.size,
                ms = took.as_millis() as u64,
                "a pass's batch held the write lock long"
            );
        }
        self.adjust(took);
    }

    fn adjust(&mut self, took: Duration) {
        if took > Self::AIM * 2 {
            self.size = (self.size / 2).max(self.min);
        } else if took < Self::AIM / 2 {
            self.size = (self.size + self.size / 2 + 1).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_batches_shrink_to_the_floor_and_quick_ones_grow_to_the_ceiling() {
        let mut p = Pace::new(500, 10, 2000);
        for _ in 0..20 {
            p.adjust(Duration::from_millis(900));
        }
        assert_eq!(p.begin(), 10);
        for _ in 0..40 {
            p.adjust(Duration::from_millis(1));
        }
        assert_eq!(p.begin(), 2000);
        // Within the aim's band it stays.
        p.adjust(Pace::AIM);
        assert_eq!(p.begin(), 2000);
    }
}
