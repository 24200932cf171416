//! Limits on the framing of a multipart body, applied to the raw bytes before the multipart
//! parser sees them.
//!
//! The parser buffers each part's header block until it ends, however long it is: a part header
//! with a 100 MB file name took the emulator to 400 MB. The upload endpoints take bodies of up to
//! 1 GB, so the body limit cannot bound that. This guard follows the framing (boundaries, header
//! blocks) as the bytes stream through, and stops the body as soon as a header block, the
//! number of parts or the preamble goes past its limit. Part contents pass through untouched
//! and are searched for the boundary with `memchr`, so the cost per byte is small.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use memchr::memmem::Finder;

/// Longest header block of one part (`Content-Disposition` with its file name, `Content-Type`).
pub const MAX_PART_HEADER: usize = 16 * 1024;
/// Most parts in one body: an upload has a file and a few text fields.
pub const MAX_PARTS: usize = 64;
/// Longest preamble before the first boundary, and boundary-line padding.
const MAX_PREAMBLE: usize = 16 * 1024;

/// Why a body was stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("a part's headers are longer than {MAX_PART_HEADER} bytes")]
    HeaderTooLong,
    #[error("the body has more than {MAX_PARTS} parts")]
    TooManyParts,
    #[error("the body has more than {MAX_PREAMBLE} bytes outside its parts")]
    TooMuchFraming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before the first boundary, or inside a part's content: looking for the delimiter.
    Content { preamble: bool },
    /// After a delimiter: the rest of the boundary line (`--` ends the body).
    BoundaryLine,
    /// A part's header block, up to the blank line.
    Headers,
    /// After the closing boundary: ignored.
    Epilogue,
}

/// The framing state of one body.
pub struct Framing {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    finder: Finder<'static>,
    stage: Stage,
    /// Bytes of the current stage counted against its limit.
    count: usize,
    /// The last bytes seen while looking for the delimiter (it can straddle chunks).
    tail: Vec<u8>,
    /// The last bytes of a boundary line or header block (their ends straddle chunks too).
    recent: [u8; 4],
    parts: usize,
}

impl Framing {
    pub fn new(boundary: &str) -> Framing {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Framing {
            finder: Finder::new(&delimiter).into_owned(),
            delimiter,
            stage: Stage::Content { preamble: true },
            count: 0,
            // The body may open with the boundary itself, without a line break before it.
            tail: b"\r\n".to_vec(),
            recent: [0; 4],
            parts: 0,
        }
    }

    /// Follows `chunk`; `Err` as soon as a limit is passed.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), Refused> {
        while !chunk.is_empty() {
            chunk = match self.stage {
                Stage::Content { preamble } => self.content(chunk, preamble)?,
                Stage::BoundaryLine => self.line(chunk, false)?,
                Stage::Headers => self.line(chunk, true)?,
                Stage::Epilogue => &[],
            };
        }
        Ok(())
    }

    /// Looks for the delimiter; returns what follows it (empty when it is not in `chunk`).
    fn content<'a>(&mut self, chunk: &'a [u8], preamble: bool) -> Result<&'a [u8], Refused> {
        let len = self.delimiter.len();
        // A delimiter straddling the previous bytes and this chunk.
        let head = &chunk[..chunk.len().min(len - 1)];
        let mut straddle = self.tail.clone();
        straddle.extend_from_slice(head);
        let found = match self.finder.find(&straddle) {
            Some(at) if at < self.tail.len() => Some(at + len - self.tail.len()),
            _ => self.finder.find(chunk).map(|at| at + len),
        };
        if preamble {
            self.count += found.unwrap_or(chunk.len());
            if self.count > MAX_PREAMBLE + len {
                return Err(Refused::TooMuchFraming);
            }
        }
        let Some(end) = found else {
            straddle.extend_from_slice(&chunk[head.len()..]);
            let keep = straddle.len().min(len - 1);
            self.tail = straddle[straddle.len() - keep..].to_vec();
            return Ok(&[]);
        };
        self.tail.clear();
        self.enter(Stage::BoundaryLine);
        Ok(&chunk[end..])
    }

    /// A boundary line (ends at CRLF) or a header block (ends at CRLF CRLF).
    fn line<'a>(&mut self, chunk: &'a [u8], headers: bool) -> Result<&'a [u8], Refused> {
        for (i, &b) in chunk.iter().enumerate() {
            self.count += 1;
            self.recent = [self.recent[1], self.recent[2], self.recent[3], b];
            if !headers && self.count == 2 && self.recent[2..] == *b"--" {
                self.enter(Stage::Epilogue);
                return Ok(&[]);
            }
            let ended = if headers {
                self.recent == *b"\r\n\r\n" || (self.count == 2 && self.recent[2..] == *b"\r\n")
            } else {
                self.recent[2..] == *b"\r\n"
            };
            if ended {
                if headers {
                    self.enter(Stage::Content { preamble: false });
                } else {
                    self.parts += 1;
                    if self.parts > MAX_PARTS {
                        return Err(Refused::TooManyParts);
                    }
                    self.enter(Stage::Headers);
                }
                return Ok(&chunk[i + 1..]);
            }
            let limit = if headers {
                MAX_PART_HEADER
            } else {
                MAX_PREAMBLE
            };
            if self.count > limit {
                return Err(if headers {
                    Refused::HeaderTooLong
                } else {
                    Refused::TooMuchFraming
                });
            }
        }
        Ok(&[])
    }

    fn enter(&mut self, stage: Stage) {
        self.stage = stage;
        self.count = 0;
        self.recent = [0; 4];
    }
}

