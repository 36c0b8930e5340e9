//! Bytes a client submits or a peer gossips as a transaction: decoding never panics, only a
//! canonical encoding decodes, and what decodes can be checked and named.
#![no_main]

use charter_ledger::SignedTransaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(transaction) = SignedTransaction::decode(data) else {
        return;
    };
    assert_eq!(
        transaction.encode(),
        data,
        "a non-canonical encoding decoded"
    );
    let _ = transaction.verify_signature();
    let _ = transaction.id();
    let _ = transaction.body.action.kind();
});
