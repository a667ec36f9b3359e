//! The database: the store and the index kept in step. Every write goes through here.
//!
//! A write is checked against the current graph, made durable in the store (one atomic, flushed
//! batch), and only then applied to the in-memory index under its write lock; readers hold the read
//! lock for the length of one resolver, so they see the graph before a write or after it, never half
//! of it.
//!
//! At open the index is decoded from the index snapshot when that is of the store's generation, and
//! rebuilt from the store otherwise; the snapshot is written again once writes settle
//! ([`Db::write_snapshot_in_background`]) and at clean shutdown ([`Db::write_snapshot`]).

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};

use std::sync::Arc;

use crate::graph::{
    Direction, GraphIndex, IndexBuilder, KindSet, Measure, MeasureBase, MeasureInput, MeasureKind,
    Step,
};
use crate::model::Layer;
use crate::snapshot;
use crate::store::{ChangeRecord, Scanned, Store, StoreError, Write};
use crate::validate::GraphData;

/// Why a write or an open failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
    /// A create found the id taken (checked under the write lock, with the write).
    #[error("`{id}` already exists")]
    Exists { id: String },
    /// The disk refused a write (full, read-only, failing) or a write is stuck on it. Reads go on.
    #[error("{0}")]
    Unavailable(String),
    /// A replicated node could not get a write into its change log (unreachable, no quorum, or it
    /// kept moving). Reads go on.
    #[error("{0}")]
    LogUnavailable(String),
}

impl DbError {
    /// Whether the error comes from this node's disk or log rather than from the write itself: the
    /// same write may succeed later, so a log entry that met it is applied again, not refused.
    pub fn is_passing(&self) -> bool {
        matches!(
            self,
            DbError::Unavailable(_)
                | DbError::LogUnavailable(_)
                | DbError::Store(StoreError::Sled(_))
        )
    }
}

/// A write as a replicated node publishes it to its change log and every node applies it: the
/// arguments of [`Db::apply_change`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoggedChange {
    pub writes: Vec<Write>,
    pub creates: Vec<String>,
    pub expected: Vec<(String, u64)>,
    pub bump: Vec<String>,
    pub record: ChangeRecord,
}

/// A replicated change log that every write goes through instead of straight to the store (set once,
/// at start, by `crate::replicate`).
pub trait ChangeLog: Send + Sync {
    /// Gets `change` into the log (checked against this node's state first) and returns its change
    /// id once this node has applied it.
    fn submit(&self, db: &Db, change: LoggedChange) -> Result<u64, DbError>;

    /// How far this node is in the log.
    fn status(&self, db: &Db) -> Option<LogStatus>;
}

/// How far a replicated node is, for `/healthz`, `/readyz` and `extensions.sequence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogStatus {
    /// The sequence of the last entry this node applied.
    pub applied: u64,
    /// The stream's last sequence when last asked (None: never reached).
    pub last: Option<u64>,
    /// Whether the log answered the last time it was asked.
    pub reachable: bool,
    /// Lag above which the node is not ready.
    pub max_lag: u64,
}

impl LogStatus {
    /// Entries in the log this node has not applied yet (as of the last time the log was asked).
    pub fn lag(&self) -> u64 {
        self.last
            .map_or(0, |last| last.saturating_sub(self.applied))
    }

    /// Whether a load balancer should send this node requests.
    pub fn ready(&self) -> bool {
        self.last.is_some() && self.lag() <= self.max_lag
    }
}

/// Where the index came from when the database was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexOrigin {
    /// Decoded from an index snapshot of the store's generation.
    Snapshot,
    /// Built from the store's records (no snapshot, or one that was stale, torn or damaged).
    Rebuilt,
}

/// What [`Db::write_snapshot`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotWritten {
    /// Wrote a snapshot of this many bytes.
    Written { bytes: u64 },
    /// The snapshot on disk is already of the store's generation.
    Current,
    /// Not now: a write came in meanwhile (it signals the next snapshot), or a failed write left
    /// the index to reconcile with the store.
    Deferred,
}

/// At most one background snapshot per this interval, however the writes come: a snapshot of a
/// million entities costs seconds of CPU and hundreds of megabytes of disk writes.
const SNAPSHOT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Entities, adjacency entries or relations copied per hold of the read lock when a snapshot is
/// taken (milliseconds of work).
const SNAPSHOT_COPY_STEP: usize = 1 << 17;

/// What a failed write left to reconcile once the store is reopened.
enum Failure {
    /// These writes may or may not have reached the disk.
    Writes(Vec<Write>),
    /// An import failed: rebuild the index from the store.
    Import,
}

/// How long a write waits for an earlier one (stuck on a failing disk, say) before giving up.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A store error, with failures of the disk told apart.
fn storage(error: StoreError) -> DbError {
    match error {
        StoreError::Sled(sled::Error::Io(io)) => DbError::Unavailable(format!(
            "the data directory could not be written ({io}); reads go on, and writes resume once the disk is writable again; this write may or may not have reached the disk: read it back before repeating it"
        )),
        other => DbError::Store(other),
    }
}

/// What an import wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub documents: usize,
    pub entities: usize,
    pub relations: usize,
}

impl ImportSummary {
    fn of(graph: &GraphData) -> ImportSummary {
        ImportSummary {
            documents: graph.documents.len(),
            entities: graph.entities.len(),
            relations: graph.relations.len(),
        }
    }
}

