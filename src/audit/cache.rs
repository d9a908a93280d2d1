//! What the audit looks up once per run, however many domains share it:
//! an exchange's addresses, its TLSA records, a registrable domain. A
//! cache shared by every domain, bounded in memory, that also merges
//! lookups in flight (a thousand domains at one provider cost one A and
//! one AAAA query, even when all of them are in flight at once).
//!
//! Bounded by two generations: entries go into the young one; when it is
//! full, it becomes the old one and the old one is dropped; a hit in the
//! old one moves back to the young one. So at most `2 × capacity` names are
//! held, and names in steady use stay.

use super::problems::Addresses;
use crate::limiter::Limiter;
use crate::name::DomainName;
use crate::resolver::{Answer, Failure, RecordType, Resolver};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Names kept per generation.
pub(super) const CAPACITY: usize = 50_000;

type Lookup<V> = Shared<BoxFuture<'static, Arc<V>>>;

enum Slot<V> {
    Ready(Arc<V>),
    InFlight(Lookup<V>),
}

impl<V> Clone for Slot<V> {
    fn clone(&self) -> Self {
        match self {
            Slot::Ready(v) => Slot::Ready(v.clone()),
            Slot::InFlight(l) => Slot::InFlight(l.clone()),
        }
    }
}

type Generation<V> = HashMap<DomainName, Slot<V>>;

/// One kind of lookup, made once per name per run.
pub(super) struct Cache<V> {
    capacity: usize,
    /// The young generation and the old one.
    generations: Mutex<(Generation<V>, Generation<V>)>,
    asked: AtomicU64,
    looked_up: AtomicU64,
}

/// How a cache did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Names asked for.
    pub asked: u64,
    /// Names that needed queries (the rest were answered from the cache,
    /// or joined a lookup in flight).
    pub looked_up: u64,
}

impl<V: Send + Sync + 'static> Cache<V> {
    pub(super) fn new(capacity: usize) -> Self {
        Cache {
            capacity: capacity.max(1),
            generations: Mutex::default(),
            asked: AtomicU64::new(0),
            looked_up: AtomicU64::new(0),
        }
    }

    pub(super) fn stats(&self) -> CacheStats {
        CacheStats {
            asked: self.asked.load(Ordering::Relaxed),
            looked_up: self.looked_up.load(Ordering::Relaxed),
        }
    }

    /// The value for `name`: from the cache, from a lookup in flight, or
    /// from `lookup`, started now.
    pub(super) async fn get<F, Fut>(&self, name: &DomainName, lookup: F) -> Arc<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let slot = {
            let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
            let (young, old) = &mut *g;
            if let Some(s) = young.get(name) {
                s.clone()
            } else if let Some(s) = old.remove(name) {
                young.insert(name.clone(), s.clone());
                s
            } else {
                self.looked_up.fetch_add(1, Ordering::Relaxed);
                let s = Slot::InFlight(lookup().map(Arc::new).boxed().shared());
                if young.len() >= self.capacity {
                    *old = std::mem::take(young);
                }
                young.insert(name.clone(), s.clone());
                s
            }
        };
        match slot {
            Slot::Ready(v) => v,
            Slot::InFlight(lookup) => {
                let v = lookup.await;
                let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(s) = g.0.get_mut(name) {
                    *s = Slot::Ready(v.clone());
                }
                v
            }
        }
    }
}

/// The exchanges' addresses, cached.
pub(super) struct AddressCache<R> {
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    cache: Cache<Addresses>,
}

impl<R: Resolver> AddressCache<R> {
    pub(super) fn new(resolver: Arc<R>, limiter: Arc<Limiter>, capacity: usize) -> Self {
        AddressCache {
            resolver,
            limiter,
            cache: Cache::new(capacity),
        }
    }

    pub(super) fn stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The A and AAAA answers of `name`, from the cache, from a lookup in
    /// flight, or by looking them up (each query through the limiter).
    pub(super) async fn addresses(&self, name: &DomainName) -> Arc<Addresses> {
        let (resolver, limiter, owned) =
            (self.resolver.clone(), self.limiter.clone(), name.clone());
        self.cache
            .get(name, move || async move {
                addresses(&*resolver, &limiter, &owned).await
            })
            .await
    }
}

/// One question through the limiter: a permit and a start time, held only
/// while the question is asked.
pub(super) async fn ask<R: Resolver>(
    resolver: &R,
    limiter: &Limiter,
    name: &DomainName,
    qtype: RecordType,
) -> Result<Answer, Failure> {
    let permit = limiter.start().await;
    let r = resolver.resolve(name, qtype).await;
    drop(permit);
    r
}

/// The A and AAAA answers of `name`, asked together, not cached.
pub(super) async fn addresses<R: Resolver>(
    resolver: &R,
    limiter: &Limiter,
    name: &DomainName,
) -> Addresses {
    let (a, aaaa) = futures_util::join!(
        ask(resolver, limiter, name, RecordType::A),
        ask(resolver, limiter, name, RecordType::AAAA)
    );
    Addresses { a, aaaa }
}
