//! A small pool of CPU workers for the matrix products of a step. A decode
//! step runs about a hundred short parallel products with a little serial
//! work between them; workers that go to sleep between two products cost more
//! to wake than the product takes. These workers spin for a while before they
//! sleep, and the calling thread takes its own share of every product.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it sleeps.
const SPIN: Duration = Duration::from_millis(1);

type Task = dyn Fn(usize) + Sync + 'static;

struct Shared {
    /// Bumped for every job; workers run each new one once.
    epoch: AtomicUsize,
    /// Workers still busy with the current job.
    pending: AtomicUsize,
    /// The current job, valid while `pending` > 0 (see `run`).
    task: Mutex<Option<&'static Task>>,
    wake: Condvar,
    sleepers: Mutex<()>,
    workers: usize,
    stop: AtomicUsize,
}

pub struct SpinPool {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl SpinPool {
    /// A pool in which `parallelism` threads (the caller included) share each job.
    pub fn new(parallelism: usize) -> Self {
        let workers = parallelism.max(1) - 1;
        let shared = Arc::new(Shared {
            epoch: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            task: Mutex::new(None),
            wake: Condvar::new(),
            sleepers: Mutex::new(()),
            workers,
            stop: AtomicUsize::new(0),
        });
        let threads = (0..workers)
            .map(|index| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("matmul-{index}"))
                    .spawn(move || worker(&shared, index + 1))
                    .expect("spawn a CPU worker")
            })
            .collect();
        Self { shared, threads }
    }

    /// Threads that share each job, the caller included.
    pub fn parallelism(&self) -> usize {
        self.shared.workers + 1
    }

    /// Runs `task(i)` for every share `i` in 0..parallelism, the caller taking share 0,
    /// and returns when all are done.
    pub fn run<'a>(&self, task: &'a (dyn Fn(usize) + Sync + 'a)) {
        if self.shared.workers == 0 {
            task(0);
            return;
        }
        // SAFETY: workers only call the task between the epoch bump below and their
        // decrement of `pending`, and this function does not return before `pending`
        // is back to zero, so the borrow outlives every use.
        let task_static: &'static Task =
            unsafe { std::mem::transmute::<&'a (dyn Fn(usize) + Sync + 'a), &'static Task>(task) };
        *self.shared.task.lock().expect("task lock") = Some(task_static);
        self.shared.pending.store(self.shared.workers, Ordering::SeqCst);
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        {
            let _guard = self.shared.sleepers.lock().expect("sleepers lock");
            self.shared.wake.notify_all();
        }
        task(0);
        while self.shared.pending.load(Ordering::Acquire) != 0 {
            std::hint::spin_loop();
        }
        *self.shared.task.lock().expect("task lock") = None;
    }
}

fn worker(shared: &Shared, share: usize) {
    let mut seen = 0;
    loop {
        let started = Instant::now();
        let epoch = loop {
            let epoch = shared.epoch.load(Ordering::Acquire);
            if epoch != seen || shared.stop.load(Ordering::Acquire) != 0 {
                break epoch;
            }
            if started.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                let guard = shared.sleepers.lock().expect("sleepers lock");
                if shared.epoch.load(Ordering::Acquire) == seen && shared.stop.load(Ordering::Acquire) == 0 {
                    let _guard = shared.wake.wait_timeout(guard, Duration::from_millis(50)).expect("wait");
                }
            }
        };
        if shared.stop.load(Ordering::Acquire) != 0 {
            return;
        }
        seen = epoch;
        let task = *shared.task.lock().expect("task lock");
        if let Some(task) = task {
            task(share);
        }
        shared.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for SpinPool {
    fn drop(&mut self) {
        self.shared.stop.store(1, Ordering::Release);
        {
            let _guard = self.shared.sleepers.lock().expect("sleepers lock");
            self.shared.wake.notify_all();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_share_runs_once_per_job() {
        let pool = SpinPool::new(3);
        let counts: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..1000 {
            pool.run(&|share| {
                counts[share].fetch_add(1, Ordering::Relaxed);
            });
        }
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1000));
    }

    #[test]
    fn workers_wake_after_sleeping() {
        let pool = SpinPool::new(2);
        let total = AtomicUsize::new(0);
        std::thread::sleep(Duration::from_millis(5));
        pool.run(&|_| {
            total.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed), 2);
    }
}
