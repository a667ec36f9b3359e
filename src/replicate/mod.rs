//! Replicas that follow a replicated change log on NATS JetStream: every node is a materialised view
//! of one stream.
//!
//! - **The log.** One JetStream stream (`--stream NAME`, subject `innograph.NAME.log`) holds every
//!   change, in order. Its first entry is the *genesis*: the name of a snapshot (a [`Store::dump`])
//!   in the object store `NAME_snapshots` that every node starts from. Every later entry is a
//!   [`LoggedChange`], the arguments of [`Db::apply_change`].
//! - **Writes** ([`Replica::submit`]): a node checks the change against its state at log sequence S
//!   (the entries it has applied), publishes it with JetStream's expected-last-sequence S, and only
//!   when the stream acknowledges it (stored on a quorum of its replicas) waits for its own applier
//!   to apply it and answers the client. If the stream moved past S meanwhile, the publish is
//!   refused; the node catches up and checks again. So no two nodes can both get conflicting writes
//!   into the log: each entry was checked against every entry before it.
//! - **Applying** ([`applier`]): each node reads the stream in order from the entry after the last
//!   it applied and applies each change in one store transaction that also records its sequence
//!   ([`Db::apply_logged`]); a change's id is its sequence plus the `change-offset` of the genesis
//!   (the history before it), the same on every node. A change every node refuses alike (it cannot
//!   happen while nodes run the same build) is recorded as applied and skipped.
//! - **Reads** are local. [`LogStatus`] says how far the node is; the API adds `extensions.sequence`
//!   to every answer and waits for `minSequence` (read-your-writes).
//! - **Joining** ([`open`]): a node with an empty data directory restores the genesis snapshot and
//!   applies the log after it; a node that was down applies what it missed; the first node of an
//!   empty stream seeds itself (the bundled seed, or the store it already has) and publishes the
//!   genesis.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream::{self, context::PublishErrorKind};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt as _;

pub use crate::db::LogStatus;
use crate::db::{ChangeLog, Db, DbError, LoggedChange};
use crate::store::Store;

/// Where the log is and how a node follows it (`serve --replicate …`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// NATS server URLs (`nats://HOST:PORT`), any of the cluster's.
    pub urls: Vec<String>,
    /// The JetStream stream's name.
    pub stream: String,
    /// Replicas of the stream (and of the snapshot store) when this node creates them.
    pub replicas: usize,
    /// Lag (entries) above which `/readyz` says the node is not ready.
    pub max_lag: u64,
    /// How long a write waits for the log (publish and acknowledgement, then its own apply).
    pub write_timeout: Duration,
    /// How long a fresh node waits for the log at start before giving up.
    pub join_timeout: Duration,
}

/// One entry of the log.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "camelCase")]
enum Entry {
    /// The first entry: the snapshot every node starts from.
    #[serde(rename_all = "camelCase")]
    Genesis {
        /// The object in the snapshot store.
        snapshot: String,
        /// The highest change id in the snapshot: a logged change's id is this plus its sequence.
        change_offset: u64,
        /// The store format of the snapshot.
        format: String,
    },
    /// A write.
    Change(LoggedChange),
}

fn subject(stream: &str) -> String {
    format!("innograph.{stream}.log")
}

fn bucket(stream: &str) -> String {
    format!("{stream}_snapshots")
}

/// Stream and bucket names: what NATS accepts in both.
pub fn check_stream_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "--stream `{name}`: use 1 to 64 ASCII letters, digits, `_` or `-`"
        ));
    }
    Ok(())
}

/// A node following the log: the [`ChangeLog`] its [`Db`] sends writes through.
pub struct Replica {
    settings: Settings,
    client: async_nats::Client,
    js: jetstream::Context,
    runtime: tokio::runtime::Handle,
    change_offset: u64,
    /// What applying each recent entry gave (change id or the refusal), for the writer waiting on it.
    results: Mutex<BTreeMap<u64, Result<u64, String>>>,
    /// One local writer at a time: a node's writes would only refuse each other's expected sequence.
    writer: Mutex<()>,
    /// This node's name in message ids (host, process, start time).
    node: String,
    /// Writes this node has published (the rest of a message id).
    published: AtomicU64,
    last: AtomicU64,
    known: AtomicBool,
    reachable: AtomicBool,
}

