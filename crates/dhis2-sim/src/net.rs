//! A TCP acceptor whose connections can be killed from a handler, so the `Drop` fault really
//! closes the socket without writing any HTTP response.
//!
//! Each accepted stream is wrapped in a [`KillableStream`] registered under the peer address;
//! a handler marks its connection dead and the next read or write fails, which makes hyper
//! abandon the connection and close the socket before a single response byte is written.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::lock::lock;

/// Live connections by peer address.
#[derive(Clone, Default)]
pub struct ConnectionRegistry {
    live: Arc<Mutex<HashMap<SocketAddr, Arc<AtomicBool>>>>,
}

impl ConnectionRegistry {
    /// Marks the connection from `peer` dead; returns false when it is unknown.
    pub fn kill(&self, peer: SocketAddr) -> bool {
        match lock(&self.live).get(&peer) {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    fn register(&self, peer: SocketAddr) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        lock(&self.live).insert(peer, flag.clone());
        flag
    }

    fn forget(&self, peer: SocketAddr) {
        lock(&self.live).remove(&peer);
    }
}

pub struct KillableAcceptor {
    listener: TcpListener,
    local_addr: LocalAddr,
    registry: ConnectionRegistry,
}

impl KillableAcceptor {
    pub fn new(listener: TcpListener, registry: ConnectionRegistry) -> io::Result<Self> {
        let local_addr = LocalAddr(listener.local_addr()?.into());
        Ok(Self {
            listener,
            local_addr,
            registry,
        })
    }
}

impl Acceptor for KillableAcceptor {
    type Io = KillableStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        vec![self.local_addr.clone()]
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, peer) = self.listener.accept().await?;
        let killed = self.registry.register(peer);
        let io = KillableStream {
            inner: stream,
            peer,
            killed,
            registry: self.registry.clone(),
        };
        Ok((
            io,
            self.local_addr.clone(),
            RemoteAddr(peer.into()),
            Scheme::HTTP,
        ))
    }
}

pub struct KillableStream {
    inner: TcpStream,
    peer: SocketAddr,
    killed: Arc<AtomicBool>,
    registry: ConnectionRegistry,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection dropped by a simulated fault",
            ))
        } else {
            Ok(())
        }
    }
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        self.registry.forget(self.peer);
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
