//! Size limits enforced by every decoder, so a peer cannot make a node allocate
//! or work without bound. Limits are on encoded bytes.

/// Largest encoded envelope accepted from anyone.
pub const MAX_ENVELOPE_BYTES: usize = 1024 * 1024;
/// Largest domain string in an envelope.
pub const MAX_DOMAIN_BYTES: usize = 64;
/// Largest encoded membership certificate.
pub const MAX_CERTIFICATE_BYTES: usize = 4 * 1024;
/// Largest human-readable text field (names, region).
pub const MAX_NAME_BYTES: usize = 256;
/// Most certificates a roster may carry.
pub const MAX_ROSTER_MEMBERS: usize = 2_000;
/// Most revoked serials a roster may carry.
pub const MAX_ROSTER_REVOKED: usize = 100_000;
/// Largest request frame on the rpc protocol.
pub const MAX_RPC_REQUEST_BYTES: usize = 1024 * 1024;
/// Largest response frame on the rpc protocol.
pub const MAX_RPC_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Largest gossip message (gossipsub's own transmit limit is set to this).
pub const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// Most receipt submissions in one rpc request. A sender also keeps the batch's bytes
/// under [`MAX_RPC_REQUEST_BYTES`] (a submission is about 600 bytes, at most 16 KiB).
pub const MAX_RECEIPT_BATCH: usize = 512;

/// Instrument records one institution may list. Every node holds at most twice this many
/// catalogue entries of a member (a record and its availability digest each), whoever
/// relays them; the province's reviews are not bounded by it.
pub const MAX_INSTRUMENTS_PER_INSTITUTION: usize = 10_000;
/// Catalogue slots (records, digests) of one member that any node fills.
pub const MAX_SLOTS_PER_MEMBER: usize = 2 * MAX_INSTRUMENTS_PER_INSTITUTION;
