//! The buffer a simulated `File` moves between the task and its blocking
//! work (tokio's `io::blocking::Buf`, without its `unsafe`).

use std::cmp;
use std::io::{self, Read, Write};

use tokio::io::ReadBuf;

/// tokio's default largest read or write of one blocking operation.
pub(super) const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// Bytes read ahead and not handed out yet, or bytes to write.
#[derive(Debug)]
pub(super) struct Buf {
    buf: Vec<u8>,
    pos: usize,
}

impl Buf {
    pub(super) fn with_capacity(n: usize) -> Buf {
        Buf {
            buf: Vec::with_capacity(n),
            pos: 0,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Hands out what `dst` takes.
    pub(super) fn copy_to(&mut self, dst: &mut ReadBuf<'_>) -> usize {
        let n = cmp::min(self.len(), dst.remaining());
        dst.put_slice(&self.bytes()[..n]);
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        n
    }

    /// Takes up to `max_buf_size` bytes of `src` to write.
    pub(super) fn copy_from(&mut self, src: &[u8], max_buf_size: usize) -> usize {
        assert!(self.is_empty());
        let n = cmp::min(src.len(), max_buf_size);
        self.buf.extend_from_slice(&src[..n]);
        n
    }

    /// Takes up to `max_buf_size` bytes of `bufs` to write.
    pub(super) fn copy_from_bufs(
        &mut self,
        bufs: &[io::IoSlice<'_>],
        max_buf_size: usize,
    ) -> usize {
        assert!(self.is_empty());
        let mut rem = max_buf_size;
        for buf in bufs {
            if rem == 0 {
                break;
            }
            let len = buf.len().min(rem);
            self.buf.extend_from_slice(&buf[..len]);
            rem -= len;
        }
        max_buf_size - rem
    }

    /// Reads up to `max_buf_size` bytes (the blocking work of a read).
    pub(super) fn read_from<T: Read>(
        &mut self,
        rd: &mut T,
        max_buf_size: usize,
    ) -> io::Result<usize> {
        assert!(self.is_empty());
        self.buf.resize(max_buf_size, 0);
        let res = loop {
            match rd.read(&mut self.buf) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                res => break res,
            }
        };
        match res {
            Ok(n) => self.buf.truncate(n),
            Err(_) => self.buf.clear(),
        }
        res
    }

    /// Writes it all (the blocking work of a write).
    pub(super) fn write_to<T: Write>(&mut self, wr: &mut T) -> io::Result<()> {
        assert_eq!(self.pos, 0);
        let res = wr.write_all(&self.buf);
        self.buf.clear();
        res
    }

    /// Drops what was read ahead; the offset to seek back by.
    pub(super) fn discard_read(&mut self) -> i64 {
        let ret = -(self.bytes().len() as i64);
        self.pos = 0;
        self.buf.clear();
        ret
    }
}
