//! A client's end of the link: a WebSocket to the relay (directly or through a SOCKS5 proxy such
//! as Tor) carrying the Noise link pinned to the relay's key.

use std::fmt;

use futures_util::{SinkExt, StreamExt};
use rand_core::CryptoRng;
use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};
use zfc_core::link::{ClientHandshake, LinkError, Transport};

/// Why talking to the relay failed.
#[derive(Debug)]
pub enum NetError {
    /// The relay or proxy address is not `ws://HOST:PORT[/PATH]` / `socks5://HOST:PORT`.
    BadAddress(String),
    /// TCP failed.
    Io(std::io::Error),
    /// The SOCKS5 proxy refused or failed.
    Proxy(String),
    /// The WebSocket failed.
    WebSocket(String),
    /// The link refused a record or the handshake.
    Link(LinkError),
    /// The relay closed the connection, with its reason if it gave one.
    Closed(Option<String>),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAddress(a) => write!(f, "bad address {a:?}"),
            Self::Io(e) => write!(f, "network: {e}"),
            Self::Proxy(e) => write!(f, "proxy: {e}"),
            Self::WebSocket(e) => write!(f, "websocket: {e}"),
            Self::Link(e) => write!(f, "link: {e}"),
            Self::Closed(Some(r)) => write!(f, "the relay closed the connection: {r}"),
            Self::Closed(None) => write!(f, "the relay closed the connection"),
        }
    }
}

impl std::error::Error for NetError {}

/// `HOST:PORT` of a `scheme://HOST:PORT[/...]` address.
pub fn host_port(addr: &str, scheme: &str, default_port: u16) -> Result<(String, u16), NetError> {
    let bad = || NetError::BadAddress(addr.to_string());
    let rest = addr.strip_prefix(scheme).and_then(|r| r.strip_prefix("://")).ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
        None => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// An open, encrypted connection to the relay.
pub struct Link {
    ws: WebSocketStream<TcpStream>,
    transport: Transport,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link").finish_non_exhaustive()
    }
}

impl Link {
    /// Connects to `relay` (`ws://HOST:PORT`), through `proxy` (`socks5://HOST:PORT`) if given,
    /// and runs the link handshake against the pinned `relay_pk`.
    pub async fn connect(
        relay: &str,
        relay_pk: &[u8; 32],
        proxy: Option<&str>,
        rng: &mut impl CryptoRng,
    ) -> Result<Self, NetError> {
        let mut link = RawLink { ws: dial(relay, proxy).await? };
        let (hs, first) =
            ClientHandshake::start(&zfc_core::RelayPublicKey::from_bytes(*relay_pk), rng).map_err(NetError::Link)?;
        link.send_record(first).await?;
        let answer = link.recv_record().await?;
        let transport = hs.finish(&answer).map_err(NetError::Link)?;
        Ok(Self { ws: link.ws, transport })
    }

    /// The handshake hash, to bind authentication to this connection.
    pub fn channel_binding(&self) -> zfc_core::ChannelBinding {
        self.transport.channel_binding()
    }

    /// Seals and sends one request.
    pub async fn send(&mut self, request: &[u8]) -> Result<(), NetError> {
        let record = self.transport.seal(request).map_err(NetError::Link)?;
        self.ws.send(Message::binary(record)).await.map_err(|e| NetError::WebSocket(e.to_string()))
    }

    /// Sends bytes as a record without sealing them (for conformance tests of bad records).
    pub async fn send_unsealed(&mut self, record: Vec<u8>) -> Result<(), NetError> {
        self.ws.send(Message::binary(record)).await.map_err(|e| NetError::WebSocket(e.to_string()))
    }

    /// Sends a text message (which a relay must refuse).
    pub async fn send_text(&mut self, text: &str) -> Result<(), NetError> {
        self.ws.send(Message::text(text)).await.map_err(|e| NetError::WebSocket(e.to_string()))
    }

    /// A WebSocket ping, so that a quiet client is not closed as idle.
    pub async fn ping(&mut self) -> Result<(), NetError> {
        self.ws.send(Message::Ping(Vec::new().into())).await.map_err(|e| NetError::WebSocket(e.to_string()))
    }

    /// Receives and opens one relay message.
    pub async fn recv(&mut self) -> Result<Vec<u8>, NetError> {
        let record = RawLink::recv_from(&mut self.ws).await?;
        self.transport.open(&record).map_err(NetError::Link)
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A WebSocket to `url` (`ws://HOST:PORT[/PATH]`), through the SOCKS5 `proxy` when given.
pub(crate) async fn dial(url: &str, proxy: Option<&str>) -> Result<WebSocketStream<TcpStream>, NetError> {
    let (host, port) = host_port(url, "ws", 80)?;
    let tcp = match proxy {
        None => TcpStream::connect((host.as_str(), port)).await.map_err(NetError::Io)?,
        Some(p) => {
            let (phost, pport) = host_port(p, "socks5", 1080)?;
            // The proxy resolves the relay's name: with Tor, no DNS query leaves this host.
            Socks5Stream::connect((phost.as_str(), pport), (host.as_str(), port))
                .await
                .map_err(|e| NetError::Proxy(e.to_string()))?
                .into_inner()
        }
    };
    let _ = tcp.set_nodelay(true);
    let (ws, _) = client_async(url, tcp).await.map_err(|e| NetError::WebSocket(e.to_string()))?;
    Ok(ws)
}

struct RawLink {
    ws: WebSocketStream<TcpStream>,
}

impl RawLink {
    async fn send_record(&mut self, record: Vec<u8>) -> Result<(), NetError> {
        self.ws.send(Message::binary(record)).await.map_err(|e| NetError::WebSocket(e.to_string()))
    }
    async fn recv_record(&mut self) -> Result<Vec<u8>, NetError> {
        Self::recv_from(&mut self.ws).await
    }
    async fn recv_from(ws: &mut WebSocketStream<TcpStream>) -> Result<Vec<u8>, NetError> {
        loop {
            match ws.next().await {
                None => return Err(NetError::Closed(None)),
                Some(Err(e)) => return Err(NetError::WebSocket(e.to_string())),
                Some(Ok(Message::Binary(b))) => return Ok(b.to_vec()),
                Some(Ok(Message::Close(frame))) => return Err(NetError::Closed(frame.map(|f| f.reason.to_string()))),
                Some(Ok(_)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_strictly() {
        assert_eq!(host_port("ws://127.0.0.1:5103", "ws", 80).unwrap(), ("127.0.0.1".into(), 5103));
        assert_eq!(host_port("ws://relay.example/x", "ws", 80).unwrap(), ("relay.example".into(), 80));
        assert_eq!(host_port("socks5://[::1]:9050", "socks5", 1080).unwrap(), ("::1".into(), 9050));
        for bad in ["http://x:1", "ws://:5", "ws://x:99999", "ws:/x", "x"] {
            assert!(host_port(bad, "ws", 80).is_err(), "{bad}");
        }
    }
}
