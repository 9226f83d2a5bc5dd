//! `appraisecall/detail`: one call's transcript ([`Client::transcript`]), and the transcripts of
//! many calls with bounded concurrency, in input order ([`TranscriptStream`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesOrdered, Stream, StreamExt};

use crate::types::{AppraisecallDetailRequest, AppraisecallDetailResponse};
use crate::{builder, ApiError, CallRecord, Client};

impl Client {
    /// A query of `appraisecall/detail` with `x-UserId` and `x-app-key` already set from the
    /// client's [`Session`](crate::Session): give it a body and `send()` it.
    ///
    /// [`Client::appraisecall_detail`] is the same builder with nothing set.
    pub fn detail(&self) -> builder::AppraisecallDetail<'_> {
        let builder = self.appraisecall_detail().x_user_id(self.inner.user_id());
        match self.inner.app_key() {
            Some(app_key) => builder.x_app_key(app_key),
            None => builder,
        }
    }

    /// One call and its ASR transcript (`appraisecall/detail`), by its `call_uuid`, with the
    /// runtime of [`Client::details_page`]: tokens, retries, timeouts and typed errors (an
    /// unknown call is the server's answer, e.g. [`ErrorKind::NotFound`](crate::ErrorKind)).
    pub async fn transcript(
        &self,
        call_uuid: impl Into<String>,
    ) -> Result<AppraisecallDetailResponse, ApiError> {
        self.token_first().await?;
        let body = AppraisecallDetailRequest {
            call_uuid: call_uuid.into(),
        };
        match self.detail().body(body).send().await {
            Ok(response) => Ok(response.into_inner()),
            Err(error) => Err(ApiError::read(error, &self.inner.shared.auth.secrets()).await),
        }
    }

    /// The transcripts of the calls whose `call_uuid`s `call_uuids` yields, in that order: see
    /// [`TranscriptStream`].
    ///
    /// ```no_run
    /// use ccsqm_client::Client;
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: Client) {
    /// let uuids = futures_util::stream::iter(vec!["a".to_owned(), "b".to_owned()]);
    /// let mut transcripts = client.transcripts(uuids).concurrency(4);
    /// while let Some((call_uuid, transcript)) = transcripts.next().await {
    ///     match transcript {
    ///         Ok(t) => println!("{call_uuid}: {} segment(s)", t.segments.len()),
    ///         Err(e) => eprintln!("{call_uuid}: {e}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn transcripts<S>(&self, call_uuids: S) -> TranscriptStream<S>
    where
        S: Stream<Item = String> + Unpin,
    {
        TranscriptStream {
            client: self.clone(),
            call_uuids,
            input_done: false,
            concurrency: 1,
            in_flight: FuturesOrdered::new(),
        }
    }
}

/// A call with its transcript, from [`Client::with_transcripts`].
#[derive(Debug)]
pub struct WithTranscript {
    /// The call, as the pages gave it.
    pub record: CallRecord,
    /// Its transcript, or why it could not be fetched (after the client's retries); `None` for
    /// a call without a `call_uuid` (no transcript can be asked for).
    pub transcript: Option<Result<AppraisecallDetailResponse, ApiError>>,
}

impl Client {
    /// Each call of `calls` (a [`CallStream`](crate::CallStream), or any stream of calls) with
    /// its transcript, in the calls' order: up to `concurrency` transcripts are fetched at a
    /// time, so at most that many calls (and transcripts) are held. An error of `calls` is an
    /// item, after the calls before it; a transcript that cannot be fetched is its call's
    /// `transcript`, and the stream goes on.
    ///
    /// ```no_run
    /// use ccsqm_client::{types::AppraisecallDetailsRequest, Client};
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: Client, request: AppraisecallDetailsRequest) {
    /// let calls = client.calls(request);
    /// let mut paired = std::pin::pin!(client.with_transcripts(calls, 4));
    /// while let Some(item) = paired.next().await {
    ///     let Ok(call) = item else { break };
    ///     let staff = call.record.call.staff_name.as_deref().unwrap_or("?");
    ///     match call.transcript {
    ///         Some(Ok(t)) => println!("{staff}: {} segment(s)", t.segments.len()),
    ///         Some(Err(e)) => eprintln!("{staff}: {e}"),
    ///         None => eprintln!("{staff}: a call without call_uuid"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn with_transcripts<S>(
        &self,
        calls: S,
        concurrency: usize,
    ) -> impl Stream<Item = Result<WithTranscript, ApiError>> + Send + use<S>
    where
        S: Stream<Item = Result<CallRecord, ApiError>> + Send,
    {
        let client = self.clone();
        calls
            .map(move |record| {
                let client = client.clone();
                async move {
                    let record = record?;
                    let transcript = match record.call.call_uuid.clone() {
                        Some(uuid) => Some(client.transcript(uuid).await),
                        None => None,
                    };
                    Ok(WithTranscript { record, transcript })
                }
            })
            .buffered(concurrency.max(1))
    }
}

type Fetched = (String, Result<AppraisecallDetailResponse, ApiError>);

/// A transcript request running as its own task; dropping it cancels it.
struct Task(tokio::task::JoinHandle<Fetched>);

impl Future for Task {
    type Output = Fetched;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fetched> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(fetched)) => Poll::Ready(fetched),
            Poll::Ready(Err(error)) if error.is_panic() => {
                std::panic::resume_unwind(error.into_panic())
            }
            Poll::Ready(Err(error)) => panic!("a transcript request was cancelled: {error}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The transcripts of many calls, made by [`Client::transcripts`]: one item per input
/// `call_uuid`, `(call_uuid, result)`, in input order.
///
/// Up to [`TranscriptStream::concurrency`] requests run at a time, as tasks of the Tokio
/// runtime (so they go on while the reader handles earlier items); at most that many results
/// are held. A failed request (after the client's retries) is the item of its `call_uuid`: it
/// does not end the stream, which ends when the input does and every request is answered.
/// Dropping the stream cancels the requests in flight.
#[must_use = "a stream does nothing unless polled"]
pub struct TranscriptStream<S> {
    client: Client,
    call_uuids: S,
    input_done: bool,
    concurrency: usize,
    in_flight: FuturesOrdered<Task>,
}

impl<S> std::fmt::Debug for TranscriptStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptStream")
            .field("concurrency", &self.concurrency)
            .field("in_flight", &self.in_flight.len())
            .field("input_done", &self.input_done)
            .finish_non_exhaustive()
    }
}

impl<S> TranscriptStream<S> {
    /// Fetch up to `n` transcripts at a time (default 1). `0` counts as 1.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

impl<S> Stream for TranscriptStream<S>
where
    S: Stream<Item = String> + Unpin,
{
    type Item = Fetched;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fetched>> {
        let this = self.get_mut();
        while !this.input_done && this.in_flight.len() < this.concurrency {
            match this.call_uuids.poll_next_unpin(cx) {
                Poll::Ready(Some(call_uuid)) => {
                    let client = this.client.clone();
                    let task = tokio::spawn(async move {
                        let result = client.transcript(call_uuid.clone()).await;
                        (call_uuid, result)
                    });
                    this.in_flight.push_back(Task(task));
                }
                Poll::Ready(None) => this.input_done = true,
                Poll::Pending => break,
            }
        }
        match this.in_flight.poll_next_unpin(cx) {
            Poll::Ready(Some(fetched)) => Poll::Ready(Some(fetched)),
            // Nothing in flight: the end, or waiting for input (whose waker is registered).
            Poll::Ready(None) if this.input_done => Poll::Ready(None),
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}
