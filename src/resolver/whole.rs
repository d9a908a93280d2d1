//! hickory's nameserver turns every answer that is not a positive one
//! (NXDOMAIN, NODATA, SERVFAIL, REFUSED, ...) into an error value that
//! keeps the response code and the authority records but drops the message:
//! its AD bit and its Extended DNS Errors are gone. Rebuilt from that error,
//! a secure NODATA would read as insecure (a false definite answer) and a
//! SERVFAIL would lose the validator's reason.
//!
//! So the hickory engine's connections come from this provider: the same
//! connections hickory makes, with every such response carried whole inside
//! a positive one (one NULL record, owned by a name made at random for this
//! process, holding the original bytes), which hickory passes through
//! untouched. [`unwrap`] gives the original bytes back to the classifier.

use hickory_resolver::config::ConnectionConfig;
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsExchange, DnsHandle};
use hickory_resolver::proto::op::{
    DnsRequest, DnsResponse, Message, MessageType, OpCode, ResponseCode,
};
use hickory_resolver::proto::rr::rdata::NULL;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::{ConnectionProvider, PoolContext};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::OnceLock;

/// The owner name of the carrying record: random per process, so that no
/// server can forge a carried message.
fn marker() -> &'static Name {
    static MARKER: OnceLock<Name> = OnceLock::new();
    MARKER.get_or_init(|| {
        let label = format!("mxlookup-whole-{:016x}", rand::random::<u64>());
        Name::from_ascii(format!("{label}.invalid.")).unwrap_or_else(|_| Name::root())
    })
}

/// hickory's own connections, each response that hickory would turn into
/// an error carried whole.
#[derive(Clone, Default)]
pub(super) struct Whole(TokioRuntimeProvider);

type Connecting = Pin<Box<dyn Future<Output = Result<Carrying, NetError>> + Send>>;

impl ConnectionProvider for Whole {
    type Conn = Carrying;
    type FutureConn = Connecting;
    type RuntimeProvider = TokioRuntimeProvider;

    fn new_connection(
        &self,
        ip: IpAddr,
        config: &ConnectionConfig,
        cx: &PoolContext,
    ) -> Result<Connecting, NetError> {
        let connecting = self.0.new_connection(ip, config, cx)?;
        Ok(Box::pin(async move { connecting.await.map(Carrying) }))
    }

    fn runtime_provider(&self) -> &TokioRuntimeProvider {
        &self.0
    }
}

/// One of hickory's connections, carrying negative responses whole.
#[derive(Clone)]
pub(super) struct Carrying(DnsExchange<TokioRuntimeProvider>);

type Responses = futures_util::stream::Map<
    <DnsExchange<TokioRuntimeProvider> as DnsHandle>::Response,
    fn(Result<DnsResponse, NetError>) -> Result<DnsResponse, NetError>,
>;

impl DnsHandle for Carrying {
    type Response = Responses;
    type Runtime = TokioRuntimeProvider;

    fn is_verifying_dnssec(&self) -> bool {
        self.0.is_verifying_dnssec()
    }

    fn is_using_edns(&self) -> bool {
        self.0.is_using_edns()
    }

    fn send(&self, request: DnsRequest) -> Responses {
        use futures_util::StreamExt;
        self.0.send(request).map(carry as fn(_) -> _)
    }
}

/// A response hickory would keep as it is goes through; any other is
/// carried whole (when it fits in a record).
fn carry(response: Result<DnsResponse, NetError>) -> Result<DnsResponse, NetError> {
    let response = response?;
    let positive = response.metadata.response_code == ResponseCode::NoError
        && (response.contains_answer() || response.metadata.truncation);
    let bytes = response.as_buffer();
    if positive || bytes.is_empty() || bytes.len() > usize::from(u16::MAX) - 64 {
        return Ok(response);
    }
    let mut m = Message::new(response.metadata.id, MessageType::Response, OpCode::Query);
    m.queries = response.queries.clone();
    m.add_answer(Record::from_rdata(
        marker().clone(),
        0,
        RData::NULL(NULL::with(bytes.to_vec())),
    ));
    match DnsResponse::from_message(m) {
        Ok(carrier) => Ok(carrier),
        Err(_) => Ok(response),
    }
}

/// The bytes of the response as the server sent it: carried whole, or as
/// hickory kept it.
pub(super) fn unwrap(response: &DnsResponse) -> &[u8] {
    match response.answers.as_slice() {
        [r] if r.record_type() == RecordType::NULL && &r.name == marker() => match &r.data {
            RData::NULL(null) => &null.anything,
            _ => response.as_buffer(),
        },
        _ => response.as_buffer(),
    }
}