/// A data directory, open: durable store plus in-memory index.
pub struct Db {
    /// The store; replaced by a fresh open of the same directory after a storage failure (sled
    /// refuses every write once one has failed). `None` only while that swap is under way.
    store: RwLock<Option<Arc<Store>>>,
    dir: std::path::PathBuf,
    /// Set when a write failed on the disk: the next write reopens the store and reconciles the
    /// index with it first.
    failure: Mutex<Option<Failure>>,
    index: RwLock<GraphIndex>,
    /// Serialises writers so that the check against the index and the write to the store agree.
    writer: Mutex<()>,
    /// Network measures, the latest computed (maybe of an older generation of the index).
    measures: Mutex<MeasureState>,
    /// Signalled when measures are stored.
    measures_ready: std::sync::Condvar,
    /// Held while a measure base is looked up or built (see [`Db::measure_input`]).
    measure_bases_built: Mutex<()>,
    /// Every change made through the API, as it becomes durable and visible (for subscriptions).
    changes: tokio::sync::broadcast::Sender<Arc<ChangeRecord>>,
    origin: IndexOrigin,
    /// The store generation of the snapshot on disk, when it is known to be whole; held while a
    /// snapshot is being written, so that two are never written at once.
    snapshot_written: Mutex<Option<u64>>,
    /// Tells the background snapshot thread (if any) that the graph changed.
    snapshot_signal: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    /// The replicated change log writes go through, if this node follows one.
    log: std::sync::OnceLock<Arc<dyn ChangeLog>>,
    /// The sequence of the last log entry applied (0 when the node follows no log).
    applied: tokio::sync::watch::Sender<u64>,
}

impl Db {
    /// Opens the store in `dir` and builds the index: decoded from the index snapshot if that is of
    /// the store's generation and whole, else from the store's records.
    pub fn open(dir: &Path) -> Result<Db, DbError> {
        let store = Store::open(dir)?;
        let generation = store.generation()?;
        let applied = store.applied_sequence()?.unwrap_or(0);
        let started = std::time::Instant::now();
        let mut read = std::time::Duration::ZERO;
        let decoded = snapshot::read(dir, generation).and_then(|body| {
            read = started.elapsed();
            GraphIndex::decode(&body).map_err(snapshot::Rejected::Decode)
        });
        let (index, origin) = match decoded {
            Ok(index) => {
                tracing::info!(
                    generation,
                    entities = index.entity_count(),
                    relations = index.relation_count(),
                    read_ms = read.as_millis() as u64,
                    took_ms = started.elapsed().as_millis() as u64,
                    "index loaded from the index snapshot"
                );
                (index, IndexOrigin::Snapshot)
            }
            Err(why) => {
                match why {
                    // Expected: a first start, a crash or an import since the last snapshot.
                    snapshot::Rejected::Missing | snapshot::Rejected::Stale { .. } => {
                        tracing::info!("{why}; the index is rebuilt from the store")
                    }
                    _ => tracing::warn!(
                        "{why}: ignored; the index is rebuilt from the store (deleting {} is \
                         always safe)",
                        snapshot::path(dir).display()
                    ),
                }
                let started = std::time::Instant::now();
                let index = load_index(&store)?;
                tracing::info!(
                    generation,
                    entities = index.entity_count(),
                    relations = index.relation_count(),
                    took_ms = started.elapsed().as_millis() as u64,
                    "index rebuilt from the store"
                );
                (index, IndexOrigin::Rebuilt)
            }
        };
        Ok(Db {
            store: RwLock::new(Some(Arc::new(store))),
            dir: dir.to_owned(),
            failure: Mutex::new(None),
            index: RwLock::new(index),
            writer: Mutex::new(()),
            measures: Mutex::new(MeasureState::default()),
            measures_ready: std::sync::Condvar::new(),
            measure_bases_built: Mutex::new(()),
            changes: tokio::sync::broadcast::channel(1024).0,
            snapshot_written: Mutex::new((origin == IndexOrigin::Snapshot).then_some(generation)),
            snapshot_signal: Mutex::new(None),
            origin,
            log: std::sync::OnceLock::new(),
            applied: tokio::sync::watch::channel(applied).0,
        })
    }

    /// Sends every write through `log` from now on. Returns false if a log was set before.
    pub fn set_log(&self, log: Arc<dyn ChangeLog>) -> bool {
        self.log.set(log).is_ok()
    }

    /// How far this node is in its replicated log (None: it follows none).
    pub fn log_status(&self) -> Option<LogStatus> {
        self.log.get().and_then(|log| log.status(self))
    }

    /// Whether writes go through a replicated change log.
    pub fn is_replicated(&self) -> bool {
        self.log.get().is_some()
    }

