//! The cap on the size of a response body ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size)).

use std::pin::Pin;
use std::task::{Context, Poll};

/// Default largest response body read: 64 MiB (a page of the largest `limit` the vendor's
/// servers are seen to accept is far smaller).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 64 * 1024 * 1024;

/// A response body was larger than the cap: what reading it gives.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the response body is larger than {}", size(*.limit))]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: u64,
}

/// A body that fails with [`BodyTooLarge`] when read: it stands for a body that was not read
/// in full, so that the generated code, which reads the body itself, gets the error.
pub(crate) struct TooLargeBody(pub(crate) BodyTooLarge);

impl http_body::Body for TooLargeBody {
    type Data = &'static [u8];
    type Error = BodyTooLarge;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(self.0)))
    }
}

/// The cap found among the causes of `error`, if the body was too large.
pub(crate) fn too_large(error: &(dyn std::error::Error + 'static)) -> Option<BodyTooLarge> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(found) = error.downcast_ref::<BodyTooLarge>() {
            return Some(*found);
        }
        cause = error.source();
    }
    None
}

/// `n` bytes, in MiB or KiB when it is a whole number of them.
pub(crate) fn size(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    match n {
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n >= KIB && n % KIB == 0 => format!("{} KiB", n / KIB),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_naturally() {
        assert_eq!(super::size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(super::size(2048), "2 KiB");
        assert_eq!(super::size(1500), "1500 bytes");
    }
}
