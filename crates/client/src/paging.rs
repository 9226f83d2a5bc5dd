//! [`CallStream`]: every call matching a query, page after page.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesOrdered, Stream, StreamExt};

use crate::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use crate::{ApiError, CallRecord, Client};

/// Something odd about the pages, which the stream reports rather than hides. Each one is also
/// logged (`tracing`, level `warn`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingWarning {
    /// A page had no usable `paging.total` (absent or negative). Without a total from the first
    /// page, the stream reads pages one at a time until a short or empty page; after a total,
    /// it keeps the last one.
    #[error("page {page} has no paging.total: reading until a short page")]
    MissingTotal {
        /// The page number.
        page: u64,
    },
    /// `paging.total` changed between pages (calls were added or removed meanwhile): the
    /// stream goes on with the new total.
    #[error("paging.total changed from {previous} to {current} at page {page}")]
    TotalChanged {
        /// The page number.
        page: u64,
        /// The total before.
        previous: u64,
        /// The total of this page.
        current: u64,
    },
    /// A page repeated calls of the previous page (same `call_group_id` and `call_uuid`, or
    /// `call_id` when there is no `call_uuid`): they are yielded once, not twice. A page made
    /// only of repeated calls ends the stream.
    #[error("page {page} repeats {count} call(s) of the previous page: skipped")]
    RepeatedCalls {
        /// The page number.
        page: u64,
        /// How many calls were repeated.
        count: u64,
    },
    /// The stream ended with another number of calls than the last `paging.total` says
    /// (counting the pages before the first one asked for as full).
    #[error("paging.total is {total} but the pages held {received} call(s)")]
    CountMismatch {
        /// The last `paging.total`.
        total: u64,
        /// Calls before the first page asked for, plus the calls yielded.
        received: u64,
    },
}

type PageResult = (u64, Result<AppraisecallDetailsResponse, ApiError>);

/// A page request running as its own task, so that it makes progress while the reader is busy
/// with earlier calls; dropping it (when the stream ends or is dropped) cancels it.
struct PageTask(tokio::task::JoinHandle<PageResult>);

impl Future for PageTask {
    type Output = PageResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<PageResult> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(page)) => Poll::Ready(page),
            Poll::Ready(Err(error)) if error.is_panic() => {
                std::panic::resume_unwind(error.into_panic())
            }
            Poll::Ready(Err(error)) => panic!("a page request was cancelled: {error}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for PageTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every call matching a query, as [`CallRecord`]s in page order; made by [`Client::calls`].
///
/// It fetches `request.page` first (normally 1), then the following pages with the same
/// `request.limit`, and ends after the page that brings the calls seen to `paging.total`, or
/// after a short or empty page. An error ends it (after the client's retries). With
/// [`CallStream::concurrency`] `n` > 1, once the first page has told `paging.total`, up to `n`
/// pages are fetched at a time, and calls are still yielded in page order; at most `n` pages
/// are held in memory (plus the one being yielded), whatever the total. Page requests run as
/// tasks of the Tokio runtime, so they go on while the reader handles earlier calls; dropping
/// the stream cancels them.
///
/// What it finds odd (a changing total, repeated calls) it reports in
/// [`CallStream::warnings`], and never drops or duplicates a call silently.
#[must_use = "a stream does nothing unless polled"]
pub struct CallStream {
    client: Client,
    request: AppraisecallDetailsRequest,
    limit: u64,
    concurrency: usize,
    /// The next page to request.
    next_page: u64,
    /// The last page to request, from the latest total; `None` until the first page is in, and
    /// when the total is unknown.
    last_page: Option<u64>,
    first_page_in: bool,
    in_flight: FuturesOrdered<PageTask>,
    /// Pages received, in order, not yet turned into calls.
    ready: VecDeque<(u64, Result<AppraisecallDetailsResponse, ApiError>)>,
    calls: VecDeque<CallRecord>,
    total: Option<u64>,
    received: u64,
    previous_keys: HashSet<(Option<String>, String)>,
    warnings: Vec<PagingWarning>,
    /// No page is requested or accepted any more.
    done: bool,
}

impl std::fmt::Debug for CallStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallStream")
            .field("limit", &self.limit)
            .field("concurrency", &self.concurrency)
            .field("next_page", &self.next_page)
            .field("total", &self.total)
            .field("received", &self.received)
            .field("warnings", &self.warnings)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Every call matching `request`, page after page: see [`CallStream`].
    ///
    /// ```no_run
    /// use ccsqm_client::{types::AppraisecallDetailsRequest, Client};
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: Client, request: AppraisecallDetailsRequest)
    /// #     -> Result<(), ccsqm_client::ApiError> {
    /// let mut calls = client.calls(request).concurrency(4);
    /// while let Some(record) = calls.next().await {
    ///     let record = record?;
    ///     println!("{:?} of {:?}: {:?}", record.call.call_uuid, calls.total(), record.call_group_id);
    /// }
    /// for warning in calls.warnings() {
    ///     eprintln!("warning: {warning}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn calls(&self, request: AppraisecallDetailsRequest) -> CallStream {
        CallStream {
            client: self.clone(),
            limit: request.limit.get(),
            next_page: request.page.get(),
            request,
            concurrency: 1,
            last_page: None,
            first_page_in: false,
            in_flight: FuturesOrdered::new(),
            ready: VecDeque::new(),
            calls: VecDeque::new(),
            total: None,
            received: 0,
            previous_keys: HashSet::new(),
            warnings: Vec::new(),
            done: false,
        }
    }
}

