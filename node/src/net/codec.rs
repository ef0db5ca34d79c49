//! The request-response codec of `/alliance/rpc/1`: an unsigned-varint length, then the
//! protobuf message. Lengths are checked against the protocol limits, and buffers grow
//! only with the bytes received, so an oversized or truncated frame costs the sender, not us.

use std::io;

use alliance_protocol::{
    limits::{MAX_RPC_REQUEST_BYTES, MAX_RPC_RESPONSE_BYTES},
    rpc::{Request, Response},
};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{StreamProtocol, request_response};

/// The codec; stateless.
#[derive(Debug, Clone, Default)]
pub struct RpcCodec;

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<Vec<u8>> {
    let mut len: u64 = 0;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8; 1];
        io.read_exact(&mut byte).await?;
        len |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
        if shift >= 56 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "length varint too long",
            ));
        }
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {limit}"),
        ));
    }
    // The buffer grows with the bytes that actually arrive: a length prefix alone
    // reserves nothing.
    let mut buf = Vec::new();
    (&mut *io).take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame ended after {} of {len} bytes", buf.len()),
        ));
    }
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    let mut len = bytes.len() as u64;
    let mut header = Vec::with_capacity(10);
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            header.push(byte);
            break;
        }
        header.push(byte | 0x80);
    }
    io.write_all(&header).await?;
    io.write_all(bytes).await?;
    io.close().await
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl request_response::Codec for RpcCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, MAX_RPC_REQUEST_BYTES).await?;
        Request::decode(&bytes).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, MAX_RPC_RESPONSE_BYTES).await?;
        Response::decode(&bytes).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req.encode()).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res.encode()).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::io::Cursor;

    #[tokio::test]
    async fn frames_round_trip_and_oversized_lengths_are_refused() {
        let mut buf = Cursor::new(Vec::new());
        write_frame(&mut buf, &[7u8; 300]).await.unwrap();
        let bytes = buf.into_inner();
        assert_eq!(&bytes[..2], &[0xac, 0x02]);
        let mut reader = Cursor::new(bytes.clone());
        assert_eq!(read_frame(&mut reader, 300).await.unwrap(), vec![7u8; 300]);
        let mut reader = Cursor::new(bytes);
        let err = read_frame(&mut reader, 299).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let mut endless = Cursor::new(vec![0xffu8; 20]);
        assert!(read_frame(&mut endless, usize::MAX).await.is_err());
        // A frame announcing more than it carries is an error, not a hang or a big buffer.
        let mut short = Cursor::new(vec![0xac, 0x02, 1, 2, 3]);
        let err = read_frame(&mut short, 1024).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
