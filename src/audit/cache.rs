//! The addresses of mail exchanges, looked up once per run: a cache shared
//! by every domain, bounded in memory, that also merges lookups in flight
//! (a thousand domains at one provider cost one A and one AAAA query, even
//! when all of them are in flight at once).
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Names kept per generation.
pub(super) const CAPACITY: usize = 50_000;

type Lookup = Shared<BoxFuture<'static, Arc<Addresses>>>;

#[derive(Clone)]
enum Slot {
    Ready(Arc<Addresses>),
    InFlight(Lookup),
}

pub(super) struct AddressCache<R> {
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
    capacity: usize,
    generations: Mutex<(HashMap<DomainName, Slot>, HashMap<DomainName, Slot>)>,
    asked: AtomicU64,
    queries: AtomicU64,
}

/// How the cache did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Names asked for.
    pub asked: u64,
    /// Names that needed queries (the rest were answered from the cache,
    /// or joined a lookup in flight).
    pub looked_up: u64,
}

impl<R: Resolver> AddressCache<R> {
    pub(super) fn new(resolver: Arc<R>, limiter: Arc<Limiter>, capacity: usize) -> Self {
        AddressCache {
            resolver,
            limiter,
            capacity: capacity.max(1),
            generations: Mutex::default(),
            asked: AtomicU64::new(0),
            queries: AtomicU64::new(0),
        }
    }

    pub(super) fn stats(&self) -> CacheStats {
        CacheStats {
            asked: self.asked.load(Ordering::Relaxed),
            looked_up: self.queries.load(Ordering::Relaxed),
        }
    }

    /// The A and AAAA answers of `name`, from the cache, from a lookup in
    /// flight, or by looking them up (each query through the limiter).
    pub(super) async fn addresses(&self, name: &DomainName) -> Arc<Addresses> {
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
                self.queries.fetch_add(1, Ordering::Relaxed);
                let lookup =
                    Self::lookup(self.resolver.clone(), self.limiter.clone(), name.clone())
                        .boxed()
                        .shared();
                let s = Slot::InFlight(lookup);
                if young.len() >= self.capacity {
                    *old = std::mem::take(young);
                }
                young.insert(name.clone(), s.clone());
                s
            }
        };
        match slot {
            Slot::Ready(a) => a,
            Slot::InFlight(lookup) => {
                let a = lookup.await;
                let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(s) = g.0.get_mut(name) {
                    *s = Slot::Ready(a.clone());
                }
                a
            }
        }
    }

    async fn lookup(resolver: Arc<R>, limiter: Arc<Limiter>, name: DomainName) -> Arc<Addresses> {
        Arc::new(addresses(&*resolver, &limiter, &name).await)
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
