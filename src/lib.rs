//! mxlookup: where does mail for these domains go? Concurrent MX lookups
//! behind one shared limiter, exactly one settled result per domain, and
//! an audit of what delivery would use.
//!
//! The library, in layers, bottom to top (each imports only those below):
//! - [`name`], [`text`], [`error`]: domain names, text that is safe to
//!   show, and the errors that end a run;
//! - [`resolver`]: questions (name, type) to typed answers, through
//!   mxlookup's own wire engine or hickory-resolver's;
//! - [`outcome`]: the shared result types ([`Settled`], [`Outcome`],
//!   [`Status`], problems, changes);
//! - [`limiter`], [`input`]: one limiter per run; lazy entries from
//!   arguments, files and readers;
//! - [`audit`], [`pipeline`]: the checks, and the pipeline that runs the
//!   lookups and audits of a stream of entries;
//! - [`saved`], [`report`]: saved runs read back (and baselines), and the
//!   output formats.
//!
//! The command line (flags, the terminal, exit statuses) is the binary's,
//! not the library's.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mxlookup::Error> {
//! use std::sync::Arc;
//! let settings = mxlookup::resolver::Settings {
//!     nameservers: vec!["127.0.0.1:5353".parse().unwrap()],
//!     ..Default::default()
//! };
//! let resolver = Arc::new(mxlookup::resolver::AnyResolver::new(Default::default(), &settings)?);
//! let limiter = Arc::new(mxlookup::Limiter::new(32, None));
//! for r in mxlookup::lookup_all(["example.com", "example.org"], resolver, limiter).await {
//!     println!("{} {} {:?}", r.entry.display_name(), r.outcome.status(), r.outcome.mx());
//! }
//! # Ok(()) }
//! ```

pub mod audit;
mod engine;
pub mod error;
#[cfg(fuzzing)]
#[allow(missing_docs)]
pub mod fuzzing;
pub mod input;
pub mod limiter;
pub mod name;
pub mod outcome;
pub mod pipeline;
pub mod report;
pub mod resolver;
pub mod saved;
#[cfg(test)]
mod testing;
pub mod text;

pub use error::Error;
pub use limiter::Limiter;
pub use name::DomainName;
pub use outcome::{Outcome, Settled, Status};
pub use pipeline::Pipeline;
pub use resolver::Resolver;

use std::sync::Arc;

/// Look up the MX records of every domain, with at most
/// `limiter.concurrency()` queries in flight, and return one settled result
/// per distinct domain, in input order. Each lookup ends within the
/// resolver's timeout from its first query. The same pipeline as the
/// command line's ([`Pipeline`]); a text that is not a domain name is a
/// result with status `invalid`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// // A resolver that answers from memory, to show the shape of the API.
/// struct Fixed;
/// impl mxlookup::Resolver for Fixed {
///     async fn resolve(
///         &self,
///         name: &mxlookup::DomainName,
///         _: mxlookup::resolver::RecordType,
///     ) -> Result<mxlookup::resolver::Answer, mxlookup::resolver::Failure> {
///         let exchange = mxlookup::DomainName::parse_ascii(&format!("mx.{name}")).unwrap();
///         Ok(mxlookup::resolver::Answer {
///             records: vec![mxlookup::resolver::Rdata::Mx { preference: 10, exchange }],
///             ..Default::default()
///         })
///     }
/// }
/// let limiter = Arc::new(mxlookup::Limiter::new(8, None));
/// let results = mxlookup::lookup_all(["a.example", "B.example.", "not a name"], Arc::new(Fixed), limiter).await;
/// let lines: Vec<String> = results
///     .iter()
///     .map(|r| format!("{} {} {:?}", r.entry.display_name(), r.outcome.status(), r.outcome.mx().iter().map(|m| m.exchange.to_string()).collect::<Vec<_>>()))
///     .collect();
/// assert_eq!(lines, [
///     r#"a.example ok ["mx.a.example"]"#,
///     r#"b.example ok ["mx.b.example"]"#,
///     r#"not a name invalid []"#,
/// ]);
/// # }
/// ```
pub async fn lookup_all<R: Resolver>(
    domains: impl IntoIterator<Item = impl Into<String>>,
    resolver: Arc<R>,
    limiter: Arc<Limiter>,
) -> Vec<Settled> {
    let args: Vec<String> = domains.into_iter().map(Into::into).collect();
    let entries: Vec<outcome::Entry> = input::Entries::new(vec![input::Source::args(args)])
        .filter_map(Result::ok)
        .collect();
    Pipeline::new(resolver, limiter).run_all(entries).await
}
