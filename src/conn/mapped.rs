//! A dump turned into values as it streams: one adapter instead of a stack
//! of `once` / `try_flatten` / `filter_map`, because per item each layer
//! cost a poll and a move of the value, which a 100,000-route dump showed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};

use super::RawMessage;
use super::requester::RawDump;
use crate::error::Result;

/// What starts the dump: the request may need lookups first (a device name
/// to an index), then gives the dump and the per-message mapping.
type Start<F> = Pin<Box<dyn Future<Output = Result<(RawDump, F)>> + Send>>;

// `Running` is the steady state: boxing it would add an indirection per item.
#[allow(clippy::large_enum_variant)]
enum State<F> {
    Starting(Start<F>),
    Running(RawDump, F),
    Done,
}

/// A stream of values made from the messages of a dump by `F`, which
/// returns `None` for a message to skip (a client-side filter) and an error
/// for a message it cannot read (an error item; the stream goes on).
pub(crate) struct MappedDump<F> {
    state: State<F>,
}

impl<F> MappedDump<F> {
    /// A stream that first awaits `start`. An error from it is the stream's
    /// only item.
    pub(crate) fn new(start: impl Future<Output = Result<(RawDump, F)>> + Send + 'static) -> Self {
        MappedDump {
            state: State::Starting(Box::pin(start)),
        }
    }
}

impl<T, F> Stream for MappedDump<F>
where
    F: FnMut(RawMessage) -> Option<Result<T>> + Unpin,
{
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Starting(start) => match ready!(start.as_mut().poll(cx)) {
                    Ok((dump, f)) => this.state = State::Running(dump, f),
                    Err(e) => {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                State::Running(dump, f) => match ready!(dump.poll_next_unpin(cx)) {
                    Some(Ok(raw)) => {
                        if let Some(item) = f(raw) {
                            return Poll::Ready(Some(item));
                        }
                    }
                    Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                    None => {
                        this.state = State::Done;
                        return Poll::Ready(None);
                    }
                },
                State::Done => return Poll::Ready(None),
            }
        }
    }
}