/// A body stream that stops with [`Refused`] when its framing passes a limit.
pub struct Guarded<S> {
    inner: S,
    framing: Framing,
    failed: bool,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, boundary: &str) -> Guarded<S> {
        Guarded {
            inner,
            framing: Framing::new(boundary),
            failed: false,
        }
    }
}

impl<S, E> Stream for Guarded<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<axum::BoxError>,
{
    type Item = Result<Bytes, axum::BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => match self.framing.feed(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(refused) => {
                    self.failed = true;
                    Poll::Ready(Some(Err(Box::new(refused))))
                }
            },
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The [`Refused`] somewhere in an error's chain of sources.
pub fn refused_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (headers, content) in parts {
            out.extend_from_slice(b"--XyZ\r\n");
            out.extend_from_slice(headers.as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out
    }

    /// Feeds `bytes` in chunks of every size from 1 to 9, and in one piece.
    fn feed_all(bytes: &[u8]) -> Vec<Result<(), Refused>> {
        let mut outcomes = Vec::new();
        for size in (1..10).chain([bytes.len().max(1)]) {
            let mut framing = Framing::new("XyZ");
            outcomes.push(bytes.chunks(size).try_for_each(|c| framing.feed(c)));
        }
        outcomes
    }

    #[test]
    fn well_formed_bodies_pass_in_any_chunking() {
        let content = b"PK\x03\x04 not a \r\n--XyY boundary \r\n-- either".repeat(50);
        let bytes = body(&[
            (
                "Content-Disposition: form-data; name=\"purpose\"",
                b"fine-tune",
            ),
            (
                "Content-Disposition: form-data; name=\"file\"; filename=\"a.zip\"",
                &content,
            ),
        ]);
        for outcome in feed_all(&bytes) {
            assert_eq!(outcome, Ok(()));
        }
    }

    #[test]
    fn a_huge_part_header_is_refused_early() {
        let name = "a".repeat(MAX_PART_HEADER + 10);
        let headers = format!("Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"");
        let bytes = body(&[(&headers, b"x")]);
        for outcome in feed_all(&bytes) {
            assert_eq!(outcome, Err(Refused::HeaderTooLong));
        }
        // Refused within the limit's worth of bytes, not at the end of the header.
        let mut framing = Framing::new("XyZ");
        let refused_at = bytes
            .chunks(1024)
            .position(|c| framing.feed(c).is_err())
            .unwrap();
        assert!(refused_at * 1024 <= MAX_PART_HEADER + 2048, "{refused_at}");
    }

    #[test]
    fn too_many_parts_or_too_much_preamble_is_refused() {
        let many: Vec<(&str, &[u8])> = (0..=MAX_PARTS)
            .map(|_| ("Content-Disposition: form-data; name=\"x\"", &b"1"[..]))
            .collect();
        assert!(
            feed_all(&body(&many))
                .iter()
                .all(|o| *o == Err(Refused::TooManyParts))
        );
        let mut preamble = vec![b'.'; MAX_PREAMBLE + 1];
        preamble.extend_from_slice(&body(&[(
            "Content-Disposition: form-data; name=\"x\"",
            b"1",
        )]));
        assert!(
            feed_all(&preamble)
                .iter()
                .all(|o| *o == Err(Refused::TooMuchFraming))
        );
    }
}
