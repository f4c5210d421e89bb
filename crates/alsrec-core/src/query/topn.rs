//! Top-N selection with a bounded heap: one comparison per candidate once the heap is full,
//! never a full sort.
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One recommended movie: its dense index, its ranking score and, where the model predicts
/// ratings, the predicted rating clamped to the rating scale (NaN otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
    pub rating: f32,
}

impl Scored {
    #[inline(always)]
    pub fn new(item: u32, score: f32) -> Scored {
        Scored {
            item,
            score,
            rating: f32::NAN,
        }
    }
}

/// Higher score first; equal scores by lower index, so results never depend on scan order.
fn better(a: &Scored, b: &Scored) -> Ordering {
    b.score.total_cmp(&a.score).then(a.item.cmp(&b.item))
}

/// Heap entry ordered so that the heap's top is the *worst* kept candidate.
struct Worst(Scored);
impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        better(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&self.0, &other.0)
    }
}

/// Keeps the `n` best of a stream.
pub struct TopN {
    n: usize,
    heap: BinaryHeap<Worst>,
    /// The worst kept score once the heap is full (−∞ before): a candidate scoring strictly
    /// below it loses whatever its index, so one float comparison rejects almost every movie.
    /// NaN never compares below, so such scores take the exact path.
    threshold: f32,
}

impl TopN {
    pub fn new(n: usize) -> Self {
        TopN {
            n,
            // A hint only: n comes from callers, and a list of n is rarely filled.
            heap: BinaryHeap::with_capacity(n.min(4096) + 1),
            threshold: f32::NEG_INFINITY,
        }
    }

    #[inline]
    pub fn push(&mut self, s: Scored) {
        if s.score < self.threshold {
            return;
        }
        self.push_exact(s);
    }

    #[inline(never)]
    fn push_exact(&mut self, s: Scored) {
        if self.heap.len() < self.n {
            self.heap.push(Worst(s));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if better(&s, &worst.0) == Ordering::Less {
                *worst = Worst(s);
            }
        }
        if self.heap.len() >= self.n {
            self.threshold = self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
        }
    }

    /// The score a candidate must reach (not fall below) to be kept: −∞ until the list is full.
    #[inline(always)]
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn into_sorted(self) -> Vec<Scored> {
        let mut v: Vec<Scored> = self.heap.into_iter().map(|w| w.0).collect();
        v.sort_unstable_by(better);
        v
    }
}

/// The `n` best by score (ties by index), by partial selection.
pub fn top_n(scores: impl Iterator<Item = Scored>, n: usize) -> Vec<Scored> {
    let mut top = TopN::new(n);
    scores.for_each(|s| top.push(s));
    top.into_sorted()
}
