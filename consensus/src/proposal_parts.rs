//! Proposal streams as they arrive from peers, part by part, until each is complete. Bounded:
//! at most [`MAX_OPEN_STREAMS`] streams at once (the oldest is dropped to make room) and at most
//! [`MAX_STREAM_PARTS`] parts in one (a longer stream is dropped), so no peer can exhaust
//! memory with streams it never finishes.

use crate::context::ProposalPart;
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::streaming::StreamMessage;
use malachitebft_app_channel::app::types::PeerId;
use std::collections::BTreeMap;

/// Most proposal streams buffered at once.
pub const MAX_OPEN_STREAMS: usize = 64;
/// Most parts one stream may have: `Init`, the block, `Fin` and the end, with room to spare.
pub const MAX_STREAM_PARTS: u64 = 8;

/// Streams by (peer, stream id), each its parts by sequence number.
#[derive(Default)]
pub struct ProposalParts {
    streams: BTreeMap<(String, Vec<u8>), BTreeMap<u64, StreamContent<ProposalPart>>>,
}

impl ProposalParts {
    /// Buffers a part; returns the stream's data parts in order once it is complete.
    pub fn receive(
        &mut self,
        from: PeerId,
        part: StreamMessage<ProposalPart>,
    ) -> Option<Vec<ProposalPart>> {
        let key = (from.to_string(), part.stream_id.to_bytes().to_vec());
        if part.sequence >= MAX_STREAM_PARTS {
            tracing::debug!(peer = %from, "dropping a proposal stream with too many parts");
            self.streams.remove(&key);
            return None;
        }
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_OPEN_STREAMS {
            // Make room by dropping the oldest stream (the smallest key is arbitrary but bounded).
            let oldest = self.streams.keys().next().cloned()?;
            self.streams.remove(&oldest);
        }
        let stream = self.streams.entry(key.clone()).or_default();
        stream.insert(part.sequence, part.content);
        let end = stream
            .iter()
            .find(|(_, content)| matches!(content, StreamContent::Fin))
            .map(|(sequence, _)| *sequence)?;
        if (0..end).any(|sequence| !stream.contains_key(&sequence)) {
            return None;
        }
        let stream = self.streams.remove(&key)?;
        debug_assert!(self.streams.len() < MAX_OPEN_STREAMS);
        Some(
            stream
                .into_values()
                .filter_map(|content| match content {
                    StreamContent::Data(part) => Some(part),
                    StreamContent::Fin => None,
                })
                .collect(),
        )
    }
}
