//! The crew: the calling thread plus `threads − 1` helper threads that run the tiles of one
//! kernel at a time.
//!
//! Why not rayon: a kernel of one output frame (a viewer's slider, a row envelope) takes
//! 30–150 µs, and `ThreadPool::install` from a thread outside the pool paid a wake-up of
//! its sleeping workers plus one of the blocked caller on every call — on the development
//! VM a one-frame pipeline took longer at two threads than at one (0.134 against 0.106 ms;
//! Numba's OpenMP threads, which spin between parallel regions, took 0.034 ms). So here:
//! - the caller claims tiles too, so one thread means no hand-off at all;
//! - helpers that finish a kernel spin for [`SPIN`] before they sleep, so the next kernel of
//!   a pipeline, or the next call of a loop, starts on them without a wake-up (as OpenMP's
//!   default wait policy does);
//! - the tiles are split into one contiguous share per thread; each thread claims the tiles
//!   of its own share first, one by one, then those left in the others' shares. So a loop of
//!   calls (a slider) runs each tile on the same thread every call, and that tile's part of
//!   the inputs and outputs is still in that core's cache (measured: the slider's one output
//!   frame at two threads 0.053 → 0.047 ms per call), while a late thread's tiles are still
//!   taken by the others.
//!   Which thread runs a tile never changes what the tile computes, so results do not depend
//!   on the thread count;
//! - a helper that picks up a job on the CPU its caller runs on moves off it first
//!   ([`step_aside`]): Linux left the two queued on one CPU for whole samples otherwise.
//!
//! One kernel runs on the crew at a time. A caller that finds the crew busy (another
//! thread running a plan on the same executor) runs its tiles alone on its own thread rather
//! than waiting: the cores are busy already.
//!
//! A panic in a tile is caught where it happens; the kernel's other tiles still run and the
//! panic is resumed on the calling thread once every tile has finished, so no thread is
//! left running a closure whose borrows have ended.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle helper spins on the job counter before it sleeps.
pub const SPIN: Duration = Duration::from_micros(300);

/// A closure run once per tile index, with its lifetime erased; see [`Job::run`].
type TileFn = *const (dyn Fn(usize) + Sync);

/// The tiles `next..end` of one thread's share not yet claimed; claims at or past `end`
/// find nothing to do.
struct Share {
    next: AtomicUsize,
    end: usize,
}

/// One kernel's tiles.
struct Job {
    /// The caller's closure. Valid while `unfinished > 0`: the caller does not return (and
    /// so does not end the closure's borrow) before every tile has finished.
    tile: TileFn,
    /// One share per thread of the crew (the caller's first), contiguous and in order.
    shares: Vec<Share>,
    /// Tiles not yet finished.
    unfinished: AtomicUsize,
    /// The first panic of a tile, resumed by the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// The CPU the caller published the job on (`None` where unknown); see [`step_aside`].
    caller_cpu: Option<usize>,
}

// SAFETY: `tile` points to a `Sync` closure, so calling it from several threads at once is
// sound; it is only called for a claimed tile, i.e. while `unfinished > 0`, while the caller
// of `Crew::run` is still waiting (see `Job::run`).
unsafe impl Send for Job {}
// SAFETY: as for `Send`; every other field is itself `Sync`.
unsafe impl Sync for Job {}

/// The tiles `0..tiles` in `threads` contiguous shares (the first `tiles mod threads` one
/// tile longer; no product that could overflow).
fn shares(tiles: usize, threads: usize) -> Vec<Share> {
    let (each, longer) = (tiles / threads, tiles % threads);
    let start = |p: usize| p * each + p.min(longer);
    (0..threads)
        .map(|p| Share {
            next: AtomicUsize::new(start(p)),
            end: start(p + 1),
        })
        .collect()
}

/// Claims a tile: the next of thread `me`'s share, else of the others' in turn.
fn claim(shares: &[Share], me: usize) -> Option<usize> {
    let n = shares.len();
    (0..n).find_map(|k| {
        let share = &shares[(me + k) % n];
        // A share's claims all go through its counter, so each tile is claimed once.
        let t = share.next.fetch_add(1, Ordering::Relaxed);
        (t < share.end).then_some(t)
    })
}

