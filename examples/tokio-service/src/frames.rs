//! Length-prefixed frames (a `u16` length, then the bytes) read in a
//! `select!` loop beside a heartbeat and a shutdown token.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Reads frames into `out` until end of stream or shutdown; sends a
/// heartbeat count to `beats` every `heartbeat`. Cancel-safe: a partly read
/// frame stays in the reader's buffer when the heartbeat or the shutdown
/// wins the `select!`.
pub async fn serve<R: AsyncRead + Unpin>(
    mut reader: R,
    heartbeat: Duration,
    shutdown: CancellationToken,
    out: mpsc::UnboundedSender<Vec<u8>>,
) -> std::io::Result<u64> {
    let mut beats = 0;
    let mut ticker = tokio::time::interval(heartbeat);
    let mut buffer = Vec::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(beats),
            _ = ticker.tick() => beats += 1,
            read = reader.read_buf(&mut buffer) => {
                if read? == 0 {
                    return Ok(beats);
                }
                while let Some(frame) = take_frame(&mut buffer) {
                    let _ = out.send(frame);
                }
            }
        }
    }
}

/// A whole frame from the front of `buffer`, if there is one.
fn take_frame(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    if buffer.len() < 2 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([buffer[0], buffer[1]]));
    if buffer.len() < 2 + len {
        return None;
    }
    let frame = buffer[2..2 + len].to_vec();
    buffer.drain(..2 + len);
    Some(frame)
}

/// Writes one frame.
pub async fn write_frame<W: tokio::io::AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &[u8],
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let len = u16::try_from(frame.len()).expect("frames are short");
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(frame).await?;
    writer.flush().await
}

/// Writes one frame as a slow client does: the length, a pause, the bytes.
pub async fn write_frame_slowly<W: tokio::io::AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &[u8],
    pause: Duration,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let len = u16::try_from(frame.len()).expect("frames are short");
    writer.write_all(&len.to_be_bytes()).await?;
    writer.flush().await?;
    tokio::time::sleep(pause).await;
    writer.write_all(frame).await?;
    writer.flush().await
}

/// The common mistake: `read_exact` inside `select!` is not cancel-safe.
/// When the heartbeat wins while a frame is half read, the bytes already
/// read are dropped with the losing branch, and every frame after is
/// garbage.
pub mod buggy {
    use super::*;

    /// Like [`serve`](super::serve), reading each frame with `read_exact`.
    pub async fn serve<R: AsyncRead + Unpin>(
        mut reader: R,
        heartbeat: Duration,
        shutdown: CancellationToken,
        out: mpsc::UnboundedSender<Vec<u8>>,
    ) -> std::io::Result<u64> {
        let mut beats = 0;
        let mut ticker = tokio::time::interval(heartbeat);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(beats),
                _ = ticker.tick() => beats += 1,
                frame = read_frame(&mut reader) => {
                    match frame? {
                        Some(frame) => { let _ = out.send(frame); }
                        None => return Ok(beats),
                    }
                }
            }
        }
    }

    async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 2];
        match reader.read_exact(&mut len).await {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error),
        }
        let mut frame = vec![0u8; usize::from(u16::from_be_bytes(len))];
        reader.read_exact(&mut frame).await?;
        Ok(Some(frame))
    }
}
