//! The node's long-lived tasks, watched. A task that ends or panics while the node is
//! running is logged as an error and stops the whole node, so a supervisor (systemd and
//! the like) restarts it, rather than leaving a web server in front of a node that no
//! longer talks to its peers; until it has stopped, `/healthz` names the task.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
};

use futures::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// How long a stopping node waits for its short tasks (each answers one message or runs
/// one round of work, so seconds are plenty).
pub(crate) const SHORT_TASKS_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Spawns and watches the node's tasks.
#[derive(Debug, Clone)]
pub struct Supervisor {
    cancel: CancellationToken,
    stopped: Arc<Mutex<Vec<StoppedTask>>>,
    /// Short tasks (one message answered, one round of work): not watched, but the node
    /// waits for them when it stops, so none still holds its store afterwards.
    short: TaskTracker,
}

/// A task that stopped while the node ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedTask {
    pub name: &'static str,
    /// `ended` or the panic's message.
    pub reason: String,
}

impl Supervisor {
    /// Watches tasks of the node that `cancel` stops.
    pub fn new(cancel: CancellationToken) -> Self {
        Supervisor {
            cancel,
            stopped: Arc::default(),
            short: TaskTracker::new(),
        }
    }

    /// Where short tasks are spawned (see [`Supervisor::finish_short_tasks`]).
    pub fn short_tasks(&self) -> TaskTracker {
        self.short.clone()
    }

    /// Waits for the short tasks still running, at most [`SHORT_TASKS_GRACE`]; none can
    /// start afterwards. A task stuck past it is left (and logged) rather than holding up
    /// the node's stop.
    pub async fn finish_short_tasks(&self) {
        self.finish_short_tasks_within(SHORT_TASKS_GRACE).await;
    }

    async fn finish_short_tasks_within(&self, grace: std::time::Duration) {
        self.short.close();
        if tokio::time::timeout(grace, self.short.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.short.len(),
                "short tasks still running when the node stopped"
            );
        }
    }

    /// Spawns `task`; if it ends or panics before the node is stopped, the node stops.
    pub fn spawn<F>(&self, name: &'static str, task: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let supervisor = self.clone();
        tokio::spawn(async move {
            let outcome = AssertUnwindSafe(task).catch_unwind().await;
            if supervisor.cancel.is_cancelled() {
                return;
            }
            let reason = match outcome {
                Ok(()) => "ended".to_owned(),
                Err(panic) => panic_message(panic.as_ref()),
            };
            tracing::error!(
                task = name,
                %reason,
                "a background task stopped while the node was running; stopping the node"
            );
            supervisor
                .stopped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(StoppedTask { name, reason });
            supervisor.cancel.cancel();
        })
    }

    /// Watches a task spawned elsewhere (the network's), as [`Supervisor::spawn`] does.
    pub fn watch(&self, name: &'static str, task: JoinHandle<()>) -> JoinHandle<()> {
        self.spawn(name, async move {
            if let Err(e) = task.await
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        })
    }

    /// Tasks that stopped while the node ran (empty while all is well).
    pub fn stopped(&self) -> Vec<StoppedTask> {
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        format!("panicked: {text}")
    } else if let Some(text) = panic.downcast_ref::<String>() {
        format!("panicked: {text}")
    } else {
        "panicked".to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn stopping_waits_for_short_tasks_but_not_for_a_stuck_one() {
        let supervisor = Supervisor::new(CancellationToken::new());
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        supervisor.short_tasks().spawn({
            let done = done.clone();
            async move {
                let _ = released.await;
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let finishing = tokio::spawn({
            let supervisor = supervisor.clone();
            async move { supervisor.finish_short_tasks().await }
        });
        // Given every chance to run, the stop still waits for the task.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!finishing.is_finished(), "the stop did not wait");
        release.send(()).unwrap();
        finishing.await.unwrap();
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));

        let stuck = Supervisor::new(CancellationToken::new());
        stuck.short_tasks().spawn(std::future::pending::<()>());
        tokio::time::timeout(
            Duration::from_secs(30),
            stuck.finish_short_tasks_within(Duration::from_millis(50)),
        )
        .await
        .expect("a stuck short task does not hold up the stop");
    }

    #[tokio::test]
    async fn a_task_that_dies_is_named_and_stops_the_node() {
        let cancel = CancellationToken::new();
        let supervisor = Supervisor::new(cancel.clone());
        let quiet = supervisor.spawn("quiet", {
            let cancel = cancel.clone();
            async move { cancel.cancelled().await }
        });
        // The kind of bug the supervisor is for: a panic in a long-lived loop (a zero
        // period makes tokio's interval panic).
        let dying = supervisor.spawn("network", async {
            let _ = tokio::time::interval(Duration::ZERO);
        });
        tokio::time::timeout(Duration::from_secs(5), cancel.cancelled())
            .await
            .unwrap();
        dying.await.unwrap();
        quiet.await.unwrap();
        let stopped = supervisor.stopped();
        assert_eq!(stopped.len(), 1, "a task ending on cancel is not a failure");
        assert_eq!(stopped[0].name, "network");
        assert!(stopped[0].reason.starts_with("panicked"), "{stopped:?}");
    }

    #[tokio::test]
    async fn tasks_ending_because_the_node_stops_are_not_failures() {
        let cancel = CancellationToken::new();
        let supervisor = Supervisor::new(cancel.clone());
        let task = supervisor.spawn("delivery", {
            let cancel = cancel.clone();
            async move { cancel.cancelled().await }
        });
        cancel.cancel();
        task.await.unwrap();
        assert!(supervisor.stopped().is_empty());
    }
}