impl Job {
    /// Claims and runs tiles until none is left; `me` is the thread's place in the crew (0
    /// for the caller).
    fn run(&self, me: usize) {
        while let Some(t) = claim(&self.shares, me) {
            // SAFETY: tile `t` is claimed and not finished, so `unfinished > 0` and the
            // caller of `Crew::run` is still inside it: the closure is alive.
            let tile = unsafe { &*self.tile };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| tile(t))) {
                let mut first = self.panic.lock().unwrap_or_else(PoisonError::into_inner);
                first.get_or_insert(panic);
            }
            self.unfinished.fetch_sub(1, Ordering::Release);
        }
    }
}

/// What the caller and the helpers share.
struct Shared {
    /// Bumped once per published job and once at shutdown.
    epoch: AtomicU64,
    /// The job of the current epoch (`None` between jobs).
    job: Mutex<Option<Arc<Job>>>,
    /// Helpers asleep (or about to be) on `wake`.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
    stop: AtomicBool,
}

/// The calling thread plus helper threads; see the module docs.
pub struct Crew {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
    /// Held while a job runs on the crew.
    busy: Mutex<()>,
}

impl std::fmt::Debug for Crew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crew").field("threads", &self.threads()).finish()
    }
}

impl Crew {
    /// A crew of `threads` threads (≥ 1): the caller and `threads − 1` helpers named
    /// `rumba-worker-1` ….
    ///
    /// # Errors
    /// The error of spawning a helper.
    pub fn new(threads: usize) -> std::io::Result<Crew> {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: Mutex::new(None),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let mut crew = Crew {
            shared,
            helpers: Vec::new(),
            busy: Mutex::new(()),
        };
        for i in 1..threads.max(1) {
            let shared = Arc::clone(&crew.shared);
            // On an error the helpers spawned so far are stopped by `Drop`.
            let helper = std::thread::Builder::new()
                .name(format!("rumba-worker-{i}"))
                .spawn(move || helper(&shared, i))?;
            crew.helpers.push(helper);
        }
        Ok(crew)
    }

    /// The number of threads, the caller included.
    pub fn threads(&self) -> usize {
        self.helpers.len() + 1
    }

    /// Runs `tile(t)` once for every `t` in `0..tiles`, on the calling thread and the
    /// helpers, and returns when all have finished. A panic of a tile is resumed here after
    /// that.
    pub fn run(&self, tiles: usize, tile: &(dyn Fn(usize) + Sync)) {
        if tiles == 0 {
            return;
        }
        let guard = match self.busy.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if tiles == 1 || self.helpers.is_empty() || guard.is_none() {
            (0..tiles).for_each(tile);
            return;
        }
        // SAFETY (of the lifetime erasure): the closure is only called by `Job::run` for a
        // claimed, unfinished tile, and this function returns only after `unfinished` has
        // reached 0 (below), every call having returned or unwound (caught). A helper that
        // holds the `Arc<Job>` later only finds every share claimed and never calls it.
        let erased: TileFn = unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), TileFn>(tile) };
        let job = Arc::new(Job {
            tile: erased,
            shares: shares(tiles, self.threads()),
            unfinished: AtomicUsize::new(tiles),
            panic: Mutex::new(None),
            caller_cpu: current_cpu(),
        });
        let shared = &*self.shared;
        *shared.job.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&job));
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        if shared.sleepers.load(Ordering::SeqCst) > 0 {
            let _lock = shared.sleep.lock().unwrap_or_else(PoisonError::into_inner);
            shared.wake.notify_all();
        }
        job.run(0);
        let mut spins = 0u32;
        while job.unfinished.load(Ordering::Acquire) > 0 {
            spins = spins.saturating_add(1);
            if spins < 1 << 12 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        *shared.job.lock().unwrap_or_else(PoisonError::into_inner) = None;
        drop(guard);
        let panic = job.panic.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(panic) = panic {
            resume_unwind(panic);
        }
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        let shared = &*self.shared;
        shared.stop.store(true, Ordering::SeqCst);
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        {
            let _lock = shared.sleep.lock().unwrap_or_else(PoisonError::into_inner);
            shared.wake.notify_all();
        }
        for helper in self.helpers.drain(..) {
            // A helper only panics if a lock is poisoned in a way it cannot recover; there is
            // nothing left to do about it while dropping.
            let _ = helper.join();
        }
    }
}

