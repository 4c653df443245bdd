//! The network side: a WebSocket listener whose binary messages carry the Noise link; one task
//! per connection opens records, applies the connection limits and hands requests to the hub.
//!
//! Invariants: nothing from a connection reaches the hub before its link handshake completed;
//! a connection that breaks a limit or sends a bad record is closed with a reason and touches no
//! other connection; logs hold no content, keys or (unless asked) addresses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, UnwrapErr};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{WebSocketStream, accept_async_with_config};
use tracing::{debug, info};
use zfc_core::link::MAX_RECORD_LEN;
use zfc_core::link::{self, RelayKey, Transport};

use crate::hub::{ConnQueue, ToConn, ToHub};

/// Per-connection limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest WebSocket message accepted (a link record: a request plus the link's overhead).
    pub max_message: usize,
    /// Requests per second a connection may sustain; faster senders are slowed down.
    pub rate_per_sec: f64,
    /// Requests a connection may send in a burst above the rate.
    pub burst: f64,
    /// A connection that sends nothing for this long is closed.
    pub idle: Duration,
    /// Most connections open at once; more are refused at accept.
    pub max_connections: usize,
    /// Time allowed for the WebSocket upgrade and the link handshake.
    pub handshake: Duration,
    /// Whether logs may name client addresses.
    pub log_addresses: bool,
    /// A write that takes longer than this closes the connection (a peer that stopped reading).
    pub write: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message: MAX_RECORD_LEN,
            rate_per_sec: 500.0,
            burst: 1000.0,
            idle: Duration::from_secs(300),
            max_connections: 4096,
            handshake: Duration::from_secs(10),
            log_addresses: false,
            write: Duration::from_secs(30),
        }
    }
}

/// Accepts connections until `shutdown` turns true; each runs [`connection`].
pub async fn serve(
    listener: TcpListener,
    key: Arc<RelayKey>,
    hub: mpsc::Sender<ToHub>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let next_conn = Arc::new(AtomicU64::new(1));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        // Finished connections leave the set here, not only at shutdown.
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let (stream, addr) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors, say: wait instead of spinning.
                        info!(%e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    info!("refusing a connection: the connection limit is reached");
                    drop(stream);
                    continue;
                };
                let conn = next_conn.fetch_add(1, Ordering::Relaxed);
                let (key, hub, limits, shutdown) = (key.clone(), hub.clone(), limits.clone(), shutdown.clone());
                tasks.spawn(async move {
                    let peer = limits.log_addresses.then_some(addr);
                    if let Err(why) = connection(stream, conn, &key, hub, &limits, shutdown).await {
                        debug!(conn, ?peer, %why, "connection ended");
                    }
                    drop(permit);
                });
            }
        }
    }
    // Connections see the same signal and close with "going away"; one that cannot be written to
    // is abandoned after the write timeout.
    let drained = timeout(limits.write + Duration::from_secs(1), async { while tasks.join_next().await.is_some() {} });
    if drained.await.is_err() {
        tasks.abort_all();
    }
}

type Ws = WebSocketStream<TcpStream>;

/// How long closing a connection may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

fn close_frame(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.to_owned().into() }))
}

/// One client: the WebSocket upgrade, the link handshake, then requests in and messages out.
async fn connection(
    stream: TcpStream,
    conn: u64,
    key: &RelayKey,
    hub: mpsc::Sender<ToHub>,
    limits: &Limits,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let config =
        WebSocketConfig::default().max_message_size(Some(limits.max_message)).max_frame_size(Some(limits.max_message));
    let mut ws = timeout(limits.handshake, accept_async_with_config(stream, Some(config)))
        .await
        .map_err(|_| "websocket upgrade timed out".to_string())?
        .map_err(|e| format!("websocket upgrade: {e}"))?;
    let mut rng = ChaCha20Rng::from_rng(&mut UnwrapErr(getrandom::SysRng));
    let first = match timeout(limits.handshake, ws.next()).await {
        Ok(Some(Ok(Message::Binary(b)))) => b,
        _ => return close(&mut ws, CloseCode::Protocol, "expected the link handshake").await,
    };
    let (mut transport, answer) = match link::respond(key, &first, &mut rng) {
        Ok(x) => x,
        Err(e) => return close(&mut ws, CloseCode::Protocol, &format!("link handshake: {e}")).await,
    };
    timeout(limits.write, ws.send(Message::binary(answer)))
        .await
        .map_err(|_| "write timed out")?
        .map_err(|e| e.to_string())?;
    let (queue, mut rx) = ConnQueue::new();
    let queued = queue.queued.clone();
    hub.send(ToHub::Connect { conn, binding: transport.channel_binding(), tx: queue })
        .await
        .map_err(|_| "hub stopped")?;
    let mut io = Io { ws: &mut ws, write: limits.write };
    let result = session(&mut io, &mut transport, conn, &hub, &mut rx, &queued, limits, &mut shutdown).await;
    let _ = hub.send(ToHub::Disconnect { conn }).await;
    result
}

