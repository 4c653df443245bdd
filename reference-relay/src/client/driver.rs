//! The network client around `zfc_client::Client` on tokio: one task per socket the facade
//! asks for (a WebSocket to the relay, directly or through a SOCKS5 proxy), and the facade's loop
//! in one place: every save written before anything waiting for it leaves, every transmit
//! done, every socket report and timer fed back, events handed out.
//!
//! Invariant: the loop confirms a save (`state_saved`) only after the writer returned; the
//! facade releases records that spend state, and acknowledgements, only after that. The
//! Python and Kotlin clients follow the same loop.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use zfc_client::{Client, ClientEvent, Transmit};

use super::net::dial;

/// Writes a sealed state where the app keeps it (atomically); called before the records that
/// need it leave.
pub type StateWriter = Box<dyn FnMut(&[u8]) -> Result<(), String> + Send>;

/// Why the loop stopped.
#[derive(Debug)]
pub enum DriverError {
    /// The facade refused a call (a closed client, a state it could not seal).
    Client(zfc_client::Error),
    /// Writing the state failed; nothing that needed it was sent.
    Save(String),
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Client(e) => write!(f, "{e}"),
            Self::Save(e) => write!(f, "saving the state: {e}"),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<zfc_client::Error> for DriverError {
    fn from(e: zfc_client::Error) -> Self {
        Self::Client(e)
    }
}

/// What a socket task reports.
enum Report {
    Opened(u64),
    Bytes(u64, Vec<u8>),
    Closed(u64, String),
}

/// What the loop asks of a socket task.
enum Order {
    Send(Vec<u8>),
    Close,
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A client on the network.
pub struct Driver {
    client: Client,
    writer: StateWriter,
    proxy: Option<String>,
    reports: mpsc::UnboundedReceiver<Report>,
    report_tx: mpsc::UnboundedSender<Report>,
    sockets: BTreeMap<u64, mpsc::UnboundedSender<Order>>,
    events: VecDeque<ClientEvent>,
    last_failure: Option<String>,
}

impl Driver {
    /// Drives `client`, writing its saves with `writer`; sockets go through the SOCKS5 `proxy`
    /// (`socks5://HOST:PORT`) when given.
    pub fn new(client: Client, writer: StateWriter, proxy: Option<String>) -> Self {
        let (report_tx, reports) = mpsc::unbounded_channel();
        Self {
            client,
            writer,
            proxy,
            reports,
            report_tx,
            sockets: BTreeMap::new(),
            events: VecDeque::new(),
            last_failure: None,
        }
    }

    /// Why the last socket closed or failed to open (the facade's events say only that it did).
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// The facade, for calls (create a room, send, ...): the next [`Self::run`] does the rest.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs the loop until `stop` returns true for an event (returned with the events before it)
    /// or `wait` passes (all events so far). Events not yet looked at stay for the next call.
    pub async fn run(
        &mut self,
        wait: Duration,
        mut stop: impl FnMut(&ClientEvent) -> bool,
    ) -> Result<(Vec<ClientEvent>, bool), DriverError> {
        let deadline =
            Instant::now().checked_add(wait).unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        let mut seen = Vec::new();
        loop {
            self.flush()?;
            while let Some(e) = self.events.pop_front() {
                let done = stop(&e);
                seen.push(e);
                if done {
                    return Ok((seen, true));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok((seen, false));
            }
            // The facade's next timer, in this clock.
            let timer = self.client.next_timeout()?.map(|at| {
                let ms = at.saturating_sub(now_ms());
                now.checked_add(Duration::from_millis(ms)).unwrap_or(deadline)
            });
            let wake = timer.map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                report = self.reports.recv() => {
                    if let Some(r) = report {
                        self.feed(r)?;
                    }
                }
                () = tokio::time::sleep_until(wake) => {
                    self.client.handle_timeout(now_ms())?;
                }
            }
        }
    }

    /// Saves, transmits and events the facade has now.
    fn flush(&mut self) -> Result<(), DriverError> {
        loop {
            let mut busy = false;
            while let Some(save) = self.client.poll_save()? {
                busy = true;
                (self.writer)(&save.bytes).map_err(DriverError::Save)?;
                self.client.state_saved(save.generation)?;
            }
            while let Some(t) = self.client.poll_transmit()? {
                busy = true;
                self.transmit(t)?;
            }
            while let Some(e) = self.client.poll_event()? {
                busy = true;
                self.events.push_back(e);
            }
            if !busy {
                return Ok(());
            }
        }
    }