    /// The sequence of the last entry of the replicated log this node applied (0 without a log).
    pub fn applied_sequence(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Follows [`Db::applied_sequence`] as it advances.
    pub fn watch_applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Checks a change as the write path will when it is applied, under the write lock, against the
    /// graph and the versions as they are now; returns the log sequence they are at.
    pub fn check_logged(&self, change: &LoggedChange) -> Result<u64, DbError> {
        let _writer = self.lock_writer()?;
        self.recover()?;
        checked(&self.read(), change.writes.clone(), &change.creates)?;
        let store = self.store();
        for (id, expected) in &change.expected {
            let current = store.version(id)?;
            if current != *expected {
                return Err(DbError::Store(StoreError::Conflict {
                    id: id.clone(),
                    expected: *expected,
                    current,
                }));
            }
        }
        Ok(self.applied_sequence())
    }

    /// Applies the replicated log's entry `sequence` (a change, with the id `change_id` every node
    /// gives it), storing the sequence in the same transaction. A change that breaks a rule here
    /// breaks it on every node (they all apply the same entries in the same order): it is refused
    /// alike everywhere, its sequence recorded, and the error returned. A disk failure is returned
    /// without recording the sequence, so that the entry is applied again.
    pub fn apply_logged(
        &self,
        sequence: u64,
        change: LoggedChange,
        change_id: u64,
    ) -> Result<u64, DbError> {
        let LoggedChange {
            writes,
            creates,
            expected,
            bump,
            record,
        } = change;
        let record = ChangeRecord {
            id: change_id,
            ..record
        };
        let announced = record.clone();
        let outcome = self.write(writes, &creates, |store, writes| {
            Ok(store.apply_change_at(writes, &expected, &bump, record, Some(sequence))?)
        });
        match outcome {
            Ok(id) => {
                self.applied.send_replace(sequence);
                let _ = self.changes.send(Arc::new(announced));
                Ok(id)
            }
            Err(error) if error.is_passing() => Err(error),
            Err(refused) => {
                self.mark_applied(sequence)?;
                Err(refused)
            }
        }
    }

    /// Makes every entry applied so far durable (a replicated node flushes once it has caught up).
    pub fn flush_store(&self) -> Result<(), DbError> {
        self.store().flush().map_err(storage)
    }

    /// Records that the log's entry `sequence` was applied without a change of the records.
    pub fn mark_applied(&self, sequence: u64) -> Result<(), DbError> {
        let _writer = self.lock_writer()?;
        self.store()
            .set_applied_sequence(sequence)
            .map_err(storage)?;
        self.applied.send_replace(sequence);
        Ok(())
    }

    /// Where the index came from at open.
    pub fn index_origin(&self) -> IndexOrigin {
        self.origin
    }

    /// Writes the index snapshot, tagged with the store's generation, unless the one on disk is
    /// already of it. The generation is read under the write lock, where store and index agree, and
    /// the index is copied only if no write reached it since (else [`SnapshotWritten::Deferred`]): a
    /// snapshot never claims a generation whose writes it lacks. The copy takes the index's read
    /// lock in short steps (a write waits for one step at most, and a write that gets in between
    /// defers the snapshot); encoding and writing the file hold no lock.
    pub fn write_snapshot(&self) -> Result<SnapshotWritten, DbError> {
        let mut written = self
            .snapshot_written
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (generation, index_generation) = {
            let _writer = self.lock_writer()?;
            if self
                .failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some()
            {
                return Ok(SnapshotWritten::Deferred);
            }
            (self.store().generation()?, self.read().generation())
        };
        if *written == Some(generation) {
            return Ok(SnapshotWritten::Current);
        }
        let started = std::time::Instant::now();
        let cannot = |error| DbError::Invalid(format!("the index cannot be encoded: {error}"));
        // In steps, releasing the read lock between them so that a write waits for one step at
        // most; a write that gets in changes the generation and the copy is given up.
        let mut copy = crate::graph::ImageCopy::default();
        let mut locked = std::time::Duration::ZERO;
        loop {
            let index = self.read();
            let step = std::time::Instant::now();
            if index.generation() != index_generation {
                return Ok(SnapshotWritten::Deferred);
            }
            let whole = index
                .copy_step(&mut copy, SNAPSHOT_COPY_STEP)
                .map_err(cannot)?;
            locked += step.elapsed();
            if whole {
                break;
            }
        }
        let image = copy.finish();
        let copied = started.elapsed();
        let body = image.encode().map_err(cannot)?;
        drop(image);
        let encoded = started.elapsed();
        let bytes = snapshot::write(&self.dir, generation, &body).map_err(|error| {
            DbError::Unavailable(format!("the index snapshot cannot be written: {error}"))
        })?;
        *written = Some(generation);
        tracing::info!(
            generation,
            bytes,
            locked_ms = locked.as_millis() as u64,
            encode_ms = (encoded - copied).as_millis() as u64,
            took_ms = started.elapsed().as_millis() as u64,
            "index snapshot written"
        );
        Ok(SnapshotWritten::Written { bytes })
    }

    /// Writes the index snapshot on a thread of its own from now on: once writes have settled (no
    /// write for `settle`), at most once per [`SNAPSHOT_INTERVAL`], and once at the start when the
    /// index was rebuilt. Stops when the database is dropped.
    pub fn write_snapshot_in_background(self: &Arc<Db>, settle: std::time::Duration) {
        let mut slot = self
            .snapshot_signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return;
        }
        let (signal, signals) = std::sync::mpsc::channel::<()>();
        if self.origin == IndexOrigin::Rebuilt {
            let _ = signal.send(());
        }
        let db = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("innograph-snapshot".to_owned())
            .spawn(move || {
                in_the_background();
                snapshot_in_background(db, signals, settle)
            });
        match spawned {
            Ok(_) => *slot = Some(signal),
            Err(error) => {
                tracing::error!(%error, "cannot start the snapshot thread; the index snapshot is written at shutdown only");
            }
        }
    }

    /// Whether the data directory holds nothing yet.
    pub fn is_empty(&self) -> bool {
        self.store().is_empty()
    }

    /// The index, for reading. Hold the guard only as long as one answer takes.
    pub fn read(&self) -> RwLockReadGuard<'_, GraphIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The id an entity answers to now: its own, or the survivor's when it was merged away.
    pub fn resolve(&self, id: &str) -> Result<String, DbError> {
        if self.read().contains(id) {
            return Ok(id.to_owned());
        }
        Ok(self.store().redirect(id)?.unwrap_or_else(|| id.to_owned()))
    }

