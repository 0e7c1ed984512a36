//! The senders: each takes a batch from the queue and runs the script once
//! for it.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use smallvec::SmallVec;
use strata_core::redis::fred::clients::Pool;
use strata_core::redis::fred::error::Error;
use strata_core::redis::fred::interfaces::{ClientLike, LuaInterface};
use strata_core::redis::fred::types::{ClusterHash, CustomCommand, Value};

use super::{Batcher, Pending, Reply, SenderSlot};
use crate::store::StoreError;

/// GCRA for a batch of decisions, each over every policy of its rule,
/// atomically, on the server's clock.
///
/// `KEYS`: the keys of each decision's policies, decision after decision
/// (the state of a policy: its theoretical arrival time `tat`, in
/// microseconds). `ARGV`: the number of rules, then per rule its number of
/// policies `n` and each policy's emission interval `t` (microseconds) and
/// burst; then per decision the index of its rule and its cost — or, when
/// the batch has one rule of one policy and one cost (the usual case),
/// `u` and that cost, and a loop specialised for it runs instead.
///
/// Decisions run in order, each seeing the ones before it, each exactly as
/// it would run alone: it is allowed when every policy has room
/// (`max(tat, now) − now + cost·t ≤ t·burst`), and then consumes from every
/// policy; a refused decision consumes nothing. Each key written is set
/// once, at the end, with a TTL of the time until its quota is full. Both
/// numbers are formatted as integers in the script (`%d`): a Lua number
/// handed to `redis.call` is formatted with `%.17g`, which is slow
/// (measured in `docs/rate-limit.md`).
///
/// Returns integers only, per decision: `allowed`, then per policy
/// `max(tat, now) − now` before the decision. The client derives
/// remaining, reset and retry from those with the same integer GCRA as the
/// memory store (`Gcra::eval`).
const SCRIPT: &str = include_str!("../redis.lua");

/// What a sender needs to run batches: made by the store for each
/// decision it queues.
#[derive(Clone)]
pub(crate) struct Sender {
    pub(crate) pool: Pool,
    pub(crate) batcher: Arc<Batcher>,
    /// The script's hash, once loaded.
    pub(crate) sha: Arc<RwLock<Option<String>>>,
    pub(crate) timeout: Duration,
}

type BoxFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// The decision whose arrival claimed a sender's place sends the first
/// batch itself, so light load spawns no task and wakes no other thread.
/// It yields once first, so that decisions made at the same moment join
/// its batch. What queues meanwhile is handed to a task; if the decision is
/// dropped while leading (its request cancelled), its call and place move
/// to a task, so no decision is ever left waiting.
struct Lead {
    sender: Sender,
    slot: Option<SenderSlot>,
    call: Option<BoxFuture>,
}

impl Lead {
    fn new(sender: Sender, slot: SenderSlot) -> Self {
        Self {
            sender,
            slot: Some(slot),
            call: None,
        }
    }

    async fn run(mut self) {
        tokio::task::yield_now().await;
        let Some(slot) = self.slot.as_mut() else {
            return;
        };
        let Some((batch, another)) = slot.take() else {
            // Nothing waits (the place was given back by `take`).
            self.slot = None;
            return;
        };
        if another {
            self.sender.spawn_another();
        }
        let call = self.call.insert(self.sender.clone().send_owned(batch));
        call.await;
        self.call = None;
        if let Some(mut slot) = self.slot.take()
            && let Some(next) = slot.take()
        {
            drop(tokio::spawn(self.sender.clone().run(slot, Some(next))));
        }
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let call = self.call.take();
        let sender = self.sender.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            drop(runtime.spawn(async move {
                if let Some(call) = call {
                    call.await;
                }
                sender.run(slot, None).await;
            }));
        }
    }
}

impl Sender {
    /// Queues `pending`; when its arrival claims a sender's place, this
    /// call leads (see [`Lead`]).
    pub(crate) async fn submit(self, pending: Pending) {
        if self.batcher.push(pending) {
            let slot = SenderSlot::new(Arc::clone(&self.batcher));
            Lead::new(self, slot).run().await;
        }
    }

    /// Sends `first`, then batches until nothing waits.
    fn run(self, mut slot: SenderSlot, first: Option<(Vec<Pending>, bool)>) -> BoxFuture {
        Box::pin(async move {
            let mut next = first.or_else(|| slot.take());
            while let Some((batch, another)) = next {
                if another {
                    self.spawn_another();
                }
                self.send(batch).await;
                next = slot.take();
            }
        })
    }

    /// Starts another sender for the decisions one batch did not take.
    fn spawn_another(&self) {
        let slot = SenderSlot::new(Arc::clone(&self.batcher));
        drop(tokio::spawn(self.clone().run(slot, None)));
    }

    /// [`send`](Self::send) as an owned future, which can move to a task.
    fn send_owned(self, batch: Vec<Pending>) -> BoxFuture {
        Box::pin(async move { self.send(batch).await })
    }

