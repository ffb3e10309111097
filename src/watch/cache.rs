//! The objects of a watch, indexed by key and by sibling set.

use std::collections::HashMap;

use super::{Change, Part, Watched};

/// The objects of a watch, by key and by sibling set.
#[derive(Debug)]
pub struct Cache<T: Watched> {
    pub(super) map: HashMap<T::Key, T>,
    siblings: HashMap<Vec<u8>, Vec<T::Key>>,
}

impl<T: Watched> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            map: HashMap::new(),
            siblings: HashMap::new(),
        }
    }
}

impl<T: Watched> Cache<T> {
    /// One object by key.
    pub fn get(&self, key: &T::Key) -> Option<&T> {
        self.map.get(key)
    }

    /// Every object.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.map.values()
    }

    /// The objects of one sibling set (see [`Watched::siblings`]).
    pub fn siblings(&self, set: &[u8]) -> impl Iterator<Item = &T> {
        self.siblings
            .get(set)
            .into_iter()
            .flatten()
            .filter_map(|k| self.map.get(k))
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(super) fn insert(&mut self, obj: T) -> Option<T> {
        let key = obj.key();
        let set = obj.siblings();
        let old = self.map.insert(key.clone(), obj);
        if let Some(o) = &old {
            self.unlink(&key, o.siblings());
        }
        if let Some(set) = set {
            self.siblings.entry(set).or_default().push(key);
        }
        old
    }

    pub(super) fn remove(&mut self, key: &T::Key) -> Option<T> {
        let old = self.map.remove(key)?;
        self.unlink(key, old.siblings());
        Some(old)
    }

    fn unlink(&mut self, key: &T::Key, set: Option<Vec<u8>>) {
        if let Some(set) = set
            && let Some(keys) = self.siblings.get_mut(&set)
        {
            keys.retain(|k| k != key);
            if keys.is_empty() {
                self.siblings.remove(&set);
            }
        }
    }

    /// Removes `remove`, then puts `put`; returns the changes.
    pub(super) fn edit(&mut self, remove: Vec<T::Key>, put: Option<T>) -> Vec<Change<T>> {
        let put_key = put.as_ref().map(Watched::key);
        let mut changes = Vec::new();
        let mut replaced = None;
        for k in remove {
            match self.remove(&k) {
                Some(old) if put_key.as_ref() == Some(&k) => replaced = Some(old),
                Some(old) => changes.push(Change::Removed(old)),
                None => {}
            }
        }
        if let Some(obj) = put {
            changes.push(match self.insert(obj.clone()).or(replaced) {
                None => Change::Added(obj),
                Some(old) => Change::Changed { old, new: obj },
            });
        }
        changes
    }

    /// Takes out the objects of `scope`.
    pub(super) fn take_part(&mut self, scope: Part) -> HashMap<T::Key, T> {
        if scope == Part::All {
            self.siblings.clear();
            return std::mem::take(&mut self.map);
        }
        let keys: Vec<T::Key> = self
            .map
            .iter()
            .filter(|(_, o)| scope.covers(o.part()))
            .map(|(k, _)| k.clone())
            .collect();
        keys.into_iter()
            .filter_map(|k| self.remove(&k).map(|o| (k, o)))
            .collect()
    }
}
