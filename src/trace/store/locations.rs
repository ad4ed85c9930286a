//! Interned source locations: a trace stores a 16-bit index per event
//! instead of a `'static` location.
//!
//! Creating a [`Locations`] allocates nothing (a sweep creates thousands of
//! traces); an encoder kept for reuse carries its interned locations over
//! to the next trace of the thread.

use std::collections::HashMap;

use crate::trace::SourceLocation;

pub(super) const NO_LOCATION: u16 = u16::MAX;

/// Slots of the direct-mapped cache in front of [`Locations`].
const LOCATION_CACHE: usize = 32;
/// Up to this many locations a miss scans the list; past it, a hash index
/// is built.
const LOCATION_SCAN: usize = 64;

/// Interned source locations: a trace stores a 16-bit index per event.
///
/// Creating one allocates nothing (a sweep creates thousands of traces): a
/// small inline cache answers most look-ups, a miss scans the short list,
/// and only a trace with many distinct locations builds a hash index.
#[derive(Clone, Debug)]
pub(crate) struct Locations {
    pub(super) list: Vec<SourceLocation>,
    index: Option<HashMap<usize, u16>>,
    cache: [(usize, u16); LOCATION_CACHE],
}

impl Default for Locations {
    fn default() -> Self {
        Locations {
            list: Vec::new(),
            index: None,
            cache: [(0, NO_LOCATION); LOCATION_CACHE],
        }
    }
}

impl Locations {
    #[inline(always)]
    pub(super) fn intern(&mut self, at: SourceLocation) -> u16 {
        let key = at as *const _ as usize;
        let slot = (key >> 3) % LOCATION_CACHE;
        if self.cache[slot].0 == key {
            return self.cache[slot].1;
        }
        let id = self.intern_miss(at, key);
        self.cache[slot] = (key, id);
        id
    }

    #[cold]
    fn intern_miss(&mut self, at: SourceLocation, key: usize) -> u16 {
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self
                .list
                .iter()
                .position(|known| std::ptr::eq(*known, at))
                .map(|id| id as u16),
        };
        if let Some(id) = found {
            return id;
        }
        let next = self.list.len();
        if next >= usize::from(NO_LOCATION) {
            return NO_LOCATION;
        }
        let id = next as u16;
        self.list.push(at);
        if self.list.len() > LOCATION_SCAN {
            let list = &self.list;
            self.index
                .get_or_insert_with(|| {
                    list.iter()
                        .enumerate()
                        .map(|(id, known)| (*known as *const _ as usize, id as u16))
                        .collect()
                })
                .insert(key, id);
        }
        id
    }

    /// Forgets every location (keeping the list's storage).
    pub(super) fn clear(&mut self) {
        self.list.clear();
        self.index = None;
        self.cache = [(0, NO_LOCATION); LOCATION_CACHE];
    }

    pub(super) fn get(&self, id: u16) -> Option<SourceLocation> {
        self.list.get(usize::from(id)).copied()
    }

    #[inline(always)]
    pub(super) fn opt(&mut self, at: Option<SourceLocation>) -> u16 {
        match at {
            Some(at) => self.intern(at),
            None => NO_LOCATION,
        }
    }
}
