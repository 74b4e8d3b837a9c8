//! Warehouse work on threads of its own, so that a tenant's heavy query cannot starve the
//! server: logins, pages, `/healthz` and other tenants' small requests keep the HTTP
//! runtime's threads while DataFusion computes on the query runtime's.
//!
//! A request that ends early — its timeout fired, its client went away — drops the
//! [`QueryRuntime::run`] future, which aborts the query's task: DataFusion's streams and
//! the tasks they spawned stop at their next batch (ad-hoc SQL yields every few batches,
//! see `warehouse::bounds`), freeing the CPU within a fraction of a second.

use std::future::Future;

use crate::error::{AppError, AppResult};

/// A tokio runtime for warehouse work (or, if one cannot be started, the caller's own).
#[derive(Debug)]
pub struct QueryRuntime(Option<tokio::runtime::Runtime>);

impl QueryRuntime {
    /// A multi-thread runtime with a thread per core, named `yishi-query`.
    pub fn new() -> QueryRuntime {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 16);
        QueryRuntime::with_threads(threads, "yishi-query")
    }

    /// A runtime of `threads` low-priority threads named `name`: for any work heavy enough
    /// to starve the HTTP threads (queries; password hashing, see `login::HashGate`).
    pub fn with_threads(threads: usize, name: &str) -> QueryRuntime {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .on_thread_start(lower_priority)
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => QueryRuntime(Some(runtime)),
            Err(e) => {
                tracing::warn!(error = %e, "no query threads could be started; queries share the server's");
                QueryRuntime(None)
            }
        }
    }

    /// Runs `work` on the query threads and waits for it; dropping the returned future
    /// cancels the work.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: Future<Output = AppResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let Some(runtime) = &self.0 else { return work.await };
        let mut task = Cancelling(runtime.spawn(work));
        match (&mut task.0).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(AppError::Internal(format!("a query panicked: {e}"))),
            Err(e) => Err(AppError::Internal(format!("a query was cancelled: {e}"))),
        }
    }
}

impl Default for QueryRuntime {
    fn default() -> QueryRuntime {
        QueryRuntime::new()
    }
}

impl Drop for QueryRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its tasks end, which an async caller must not do.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Gives the calling thread a lower scheduling priority (nice 10): with as many query
/// threads as cores, the kernel would otherwise share the cores evenly between them and
/// the HTTP threads, and a page or `/healthz` would wait behind a heavy query's slices.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers; on Linux, PRIO_PROCESS with id 0 sets
        // the nice value of the calling thread only.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
        if result != 0 {
            tracing::debug!("the query thread's priority could not be lowered");
        }
    }
}

/// A task aborted when its waiter is dropped.
struct Cancelling<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Cancelling<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
