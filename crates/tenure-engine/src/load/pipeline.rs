//! Reading parts in parallel and handing them on in order, without waiting for stragglers.
//!
//! Tasks (row groups, byte ranges) are read on the rayon pool, a bounded number in flight. Each
//! result is handed to the consumer in task order by whichever thread finishes the part that
//! is next: a thread that is done reading merges what is ready, then goes on reading. Nothing
//! waits for a whole window of reads to finish, so one slow task does not leave the other
//! threads idle, and merging overlaps reading all the way through.

use std::sync::Mutex;

use crate::error::EngineError;

/// What the pipeline knows of the results: those read and not handed on yet, by task.
struct Queue<R> {
    ready: Vec<Option<Result<R, EngineError>>>,
    /// The task whose result is handed on next.
    next: usize,
    /// True while a thread is handing results on (only one does at a time).
    handing: bool,
    /// Set when the consumer asked to stop or a result was an error: nothing more is read.
    stopped: bool,
    /// The first error in task order.
    error: Option<EngineError>,
}

/// Reads every task with `read` on the rayon pool, at most a few per thread at once, and hands
/// the results to `handle` in task order; `handle` returns false to stop early. A failed read
/// stops the run once the results before it are handed on, and its error is returned.
pub(crate) fn read_pipelined<'h, T: Sync, R: Send>(
    tasks: &[T],
    read: impl Fn(&T) -> Result<R, EngineError> + Sync,
    handle: Handle<'h, R>,
) -> Result<(), EngineError> {
    if tasks.is_empty() {
        return Ok(());
    }
    // Two parts per thread: one being read, one read and waiting for its turn.
    let in_flight = (2 * rayon::current_num_threads()).max(2);
    let queue = Mutex::new(Queue {
        ready: (0..tasks.len()).map(|_| None).collect(),
        next: 0,
        handing: false,
        stopped: false,
        error: None,
    });
    let handle = Mutex::new(handle);
    rayon::scope_fifo(|scope| {
        let pipeline = Pipeline {
            tasks,
            read: &read,
            queue: &queue,
            handle: &handle,
            in_flight,
        };
        for task in 0..in_flight.min(tasks.len()) {
            pipeline.spawn(scope, task);
        }
    });
    let queue = queue.into_inner().unwrap_or_else(|e| e.into_inner());
    match queue.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The shared parts of one [`read_pipelined`] run.
struct Pipeline<'p, 'h, T, R, F> {
    tasks: &'p [T],
    read: &'p F,
    queue: &'p Mutex<Queue<R>>,
    handle: &'p Mutex<Handle<'h, R>>,
    in_flight: usize,
}

/// Where results are handed on.
type Handle<'h, R> = &'h mut (dyn FnMut(R) -> Result<bool, EngineError> + Send + 'h);

impl<T, R, F> Clone for Pipeline<'_, '_, T, R, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, R, F> Copy for Pipeline<'_, '_, T, R, F> {}

impl<'p, 'h: 'p, T, R, F> Pipeline<'p, 'h, T, R, F>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> Result<R, EngineError> + Sync,
{
    /// Reads task `task` on the pool, then hands on whatever is ready.
    fn spawn(self, scope: &rayon::ScopeFifo<'p>, task: usize) {
        scope.spawn_fifo(move |scope| {
            if self.lock().stopped {
                return;
            }
            let result = (self.read)(&self.tasks[task]);
            self.finished(scope, task, result);
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'p, Queue<R>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Files the result of `task`; unless another thread is handing results on (it will see
    /// this one), hands on every result that is next in order, starting the reads that take
    /// the freed places.
    fn finished(self, scope: &rayon::ScopeFifo<'p>, task: usize, result: Result<R, EngineError>) {
        let mut queue = self.lock();
        queue.ready[task] = Some(result);
        if queue.handing {
            return;
        }
        queue.handing = true;
        loop {
            let next = queue.next;
            let Some(result) = queue.ready.get_mut(next).and_then(Option::take) else {
                queue.handing = false;
                return;
            };
            queue.next += 1;
            if queue.stopped {
                continue;
            }
            drop(queue);
            let outcome = result.and_then(|value| {
                let mut handle = self.handle.lock().unwrap_or_else(|e| e.into_inner());
                (*handle)(value)
            });
            queue = self.lock();
            match outcome {
                Ok(true) => {
                    let start = next + self.in_flight;
                    if start < self.tasks.len() {
                        self.spawn(scope, start);
                    }
                }
                Ok(false) => queue.stopped = true,
                Err(error) => {
                    queue.stopped = true;
                    queue.error = Some(error);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    }

    #[test]
    fn results_are_handed_on_in_task_order_whatever_finishes_first() {
        for threads in [1, 2, 4] {
            let tasks: Vec<u64> = (0..40).collect();
            let mut seen = Vec::new();
            pool(threads)
                .install(|| {
                    read_pipelined(
                        &tasks,
                        |task| {
                            // Earlier tasks take longer, so later ones finish first.
                            std::thread::sleep(std::time::Duration::from_micros((40 - task) * 50));
                            Ok(task * 10)
                        },
                        &mut |value| {
                            seen.push(value);
                            Ok(true)
                        },
                    )
                })
                .expect("no error");
            assert_eq!(
                seen,
                (0..40).map(|t| t * 10).collect::<Vec<_>>(),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn stopping_early_hands_on_nothing_after_the_stop() {
        let tasks: Vec<u32> = (0..30).collect();
        let mut seen = Vec::new();
        pool(2)
            .install(|| {
                read_pipelined(&tasks, |task| Ok(*task), &mut |value| {
                    seen.push(value);
                    Ok(value < 5)
                })
            })
            .expect("no error");
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
    }

    fn failure(task: u32) -> EngineError {
        EngineError::Read {
            source_name: "events".into(),
            location: "events.csv".into(),
            error: format!("task {task}"),
        }
    }

    #[test]
    fn the_first_failed_task_in_order_is_the_error_returned() {
        let tasks: Vec<u32> = (0..30).collect();
        let mut seen = Vec::new();
        let result = pool(2).install(|| {
            read_pipelined(
                &tasks,
                |task| match task {
                    // Task 20 fails quickly, task 7 slowly: 7 is first in order.
                    7 => {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        Err(failure(*task))
                    }
                    20 => Err(failure(*task)),
                    _ => Ok(*task),
                },
                &mut |value| {
                    seen.push(value);
                    Ok(true)
                },
            )
        });
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        match result {
            Err(error) => assert!(error.to_string().contains("task 7"), "{error}"),
            Ok(()) => panic!("the failed read was not reported"),
        }
    }
}