/// The WebSocket with the write timeout applied to every write.
struct Io<'a> {
    ws: &'a mut Ws,
    write: Duration,
}

impl Io<'_> {
    async fn feed(&mut self, m: Message) -> Result<(), String> {
        timeout(self.write, self.ws.feed(m))
            .await
            .map_err(|_| "write timed out".to_string())?
            .map_err(|e| e.to_string())
    }
    async fn flush(&mut self) -> Result<(), String> {
        timeout(self.write, self.ws.flush())
            .await
            .map_err(|_| "write timed out".to_string())?
            .map_err(|e| e.to_string())
    }
    async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), String> {
        close(self.ws, code, reason).await
    }
}

async fn close(ws: &mut Ws, code: CloseCode, reason: &str) -> Result<(), String> {
    // A peer that does not read cannot hold the task: the close is best effort, bounded in time.
    let _ = timeout(CLOSE_TIMEOUT, async {
        let _ = ws.send(close_frame(code, reason)).await;
        let _ = ws.close(None).await;
    })
    .await;
    Err(reason.to_string())
}

/// A token bucket: `take` waits until a request may pass.
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    async fn take(&mut self, limits: &Limits) {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * limits.rate_per_sec).min(limits.burst);
        self.last = now;
        if self.tokens < 1.0 {
            let wait = (1.0 - self.tokens) / limits.rate_per_sec;
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            self.tokens = 1.0;
            self.last = Instant::now();
        }
        self.tokens -= 1.0;
    }
}

#[allow(clippy::too_many_arguments)]
async fn session(
    io: &mut Io<'_>,
    transport: &mut Transport,
    conn: u64,
    hub: &mpsc::Sender<ToHub>,
    rx: &mut mpsc::UnboundedReceiver<ToConn>,
    queued: &AtomicUsize,
    limits: &Limits,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let mut bucket = Bucket { tokens: limits.burst, last: Instant::now() };
    // Idle means nothing from the client: what the relay sends does not keep a connection open.
    let mut last_in = Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return io.close(CloseCode::Away, "relay shutting down").await,
            _ = tokio::time::sleep_until(last_in + limits.idle) => return io.close(CloseCode::Policy, "idle timeout").await,
            incoming = io.ws.next() => {
                last_in = Instant::now();
                let msg = match incoming {
                    None => return Ok(()),
                    Some(Err(e)) => return io.close(CloseCode::Size, &format!("websocket: {e}")).await,
                    Some(Ok(m)) => m,
                };
                match msg {
                    Message::Binary(record) => {
                        let bytes = match transport.open(&record) {
                            Ok(b) => b,
                            Err(e) => return io.close(CloseCode::Protocol, &format!("link: {e}")).await,
                        };
                        bucket.take(limits).await;
                        hub.send(ToHub::Request { conn, bytes }).await.map_err(|_| "hub stopped")?;
                    }
                    Message::Close(_) => return Ok(()),
                    Message::Ping(_) | Message::Pong(_) => {}
                    Message::Text(_) | Message::Frame(_) => {
                        return io.close(CloseCode::Unsupported, "binary messages only").await;
                    }
                }
            }
            out = rx.recv() => {
                // Write everything already waiting, then flush once.
                let mut next = out;
                loop {
                    match next {
                        Some(ToConn::Send(bytes)) => {
                            queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                            let record = transport.seal(&bytes).map_err(|e| e.to_string())?;
                            io.feed(Message::binary(record)).await?;
                        }
                        Some(ToConn::Close(reason)) => return io.close(CloseCode::Policy, &reason).await,
                        None => return io.close(CloseCode::Policy, "too slow: messages were not read").await,
                    }
                    match rx.try_recv() {
                        Ok(m) => next = Some(m),
                        Err(_) => break,
                    }
                }
                io.flush().await?;
            }
        }
    }
}
