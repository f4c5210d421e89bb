//! Raw ids (as written in the data files) to dense indices and back.
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct IdMap {
    raw: Vec<i64>,
    lookup: HashMap<i64, u32>,
}

impl IdMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_raw(raw: Vec<i64>) -> Self {
        let lookup = raw
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
        IdMap { raw, lookup }
    }

    /// The dense index of `id`, adding it at the end when it is new.
    pub fn intern(&mut self, id: i64) -> u32 {
        let next = self.raw.len() as u32;
        *self.lookup.entry(id).or_insert_with(|| {
            self.raw.push(id);
            next
        })
    }

    pub fn index(&self, id: i64) -> Option<u32> {
        self.lookup.get(&id).copied()
    }

    pub fn raw(&self, index: u32) -> i64 {
        self.raw[index as usize]
    }

    pub fn raw_ids(&self) -> &[i64] {
        &self.raw
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Distinct ids: less than [`Self::len`] when `from_raw` was given repeats.
    pub fn distinct(&self) -> usize {
        self.lookup.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}
