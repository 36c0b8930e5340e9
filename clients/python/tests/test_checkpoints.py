"""Federation finality against a live three-cell federation: final checkpoint certificates
verified with py_ecc (FastAggregateVerify) against the cells' validator sets, tied to the cells'
own certified blocks, and tampered certificates refused."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from charter_client import (
    ApiError, CharterClient, CheckpointCertificate, FederationVerifier, Genesis, ProofError, Verifier,
    certificate_from_api, validator_set_from_api, validator_set_hash,
)
from charter_client.checkpoints import CellSigners

pytestmark = pytest.mark.federation


def _latest(fed: Any, cell: int) -> CheckpointCertificate:
    return certificate_from_api(fed.client.checkpoint(cell, "latest"))


def test_final_checkpoint_certificates_verify_against_the_federation_sets(federation: Any) -> None:
    state = federation.client.federation()
    assert len(state["cells"]) == 3 and int(state["k"]) == 2
    verifier = FederationVerifier.from_federation_api(state)
    for c in (0, 1, 2):
        cert = _latest(federation, c)
        cp = cert.checkpoint
        assert cp.cell == c and cp.height == cp.epoch * 10  # --epoch-length defaults to 10 in a federation
        assert cp.validators.hex() == state["cells"][c]["validators_hash"]
        verifier.check(cert)
        assert len(cert.signers) >= 2 and c in [s.cell for s in cert.signers]


def test_every_set_a_certificate_names_is_served_by_its_hash(federation: Any) -> None:
    for c in (0, 1, 2):
        cert = _latest(federation, c)
        named = [(c, cert.checkpoint.validators), (c, cert.checkpoint.next_validators)]
        named += [(s.cell, s.validators) for s in cert.signers]
        for cell, h in named:
            members = validator_set_from_api(federation.client.validator_set(cell, h), h)
            assert validator_set_hash(members) == h
    with pytest.raises(ApiError) as e:
        federation.client.validator_set(0, bytes(32))
    assert (e.value.status, e.value.code) == (404, "unknown_validator_set")
    answer = federation.client.validator_set(0, _latest(federation, 0).checkpoint.validators)
    with pytest.raises(ProofError):  # a set served under another hash than the one asked for
        validator_set_from_api(answer, bytes(32))


def test_checkpoint_names_the_cells_certified_block(federation: Any) -> None:
    """The BLS-final checkpoint's block and state root are those of the block the cell's own
    validators certified at that height (Ed25519 commit certificate, from the cell's genesis)."""
    for c in (0, 1, 2):
        cert = _latest(federation, c)
        with CharterClient(federation.apis[c]) as client:
            v = Verifier.from_genesis(client, Genesis.load(federation.dir / f"cell-{c}" / "genesis.json"))
            assert v.epoch_length == 10
            vb = v.verified_block(cert.checkpoint.height)
        assert vb.hash == cert.checkpoint.block
        assert vb.header.state_root == cert.checkpoint.state_root


def test_checkpoint_chain_verifies_from_the_federation_genesis(federation: Any) -> None:
    verifier = FederationVerifier.from_federation_genesis(federation.genesis)
    for c in (0, 1, 2):
        latest = _latest(federation, c).checkpoint.epoch
        for epoch in range(1, min(latest, 2) + 1):
            cert = certificate_from_api(federation.client.checkpoint(c, epoch))
            assert cert.checkpoint.epoch == epoch
            verifier.verify(cert)  # in epoch order; each hands the next set over
        assert verifier.head_hash(c) == validator_set_hash(verifier.head(c))


def test_tampered_certificates_are_refused(federation: Any) -> None:
    state = federation.client.federation()
    verifier = FederationVerifier.from_federation_api(state)
    cert = _latest(federation, 0)
    verifier.check(cert)

    def refused(bad: CheckpointCertificate, what: str) -> None:
        with pytest.raises(ProofError):
            verifier.check(bad)
        assert bad != cert, what

    first = cert.signers[0]
    flipped = CellSigners(first.cell, first.validators, bytes([first.bitmap[0] ^ 0x01]) + first.bitmap[1:])
    refused(replace(cert, signers=(flipped,) + cert.signers[1:]), "flipped bitmap bit")
    stray = CellSigners(first.cell, first.validators, bytes([first.bitmap[0] | 0x80]) + first.bitmap[1:])
    refused(replace(cert, signers=(stray,) + cert.signers[1:]), "bit beyond the set")
    sig = cert.signature
    refused(replace(cert, signature=sig[:50] + bytes([sig[50] ^ 0x01]) + sig[51:]), "altered signature")
    other = _latest(federation, 1)
    refused(replace(cert, signature=other.signature), "another checkpoint's valid aggregate")
    cp = cert.checkpoint
    refused(replace(cert, checkpoint=replace(cp, epoch=cp.epoch + 1)), "wrong epoch")
    refused(replace(cert, checkpoint=replace(cp, state_root=bytes(32))), "wrong state root")
    refused(replace(cert, signers=tuple(s for s in cert.signers if s.cell == 0)), "fewer than k cells")
    refused(replace(cert, signers=tuple(reversed(cert.signers))), "cells out of order")
    refused(replace(cert, checkpoint=replace(cp, federation=bytes(32))), "another federation")
    if cert.next_set is None:
        refused(replace(cert, next_set=verifier.head(0)), "a set travelling with an unchanged one")
    else:
        refused(replace(cert, next_set=None), "a new set left behind")

    # JSON that is not the decoding of the served bytes is refused before any pairing
    answer = copy.deepcopy(federation.client.checkpoint(0, cp.epoch))
    answer["certificate"]["checkpoint"]["epoch"] += 1
    with pytest.raises(ProofError):
        certificate_from_api(answer)


def test_unfinal_epoch_answers_not_final_with_progress(federation: Any) -> None:
    with pytest.raises(ApiError) as e:
        federation.client.checkpoint(1, 10**6)
    assert (e.value.status, e.value.code) == (404, "not_final")
    assert isinstance(e.value.body.get("progress"), list)
    with pytest.raises(ApiError) as e2:
        federation.client.checkpoint(0, "soon")
    assert (e2.value.status, e2.value.code) == (400, "invalid_epoch")