    /// One network measure of the subgraph of the entities in `layers`. Without a background
    /// computation (see [`Db::compute_measures_in_background`]) that of the current graph, computed
    /// now if the cached one is older. With one, the latest computed, even of an older generation: a
    /// request never waits for a recomputation, only for the first computation of the measure it
    /// asks for, until `deadline` (then `None`). Asking for a set of layers other than the ecosystem
    /// starts its background computation; from then on it is kept up to date like the ecosystem's.
    pub fn measure_within(
        &self,
        layers: &[Layer],
        kind: MeasureKind,
        deadline: Option<std::time::Instant>,
    ) -> Option<Arc<Measure>> {
        let key = LayerKey::of(layers);
        let mut state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
        if state.background.is_empty() {
            drop(state);
            let index = self.read();
            let state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(measure) = state.latest.get(&(key, kind))
                && measure.generation() == index.generation()
            {
                return Some(measure.clone());
            }
            drop(state);
            let input = self.measure_input(&index, key, kind);
            drop(index);
            return Some(self.keep(key, Arc::new(input.compute())));
        }
        if state.wanted.insert(key) {
            for thread in &state.background {
                let _ = thread.send(Signal::Wanted);
            }
        }
        loop {
            if let Some(measure) = state.latest.get(&(key, kind)) {
                return Some(measure.clone());
            }
            let wait = match deadline {
                Some(deadline) => deadline.checked_duration_since(std::time::Instant::now())?,
                None => std::time::Duration::from_secs(3600),
            };
            state = self
                .measures_ready
                .wait_timeout(state, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The latest measures of `layers` already computed, of every kind (none computed: empty);
    /// never waits.
    pub fn measures_computed(&self, layers: &[Layer]) -> Vec<Arc<Measure>> {
        let key = LayerKey::of(layers);
        let state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
        MeasureKind::ALL
            .iter()
            .filter_map(|&kind| state.latest.get(&(key, kind)).cloned())
            .collect()
    }

    /// Whether a measure is of the current generation (false while it is being recomputed).
    pub fn measure_current(&self, measure: &Measure) -> bool {
        measure.generation() == self.read().generation()
    }

    /// Copies the input of one measure out of the index, with the base of the index's generation
    /// (shared by the measures of that generation).
    fn measure_input(&self, index: &GraphIndex, key: LayerKey, kind: MeasureKind) -> MeasureInput {
        // One thread builds a generation's base; the others wait for it rather than build it again.
        let _building = self
            .measure_bases_built
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let cached = {
            let state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
            state
                .bases
                .get(&key)
                .filter(|b| b.generation == index.generation())
                .cloned()
        };
        let base = cached.unwrap_or_else(|| {
            let base = Arc::new(index.measure_base(key.kinds().as_deref()));
            let mut state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
            state.bases.insert(key, base.clone());
            base
        });
        index.measure_input(&base, kind)
    }

    /// Stores a computed measure unless a newer one of its kind is already in; returns the one kept.
    fn keep(&self, key: LayerKey, measure: Arc<Measure>) -> Arc<Measure> {
        let mut state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = (key, measure.kind);
        let kept = match state.latest.get(&slot) {
            Some(old) if old.generation() > measure.generation() => old.clone(),
            _ => {
                state.latest.insert(slot, measure.clone());
                measure
            }
        };
        drop(state);
        self.measures_ready.notify_all();
        kept
    }

    /// Computes measures on threads of their own from now on, one thread per kind of measure (so
    /// that a quick measure never waits behind a slow one): each once now, and again each time
    /// writes have settled (no write for `settle`), for the ecosystem layer and for every other
    /// set of layers a request has asked for. A thread holds the index's read lock only to copy what
    /// its computation needs, and stops when the database is dropped.
    pub fn compute_measures_in_background(self: &Arc<Db>, settle: std::time::Duration) {
        let mut state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.background.is_empty() {
            return;
        }
        state.wanted.insert(LayerKey::ECOSYSTEM);
        for kind in MeasureKind::ALL {
            let (signal, signals) = std::sync::mpsc::channel::<Signal>();
            let _ = signal.send(Signal::Wanted);
            let db = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name(format!("innograph-{}", kind.name()))
                .spawn(move || {
                    in_the_background();
                    measure_in_background(db, kind, signals, settle)
                });
            match spawned {
                Ok(_) => state.background.push(signal),
                Err(error) => {
                    tracing::error!(%error, "cannot start the measure threads; measures are computed on request");
                    // Dropping the senders stops the threads already started.
                    state.background.clear();
                    return;
                }
            }
        }
    }

    /// Tells the background measures and snapshot threads that the graph changed.
    fn changed(&self) {
        let state = self.measures.lock().unwrap_or_else(PoisonError::into_inner);
        for thread in &state.background {
            let _ = thread.send(Signal::Changed);
        }
        drop(state);
        if let Some(signal) = self
            .snapshot_signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = signal.send(());
        }
    }

    pub fn store(&self) -> Arc<Store> {
        loop {
            if let Some(store) = self
                .store
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
            {
                return store.clone();
            }
            // A reopen is under way (milliseconds).
            std::thread::yield_now();
        }
    }

    /// Takes the write lock, waiting at most [`WRITER_WAIT`] for an earlier write to finish.
    fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, ()>, DbError> {
        let started = std::time::Instant::now();
        loop {
            match self.writer.try_lock() {
                Ok(guard) => return Ok(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                    return Ok(poisoned.into_inner());
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    if started.elapsed() > WRITER_WAIT {
                        return Err(DbError::Unavailable(format!(
                            "an earlier write has been waiting for the disk for more than {} s; reads go on, retry later",
                            WRITER_WAIT.as_secs()
                        )));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
    }

    /// After a failed write: reopens the store (sled refuses every write once one failed) and brings
    /// the index in line with what reached the disk. Called with the write lock held.
    fn recover(&self) -> Result<(), DbError> {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(failed) = failure.take() else {
            return Ok(());
        };
        // Reopening drops the store first (sled locks its directory): do it only once the disk takes
        // writes again, or readers would be left without a store.
        if let Err(error) = probe_writable(&self.dir) {
            *failure = Some(failed);
            return Err(DbError::Unavailable(format!(
                "the data directory is still not writable ({error}); reads go on, retry once the disk is writable again"
            )));
        }
        {
            let mut slot = self.store.write().unwrap_or_else(PoisonError::into_inner);
            drop(slot.take());
            let mut attempt = 0;
            let store = loop {
                match Store::open(&self.dir) {
                    Ok(store) => break store,
                    Err(error) if attempt < 20 => {
                        attempt += 1;
                        tracing::warn!(%error, attempt, "cannot reopen the data directory yet");
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    Err(error) => {
                        // Every acknowledged write is on disk; a supervisor restarts us.
                        tracing::error!(%error, "cannot reopen the data directory; stopping");
                        std::process::exit(70);
                    }
                }
            };
            *slot = Some(Arc::new(store));
        }
        let store = self.store();
        tracing::warn!("the data directory was reopened after a storage failure");
        self.changed();
        match failed {
            Failure::Import => {
                let rebuilt = load_index(&store)?;
                *self.index.write().unwrap_or_else(PoisonError::into_inner) = rebuilt;
            }
            Failure::Writes(writes) => {
                let documents = store.snapshot_documents()?;
                let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
                for write in &writes {
                    match write {
                        Write::PutDocument { document, .. } => {
                            if let Some(stored) = documents.iter().find(|d| d.id == document.id) {
                                index.put_document(stored.clone());
                            }
                        }
                        Write::PutEntity(entity) => {
                            reconcile_entity(&mut index, &store, &entity.id)?
                        }
                        Write::DeleteEntity(id) => reconcile_entity(&mut index, &store, id)?,
                        Write::PutRelation(relation) => reconcile_relation(
                            &mut index,
                            &store,
                            &relation.source,
                            relation.kind,
                            &relation.target,
                        )?,
                        Write::DeleteRelation {
                            source,
                            kind,
                            target,
                        } => reconcile_relation(&mut index, &store, source, *kind, target)?,
                        Write::PutRedirect { .. } => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Everything in the store with document texts, sorted by id: what every export writes.
    pub fn export_data(&self) -> Result<GraphData, DbError> {
        let store = self.store();
        let snapshot = store.snapshot()?;
        let mut graph = GraphData {
            documents: with_texts(&store, snapshot.documents)?,
            entities: snapshot.entities,
            relations: snapshot.relations,
        };
        graph.sort();
        Ok(graph)
    }

    /// The full records (with evidence) of relations the index returned, in the same order.
    pub fn full_relations(
        &self,
        views: &[crate::graph::RelationView],
    ) -> Result<Vec<crate::model::Relation>, DbError> {
        let mut relations = Vec::with_capacity(views.len());
        let store = self.store();
        for view in views {
            if let Some(relation) =
                store.relation(&view.source.id, view.edge.kind, &view.target.id)?
            {
                relations.push(relation);
            }
        }
        Ok(relations)
    }

    /// An index rebuilt from the store from scratch: what the live index must equal.
    pub fn rebuilt_index(&self) -> Result<GraphIndex, DbError> {
        load_index(&self.store())
    }

    /// Writes a validated graph: every document, entity and relation, replacing records with the same
    /// id, all or nothing, however large (the store writes it in chunks under an undo log).
    pub fn import(&self, graph: &GraphData) -> Result<ImportSummary, DbError> {
        self.import_with_progress(graph, &|_| {})
    }

    /// [`Db::import`], reporting entity records written.
    pub fn import_with_progress(
        &self,
        graph: &GraphData,
        progress: &dyn Fn(u64),
    ) -> Result<ImportSummary, DbError> {
        let _writer = self.lock_writer()?;
        self.recover()?;
        {
            let index = self.read();
            check_import(graph, |id| Ok(index.contains(id)))?;
        }
        let imported = self.store().import(
            &graph.documents,
            &graph.entities,
            &graph.relations,
            progress,
        );
        if let Err(error) = imported {
            let error = storage(error);
            if matches!(error, DbError::Unavailable(_)) {
                *self.failure.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Failure::Import);
            }
            return Err(error);
        }
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        for (document, _) in &graph.documents {
            index.put_document(document.clone());
        }
        for entity in &graph.entities {
            index.put_entity(entity.clone());
        }
        for relation in &graph.relations {
            index.put_relation(relation);
        }
        drop(index);
        self.changed();
        Ok(ImportSummary::of(graph))
    }

    /// Applies a batch of writes: checked, durable, then visible. Deleting an entity deletes the
    /// relations that point to it in the same batch.
    pub fn apply(&self, writes: Vec<Write>) -> Result<(), DbError> {
        self.write(writes, &[], |store, writes| Ok(store.apply(writes)?))
            .map(|_| ())
    }

    /// Applies a batch as [`Db::apply`] does, with optimistic concurrency (`expected` versions), version
    /// bumps and a change-log entry, all in one store transaction. `creates` are ids the batch creates:
    /// the batch fails with [`DbError::Exists`] if one exists when it is written. Returns the change id.
    pub fn apply_change(
        &self,
        writes: Vec<Write>,
        creates: &[String],
        expected: &[(String, u64)],
        bump: &[String],
        change: ChangeRecord,
    ) -> Result<u64, DbError> {
        if let Some(log) = self.log.get() {
            return log.submit(
                self,
                LoggedChange {
                    writes,
                    creates: creates.to_vec(),
                    expected: expected.to_vec(),
                    bump: bump.to_vec(),
                    record: change,
                },
            );
        }
        let record = change.clone();
        let id = self.write(writes, creates, |store, writes| {
            Ok(store.apply_change(writes, expected, bump, change)?)
        })?;
        // Nobody listening is fine: the change is in the log either way.
        let _ = self.changes.send(Arc::new(ChangeRecord { id, ..record }));
        Ok(id)
    }

    /// A receiver of every change from now on (lagging receivers skip the oldest).
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Arc<ChangeRecord>> {
        self.changes.subscribe()
    }

    /// The one write path: check the batch against the index under the write lock (so that no other
    /// write can come between the check and the write), make it durable, then show it.
    fn write<T>(
        &self,
        writes: Vec<Write>,
        creates: &[String],
        persist: impl FnOnce(&Store, &[Write]) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let _writer = self.lock_writer()?;
        self.recover()?;
        let writes = checked(&self.read(), writes, creates)?;
        let outcome = match persist(&self.store(), &writes) {
            Ok(outcome) => outcome,
            Err(DbError::Store(error)) => {
                let error = storage(error);
                if matches!(error, DbError::Unavailable(_)) {
                    *self.failure.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(Failure::Writes(writes));
                }
                return Err(error);
            }
            Err(other) => return Err(other),
        };
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        for write in writes {
            match write {
                Write::PutDocument { document, .. } => index.put_document(document),
                Write::PutEntity(entity) => index.put_entity(entity),
                Write::DeleteEntity(id) => {
                    index.remove_entity(&id);
                }
                Write::PutRelation(relation) => {
                    index.put_relation(&relation);
                }
                Write::DeleteRelation {
                    source,
                    kind,
                    target,
                } => {
                    index.remove_relation(&source, kind, &target);
                }
                Write::PutRedirect { .. } => {}
            }
        }
        drop(index);
        self.changed();
        Ok(outcome)
    }
}

/// The body of one background measure thread: computes measure `kind` for every wanted set of
/// layers whose latest result is missing or of an older generation, each time it is signalled
/// (after a change, once changes have settled for `settle`).
fn measure_in_background(
    db: std::sync::Weak<Db>,
    kind: MeasureKind,
    signals: std::sync::mpsc::Receiver<Signal>,
    settle: std::time::Duration,
) {
    while let Ok(signal) = signals.recv() {
        if signal == Signal::Changed {
            // Let a burst of writes finish first.
            loop {
                match signals.recv_timeout(settle) {
                    Ok(_) => continue,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        }
        let Some(db) = db.upgrade() else { return };
        let mut wanted: Vec<LayerKey> = db
            .measures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wanted
            .iter()
            .copied()
            .collect();
        // The default of the measure fields (the ecosystem) first.
        wanted.sort_by_key(|key| (*key != LayerKey::ECOSYSTEM, key.0));
        for key in wanted {
            let input = {
                let index = db.read();
                let fresh = db
                    .measures
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .latest
                    .get(&(key, kind))
                    .is_some_and(|m| m.generation() == index.generation());
                if fresh {
                    continue;
                }
                db.measure_input(&index, key, kind)
            };
            let measure = Arc::new(input.compute());
            tracing::info!(
                measure = kind.name(),
                generation = measure.generation(),
                layers = key.0,
                took_ms = measure.took.as_millis() as u64,
                "network measure computed"
            );
            db.keep(key, measure);
        }
    }
}

/// The body of the background snapshot thread: after each change, once changes have settled for
/// `settle` and [`SNAPSHOT_INTERVAL`] has passed since the last snapshot, writes one.
fn snapshot_in_background(
    db: std::sync::Weak<Db>,
    signals: std::sync::mpsc::Receiver<()>,
    settle: std::time::Duration,
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut last: Option<std::time::Instant> = None;
    while signals.recv().is_ok() {
        loop {
            let wait = match last.and_then(|last| SNAPSHOT_INTERVAL.checked_sub(last.elapsed())) {
                Some(left) => left.max(settle),
                None => settle,
            };
            match signals.recv_timeout(wait) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let Some(db) = db.upgrade() else { return };
        match db.write_snapshot() {
            Ok(_) => last = Some(std::time::Instant::now()),
            Err(error) => tracing::warn!(%error, "the index snapshot was not written"),
        }
    }
}

/// Lowers the calling thread's scheduling priority to the lowest (nice 19) on Linux, so that
/// background work (network measures, index snapshots: minutes of CPU on a national graph) takes
/// only the CPU that requests leave. Best effort: elsewhere, or where refused, nothing changes.
fn in_the_background() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(thread), 19) {
            tracing::debug!(%error, "cannot lower a background thread's priority");
        }
    }
}

/// What wakes a background measure thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    /// The graph changed: recompute once writes settle.
    Changed,
    /// A set of layers is wanted (or the thread just started): compute what is missing now.
    Wanted,
}

/// The latest measures of each set of layers and kind, the bases they share, which sets of layers
/// are kept up to date, and the channels to the background threads (none: computed on request).
#[derive(Default)]
struct MeasureState {
    latest: std::collections::HashMap<(LayerKey, MeasureKind), Arc<Measure>>,
    bases: std::collections::HashMap<LayerKey, Arc<MeasureBase>>,
    wanted: std::collections::HashSet<LayerKey>,
    background: Vec<std::sync::mpsc::Sender<Signal>>,
}

/// A set of layers as a bit mask (1: ecosystem, 2: policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct LayerKey(u8);

impl LayerKey {
    const ECOSYSTEM: LayerKey = LayerKey(1);
    const POLICY: LayerKey = LayerKey(2);
    const ALL: LayerKey = LayerKey(3);

    fn of(layers: &[Layer]) -> LayerKey {
        let mut mask = 0;
        for layer in layers {
            mask |= match layer {
                Layer::Ecosystem => 1,
                Layer::Policy => 2,
            };
        }
        if mask == 0 {
            LayerKey::ALL
        } else {
            LayerKey(mask)
        }
    }

    /// The entity kinds of these layers; `None` for all of them.
    fn kinds(self) -> Option<Vec<crate::model::EntityKind>> {
        match self {
            LayerKey::ECOSYSTEM => Some(Layer::kinds(&[Layer::Ecosystem])),
            LayerKey::POLICY => Some(Layer::kinds(&[Layer::Policy])),
            _ => None,
        }
    }
}

/// A data directory opened for bulk imports only: the store without the in-memory index, for the
/// command line's `import`, which exits when done (building and dropping a million-entity index
/// would be a third of its work).
pub struct Importer {
    store: Store,
}

impl Importer {
    pub fn open(dir: &Path) -> Result<Importer, DbError> {
        Ok(Importer {
            store: Store::open(dir)?,
        })
    }

    /// Every stored document with its text.
    /// A stored entity.
    pub fn entity(&self, id: &str) -> Result<Option<crate::model::Entity>, DbError> {
        Ok(self.store.entity(id)?)
    }

    pub fn documents(&self) -> Result<Vec<(crate::model::Document, String)>, DbError> {
        with_texts(&self.store, self.store.snapshot_documents()?)
    }

    /// [`crate::store::Store::import_streamed`]: an import written as it is read, all or nothing.
    pub fn import_streamed<T, E: From<StoreError>>(
        &self,
        write: impl FnOnce(&mut crate::store::ImportWriter<'_>) -> Result<(T, bool), E>,
    ) -> Result<T, E> {
        self.store.import_streamed(write)
    }

    /// What [`Db::import_with_progress`] does, checking endpoints against the store instead of the
    /// index.
    pub fn import(
        &self,
        graph: &GraphData,
        progress: &dyn Fn(u64),
    ) -> Result<ImportSummary, DbError> {
        check_import(graph, |id| Ok(self.store.entity(id)?.is_some()))?;
        self.store.import(
            &graph.documents,
            &graph.entities,
            &graph.relations,
            progress,
        )?;
        Ok(ImportSummary::of(graph))
    }
}

/// Each document with its stored text (empty when none is stored).
fn with_texts(
    store: &Store,
    documents: Vec<crate::model::Document>,
) -> Result<Vec<(crate::model::Document, String)>, DbError> {
    documents
        .into_iter()
        .map(|document| {
            let text = store.document_text(&document.id)?.unwrap_or_default();
            Ok((document, text))
        })
        .collect()
}

/// Refuses an import with a relation whose endpoint is neither in the batch nor stored (`stored`).
fn check_import(
    graph: &GraphData,
    stored: impl Fn(&str) -> Result<bool, DbError>,
) -> Result<(), DbError> {
    let added: rustc_hash::FxHashSet<&str> = graph.entities.iter().map(|e| e.id.as_str()).collect();
    for relation in &graph.relations {
        for end in [&relation.source, &relation.target] {
            if !added.contains(end.as_str()) && !stored(end)? {
                return Err(DbError::Invalid(format!(
                    "relation `{}` points to unknown entity `{end}`",
                    relation.id()
                )));
            }
        }
    }
    Ok(())
}

/// Builds the index in one scan of the store.
fn load_index(store: &Store) -> Result<GraphIndex, DbError> {
    let started = std::time::Instant::now();
    let mut builder = IndexBuilder::default();
    store.scan(|scanned| match scanned {
        Scanned::Document(document) => builder.document(document),
        Scanned::Record(entity, relations) => {
            if let Some(entity) = entity {
                builder.entity(entity);
            }
            for relation in relations {
                builder.relation(relation);
            }
        }
    })?;
    let scanned = started.elapsed();
    let (index, missing) = builder.finish();
    tracing::debug!(
        scan_ms = scanned.as_millis() as u64,
        finish_ms = (started.elapsed() - scanned).as_millis() as u64,
        "index built"
    );
    if !missing.is_empty() {
        tracing::warn!(
            "{} relation target(s) have no entity record and were left out of the index, e.g. `{}`",
            missing.len(),
            missing[0]
        );
    }
    Ok(index)
}

/// A batch as the write path judges it against the graph: no id it creates may exist, deleting an
/// entity deletes the relations pointing to it, and every rule holds for the graph as it will be.
/// Returns the batch with those deletes added.
fn checked(
    index: &GraphIndex,
    writes: Vec<Write>,
    creates: &[String],
) -> Result<Vec<Write>, DbError> {
    if let Some(id) = creates.iter().find(|id| exists(index, id)) {
        return Err(DbError::Exists { id: (*id).clone() });
    }
    let writes = expand_deletes(index, writes);
    check_endpoints(index, &writes)?;
    check_rules(index, &writes)?;
    Ok(writes)
}

/// Adds, before each entity deletion, the deletion of every relation pointing to that entity.
fn expand_deletes(index: &GraphIndex, writes: Vec<Write>) -> Vec<Write> {
    let mut expanded = Vec::with_capacity(writes.len());
    for write in writes {
        if let Write::DeleteEntity(id) = &write {
            let incoming = Step::new(KindSet::ALL, Direction::In);
            for relation in index.relations_of(id, incoming) {
                if relation.target.id == *id && relation.source.id != *id {
                    expanded.push(Write::DeleteRelation {
                        source: relation.source.id.clone(),
                        kind: relation.edge.kind,
                        target: id.clone(),
                    });
                }
            }
        }
        expanded.push(write);
    }
    expanded
}

/// Whether the disk under `dir` takes a write again: writes, syncs and removes a 1 MiB probe file.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let path = dir.join(".innograph-write-probe");
    let result = (|| {
        let mut file = std::fs::File::create(&path)?;
        file.write_all(&vec![0u8; 1 << 20])?;
        file.sync_all()
    })();
    let _ = std::fs::remove_file(&path);
    result
}

/// Sets the index's entity `id` to what the store holds (present or not).
fn reconcile_entity(index: &mut GraphIndex, store: &Store, id: &str) -> Result<(), DbError> {
    match store.entity(id)? {
        Some(entity) => index.put_entity(entity),
        None => {
            index.remove_entity(id);
        }
    }
    Ok(())
}

/// Sets the index's relation to what the store holds (present or not).
fn reconcile_relation(
    index: &mut GraphIndex,
    store: &Store,
    source: &str,
    kind: crate::model::RelationKind,
    target: &str,
) -> Result<(), DbError> {
    match store.relation(source, kind, target)? {
        Some(relation) => {
            index.put_relation(&relation);
        }
        None => {
            index.remove_relation(source, kind, target);
        }
    }
    Ok(())
}

/// Whether an entity id, or a relation id (`SOURCE/KIND/TARGET`), names a record of the index.
fn exists(index: &GraphIndex, id: &str) -> bool {
    let mut parts = id.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(source), Some(kind), Some(target)) => kind
            .parse::<crate::model::RelationKind>()
            .is_ok_and(|kind| index.relation(source, kind, target).is_some()),
        _ => index.contains(id),
    }
}

/// Refuses a batch that would leave the graph breaking a rule `validate` checks: a name or alias
/// claimed by two entities, or a relation whose kind does not fit the kinds of its ends (judged with
/// the entities as they are after the batch, so that changing an entity's kind is checked against
/// every relation it has).
fn check_rules(index: &GraphIndex, writes: &[Write]) -> Result<(), DbError> {
    use crate::model::Entity;
    use std::collections::HashMap;
    let mut after: HashMap<&str, Option<&Entity>> = HashMap::new();
    let mut relations: Vec<&crate::model::Relation> = Vec::new();
    let mut deleted_relations: HashSet<String> = HashSet::new();
    for write in writes {
        match write {
            Write::PutEntity(entity) => {
                after.insert(&entity.id, Some(entity));
            }
            Write::DeleteEntity(id) => {
                after.insert(id, None);
            }
            Write::PutRelation(relation) => relations.push(relation),
            Write::DeleteRelation {
                source,
                kind,
                target,
            } => {
                deleted_relations.insert(crate::model::relation_id(source, *kind, target));
            }
            Write::PutDocument { .. } | Write::PutRedirect { .. } => {}
        }
    }
    if after.values().all(Option::is_none) && relations.is_empty() {
        return Ok(());
    }
    // Names: each entity written must not share a name key with another entity as it will be.
    let mut claimed: HashMap<String, &str> = HashMap::new();
    for entity in after.values().flatten() {
        for name in entity.names() {
            let key = crate::validate::name_key(name);
            match claimed.get(&key) {
                Some(other) if *other != entity.id => {
                    return Err(DbError::Invalid(format!(
                        "name or alias «{name}» is claimed by both `{other}` and `{}`",
                        entity.id
                    )));
                }
                _ => {
                    claimed.insert(key, &entity.id);
                }
            }
        }
    }
    if !claimed.is_empty() {
        // Only entities whose names could equal a claimed one (the name index), not all of them.
        for entity in after.values().flatten() {
            for claimed_name in entity.names() {
                for other in index.entities_possibly_named(claimed_name) {
                    if after.contains_key(other.id.as_str()) {
                        continue;
                    }
                    for name in other.names() {
                        if let Some(owner) = claimed.get(&crate::validate::name_key(name)) {
                            return Err(DbError::Invalid(format!(
                                "name or alias «{name}» of `{owner}` is already claimed by `{}`",
                                other.id
                            )));
                        }
                    }
                }
            }
        }
    }
    // Relation ends: the relations written, and every stored relation of an entity whose kind or
    // district data changes.
    let resolve = |id: &str| -> Option<Entity> {
        match after.get(id) {
            Some(entity) => entity.cloned(),
            None => index.entity(id).map(|e| (**e).clone()),
        }
    };
    let mut judged: Vec<crate::model::Relation> = relations.into_iter().cloned().collect();
    for (id, entity) in &after {
        let (Some(entity), Some(before)) = (entity, index.entity(id)) else {
            continue;
        };
        let changed = entity.kind != before.kind
            || entity.district_code != before.district_code
            || entity.district_level != before.district_level;
        if !changed {
            continue;
        }
        for view in index.relations_of(id, Step::new(KindSet::ALL, Direction::Both)) {
            let relation_id = view.id();
            if deleted_relations.contains(&relation_id) {
                continue;
            }
            judged.push(crate::model::Relation {
                source: view.source.id.clone(),
                kind: view.edge.kind,
                target: view.target.id.clone(),
                year: None,
                evidence: Vec::new(),
            });
        }
    }
    for relation in &relations_written(writes) {
        if relation.kind.is_symmetric()
            && relation.source != relation.target
            && index
                .relation(&relation.target, relation.kind, &relation.source)
                .is_some()
            && !deleted_relations.contains(&crate::model::relation_id(
                &relation.target,
                relation.kind,
                &relation.source,
            ))
        {
            return Err(DbError::Invalid(format!(
                "{} is stored once: `{}` already exists",
                relation.kind,
                crate::model::relation_id(&relation.target, relation.kind, &relation.source)
            )));
        }
    }
    for relation in &judged {
        let (Some(source), Some(target)) = (resolve(&relation.source), resolve(&relation.target))
        else {
            continue;
        };
        let problems = crate::validate::check_relation_ends(relation, &source, &target);
        if !problems.is_empty() {
            return Err(DbError::Invalid(problems.join("; ")));
        }
    }
    Ok(())
}

fn relations_written(writes: &[Write]) -> Vec<&crate::model::Relation> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::PutRelation(relation) => Some(relation),
            _ => None,
        })
        .collect()
}

/// Refuses a batch that would leave a relation pointing to an entity that does not exist.
fn check_endpoints(index: &GraphIndex, writes: &[Write]) -> Result<(), DbError> {
    let mut added: HashSet<&str> = HashSet::new();
    let mut deleted: HashSet<&str> = HashSet::new();
    for write in writes {
        match write {
            Write::PutEntity(entity) => {
                added.insert(&entity.id);
                deleted.remove(entity.id.as_str());
            }
            Write::DeleteEntity(id) => {
                deleted.insert(id);
                added.remove(id.as_str());
            }
            Write::PutRelation(relation) => {
                for end in [&relation.source, &relation.target] {
                    let exists = added.contains(end.as_str())
                        || (index.contains(end) && !deleted.contains(end.as_str()));
                    if !exists {
                        return Err(DbError::Invalid(format!(
                            "relation `{}` points to unknown entity `{end}`",
                            relation.id()
                        )));
                    }
                }
            }
            Write::PutDocument { .. }
            | Write::DeleteRelation { .. }
            | Write::PutRedirect { .. } => {}
        }
    }
    Ok(())
}