    fn transmit(&mut self, t: Transmit) -> Result<(), DriverError> {
        match t {
            Transmit::Connect { conn, url } => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.sockets.insert(conn, tx);
                tokio::spawn(socket(conn, url, self.proxy.clone(), rx, self.report_tx.clone()));
            }
            Transmit::Send { conn, bytes } => {
                if let Some(tx) = self.sockets.get(&conn) {
                    // A socket that died meanwhile reports it; the facade resends what must land.
                    let _ = tx.send(Order::Send(bytes));
                }
            }
            Transmit::Close { conn, .. } => {
                if let Some(tx) = self.sockets.remove(&conn) {
                    let _ = tx.send(Order::Close);
                }
            }
        }
        Ok(())
    }

    fn feed(&mut self, r: Report) -> Result<(), DriverError> {
        match r {
            // A socket the facade has given up on meanwhile (a dial past its connect timeout):
            // its late reports are dropped, and its task ends when its order channel closes.
            Report::Opened(conn) | Report::Bytes(conn, _) if !self.sockets.contains_key(&conn) => {}
            Report::Opened(conn) => self.client.handle_connected(conn, now_ms())?,
            Report::Bytes(conn, bytes) => self.client.handle_bytes(conn, &bytes, now_ms())?,
            Report::Closed(conn, why) => {
                if self.sockets.remove(&conn).is_some() {
                    self.last_failure = Some(why);
                    self.client.handle_closed(conn, now_ms())?;
                }
            }
        }
        Ok(())
    }

    /// Writes what is still unsaved, closes every socket and erases the client's keys.
    pub async fn close(mut self) -> Result<(), DriverError> {
        let flushed = self.flush();
        for (_, tx) in std::mem::take(&mut self.sockets) {
            let _ = tx.send(Order::Close);
        }
        // Give the socket tasks a moment to send their close frames.
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.client.close();
        flushed
    }
}

/// One socket: dial, report, then pass bytes both ways until either side closes.
async fn socket(
    conn: u64,
    url: String,
    proxy: Option<String>,
    mut orders: mpsc::UnboundedReceiver<Order>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let mut ws = match dial(&url, proxy.as_deref()).await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = reports.send(Report::Closed(conn, e.to_string()));
            return;
        }
    };
    if reports.send(Report::Opened(conn)).is_err() {
        return;
    }
    let why = loop {
        tokio::select! {
            order = orders.recv() => match order {
                Some(Order::Send(bytes)) => {
                    if let Err(e) = ws.send(Message::binary(bytes)).await {
                        break e.to_string();
                    }
                }
                Some(Order::Close) | None => {
                    let _ = ws.close(None).await;
                    return;
                }
            },
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if reports.send(Report::Bytes(conn, b.to_vec())).is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    break frame.map_or_else(|| "closed".to_owned(), |f| f.reason.to_string());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break e.to_string(),
                None => break "closed".to_owned(),
            },
        }
    };
    let _ = reports.send(Report::Closed(conn, why));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use zfc_client::{ClientConfig, Clock, Randomness};

    fn driver() -> Driver {
        let config = ClientConfig {
            kdf: zfc_core::pickle::Argon2Params::MIN,
            insecure_weak_kdf_for_tests: true,
            randomness: Randomness::SeededForTests { seed: vec![3; 32] },
            clock: Clock::Manual,
            ..ClientConfig::default()
        };
        let client = Client::create(config, b"pass").unwrap();
        Driver::new(client, Box::new(|_| Ok(())), None)
    }

    /// A dial that succeeds after the facade gave the socket up (its connect timeout) reports
    /// for a connection the facade no longer knows: the loop goes on.
    #[test]
    fn late_reports_of_a_dropped_socket_are_ignored() {
        let mut d = driver();
        d.feed(Report::Opened(7)).unwrap();
        d.feed(Report::Bytes(7, vec![1, 2, 3])).unwrap();
        d.feed(Report::Closed(7, "late".into())).unwrap();
        assert_eq!(d.last_failure(), None, "a socket the driver did not track says nothing");
        // The facade itself refuses such a report: the driver must not pass it on.
        assert!(d.client().handle_connected(7, 0).is_err());
    }
}
