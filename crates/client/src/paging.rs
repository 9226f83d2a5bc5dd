//! [`CallStream`]: every call matching a query, page after page.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::stream::{FuturesOrdered, Stream, StreamExt};

use crate::adaptive::{PageSignals, Window, MAX_CONCURRENCY};
use crate::drift::{Drift, DriftFinding, PageExtras, DRIFT_TARGET};
use crate::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use crate::{ApiError, CallRecord, Client};

/// Something wrong or odd about the pages of a [`CallStream`].
///
/// Most of these mean the calls received may not be exactly the calls that match: by default
/// they end the stream with [`ApiError::Paging`]; with [`CallStream::allow_partial`] they are
/// reported in [`CallStream::warnings`] instead and the stream goes on (or ends) as each one
/// says. Two are always mere warnings, since no call is lost: [`PagingWarning::MissingTotal`]
/// and [`PagingWarning::LimitCapped`]. Each one is also logged (`tracing`, level `warn`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingWarning {
    /// A page had no usable `paging.total` (absent, negative, or not a number). Without a
    /// total from the first page, the stream reads pages one at a time until a short or empty
    /// page, and has no count to check the calls against; after a total, it keeps the last
    /// one. Always a warning.
    #[error("page {page} has no paging.total: reading until a short page")]
    MissingTotal {
        /// The page number.
        page: u64,
    },
    /// The server returned fewer calls than `limit` on the first page while `paging.total`
    /// says more remain: it caps the page size. The stream asks for pages of the size it really
    /// returns from then on (page numbers counted in that size), so no call is skipped.
    /// Always a warning. Without a total, a short first page is followed by one more request,
    /// page 2 of that size: calls there mean a capped `limit` (reported, and paged the same
    /// way), none mean the end. (Only detected when the stream starts at page 1; from a later
    /// page, a short page is [`PagingWarning::ShortPage`].)
    #[error("the server returns at most {returned} call(s) per page ({asked} asked for): paging by {returned}")]
    LimitCapped {
        /// The `limit` asked for.
        asked: u64,
        /// The calls of the first page: the `limit` used from then on.
        returned: u64,
    },
    /// `paging.total` changed between pages: calls were added or removed meanwhile, so pages
    /// may have shifted (a call skipped, or one repeated). With `allow_partial`, the stream
    /// goes on with the new total.
    #[error("paging.total changed from {previous} to {current} at page {page}")]
    TotalChanged {
        /// The page number.
        page: u64,
        /// The total before.
        previous: u64,
        /// The total of this page.
        current: u64,
    },
    /// A page held calls already received, on any earlier page (same `call_group_id` and
    /// `call_uuid`, or `call_id` when there is no `call_uuid`, or the same fields when there
    /// is neither). With `allow_partial` they are yielded once, not twice, and a page made
    /// only of repeated calls ends the stream.
    #[error("page {page} repeats {count} call(s) of earlier pages")]
    RepeatedCalls {
        /// The page number.
        page: u64,
        /// How many calls were repeated.
        count: u64,
    },
    /// A page held fewer calls than `limit` while `paging.total` says more remain. With
    /// `allow_partial` the stream ends there.
    #[error("page {page} held {on_page} call(s) of the {limit} asked for, but paging.total {total} says {remaining} more remain")]
    ShortPage {
        /// The page number.
        page: u64,
        /// The calls on the page.
        on_page: u64,
        /// The `limit` asked for.
        limit: u64,
        /// The latest `paging.total`.
        total: u64,
        /// How many calls the total says remain after this page.
        remaining: u64,
    },
    /// The pages went on past the number that the first `paging.total` allows, with a margin
    /// of 10 % (at least 2 pages): a total that grows with every page, say. With
    /// `allow_partial` the stream ends there.
    #[error("page {page} is past the {bound} page(s) that the first paging.total ({first_total}) allows: paging stopped")]
    TooManyPages {
        /// The page number.
        page: u64,
        /// The last page allowed.
        bound: u64,
        /// The total of the first page.
        first_total: u64,
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

impl PagingWarning {
    /// Whether this is always a warning, never an error: no call is lost or repeated.
    pub fn is_benign(&self) -> bool {
        matches!(
            self,
            PagingWarning::MissingTotal { .. } | PagingWarning::LimitCapped { .. }
        )
    }
}

/// A page of `appraisecall/details`, with its answer's `Date` (Unix seconds), when readable,
/// and what its body holds that the spec does not name.
async fn dated_page(client: &Client, body: AppraisecallDetailsRequest) -> Result<Page, ApiError> {
    let (answer, extras) = crate::drift::scoped(client.details_answer(body)).await;
    let answer = answer?;
    let date = server_date(answer.headers());
    Ok((answer.into_inner(), date, extras))
}

/// An answer's `Date` (the server's clock), in Unix seconds, when it has a readable one.
pub fn server_date(headers: &http::HeaderMap) -> Option<i64> {
    headers
        .get(http::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

/// What [`CallStream::on_drift`] calls.
type DriftCallback = Box<dyn FnMut(&DriftFinding) + Send>;

/// A page, the server's clock at it (its `Date`, Unix seconds), and its drift.
type Page = (AppraisecallDetailsResponse, Option<i64>, Option<PageExtras>);

/// A page's number, and its answer with the server's clock at it (its `Date`, Unix seconds).
type PageResult = (u64, Result<Page, ApiError>);

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
/// after a short or empty page. An error ends it (after the client's retries). Once the first
/// page has told `paging.total`, several pages are fetched at a time, and calls are still
/// yielded in page order; at most that many pages are held in memory (plus the one being
/// yielded), whatever the total. Page requests run as tasks of the Tokio runtime, so they go
/// on while the reader handles earlier calls; dropping the stream cancels them. By default one
/// page at a time; [`CallStream::concurrency`] pins another number.
///
/// **Adaptive concurrency** ([`CallStream::adaptive`], what `ccsqm details --all` uses): how
/// many pages at a time starts at 1, grows while answers come as fast as the fastest seen and
/// no `429`/`503` arrives (doubling each round at first, then one page per round), halves on a
/// `429` or `503` (once per round, even if a retry then succeeded), holds back new pages until
/// a `Retry-After` has passed, and never exceeds [`MAX_CONCURRENCY`](crate::MAX_CONCURRENCY)
/// (32) or [`CallStream::max_concurrency`]. [`CallStream::current_concurrency`] tells it.
///
/// **Complete, or an error.** The stream checks that the pages add up: every call is yielded
/// once, and the calls number `paging.total`. A count mismatch, a short page while the total
/// says more remain, a call repeated on any later page, a total that changes, or more pages
/// than the first total allows (see [`PagingWarning`]) end the stream with
/// [`ApiError::Paging`] after the calls before it, unless [`CallStream::allow_partial`] accepts
/// a partial result. A server that caps `limit` (returns fewer calls than asked on the first
/// page, while the total says more remain) is paged by the size it really returns.
///
/// **Repeats in bounded memory.** Each call received leaves a 64-bit fingerprint (a keyed
/// hash, random per stream, of its `call_group_id` and `call_uuid`, else `call_id`, else all
/// its fields) in a hash set: about 10 to 21 bytes per call (8 bytes, plus the set's control
/// byte and free room), so at most about 21 MB per million calls. Two different calls share a
/// fingerprint with a probability of about n²/2⁶⁵ (1 in 70 million for a million calls); that
/// would be reported as a repeat, never dropped silently.
///
/// What it finds odd but harmless (no total, a capped `limit`), and with `allow_partial`
/// everything else, it reports in [`CallStream::warnings`].
#[must_use = "a stream does nothing unless polled"]
pub struct CallStream {
    client: Client,
    request: AppraisecallDetailsRequest,
    /// The page size: `request.limit`, or the size the server really returns.
    limit: u64,
    concurrency: Concurrency,
    /// While a `Retry-After` holds back new pages: when it ends.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    allow_partial: bool,
    /// Calls before the first page asked for (its pages counted as full).
    before: u64,
    /// The next page to request.
    next_page: u64,
    /// The last page to request, from the latest total; `None` until the first page is in, and
    /// when the total is unknown.
    last_page: Option<u64>,
    /// The last page ever requested, from the first total with a margin.
    page_bound: Option<u64>,
    first_page_in: bool,
    in_flight: FuturesOrdered<PageTask>,
    /// Pages received, in order, not yet turned into calls.
    ready: VecDeque<PageResult>,
    /// The server's clock at the latest page's answer (Unix seconds), when it said.
    server_time: Option<i64>,
    calls: VecDeque<CallRecord>,
    first_total: Option<u64>,
    total: Option<u64>,
    received: u64,
    /// Pages taken so far.
    pages: u64,
    /// The `limit` asked for, while page 2 is asked for with the size of a short first page
    /// that came without a total: it tells a capped `limit` from the end of the calls.
    probing: Option<u64>,
    /// Fingerprints of the calls received so far.
    seen: HashSet<u64>,
    keys: RandomState,
    warnings: Vec<PagingWarning>,
    /// What the pages held that the spec does not name, so far.
    drift: Drift,
    /// Told each new finding of `drift`.
    on_drift: Option<DriftCallback>,
    /// The error that ends the stream once the calls before it are taken.
    error: Option<ApiError>,
    /// No page is requested or accepted any more.
    done: bool,
}

/// How many pages a [`CallStream`] fetches at a time.
#[derive(Clone, Debug)]
enum Concurrency {
    Pinned(usize),
    Adaptive(Arc<Window>),
}

impl Concurrency {
    fn size(&self) -> usize {
        match self {
            Concurrency::Pinned(n) => *n,
            Concurrency::Adaptive(window) => window.size(),
        }
    }
}

impl std::fmt::Debug for CallStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallStream")
            .field("limit", &self.limit)
            .field("concurrency", &self.concurrency)
            .field("allow_partial", &self.allow_partial)
            .field("next_page", &self.next_page)
            .field("total", &self.total)
            .field("received", &self.received)
            .field("warnings", &self.warnings)
            .field("drift", &self.drift)
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
    /// let mut shown = 0;
    /// while let Some(record) = calls.next().await {
    ///     for warning in &calls.warnings()[shown..] {
    ///         eprintln!("warning: {warning}");
    ///     }
    ///     shown = calls.warnings().len();
    ///     let record = record?; // an incomplete result ends with ApiError::Paging
    ///     println!("{:?} of {:?}: {:?}", record.call.call_uuid, calls.total(), record.call_group_id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn calls(&self, request: AppraisecallDetailsRequest) -> CallStream {
        let limit = request.limit.get();
        CallStream {
            client: self.clone(),
            limit,
            before: (request.page.get() - 1).saturating_mul(limit),
            next_page: request.page.get(),
            request,
            concurrency: Concurrency::Pinned(1),
            pause: None,
            allow_partial: false,
            last_page: None,
            page_bound: None,
            first_page_in: false,
            in_flight: FuturesOrdered::new(),
            ready: VecDeque::new(),
            server_time: None,
            calls: VecDeque::new(),
            first_total: None,
            total: None,
            received: 0,
            pages: 0,
            probing: None,
            seen: HashSet::new(),
            keys: RandomState::new(),
            warnings: Vec::new(),
            drift: Drift::default(),
            on_drift: None,
            error: None,
            done: false,
        }
    }
}

impl CallStream {
    /// Pins the concurrency: `n` pages at a time once the first page has told the total,
    /// whatever the answers (default 1: one page after the other). `0` counts as 1. Undoes
    /// [`CallStream::adaptive`].
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Concurrency::Pinned(n.max(1));
        self
    }

    /// Adaptive concurrency (see [`CallStream`]), up to
    /// [`MAX_CONCURRENCY`](crate::MAX_CONCURRENCY) pages at a time. Undoes a pinned
    /// [`CallStream::concurrency`].
    pub fn adaptive(self) -> Self {
        self.max_concurrency(MAX_CONCURRENCY)
    }

    /// Adaptive concurrency (see [`CallStream`]) up to `n` pages at a time; `0` counts as 1.
    /// Undoes a pinned [`CallStream::concurrency`].
    pub fn max_concurrency(mut self, n: usize) -> Self {
        match &self.concurrency {
            Concurrency::Adaptive(window) => window.set_ceiling(n),
            Concurrency::Pinned(_) => {
                self.concurrency = Concurrency::Adaptive(Arc::new(Window::new(n)));
            }
        }
        self
    }

    /// How many pages it may fetch at a time now (pinned, or as adapted so far).
    pub fn current_concurrency(&self) -> usize {
        self.concurrency.size()
    }

    /// How many pages met a `429` or `503` answer (retried, or not) so far; always 0 with a
    /// pinned concurrency, which does not watch for them.
    pub fn throttled_pages(&self) -> u64 {
        match &self.concurrency {
            Concurrency::Pinned(_) => 0,
            Concurrency::Adaptive(window) => window.throttled(),
        }
    }

    /// Accept a partial result (default `false`): what would end the stream with
    /// [`ApiError::Paging`] is reported in [`CallStream::warnings`] instead, repeated calls are
    /// yielded once, and the stream ends at a short page, a page of repeats only, or the page
    /// bound. The calls yielded may then not be every call that matches.
    pub fn allow_partial(mut self, allow: bool) -> Self {
        self.allow_partial = allow;
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

    /// The server's clock at the latest page it answered, Unix seconds: the `Date` of its
    /// answers (the calls' upload times are the server's: a service bounding its next window
    /// reads the server's clock here rather than its own). `None` before the first page, or
    /// when the server sends no readable `Date`.
    pub fn server_time(&self) -> Option<i64> {
        self.server_time
    }

    /// How many pages the stream has taken so far (their calls yielded, or about to be).
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// What was odd about the pages so far, in the order found: read it while the stream
    /// runs to report each as it happens.
    pub fn warnings(&self) -> &[PagingWarning] {
        &self.warnings
    }

    /// What the pages so far held that `spec/ccsqm.yaml` does not name: keys of the page, its
    /// groups and calls, and enumeration values it does not list, each with how many calls
    /// (or pages) carried it (see [`Drift`]). The unknown keys of a call and its group are
    /// also in each [`CallRecord::unknown_fields`]; the values stay in the call as sent.
    pub fn drift(&self) -> &Drift {
        &self.drift
    }

    /// Calls `report` with each new finding of [`CallStream::drift`], once per field or value
    /// and stream, as soon as the page that first holds it is read (its count is that page's):
    /// for a service to log or alert on drift as it happens. Each finding is also logged
    /// (`tracing`, level `warn`, target [`DRIFT_TARGET`](crate::DRIFT_TARGET)).
    pub fn on_drift(mut self, report: impl FnMut(&DriftFinding) + Send + 'static) -> Self {
        self.on_drift = Some(Box::new(report));
        self
    }

    fn note_drift(&mut self, page: u64, found: &Drift) {
        if found.is_empty() {
            return;
        }
        for finding in self.drift.merge(found) {
            tracing::warn!(
                target: DRIFT_TARGET,
                page,
                %finding,
                "appraisecall/details: the server sent what spec/ccsqm.yaml does not describe"
            );
            if let Some(report) = &mut self.on_drift {
                report(&finding);
            }
        }
    }

    fn warn(&mut self, warning: PagingWarning) {
        tracing::warn!(%warning, "appraisecall/details paging");
        self.warnings.push(warning);
    }

    /// Reports `issue`: a warning with `allow_partial` (or when benign), else the error that
    /// ends the stream. Returns whether the stream has failed.
    fn report(&mut self, issue: PagingWarning) -> bool {
        if self.allow_partial || issue.is_benign() {
            self.warn(issue);
            return false;
        }
        tracing::debug!(%issue, "appraisecall/details paging stopped");
        self.stop();
        self.error = Some(ApiError::Paging(issue));
        true
    }

    /// No page is requested or accepted any more.
    fn stop(&mut self) {
        self.done = true;
        self.pause = None;
        self.in_flight = FuturesOrdered::new();
        self.ready.clear();
    }

    /// The last page to request: the one that brings the calls to the total, within the bound.
    fn update_last_page(&mut self) {
        let start = self.request.page.get();
        self.last_page = self.total.map(|total| {
            let pages = total.saturating_sub(self.before).div_ceil(self.limit);
            start.saturating_add(pages.max(1) - 1)
        });
    }

    /// The bound on pages from the first total: its pages, plus 10 % (at least 2).
    fn update_page_bound(&mut self) {
        let start = self.request.page.get();
        self.page_bound = self.first_total.map(|total| {
            let pages = total.saturating_sub(self.before).div_ceil(self.limit);
            let margin = (pages / 10).max(2);
            start.saturating_add(pages.saturating_add(margin) - 1)
        });
    }

    /// Requests pages while fewer than `concurrency` are in flight or waiting.
    fn schedule(&mut self) {
        if self.done {
            return;
        }
        let window = if self.first_page_in && self.last_page.is_some() {
            self.concurrency.size()
        } else {
            1
        };
        if let Concurrency::Adaptive(adaptive) = &self.concurrency {
            if let Some(until) = adaptive.paused_until(Instant::now()) {
                // A `Retry-After`: no new page until it has passed (`poll_next` waits).
                if self.pause.is_none() {
                    let until = tokio::time::Instant::from_std(until);
                    self.pause = Some(Box::pin(tokio::time::sleep_until(until)));
                }
                return;
            }
        }
        while self.in_flight.len() + self.ready.len() < window {
            if self.first_page_in && self.last_page.is_some_and(|last| self.next_page > last) {
                break;
            }
            if self.page_bound.is_some_and(|bound| self.next_page > bound) {
                break;
            }
            let page = self.next_page;
            let Some(number) = NonZeroU64::new(page) else {
                break;
            };
            let Some(limit) = NonZeroU64::new(self.limit) else {
                break;
            };
            let mut body = self.request.clone();
            body.page = number;
            body.limit = limit;
            let client = self.client.clone();
            let task = match &self.concurrency {
                Concurrency::Pinned(_) => {
                    tokio::spawn(async move { (page, dated_page(&client, body).await) })
                }
                Concurrency::Adaptive(window) => {
                    let window = window.clone();
                    let sending = window.sending();
                    tokio::spawn(async move {
                        let signals = Arc::new(PageSignals::new(window.clone(), sending));
                        let sent = Instant::now();
                        let result = signals.clone().scope(dated_page(&client, body)).await;
                        window.answered(sent.elapsed(), signals.throttled());
                        (page, result)
                    })
                }
            };
            self.in_flight.push_back(PageTask(task));
            self.next_page += 1;
        }
    }

    /// A call's fingerprint: a keyed hash of its identity.
    fn fingerprint(&self, record: &CallRecord) -> u64 {
        let group = record.call_group_id.as_deref();
        match (&record.call.call_uuid, &record.call.call_id) {
            (Some(uuid), _) => self.keys.hash_one((group, 0u8, uuid)),
            (None, Some(id)) => self.keys.hash_one((group, 1u8, id)),
            (None, None) => {
                let fields = serde_json::to_vec(&record.call).unwrap_or_default();
                self.keys.hash_one((group, 2u8, fields))
            }
        }
    }

    /// Takes one page's calls; decides whether more pages follow.
    fn accept(
        &mut self,
        page: u64,
        response: AppraisecallDetailsResponse,
        extras: Option<PageExtras>,
    ) {
        let page_total = response
            .paging
            .as_ref()
            .and_then(|p| p.total)
            .and_then(|t| u64::try_from(t).ok());
        let first = !self.first_page_in;
        self.first_page_in = true;
        self.pages += 1;
        match (self.total, page_total) {
            // Reported for the first page, and for a page after others that had a total.
            (Some(_), None) => self.warn(PagingWarning::MissingTotal { page }),
            (None, None) if first => self.warn(PagingWarning::MissingTotal { page }),
            (Some(previous), Some(current)) if previous != current => {
                let changed = PagingWarning::TotalChanged {
                    page,
                    previous,
                    current,
                };
                if self.report(changed) {
                    return;
                }
            }
            _ => {}
        }
        if page_total.is_some() {
            self.total = page_total;
        }
        if first {
            self.first_total = page_total;
        }

        let mut on_page = 0u64;
        let mut repeated = 0u64;
        match &extras {
            Some(extras) => self.note_drift(page, &extras.drift),
            // Not expected: a body the generated types read is one the scan reads.
            None => tracing::warn!(
                target: DRIFT_TARGET,
                page,
                "appraisecall/details: the page was not scanned for what spec/ccsqm.yaml does \
                 not describe"
            ),
        }
        for record in CallRecord::from_scanned_page(response, extras) {
            on_page += 1;
            if !self.seen.insert(self.fingerprint(&record)) {
                repeated += 1;
                continue;
            }
            self.received += 1;
            self.calls.push_back(record);
        }
        let remaining = |this: &Self| {
            this.total
                .map(|t| t.saturating_sub(this.before.saturating_add(this.received)))
        };

        // A server that caps `limit`: page by the size it returns (page 1 is the same calls
        // whatever the size, so the next request is page 2 of that size).
        if first
            && self.before == 0
            && on_page > 0
            && on_page < self.limit
            && repeated == 0
            && remaining(self).is_some_and(|r| r > 0)
        {
            self.warn(PagingWarning::LimitCapped {
                asked: self.limit,
                returned: on_page,
            });
            self.limit = on_page;
        }
        // Without a total, a short first page may be the end, or a capped `limit`: page 2 of
        // that size tells (it is empty at the end; one more request).
        if first && self.before == 0 && self.total.is_none() && on_page > 0 && on_page < self.limit
        {
            self.probing = Some(self.limit);
            self.limit = on_page;
        } else if let Some(asked) = self.probing.take() {
            if on_page == repeated {
                // Nothing new (empty, or the first page again from a server that ignores the
                // page number): the short first page was the end.
                self.finish();
                return;
            }
            self.warn(PagingWarning::LimitCapped {
                asked,
                returned: self.limit,
            });
        }
        if first {
            self.update_page_bound();
        }
        self.update_last_page();

        if repeated > 0
            && self.report(PagingWarning::RepeatedCalls {
                page,
                count: repeated,
            })
        {
            return;
        }
        let short = on_page < self.limit;
        if short {
            if let (Some(total), Some(remaining)) = (self.total, remaining(self)) {
                if remaining > 0 {
                    let issue = PagingWarning::ShortPage {
                        page,
                        on_page,
                        limit: self.limit,
                        total,
                        remaining,
                    };
                    if self.report(issue) {
                        return;
                    }
                }
            }
        }
        let only_repeats = on_page > 0 && repeated == on_page;
        let reached = remaining(self) == Some(0);
        let last = self.last_page.is_some_and(|last| page >= last);
        if short || only_repeats || reached || last {
            self.finish();
            return;
        }
        if let (Some(bound), Some(first_total)) = (self.page_bound, self.first_total) {
            if page >= bound {
                let issue = PagingWarning::TooManyPages {
                    page,
                    bound,
                    first_total,
                };
                if !self.report(issue) {
                    self.finish();
                }
            }
        }
    }

    /// Stops requesting pages, and checks the count against the total.
    fn finish(&mut self) {
        self.stop();
        if let Some(total) = self.total {
            let received = self.before.saturating_add(self.received);
            if received != total {
                self.report(PagingWarning::CountMismatch { total, received });
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
            if let Some(pause) = &mut this.pause {
                if pause.as_mut().poll(cx).is_ready() {
                    this.pause = None;
                    continue;
                }
            }
            // Drive the requests in flight even while calls are waiting to be taken.
            while let Poll::Ready(Some(page)) = this.in_flight.poll_next_unpin(cx) {
                this.ready.push_back(page);
            }
            if let Some(record) = this.calls.pop_front() {
                return Poll::Ready(Some(Ok(record)));
            }
            match this.ready.pop_front() {
                Some((page, Ok((response, date, extras)))) => {
                    this.server_time = this.server_time.max(date);
                    this.accept(page, response, extras)
                }
                Some((page, Err(error))) => {
                    tracing::debug!(page, error = %error, "appraisecall/details paging stopped");
                    this.stop();
                    return Poll::Ready(Some(Err(error)));
                }
                None if this.error.is_some() => {
                    return Poll::Ready(this.error.take().map(Err));
                }
                None if this.in_flight.is_empty() && this.pause.is_none() => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                None => return Poll::Pending,
            }
        }
    }
}
