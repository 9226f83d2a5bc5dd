//! The light build of ccsqm-client: rustls with ring and Mozilla's roots, no JSON Schemas (no
//! AWS-LC, no schemars compiled). One page of `appraisecall/details`:
//!
//! ```sh
//! CCSQM_BASE_URL=https://service.besclouds.com CCSQM_TOKEN=... CCSQM_USER_ID=... \
//!     cargo run -p ccsqm-client --example light --no-default-features \
//!     --features rustls-ring,webpki-roots
//! ```
//!
//! A service asks for the same in its `Cargo.toml`:
//!
//! ```toml
//! ccsqm-client = { version = "0.1", default-features = false, features = ["rustls-ring", "webpki-roots"] }
//! ```

use std::num::NonZeroU64;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setting = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let client = Client::builder(&setting("CCSQM_BASE_URL")?)
        .bearer_token(setting("CCSQM_TOKEN")?)
        .user_id(setting("CCSQM_USER_ID")?)
        .build()?;
    let request = AppraisecallDetailsRequest::every_call(NonZeroU64::new(10).expect("not zero"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let page = runtime.block_on(client.details_page(request))?;
    let calls: usize = page.data.iter().map(|group| group.calls.len()).sum();
    let total = page.paging.and_then(|paging| paging.total);
    println!("{calls} calls on page 1 of {total:?}");
    Ok(())
}