    /// One script call for `batch`, bounded by the store's timeout; every
    /// decision in it gets its integers or the error.
    async fn send(&self, batch: Vec<Pending>) {
        let expected: usize = batch.iter().map(Pending::reply_len).sum();
        // The earliest caller's deadline bounds the call (every decision in
        // the batch gets the same answer).
        let deadline = batch
            .iter()
            .map(|pending| pending.deadline)
            .min()
            .unwrap_or_else(|| tokio::time::Instant::now() + self.timeout);
        let result = match tokio::time::timeout_at(deadline, self.eval(&batch)).await {
            Ok(Ok(reply)) if reply.len() == expected => Ok(reply),
            Ok(Ok(reply)) => Err(StoreError::Reply(format!("{reply:?}"))),
            Ok(Err(source)) => Err(StoreError::Redis { source }),
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        };
        match result {
            Ok(reply) => {
                let mut rest = &reply[..];
                for pending in batch {
                    let (mine, after) = rest.split_at(pending.reply_len());
                    rest = after;
                    let _ = pending.reply.send(Ok(Reply::from_slice(mine)));
                }
            }
            Err(error) => {
                for pending in batch {
                    let _ = pending.reply.send(Err(error.duplicate()));
                }
            }
        }
    }

    /// `EVALSHA`, loading the script first when its hash is unknown, and
    /// falling back to `EVAL` (which caches it) on `NOSCRIPT`: a failover or
    /// restart empties the script cache and `SCRIPT LOAD` is not replicated.
    ///
    /// Sent as a plain command so that the connection pipelines it (each
    /// decision's `NOSCRIPT` is handled on its own, so pipelining is safe).
    async fn eval(&self, batch: &[Pending]) -> Result<Vec<i64>, Error> {
        let client = self.pool.next_connected();
        let sha = self
            .sha
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let sha = match sha {
            Some(sha) => sha,
            None => {
                let sha: String = client.script_load(SCRIPT).await?;
                *self.sha.write().unwrap_or_else(PoisonError::into_inner) = Some(sha.clone());
                sha
            }
        };
        // The first key routes the call in a cluster (all share its slot).
        let command = |name| CustomCommand::new_static(name, ClusterHash::Offset(2), false);
        let mut values = arguments(batch);
        values[0] = Value::from(sha);
        match client.custom(command("EVALSHA"), values).await {
            Err(error) if error.details().starts_with("NOSCRIPT") => {
                // Rare (after a restart or failover): the arguments are
                // built again rather than kept for every call.
                let mut values = arguments(batch);
                values[0] = Value::from(SCRIPT);
                client.custom(command("EVAL"), values).await
            }
            reply => reply,
        }
    }
}

/// The script call's arguments for `batch`: a placeholder for the script
/// or its hash, the number of keys, the keys, then `ARGV` (see [`SCRIPT`]).
fn arguments(batch: &[Pending]) -> Vec<Value> {
    let n_keys: usize = batch.iter().map(|pending| pending.keys.len()).sum();
    // Decisions of one rule (usually all of them) share its arguments.
    let mut rules: SmallVec<[&[i64]; 4]> = SmallVec::new();
    let mut indices: SmallVec<[i64; 64]> = SmallVec::with_capacity(batch.len());
    for pending in batch {
        let index = match rules.iter().position(|rule| *rule == &pending.rule[..]) {
            Some(index) => index,
            None => {
                rules.push(&pending.rule);
                rules.len() - 1
            }
        };
        indices.push(i64::try_from(index + 1).unwrap_or(i64::MAX));
    }
    let n_rules: usize = rules.iter().map(|rule| 1 + rule.len()).sum();
    let mut values: Vec<Value> = Vec::with_capacity(3 + n_keys + n_rules + 2 * batch.len());
    values.push(Value::Null); // the script or its hash
    values.push(Value::Integer(i64::try_from(n_keys).unwrap_or(i64::MAX)));
    for pending in batch {
        values.extend(
            pending
                .keys
                .iter()
                .map(|key| Value::Bytes(key.inner().clone())),
        );
    }
    values.push(Value::Integer(
        i64::try_from(rules.len()).unwrap_or(i64::MAX),
    ));
    for rule in &rules {
        values.push(Value::Integer(
            i64::try_from(rule.len() / 2).unwrap_or(i64::MAX),
        ));
        values.extend(rule.iter().map(|&arg| Value::Integer(arg)));
    }
    let uniform = match (&rules[..], batch.first()) {
        ([rule], Some(first)) => {
            rule.len() == 2 && batch.iter().all(|pending| pending.cost == first.cost)
        }
        _ => false,
    };
    match batch.first() {
        Some(first) if uniform => {
            values.push(Value::from_static_str("u"));
            values.push(Value::Integer(first.cost));
        }
        _ => {
            for (pending, index) in batch.iter().zip(indices) {
                values.push(Value::Integer(index));
                values.push(Value::Integer(pending.cost));
            }
        }
    }
    values
}