/// A helper's life: wait for a new epoch (spinning for [`SPIN`], then asleep), run its job's
/// tiles (its share first: it is thread `me` of the crew), repeat until the crew stops.
fn helper(shared: &Shared, me: usize) {
    // The epoch the crew was made with, not the current one: a helper that starts late (after
    // jobs, or after the crew stopped) must see those bumps, or it would sleep through the stop.
    let mut seen = 0;
    loop {
        let idle = Instant::now();
        let mut spins = 0u32;
        while shared.epoch.load(Ordering::Acquire) == seen {
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) && idle.elapsed() >= SPIN {
                let mut lock = shared.sleep.lock().unwrap_or_else(PoisonError::into_inner);
                shared.sleepers.fetch_add(1, Ordering::SeqCst);
                while shared.epoch.load(Ordering::SeqCst) == seen {
                    lock = shared.wake.wait(lock).unwrap_or_else(PoisonError::into_inner);
                }
                shared.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
        }
        seen = shared.epoch.load(Ordering::Acquire);
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let job = shared.job.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(job) = job {
            if job.caller_cpu.is_some() && current_cpu() == job.caller_cpu {
                step_aside();
            }
            job.run(me);
        }
    }
}

/// The CPU the calling thread runs on, where the OS says.
fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `sched_getcpu` takes no arguments and only reads the thread's CPU.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Moves the calling helper off its CPU, which the job's caller is running on: Linux can
/// leave a woken helper queued behind the caller on one CPU while another is idle (measured
/// on the 2-vCPU development VM: in about half the samples of 30 one-frame calls the helper
/// shared the caller's CPU for the whole sample, so two threads ran at one thread's speed with
/// 0.4 ms stalls whenever the helper held a tile; with the threads pinned apart it never
/// happened). Excluding this CPU from the thread's affinity mask makes the kernel migrate it
/// at once to another allowed CPU; the original mask is restored straight after, so the
/// thread is not pinned and the scheduler stays free to balance it later. Does nothing with
/// a single allowed CPU or when a call fails.
fn step_aside() {
    #[cfg(target_os = "linux")]
    {
        let Some(cpu) = current_cpu() else { return };
        // SAFETY: `cpu_set_t` is plain bits, valid when zeroed; `sched_getaffinity` and
        // `sched_setaffinity` read or write exactly `size_of::<cpu_set_t>()` bytes of the set
        // they are given, for the calling thread (pid 0); `CPU_ISSET`/`CPU_CLR`/`CPU_COUNT`
        // index within the set (`cpu` comes from `sched_getcpu`, checked against the set's
        // size first).
        unsafe {
            let size = std::mem::size_of::<libc::cpu_set_t>();
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            if cpu >= 8 * size || libc::sched_getaffinity(0, size, &raw mut allowed) != 0 {
                return;
            }
            if libc::CPU_COUNT(&allowed) < 2 || !libc::CPU_ISSET(cpu, &allowed) {
                return;
            }
            let mut elsewhere = allowed;
            libc::CPU_CLR(cpu, &mut elsewhere);
            if libc::sched_setaffinity(0, size, &raw const elsewhere) == 0 {
                libc::sched_setaffinity(0, size, &raw const allowed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn a_thread_claims_its_own_share_first_then_the_others() {
        let huge = usize::MAX / 2;
        for (tiles, threads) in [(10, 3), (8, 2), (1, 4), (0, 2), (7, 7), (5, 1), (huge, 3)] {
            let shares = shares(tiles, threads);
            // Contiguous and in order, covering 0..tiles, lengths within one of each other.
            let bounds: Vec<(usize, usize)> = shares.iter().map(|s| (s.next.load(Ordering::Relaxed), s.end)).collect();
            assert_eq!(bounds.first().map(|b| b.0), Some(0), "{tiles} tiles");
            assert_eq!(bounds.last().map(|b| b.1), Some(tiles), "{tiles} tiles");
            assert!(bounds.windows(2).all(|w| w[0].1 == w[1].0), "{tiles} tiles: {bounds:?}");
            let lengths: Vec<usize> = bounds.iter().map(|b| b.1 - b.0).collect();
            assert!(
                lengths.iter().max().unwrap() - lengths.iter().min().unwrap() <= 1,
                "{lengths:?}"
            );
            if tiles == huge {
                continue;
            }
            for (me, &(start, end)) in bounds.iter().enumerate() {
                let shares = self::shares(tiles, threads);
                let order: Vec<usize> = std::iter::from_fn(|| claim(&shares, me)).collect();
                let own = start..end;
                assert_eq!(
                    order[..own.len()],
                    own.clone().collect::<Vec<_>>(),
                    "{tiles} tiles, thread {me}"
                );
                let mut sorted = order.clone();
                sorted.sort_unstable();
                assert_eq!(
                    sorted,
                    (0..tiles).collect::<Vec<_>>(),
                    "{tiles} tiles, thread {me}: each once"
                );
            }
        }
    }

    #[test]
    fn every_tile_runs_exactly_once_for_every_thread_count() {
        for threads in 1..=4 {
            let crew = Crew::new(threads).unwrap();
            assert_eq!(crew.threads(), threads);
            for tiles in [0, 1, 2, 3, 17, 1000] {
                let counts: Vec<AtomicU32> = (0..tiles).map(|_| AtomicU32::new(0)).collect();
                crew.run(tiles, &|t| {
                    counts[t].fetch_add(1, Ordering::Relaxed);
                });
                assert!(
                    counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                    "{threads} threads, {tiles} tiles"
                );
            }
        }
    }

    #[test]
    fn a_crew_dropped_before_its_helpers_started_still_stops() {
        // Helpers that start after the crew's jobs, or after it stopped, must still see the
        // stop (a helper that took the epoch at its start slept through it and hung the drop).
        for round in 0..200 {
            let crew = Crew::new(3).unwrap();
            if round % 2 == 0 {
                let sum = AtomicU32::new(0);
                crew.run(4, &|t| {
                    sum.fetch_add(t as u32, Ordering::Relaxed);
                });
                assert_eq!(sum.load(Ordering::Relaxed), 6);
            }
            drop(crew);
        }
    }

    /// The calling thread's affinity mask (Linux).
    #[cfg(target_os = "linux")]
    fn allowed_cpus() -> Vec<usize> {
        // SAFETY: as in `step_aside`: a zeroed set, read whole by `sched_getaffinity`.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &raw mut set),
                0
            );
            (0..8 * std::mem::size_of::<libc::cpu_set_t>())
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .collect()
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn stepping_aside_leaves_the_cpu_and_restores_the_mask() {
        let before = allowed_cpus();
        // Straight after the call the thread runs where the reduced mask sent it; the scheduler
        // may move it back before the check under load (tests run in parallel), so a few tries.
        let mut moved = false;
        for _ in 0..5 {
            let from = current_cpu().expect("sched_getcpu works on Linux");
            step_aside();
            assert_eq!(allowed_cpus(), before, "the affinity mask is restored");
            moved |= current_cpu() != Some(from);
        }
        assert!(
            moved || before.len() < 2,
            "never moved off its CPU (allowed {before:?})"
        );
    }

    #[test]
    fn helpers_take_tiles_after_sleeping() {
        let crew = Crew::new(2).unwrap();
        let caller = std::thread::current().id();
        // Past the spin time the helper is asleep; a job must wake it. Each tile waits long
        // enough that the caller alone cannot take them all before the helper wakes.
        std::thread::sleep(SPIN * 10);
        let on_helper = AtomicU32::new(0);
        crew.run(8, &|_| {
            if std::thread::current().id() != caller {
                on_helper.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(5));
        });
        assert!(on_helper.load(Ordering::Relaxed) > 0, "the sleeping helper never woke");
    }

    #[test]
    fn a_panicking_tile_is_resumed_on_the_caller_after_every_tile_finished() {
        let crew = Crew::new(2).unwrap();
        let finished = AtomicU32::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            crew.run(16, &|t| {
                std::thread::sleep(Duration::from_micros(200));
                finished.fetch_add(1, Ordering::Relaxed);
                assert!(t != 5, "tile 5 fails");
            });
        }));
        let message = result.unwrap_err();
        // A panic message without arguments is a `&str` payload, one with them a `String`.
        let text = message
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| message.downcast_ref::<String>().map(String::as_str));
        assert_eq!(text, Some("tile 5 fails"));
        assert_eq!(finished.load(Ordering::Relaxed), 16);
        // The crew still works after a panic.
        let sum = AtomicU32::new(0);
        crew.run(10, &|t| {
            sum.fetch_add(t as u32, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 45);
    }

    #[test]
    fn concurrent_callers_each_get_every_tile() {
        let crew = Crew::new(2).unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for tiles in [1usize, 5, 64] {
                        let counts: Vec<AtomicU32> = (0..tiles).map(|_| AtomicU32::new(0)).collect();
                        for _ in 0..50 {
                            crew.run(tiles, &|t| {
                                counts[t].fetch_add(1, Ordering::Relaxed);
                            });
                        }
                        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 50));
                    }
                });
            }
        });
    }
}
