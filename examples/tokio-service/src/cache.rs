//! A cache refreshed from a slow source, under a `tokio::sync::Mutex`.

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::Mutex;

/// An entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A refresh is running.
    Refreshing,
    /// The value.
    Ready(String),
}

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// Fetches a fresh value for `key` and stores it. Cancel-safe: the
    /// entry is marked only around the store, never across the fetch, so
    /// a refresh cancelled mid-fetch leaves the old entry as it was.
    pub async fn refresh<F: Future<Output = String>>(&self, key: &str, fetch: F) {
        let value = fetch.await;
        self.entries
            .lock()
            .await
            .insert(key.to_string(), Entry::Ready(value));
    }

    /// The value of `key`, if ready.
    pub async fn get(&self, key: &str) -> Option<String> {
        match self.entries.lock().await.get(key) {
            Some(Entry::Ready(value)) => Some(value.clone()),
            _ => None,
        }
    }

    /// No entry is stuck in `Refreshing`.
    pub async fn is_consistent(&self) -> bool {
        !self
            .entries
            .lock()
            .await
            .values()
            .any(|entry| *entry == Entry::Refreshing)
    }

    /// The mistake: mark the entry `Refreshing`, await the fetch, then
    /// store. A refresh cancelled at the fetch (a timeout, a dropped
    /// handler) leaves the entry `Refreshing` for ever.
    pub async fn refresh_buggy<F: Future<Output = String>>(&self, key: &str, fetch: F) {
        self.entries
            .lock()
            .await
            .insert(key.to_string(), Entry::Refreshing);
        let value = fetch.await;
        self.entries
            .lock()
            .await
            .insert(key.to_string(), Entry::Ready(value));
    }
}
