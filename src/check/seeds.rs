//! The seeds of a sweep: a range, iterated lazily whatever its size (O(1)
//! memory, no seed list is ever built), or an explicit list.

use std::any::Any;
use std::ops::{Range, RangeFrom, RangeInclusive};

/// The seeds a [`Check`](super::Check) sweeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seeds {
    /// `first..=last`.
    Range { first: u64, last: u64 },
    /// Any other set, in the order given.
    List(Vec<u64>),
}

impl Seeds {
    /// A range is kept as its bounds; any other iterable is collected.
    pub fn from_iter<I: IntoIterator<Item = u64> + 'static>(seeds: I) -> Seeds {
        let any: &dyn Any = &seeds;
        let bounds = if let Some(range) = any.downcast_ref::<Range<u64>>() {
            Some((range.start < range.end).then(|| (range.start, range.end - 1)))
        } else if let Some(range) = any.downcast_ref::<RangeInclusive<u64>>() {
            Some((range.start() <= range.end()).then(|| (*range.start(), *range.end())))
        } else {
            any.downcast_ref::<RangeFrom<u64>>()
                .map(|range| Some((range.start, u64::MAX)))
        };
        match bounds {
            Some(Some((first, last))) => Seeds::Range { first, last },
            Some(None) => Seeds::List(Vec::new()),
            None => Seeds::List(seeds.into_iter().collect()),
        }
    }

    /// How many (a range of every `u64` has 2^64).
    pub fn len(&self) -> u128 {
        match self {
            Seeds::Range { first, last } => u128::from(last - first) + 1,
            Seeds::List(list) => list.len() as u128,
        }
    }

    /// Is `seed` one of them?
    pub fn contains(&self, seed: u64) -> bool {
        match self {
            Seeds::Range { first, last } => (*first..=*last).contains(&seed),
            Seeds::List(list) => list.contains(&seed),
        }
    }

    /// The seeds in order, lazily.
    pub fn iter(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            Seeds::Range { first, last } => Box::new(*first..=*last),
            Seeds::List(list) => Box::new(list.iter().copied()),
        }
    }

    /// The first `count` seeds (what a sweep cut short by its budget ran).
    pub fn first(&self, count: u64) -> Seeds {
        match self {
            Seeds::Range { first, last } if count > 0 => Seeds::Range {
                first: *first,
                last: (*last).min(first.saturating_add(count - 1)),
            },
            Seeds::Range { .. } => Seeds::List(Vec::new()),
            Seeds::List(list) => Seeds::List(list.iter().copied().take(count as usize).collect()),
        }
    }

    /// `0`, `0..64`, `1,5,9` or `none`.
    pub fn describe(&self) -> String {
        match self {
            Seeds::Range { first, last } if first == last => first.to_string(),
            Seeds::Range {
                first,
                last: u64::MAX,
            } => format!("{first}..={}", u64::MAX),
            Seeds::Range { first, last } => format!("{first}..{}", last + 1),
            Seeds::List(list) => match list.as_slice() {
                [] => "none".to_string(),
                [one] => one.to_string(),
                _ if list.windows(2).all(|w| w[0].checked_add(1) == Some(w[1])) => {
                    format!("{}..{}", list[0], list[list.len() - 1] as u128 + 1)
                }
                _ => list
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            },
        }
    }

    /// For JSON: the list when it is short, else the range as text.
    pub fn to_json(&self) -> serde_json::Value {
        if self.len() <= 1024 {
            serde_json::json!(self.iter().collect::<Vec<u64>>())
        } else {
            serde_json::json!(self.describe())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Seeds;

    #[test]
    fn ranges_of_any_size_are_kept_as_bounds() {
        let all = Seeds::from_iter(0..u64::MAX);
        assert_eq!(all.len(), u128::from(u64::MAX));
        assert_eq!(all.iter().take(3).collect::<Vec<_>>(), [0, 1, 2]);
        let every = Seeds::from_iter(0..=u64::MAX);
        assert_eq!(every.len(), 1u128 << 64);
        assert_eq!(
            Seeds::from_iter(5..).describe(),
            format!("5..={}", u64::MAX)
        );
        assert_eq!(Seeds::from_iter(0..64).describe(), "0..64");
        assert_eq!(Seeds::from_iter(3..3).len(), 0);
        assert_eq!(Seeds::from_iter(vec![1, 5, 9]).describe(), "1,5,9");
        assert_eq!(Seeds::from_iter([4, 5, 6]).describe(), "4..7");
        assert_eq!(all.first(2).describe(), "0..2");
        assert_eq!(Seeds::from_iter(0..1).describe(), "0");
    }
}
