//! How the engine's messages are encoded on the wire and in its write-ahead log: Borsh,
//! canonical like the rest of Charter, with a size bound checked before decoding. A peer's
//! malformed bytes are a typed error for the engine to drop, never a panic.

use bytes::Bytes;
use malachitebft_codec::Codec;

/// Largest engine message decoded: a block of up to 64 KiB transactions fits many times over.
pub const MAX_ENGINE_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("message is {size} bytes, more than the limit of {limit}")]
    Oversized { size: usize, limit: usize },
    #[error("malformed message: {0}")]
    Malformed(#[from] std::io::Error),
}

/// One codec for every message type the engine sends, syncs and logs.
#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

impl<T> Codec<T> for BorshCodec
where
    T: borsh::BorshSerialize + borsh::BorshDeserialize + Send + Sync + 'static,
{
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<T, CodecError> {
        if bytes.len() > MAX_ENGINE_MESSAGE_BYTES {
            return Err(CodecError::Oversized {
                size: bytes.len(),
                limit: MAX_ENGINE_MESSAGE_BYTES,
            });
        }
        // Some of the engine's own types panic on malformed bytes instead of returning an error
        // (its `PeerId` unwraps a failed parse, so a sync status of four zero bytes panicked).
        // A peer's bytes must never take the node down.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| borsh::from_slice(&bytes)))
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the engine's own decoder panicked on these bytes",
                )
            })?
            .map_err(CodecError::from)
    }

    fn encode(&self, message: &T) -> Result<Bytes, CodecError> {
        Ok(Bytes::from(borsh::to_vec(message)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::*;
    use crate::context::*;
    use bytes::Bytes;
    use charter_ledger::crypto::ed25519::Ed25519Signature;
    use charter_ledger::{CellId, FederationId, PassportId, StateRoot};
    use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
    use malachitebft_core_types::{Context, NilOrVal, Round, SignedMessage, Validity};
    use malachitebft_engine::consensus::ConsensusCodec;
    use malachitebft_engine::sync::SyncCodec;
    use malachitebft_engine::util::streaming::{StreamContent, StreamId, StreamMessage};
    use malachitebft_engine::wal::WalCodec;

    fn context() -> CellContext {
        CellContext {
            federation: FederationId([1; 32]),
            cell: CellId(2),
        }
    }

    fn block() -> Block {
        let header = BlockHeader {
            federation: FederationId([1; 32]),
            cell: CellId(2),
            height: BlockHeight(3),
            parent: BlockHash([4; 32]),
            proposer: PassportId([5; 32]),
            reveal: charter_ledger::crypto::bls::BlsSignature([7; 96]),
            transactions_root: Block::transactions_root(&[]),
            state_root: StateRoot([6; 32]),
        };
        Block {
            header,
            transactions: Vec::new(),
        }
    }

    fn round_trip<T>(message: T)
    where
        T: borsh::BorshSerialize
            + borsh::BorshDeserialize
            + Send
            + Sync
            + PartialEq
            + std::fmt::Debug
            + 'static,
    {
        let bytes = Codec::<T>::encode(&BorshCodec, &message).unwrap();
        assert_eq!(Codec::<T>::decode(&BorshCodec, bytes).unwrap(), message);
    }

    fn assert_engine_codecs<
        C: ConsensusCodec<CellContext> + SyncCodec<CellContext> + WalCodec<CellContext>,
    >() {
    }

    #[test]
    fn every_engine_message_round_trips() {
        assert_engine_codecs::<BorshCodec>();
        let address = ValidatorAddress(PassportId([7; 32]));
        let vote = context().new_precommit(
            BlockHeight(3),
            Round::new(1),
            NilOrVal::Val(block().hash()),
            address,
        );
        let signed_vote = SignedMessage::new(vote, Ed25519Signature([8; 64]));
        round_trip(SignedConsensusMsg::<CellContext>::Vote(signed_vote.clone()));
        round_trip(LivenessMsg::<CellContext>::Vote(signed_vote));
        let proposal =
            context().new_proposal(BlockHeight(3), Round::new(1), block(), Round::Nil, address);
        round_trip(SignedConsensusMsg::<CellContext>::Proposal(
            SignedMessage::new(proposal, Ed25519Signature([9; 64])),
        ));
        let stream = StreamId::new(Bytes::from_static(b"3/1"));
        round_trip(StreamMessage::new(
            stream.clone(),
            1,
            StreamContent::Data(ProposalPart::Block(Box::new(block()))),
        ));
        round_trip(StreamMessage::<ProposalPart>::new(
            stream,
            2,
            StreamContent::Fin,
        ));
        round_trip(ProposedValue::<CellContext> {
            height: BlockHeight(3),
            round: Round::new(1),
            valid_round: Round::Nil,
            proposer: address,
            value: block(),
            validity: Validity::Valid,
        });
    }

    #[test]
    fn garbage_and_oversized_input_are_typed_errors() {
        let garbage = Codec::<SignedConsensusMsg<CellContext>>::decode(
            &BorshCodec,
            Bytes::from_static(&[9, 9, 9]),
        );
        assert!(matches!(garbage, Err(CodecError::Malformed(_))));
        // Found by fuzzing: Malachite's `PeerId` panics on an empty id.
        let status = Codec::<malachitebft_sync::Status<CellContext>>::decode(
            &BorshCodec,
            Bytes::from_static(&[0, 0, 0, 0]),
        );
        assert!(matches!(status, Err(CodecError::Malformed(_))));
        let huge = Bytes::from(vec![0u8; MAX_ENGINE_MESSAGE_BYTES + 1]);
        let oversized = Codec::<StreamMessage<ProposalPart>>::decode(&BorshCodec, huge);
        assert!(matches!(oversized, Err(CodecError::Oversized { .. })));
    }
}
