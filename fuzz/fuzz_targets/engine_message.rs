//! Bytes a consensus peer sends (votes, proposals, proposal parts, liveness and sync
//! messages), decoded as the engine decodes them: a typed error or a value, never a panic.
#![no_main]

use bytes::Bytes;
use charter_consensus::codec::BorshCodec;
use charter_consensus::context::{CellContext, ProposalPart};
use libfuzzer_sys::fuzz_target;
use malachitebft_codec::Codec;
use malachitebft_core_consensus::{LivenessMsg, SignedConsensusMsg};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_sync::{Request, Response, Status};

fn decode<T>(data: &[u8])
where
    BorshCodec: Codec<T>,
{
    let _ = Codec::<T>::decode(&BorshCodec, Bytes::copy_from_slice(data));
}

fuzz_target!(|data: &[u8]| {
    // The codec catches the panics of the engine's own decoders; libFuzzer's panic hook would
    // abort on them before that. A panic that escapes still aborts, at the fuzzer's boundary.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    decode::<SignedConsensusMsg<CellContext>>(data);
    decode::<StreamMessage<ProposalPart>>(data);
    decode::<LivenessMsg<CellContext>>(data);
    decode::<Status<CellContext>>(data);
    decode::<Request<CellContext>>(data);
    decode::<Response<CellContext>>(data);
});