impl CallStream {
    /// Fetch up to `n` pages at a time once the first page has told the total (default 1:
    /// one page after the other). `0` counts as 1.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The latest `paging.total`: the number of calls matching the query (`None` before the
    /// first page, or when the server sent none).
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// How many calls the stream has taken from pages so far (yielded, or about to be).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// What was odd about the pages so far.
    pub fn warnings(&self) -> &[PagingWarning] {
        &self.warnings
    }

    fn warn(&mut self, warning: PagingWarning) {
        tracing::warn!(%warning, "appraisecall/details paging");
        self.warnings.push(warning);
    }

    /// Requests pages while fewer than `concurrency` are in flight or waiting.
    fn schedule(&mut self) {
        if self.done {
            return;
        }
        let window = if self.first_page_in && self.last_page.is_some() {
            self.concurrency
        } else {
            1
        };
        while self.in_flight.len() + self.ready.len() < window {
            if self.first_page_in && self.last_page.is_some_and(|last| self.next_page > last) {
                break;
            }
            let page = self.next_page;
            let Some(number) = NonZeroU64::new(page) else {
                break;
            };
            let mut body = self.request.clone();
            body.page = number;
            let client = self.client.clone();
            let task = tokio::spawn(async move { (page, client.details_page(body).await) });
            self.in_flight.push_back(PageTask(task));
            self.next_page += 1;
        }
    }

    /// Takes one page's calls; decides whether more pages follow.
    fn accept(&mut self, page: u64, response: AppraisecallDetailsResponse) {
        let page_total = response
            .paging
            .as_ref()
            .and_then(|p| p.total)
            .and_then(|t| u64::try_from(t).ok());
        match (self.total, page_total) {
            // Reported for the first page, and for a page after others that had a total.
            (Some(_), None) => self.warn(PagingWarning::MissingTotal { page }),
            (None, None) if !self.first_page_in => self.warn(PagingWarning::MissingTotal { page }),
            (Some(previous), Some(current)) if previous != current => {
                self.warn(PagingWarning::TotalChanged {
                    page,
                    previous,
                    current,
                });
            }
            _ => {}
        }
        self.first_page_in = true;
        if page_total.is_some() {
            self.total = page_total;
        }
        self.last_page = self.total.map(|t| t.div_ceil(self.limit));

        let mut keys = HashSet::new();
        let mut on_page = 0u64;
        let mut repeated = 0u64;
        for record in CallRecord::from_page(response) {
            on_page += 1;
            let id = record
                .call
                .call_uuid
                .as_ref()
                .or(record.call.call_id.as_ref());
            if let Some(id) = id {
                let key = (record.call_group_id.clone(), id.clone());
                if self.previous_keys.contains(&key) {
                    repeated += 1;
                    continue;
                }
                keys.insert(key);
            }
            self.received += 1;
            self.calls.push_back(record);
        }
        self.previous_keys = keys;
        if repeated > 0 {
            self.warn(PagingWarning::RepeatedCalls {
                page,
                count: repeated,
            });
        }
        let short = on_page < self.limit;
        let only_repeats = on_page > 0 && repeated == on_page;
        let last = self.last_page.is_some_and(|last| page >= last);
        if short || only_repeats || last {
            self.finish();
        }
    }

    /// Stops requesting pages, and checks the count against the total.
    fn finish(&mut self) {
        self.done = true;
        self.in_flight = FuturesOrdered::new();
        self.ready.clear();
        if let Some(total) = self.total {
            let before = (self.request.page.get() - 1).saturating_mul(self.limit);
            let received = before.saturating_add(self.received);
            if received != total {
                self.warn(PagingWarning::CountMismatch { total, received });
            }
        }
    }
}

impl Stream for CallStream {
    type Item = Result<CallRecord, ApiError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            this.schedule();
            // Drive the requests in flight even while calls are waiting to be taken.
            while let Poll::Ready(Some(page)) = this.in_flight.poll_next_unpin(cx) {
                this.ready.push_back(page);
            }
            if let Some(record) = this.calls.pop_front() {
                return Poll::Ready(Some(Ok(record)));
            }
            match this.ready.pop_front() {
                Some((page, Ok(response))) => this.accept(page, response),
                Some((page, Err(error))) => {
                    tracing::debug!(page, error = %error, "appraisecall/details paging stopped");
                    this.done = true;
                    this.in_flight = FuturesOrdered::new();
                    this.ready.clear();
                    return Poll::Ready(Some(Err(error)));
                }
                None if this.in_flight.is_empty() => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                None => return Poll::Pending,
            }
        }
    }
}