/// Results kept for writers (a writer collects its own within its write timeout).
const RESULTS_KEPT: usize = 100_000;

/// How often a node asks the stream for its last sequence (lag, readiness).
const STATUS_INTERVAL: Duration = Duration::from_millis(500);

impl Replica {
    /// This node's place in the log.
    pub fn status(&self, db: &Db) -> LogStatus {
        LogStatus {
            applied: db.applied_sequence(),
            last: self
                .known
                .load(Ordering::Acquire)
                .then(|| self.last.load(Ordering::Acquire)),
            reachable: self.reachable.load(Ordering::Acquire),
            max_lag: self.settings.max_lag,
        }
    }

    /// Publishes `bytes` expecting the stream's last sequence to be `after`; waits on this thread
    /// (a blocking-pool thread of a write) for the acknowledgement, at most until `deadline`.
    fn publish(
        &self,
        bytes: Vec<u8>,
        after: u64,
        message_id: &str,
        deadline: std::time::Instant,
    ) -> Result<u64, Publish> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err(Publish::Unavailable(
                "this node is not connected to the change log (NATS)".to_owned(),
            ));
        }
        let timeout = deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(Duration::from_millis(1));
        let (tx, rx) = std::sync::mpsc::channel();
        let js = self.js.clone();
        let subject = subject(&self.settings.stream);
        let max_payload = self.client.server_info().max_payload;
        if max_payload > 0 && bytes.len() > max_payload {
            return Err(Publish::Refused(format!(
                "the write is {} bytes, more than the {} bytes the change log's NATS servers take \
                 in one message (their max_payload): send it in smaller batches, or raise \
                 max_payload",
                bytes.len(),
                max_payload
            )));
        }
        let message_id = message_id.to_owned();
        self.runtime.spawn(async move {
            let publish = jetstream::message::PublishMessage::build()
                .payload(bytes.into())
                .message_id(message_id)
                .expected_last_sequence(after);
            let outcome = match tokio::time::timeout(timeout, async {
                js.send_publish(subject, publish).await?.await
            })
            .await
            {
                Err(_) => Err(Publish::Unavailable(
                    "the change log did not acknowledge the write in time".to_owned(),
                )),
                Ok(Ok(ack)) => Ok(ack.sequence),
                Ok(Err(error)) if error.kind() == PublishErrorKind::WrongLastSequence => {
                    Err(Publish::Moved)
                }
                Ok(Err(error)) => Err(Publish::Unavailable(format!(
                    "the change log did not take the write: {error}"
                ))),
            };
            let _ = tx.send(outcome);
        });
        rx.recv_timeout(timeout + Duration::from_secs(1))
            .unwrap_or_else(|_| {
                Err(Publish::Unavailable(
                    "the change log did not answer".to_owned(),
                ))
            })
    }

    /// Waits (on this thread) until this node has applied `sequence`, at most until `deadline`.
    fn wait_applied(&self, db: &Db, sequence: u64, deadline: std::time::Instant) -> bool {
        while db.applied_sequence() < sequence {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    fn record(&self, sequence: u64, result: Result<u64, String>) {
        let mut results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        results.insert(sequence, result);
        while results.len() > RESULTS_KEPT {
            results.pop_first();
        }
    }
}

enum Publish {
    /// The stream's last sequence was not the one expected: another node's write came first.
    Moved,
    /// The log cannot take this write, now or later.
    Refused(String),
    /// The log did not take the write now (no connection, no stream leader, no answer).
    Unavailable(String),
}

impl ChangeLog for Replica {
    fn submit(&self, db: &Db, change: LoggedChange) -> Result<u64, DbError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = serde_json::to_vec(&Entry::Change(change.clone()))
            .map_err(|error| DbError::Invalid(format!("cannot encode the change: {error}")))?;
        // One id for every publish of this write: if a publish whose acknowledgement was lost did
        // reach the log, JetStream answers the next with the first one's sequence instead of
        // storing it twice.
        let message_id = format!(
            "{}-{}",
            self.node,
            self.published.fetch_add(1, Ordering::Relaxed)
        );
        let deadline = std::time::Instant::now() + self.settings.write_timeout;
        let mut pause = Duration::from_millis(20);
        let mut moved = 0;
        loop {
            let at = db.check_logged(&change)?;
            let why = match self.publish(bytes.clone(), at, &message_id, deadline) {
                Ok(sequence) => {
                    if !self.wait_applied(db, sequence, deadline + Duration::from_secs(5)) {
                        return Err(DbError::LogUnavailable(format!(
                            "the write is in the change log at sequence {sequence} but this node \
                             has not applied it yet; it will appear here and on every node (read \
                             with minSequence {sequence})"
                        )));
                    }
                    let result = self
                        .results
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&sequence)
                        .cloned();
                    return match result {
                        Some(Ok(id)) => Ok(id),
                        Some(Err(refusal)) => Err(DbError::Invalid(refusal)),
                        None => Ok(self.change_offset + sequence),
                    };
                }
                Err(Publish::Moved) => {
                    // Another node's write is ahead in the log: apply it, then check again.
                    moved += 1;
                    if self.wait_applied(db, at + 1, deadline) {
                        continue;
                    }
                    format!("the change log moved past sequence {at} {moved} times")
                }
                Err(Publish::Refused(message)) => {
                    return Err(DbError::Invalid(message));
                }
                Err(Publish::Unavailable(message)) => message,
            };
            // The log is away (no connection, a stream leader being elected): try again until the
            // write's deadline.
            if std::time::Instant::now() + pause >= deadline {
                return Err(DbError::LogUnavailable(format!(
                    "{why}; no write went through within {} ms (--log-write-timeout-ms); reads go \
                     on, writes resume when the log is reachable (this write may or may not be in \
                     the log: read it back before repeating it)",
                    self.settings.write_timeout.as_millis()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    fn status(&self, db: &Db) -> Option<LogStatus> {
        Some(Replica::status(self, db))
    }
}

/// Connects to the log and makes sure `dir` holds a store that follows it: restores the genesis
/// snapshot into an empty directory, or publishes this node's store as the genesis of an empty
/// stream (seeding an empty directory with `seed` first). Returns the opened database and the
/// replica (not yet applying: see [`start`]).
pub async fn open(
    dir: &Path,
    settings: Settings,
    seed: impl FnOnce(&Db) -> anyhow::Result<()>,
) -> anyhow::Result<(Arc<Db>, Arc<Replica>)> {
    check_stream_name(&settings.stream).map_err(anyhow::Error::msg)?;
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(settings.write_timeout))
        .name("innograph")
        .connect(settings.urls.clone())
        .await
        .with_context(|| format!("cannot use the NATS servers {}", settings.urls.join(",")))?;
    let js = jetstream::new(client.clone());
    let stored = stored_place(dir)?;
    let deadline = tokio::time::Instant::now() + settings.join_timeout;
    let stream = loop {
        match ensure_stream(&js, &settings).await {
            Ok(stream) => break Some(stream),
            Err(error) if stored.is_some() => {
                // A node that has its state serves reads while the log is away.
                tracing::warn!(
                    "the change log is not reachable ({error:#}); serving reads from the local \
                     store, writes answer LOG_UNAVAILABLE until it is"
                );
                break None;
            }
            Err(error) if tokio::time::Instant::now() > deadline => {
                return Err(error.context(format!(
                    "a node with an empty data directory needs the change log to join; waited {} s",
                    settings.join_timeout.as_secs()
                )));
            }
            Err(error) => {
                tracing::info!("waiting for the change log: {error:#}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let objects = bucket(&settings.stream);
    // The database, when this node opened it to publish the genesis (opened once: at a million
    // entities building the index takes seconds).
    let mut opened = None;
    match (stored, stream) {
        (Some(place), stream) => {
            if place.stream != settings.stream {
                bail!(
                    "{} follows the stream `{}`, not `{}`; start with an empty data directory to \
                     join `{}`",
                    dir.display(),
                    place.stream,
                    settings.stream,
                    settings.stream
                );
            }
            // The check is worth a wait, not a refusal to serve: a node that has its state serves
            // reads while the log is away.
            let genesis = match stream {
                None => None,
                Some(mut stream) => match genesis_within(
                    &mut stream,
                    tokio::time::Instant::now() + Duration::from_secs(5),
                )
                .await
                {
                    Ok(genesis) => genesis,
                    Err(error) if error.is::<Permanent>() => return Err(error),
                    Err(error) => {
                        tracing::warn!(
                            "the stream's genesis could not be read to check it ({error:#}); \
                             going on"
                        );
                        None
                    }
                },
            };
            if let Some(genesis) = genesis
                && genesis.0 != place.genesis
            {
                bail!(
                    "the stream `{}` was started again from another snapshot (`{}`; this data \
                     directory follows `{}`): delete {} to join it anew",
                    settings.stream,
                    genesis.0,
                    place.genesis,
                    dir.display()
                );
            }
        }
        (None, None) => bail!("a node with an empty data directory needs the change log to join"),
        (None, Some(mut stream)) => {
            // The genesis to start from: the stream's, or (on an empty stream) this node's own,
            // unless another node published one first.
            let genesis = match genesis_within(&mut stream, deadline).await? {
                Some(genesis) => Some(genesis),
                None => {
                    let db = crate::db::Db::open(dir)?;
                    let pristine = db.is_empty();
                    if pristine {
                        seed(&db)?;
                    }
                    let won = publish_genesis(&js, &settings, &db).await?;
                    if won.is_some() {
                        drop(db);
                        if !pristine {
                            bail!(
                                "another node started the stream `{}` first; this data directory \
                                 holds its own graph: start with an empty one to join",
                                settings.stream
                            );
                        }
                        clear_directory(dir)?;
                    } else {
                        opened = Some(db);
                    }
                    won
                }
            };
            if let Some((snapshot, change_offset)) = genesis {
                restore(
                    &js,
                    &objects,
                    dir,
                    &settings.stream,
                    &snapshot,
                    change_offset,
                )
                .await?;
            }
        }
    }
    let db = Arc::new(match opened {
        Some(db) => db,
        None => crate::db::Db::open(dir)?,
    });
    let change_offset = db
        .store()
        .log_meta("change-offset")?
        .and_then(|text| text.parse().ok())
        .unwrap_or(0);
    let replica = Arc::new(Replica {
        settings,
        client,
        js,
        runtime: tokio::runtime::Handle::current(),
        change_offset,
        results: Mutex::new(BTreeMap::new()),
        writer: Mutex::new(()),
        node: format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ),
        published: AtomicU64::new(0),
        last: AtomicU64::new(0),
        known: AtomicBool::new(false),
        reachable: AtomicBool::new(false),
    });
    db.set_log(replica.clone());
    Ok((db, replica))
}

/// Starts applying the log and watching its length, on the current runtime.
pub fn start(db: &Arc<Db>, replica: &Arc<Replica>) {
    tokio::spawn(applier(Arc::downgrade(db), replica.clone()));
    tokio::spawn(watch_status(replica.clone()));
}

struct Place {
    stream: String,
    genesis: String,
}

/// The log a data directory follows, if it holds a store that follows one.
fn stored_place(dir: &Path) -> anyhow::Result<Option<Place>> {
    if !dir.join("conf").exists() && !dir.join("db").exists() {
        return Ok(None);
    }
    let store = Store::open(dir)?;
    Ok(
        match (store.log_meta("stream")?, store.log_meta("genesis")?) {
            (Some(stream), Some(genesis)) => Some(Place { stream, genesis }),
            _ => None,
        },
    )
}

async fn ensure_stream(
    js: &jetstream::Context,
    settings: &Settings,
) -> anyhow::Result<jetstream::stream::Stream> {
    let config = jetstream::stream::Config {
        name: settings.stream.clone(),
        subjects: vec![subject(&settings.stream)],
        storage: jetstream::stream::StorageType::File,
        num_replicas: settings.replicas,
        allow_direct: true,
        ..Default::default()
    };
    let stream = js.get_or_create_stream(config).await.with_context(|| {
        format!(
            "cannot find or create the stream `{}` with {} replicas (a single NATS server holds \
             only --stream-replicas 1)",
            settings.stream, settings.replicas
        )
    })?;
    Ok(stream)
}

/// A stream that is not an innograph change log, or one a node cannot join: waiting will not help.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Permanent(String);

/// [`genesis_of`], asked again until `deadline` while the log answers with a passing error (a
/// stream leader being elected answers 503).
async fn genesis_within(
    stream: &mut jetstream::stream::Stream,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Option<(String, u64)>> {
    loop {
        match genesis_of(stream).await {
            Ok(genesis) => return Ok(genesis),
            Err(error) if error.is::<Permanent>() => return Err(error),
            Err(error) if tokio::time::Instant::now() > deadline => return Err(error),
            Err(error) => {
                tracing::info!("waiting for the change log: {error:#}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// The genesis entry of the stream, if it has one: the snapshot's name and the change offset.
async fn genesis_of(
    stream: &mut jetstream::stream::Stream,
) -> anyhow::Result<Option<(String, u64)>> {
    let info = stream
        .info()
        .await
        .context("cannot read the stream's state")?;
    if info.state.last_sequence == 0 {
        return Ok(None);
    }
    if info.state.first_sequence > 1 {
        return Err(Permanent(format!(
            "the stream's first entry (the genesis) was removed (it starts at {}); a node cannot \
             join it (keep the stream's retention unlimited)",
            info.state.first_sequence
        ))
        .into());
    }
    let message = stream
        .get_raw_message(1)
        .await
        .context("cannot read the stream's first entry")?;
    match serde_json::from_slice::<Entry>(&message.payload) {
        Ok(Entry::Genesis {
            snapshot,
            change_offset,
            ..
        }) => Ok(Some((snapshot, change_offset))),
        Ok(Entry::Change(_)) | Err(_) => Err(Permanent(
            "the stream's first entry is not an innograph genesis: is the stream used by \
             something else?"
                .to_owned(),
        )
        .into()),
    }
}

/// Uploads this node's store as the genesis snapshot and publishes the genesis entry, expecting an
/// empty stream. Returns None if this node's genesis is the stream's, or the genesis another node
/// published first.
async fn publish_genesis(
    js: &jetstream::Context,
    settings: &Settings,
    db: &Db,
) -> anyhow::Result<Option<(String, u64)>> {
    let store = db.store();
    let dump = store.dump()?;
    let change_offset = store.last_change_id()?;
    let objects = snapshot_store(js, settings).await?;
    let name = format!(
        "genesis-{}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        std::process::id()
    );
    let mut reader: &[u8] = &dump;
    objects
        .put(name.as_str(), &mut reader)
        .await
        .context("cannot upload the genesis snapshot")?;
    let entry = Entry::Genesis {
        snapshot: name.clone(),
        change_offset,
        format: crate::store::FORMAT.to_owned(),
    };
    let publish = jetstream::message::PublishMessage::build()
        .payload(serde_json::to_vec(&entry)?.into())
        .expected_last_sequence(0);
    let outcome = async {
        js.send_publish(subject(&settings.stream), publish)
            .await?
            .await
    }
    .await;
    match outcome {
        Ok(ack) if ack.sequence == 1 => {
            db.mark_applied(1)?;
            store.follow_log(&settings.stream, &name, change_offset)?;
            tracing::info!(
                stream = settings.stream,
                snapshot = name,
                bytes = dump.len(),
                "started the change log with this node's graph"
            );
            Ok(None)
        }
        Ok(ack) => bail!(
            "the genesis was stored at sequence {} instead of 1",
            ack.sequence
        ),
        Err(error) if error.kind() == PublishErrorKind::WrongLastSequence => {
            let _ = objects.delete(name.as_str()).await;
            let mut stream = js.get_stream(&settings.stream).await?;
            genesis_of(&mut stream)
                .await?
                .context("the stream is no longer empty but has no genesis")
                .map(Some)
        }
        Err(error) => Err(error).context("cannot publish the genesis"),
    }
}

async fn snapshot_store(
    js: &jetstream::Context,
    settings: &Settings,
) -> anyhow::Result<jetstream::object_store::ObjectStore> {
    let name = bucket(&settings.stream);
    match js.get_object_store(&name).await {
        Ok(objects) => Ok(objects),
        Err(_) => js
            .create_object_store(jetstream::object_store::Config {
                bucket: name.clone(),
                num_replicas: settings.replicas,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .with_context(|| format!("cannot create the snapshot store `{name}`")),
    }
}

/// Fills the empty data directory `dir` from the snapshot `name` of the bucket `objects`.
async fn restore(
    js: &jetstream::Context,
    objects: &str,
    dir: &Path,
    stream: &str,
    name: &str,
    change_offset: u64,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let store = js
        .get_object_store(objects)
        .await
        .with_context(|| format!("cannot open the snapshot store `{objects}`"))?;
    let mut object = store
        .get(name)
        .await
        .with_context(|| format!("cannot fetch the snapshot `{name}`"))?;
    let mut bytes = Vec::new();
    object
        .read_to_end(&mut bytes)
        .await
        .with_context(|| format!("cannot read the snapshot `{name}`"))?;
    let restored = Store::open(dir)?;
    restored
        .restore(&bytes)
        .with_context(|| format!("cannot restore the snapshot `{name}`"))?;
    restored.set_applied_sequence(1)?;
    restored.follow_log(stream, name, change_offset)?;
    tracing::info!(
        snapshot = name,
        bytes = bytes.len(),
        took_ms = started.elapsed().as_millis() as u64,
        "joined the change log from its genesis snapshot"
    );
    Ok(())
}

/// Empties a data directory this process just created and seeded (it lost the genesis race).
fn clear_directory(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Applies the log in order from the entry after the last applied, for as long as the database is
/// open; reconnects from where it was after any error.
async fn applier(db: std::sync::Weak<Db>, replica: Arc<Replica>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(start) = db.upgrade().map(|db| db.applied_sequence() + 1) else {
            return;
        };
        match follow(&db, &replica, start).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!("applying the change log stopped ({error:#}); resuming");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Reads the stream from `start` and applies each entry; returns Ok only when the database is gone.
async fn follow(
    db: &std::sync::Weak<Db>,
    replica: &Arc<Replica>,
    start: u64,
) -> anyhow::Result<()> {
    let stream = replica.js.get_stream(&replica.settings.stream).await?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let info = message
            .info()
            .map_err(|error| anyhow::anyhow!("a log entry without its sequence: {error}"))?;
        let (sequence, pending) = (info.stream_sequence, info.pending);
        let Some(db) = db.upgrade() else {
            return Ok(());
        };
        if sequence <= db.applied_sequence() {
            continue;
        }
        let payload = message.payload.clone();
        let applied = {
            let replica = replica.clone();
            let db = db.clone();
            tokio::task::spawn_blocking(move || {
                apply(&db, &replica, sequence, &payload)?;
                // Caught up: make what was applied durable (entries are applied unflushed; the
                // log holds them until then).
                if pending == 0 {
                    db.flush_store()?;
                }
                anyhow::Ok(())
            })
            .await?
        };
        // A disk failure: stop here and read this entry again once the disk takes writes.
        applied?;
    }
    bail!("the log's message stream ended")
}

/// Applies one entry (on a blocking thread).
fn apply(db: &Db, replica: &Replica, sequence: u64, payload: &[u8]) -> anyhow::Result<()> {
    let entry: Entry = match serde_json::from_slice(payload) {
        Ok(entry) => entry,
        Err(error) => {
            tracing::error!(sequence, "an unreadable log entry is skipped: {error}");
            replica.record(sequence, Err(format!("unreadable log entry: {error}")));
            db.mark_applied(sequence)?;
            return Ok(());
        }
    };
    match entry {
        Entry::Genesis { .. } => {
            tracing::warn!(sequence, "a second genesis in the log is skipped");
            db.mark_applied(sequence)?;
        }
        Entry::Change(change) => {
            match db.apply_logged(sequence, change, replica.change_offset + sequence) {
                Ok(id) => replica.record(sequence, Ok(id)),
                Err(error) if error.is_passing() => return Err(error.into()),
                Err(refused) => {
                    tracing::warn!(sequence, "a log entry was refused here: {refused}");
                    replica.record(sequence, Err(refused.to_string()));
                }
            }
        }
    }
    Ok(())
}

/// Asks the stream for its last sequence every [`STATUS_INTERVAL`].
async fn watch_status(replica: Arc<Replica>) {
    loop {
        // Getting the stream fetches its state: one request.
        let state = async {
            let stream = replica.js.get_stream(&replica.settings.stream).await?;
            anyhow::Ok(stream.cached_info().state.last_sequence)
        };
        match tokio::time::timeout(STATUS_INTERVAL * 4, state).await {
            Ok(Ok(last)) => {
                replica.last.store(last, Ordering::Release);
                replica.known.store(true, Ordering::Release);
                replica.reachable.store(true, Ordering::Release);
            }
            _ => replica.reachable.store(false, Ordering::Release),
        }
        tokio::time::sleep(STATUS_INTERVAL).await;
    }
}
