//! The memory budget of one client: every part in flight of every download on the client holds
//! a reservation (a "slot": its two write buffers plus what its connection costs) taken from
//! one pool, and a part that finds the pool empty waits for a slot instead of allocating. So the
//! memory of all the client's downloads is bounded by one configured number, whatever their
//! thread counts.
//!
//! What a slot costs, and what the library costs before any part runs, were measured (peak RSS
//! of the C example downloading 1 GiB from the local server at 1 to 64 parts in flight, before the
//! budget existed; the figures are in BENCHMARKS.md, "Memory budget"). A connection costs more
//! than our buffers: hyper's read buffer grows to hundreds of KiB and a chunk handed to us keeps
//! it alive while the next read allocates, plus the allocator's slack. [`BASE_COST`] and
//! [`CONNECTION_COST`] are those measurements rounded up, so a budget is an upper bound of the
//! process's peak RSS for a program that does little else.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

const MIB: u64 = 1024 * 1024;
/// The default budget of a client: 64 MiB (the project's target: a default budget of at most
/// 64 MiB).
pub const DEFAULT_MEMORY_BUDGET: u64 = 64 * MIB;
/// The smallest budget accepted: the base cost plus a few slots.
pub const MIN_MEMORY_BUDGET: u64 = 16 * MIB;
/// The largest budget accepted (1 TiB; beyond it the number is surely a mistake).
pub const MAX_MEMORY_BUDGET: u64 = 1 << 40;
/// What the library costs before any part runs (runtime threads and their stacks, the HTTP and
/// TLS state, the allocator's arenas), reserved out of every budget.
pub const BASE_COST: u64 = 12 * MIB;
/// What one connection costs beyond our write buffers.
pub const CONNECTION_COST: u64 = 7 * MIB / 4;
/// What a connection carrying one small body costs beyond our write buffer, before the body's
/// share (`small_get_cost`): the connection's state, its request, rustls's two record buffers and
/// hyper's first 8 KiB read buffer, rounded up.
pub const SMALL_CONNECTION_BASE: u64 = 64 * 1024;
/// Reservations are counted in KiB (a semaphore's permits are `u32` per acquisition).
const UNIT: u64 = 1024;

/// The budget: a pool of `total - BASE_COST` bytes, reserved in slots.
#[derive(Clone)]
pub struct MemoryBudget {
    total: u64,
    pool: Arc<Semaphore>,
    buffers: Arc<BufferGauge>,
}

/// The write buffers alive of every download on one budget, in bytes of capacity: now, and the
/// most at once. The slots count two buffers per part in flight; this says what was made.
#[derive(Debug, Default)]
pub struct BufferGauge {
    now: AtomicU64,
    peak: AtomicU64,
}

impl BufferGauge {
    /// A buffer of `bytes` made.
    pub fn made(&self, bytes: u64) {
        let now = self.now.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// A buffer of `bytes` freed.
    pub fn freed(&self, bytes: u64) {
        self.now.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Bytes alive now.
    pub fn now(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    /// The most bytes alive at once so far.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

/// A reservation of `cost` bytes, given back to the budget when dropped.
pub struct Slot {
    permit: OwnedSemaphorePermit,
}

impl Slot {
    /// Gives back what this slot holds beyond `cost` bytes (a download that learnt its parts
    /// are small needs less than it reserved before it knew).
    pub fn shrink_to(&mut self, cost: u64) {
        let keep = units(cost) as usize;
        let have = self.permit.num_permits();
        if keep < have {
            drop(self.permit.split(have - keep));
        }
    }

    /// The bytes this slot reserves (whole units: at least what it was acquired or shrunk
    /// to).
    pub fn bytes(&self) -> u64 {
        self.permit.num_permits() as u64 * UNIT
    }

    /// Adds `more` to this slot (a reader's part reserving the bytes it received).
    pub fn absorb(&mut self, more: Slot) {
        self.permit.merge(more.permit);
    }
}

impl std::fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("total", &self.total)
            .field("free_bytes", &self.free_bytes())
            .finish()
    }
}

/// Checks a configured budget: `MIN_MEMORY_BUDGET..=MAX_MEMORY_BUDGET`.
pub fn check(total: u64) -> Result<()> {
    if !(MIN_MEMORY_BUDGET..=MAX_MEMORY_BUDGET).contains(&total) {
        return Err(Error::validate(format!(
            "The memory budget must be between {} MiB and {} MiB, not {total} bytes",
            MIN_MEMORY_BUDGET / MIB,
            MAX_MEMORY_BUDGET / MIB
        )));
    }
    Ok(())
}

impl MemoryBudget {
    /// A budget of `total` bytes (checked by `check`; out-of-range values are clamped).
    pub fn new(total: u64) -> MemoryBudget {
        let total = total.clamp(MIN_MEMORY_BUDGET, MAX_MEMORY_BUDGET);
        let units = ((total - BASE_COST) / UNIT) as usize;
        MemoryBudget {
            total,
            pool: Arc::new(Semaphore::new(units)),
            buffers: Arc::default(),
        }
    }

    /// The gauge of the write buffers made for this budget's downloads.
    pub fn buffers(&self) -> &Arc<BufferGauge> {
        &self.buffers
    }

    /// Bytes of write buffers alive now (their capacity).
    pub fn buffer_bytes(&self) -> u64 {
        self.buffers.now()
    }

    /// The most bytes of write buffers alive at once so far.
    pub fn peak_buffer_bytes(&self) -> u64 {
        self.buffers.peak()
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// What a download or GetObject to a file holds from its admission to its end at least (the
    /// share of its connection): no slot costs less, so the calls holding descriptors at once
    /// are at most `capacity(admission_cost())`.
    pub fn admission_cost() -> u64 {
        CONNECTION_COST
    }

    /// What a part in flight with write buffers of `buffer_size` bytes reserves: two buffers
    /// (one filling while the other is written) and a connection.
    pub fn slot_cost(buffer_size: usize) -> u64 {
        2 * buffer_size as u64 + CONNECTION_COST
    }

    /// The same for parts of at most `part_size` bytes: a part no larger than one buffer never
    /// holds a second one.
    pub fn slot_cost_for(buffer_size: usize, part_size: u64) -> u64 {
        Self::buffers_per_slot(buffer_size, part_size) as u64 * buffer_size as u64 + CONNECTION_COST
    }

    /// The write buffers of `buffer_size` bytes a part of at most `part_size` bytes holds at
    /// once: two (one filling while the other is written), one when a buffer holds the part.
    pub fn buffers_per_slot(buffer_size: usize, part_size: u64) -> usize {
        if part_size <= buffer_size as u64 {
            1
        } else {
            2
        }
    }

    /// What one GET of a body of at most `body` bytes written through a buffer of `buffer_size`
    /// bytes reserves (a batch's small object): the buffer, and its connection's share sized to
    /// the body: hyper's read buffer starts at 8 KiB and doubles only when a read fills it, so a
    /// body of `body` bytes never grows it past twice its size; never more than a connection
    /// carrying a large body costs (`CONNECTION_COST`). A 4 KiB object reserves 76 KiB, not
    /// 1.8 MiB: the default budget admits hundreds of them at once.
    pub fn small_get_cost(buffer_size: usize, body: u64) -> u64 {
        let connection =
            CONNECTION_COST.min(SMALL_CONNECTION_BASE.saturating_add(body.saturating_mul(2)));
        buffer_size as u64 + connection
    }

    /// How many slots of `cost` the whole budget holds (at least 1: a budget always lets one
    /// part run, or nothing would).
    pub fn capacity(&self, cost: u64) -> usize {
        (((self.total - BASE_COST) / UNIT) / units(cost) as u64).max(1) as usize
    }

    /// Bytes not reserved now.
    pub fn free_bytes(&self) -> u64 {
        self.pool.available_permits() as u64 * UNIT
    }

    /// Waits for a slot of `cost` bytes (capped at the whole budget, so that a slot larger than
    /// the budget still runs, alone).
    pub async fn acquire(&self, cost: u64) -> Slot {
        let permit = self
            .pool
            .clone()
            .acquire_many_owned(self.units_of(cost))
            .await
            .expect("the budget's semaphore is never closed");
        Slot { permit }
    }

    /// A slot of `cost` bytes if one is free now.
    pub fn try_acquire(&self, cost: u64) -> Option<Slot> {
        self.pool
            .clone()
            .try_acquire_many_owned(self.units_of(cost))
            .ok()
            .map(|permit| Slot { permit })
    }

    /// The units a slot of `cost` takes: capped at the whole budget.
    fn units_of(&self, cost: u64) -> u32 {
        let whole = u32::try_from((self.total - BASE_COST) / UNIT).unwrap_or(u32::MAX);
        units(cost).min(whole)
    }
}

fn units(cost: u64) -> u32 {
    u32::try_from(cost.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_by_the_budget() {
        let b = MemoryBudget::new(DEFAULT_MEMORY_BUDGET);
        let cost = MemoryBudget::slot_cost(256 * 1024);
        let cap = b.capacity(cost);
        assert_eq!(cap as u64, (DEFAULT_MEMORY_BUDGET - BASE_COST) / cost);
        let slots: Vec<Slot> = (0..cap).map(|_| b.try_acquire(cost).unwrap()).collect();
        assert!(b.try_acquire(cost).is_none(), "the budget is spent");
        assert!(b.free_bytes() < cost);
        drop(slots);
        assert_eq!(b.free_bytes(), DEFAULT_MEMORY_BUDGET - BASE_COST);
    }

    #[test]
    fn a_slot_grows_by_absorbing_another_and_gives_all_back() {
        let b = MemoryBudget::new(MIN_MEMORY_BUDGET);
        let pool = MIN_MEMORY_BUDGET - BASE_COST;
        let mut s = b.try_acquire(MIB).unwrap();
        assert_eq!(s.bytes(), MIB);
        s.absorb(b.try_acquire(MIB / 2).unwrap());
        assert_eq!(s.bytes(), MIB + MIB / 2);
        assert_eq!(b.free_bytes(), pool - s.bytes());
        s.shrink_to(100);
        assert_eq!(s.bytes(), 1024, "whole units, at least the cost");
        drop(s);
        assert_eq!(b.free_bytes(), pool);
    }

    #[test]
    fn a_slot_larger_than_the_budget_still_runs_alone() {
        let b = MemoryBudget::new(MIN_MEMORY_BUDGET);
        let s = b.try_acquire(1 << 40).expect("capped at the whole budget");
        assert!(b.try_acquire(1).is_none());
        assert_eq!(b.capacity(1 << 40), 1);
        drop(s);
        assert!(b.try_acquire(1).is_some());
    }

    #[test]
    fn a_slot_shrinks_to_what_its_parts_need() {
        let b = MemoryBudget::new(MIN_MEMORY_BUDGET);
        let mut s = b.try_acquire(3 * MIB).unwrap();
        s.shrink_to(MIB);
        assert_eq!(b.free_bytes(), MIN_MEMORY_BUDGET - BASE_COST - MIB);
        s.shrink_to(2 * MIB); // never grows
        assert_eq!(b.free_bytes(), MIN_MEMORY_BUDGET - BASE_COST - MIB);
        drop(s);
        assert_eq!(b.free_bytes(), MIN_MEMORY_BUDGET - BASE_COST);
        assert_eq!(
            MemoryBudget::slot_cost_for(MIB as usize, MIB),
            MIB + CONNECTION_COST
        );
        assert_eq!(
            MemoryBudget::slot_cost_for(MIB as usize, MIB + 1),
            MemoryBudget::slot_cost(MIB as usize)
        );
    }

    #[test]
    fn admitted_calls_are_bounded_by_the_budget() {
        // The figures of the C header (oss_config_set_memory_budget, oss_transfer_t).
        let admitted = |total| MemoryBudget::new(total).capacity(MemoryBudget::admission_cost());
        assert_eq!(admitted(DEFAULT_MEMORY_BUDGET), 29);
        assert_eq!(admitted(MIN_MEMORY_BUDGET), 2);
        assert_eq!(admitted(32 * MIB), 11);
        // No slot a download or GetObject takes is smaller (the smallest: one 4 KiB buffer).
        assert!(MemoryBudget::slot_cost_for(4096, 1) >= MemoryBudget::admission_cost());
    }

    #[test]
    fn out_of_range_budgets_are_refused() {
        assert!(check(MIN_MEMORY_BUDGET - 1).is_err());
        assert!(check(MAX_MEMORY_BUDGET + 1).is_err());
        assert!(check(DEFAULT_MEMORY_BUDGET).is_ok());
    }

    #[tokio::test]
    async fn a_waiting_part_gets_the_slot_given_back() {
        let b = MemoryBudget::new(MIN_MEMORY_BUDGET);
        let whole = b.try_acquire(u64::MAX).unwrap();
        let b2 = b.clone();
        let waiter = tokio::spawn(async move { b2.acquire(MIB).await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(whole);
        let _slot = waiter.await.unwrap();
        assert_eq!(b.free_bytes(), MIN_MEMORY_BUDGET - BASE_COST - MIB);
    }
}
