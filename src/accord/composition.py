"""The composition root: the one place that assembles Accord.

`assemble()` builds the registry of case types, message kinds and hooks that the runtime hands
to every session. The app, the CLI, the workers, the benchmarks and the tests all call it;
nothing registers itself when it is imported. A new case type is one module that declares its
`CaseType`, named once in `CASE_TYPES` below; a new message kind is named in `KINDS`.
"""

from __future__ import annotations

from accord.attachments import replication as attachments
from accord.attachments.service import send_backlog
from accord.audit import anchors as audit
from accord.cases import recovery
from accord.cases import replication as cases
from accord.cases.casetype import CaseType, CaseTypes
from accord.cases.definitions.asset import ASSET_TYPE
from accord.cases.definitions.cyber import CYBER_TYPE
from accord.cases.definitions.fugitive import FUGITIVE_TYPE
from accord.cases.definitions.intel import INTEL_TYPE
from accord.cases.definitions.mla import MLA_TYPE
from accord.cases.definitions.removal import REMOVAL_TYPE
from accord.cyber.taxii import replication as taxii
from accord.dialogue.casetype import ROUND_TYPE
from accord.evidence import replication as evidence
from accord.evidence.checkpoints import checkpoint_on_append
from accord.federation import announce
from accord.federation.kinds import Kind, Kinds
from accord.identity.integration import forget_screening
from accord.runtime import Registry

CASE_TYPES: tuple[CaseType, ...] = (
    MLA_TYPE,
    FUGITIVE_TYPE,
    ASSET_TYPE,
    REMOVAL_TYPE,
    INTEL_TYPE,
    CYBER_TYPE,
    ROUND_TYPE,
)
"""In the order officers see them."""

KINDS: tuple[Kind, ...] = (
    *cases.KINDS,
    *recovery.KINDS,
    *announce.KINDS,
    *attachments.KINDS,
    *taxii.KINDS,
    *evidence.KINDS,
    *audit.KINDS,
)


def assemble() -> Registry:
    """Every case type, message kind and hook of an Accord node."""
    return Registry(
        case_types=CaseTypes(
            CASE_TYPES,
            on_shared=(send_backlog,),
            on_erased=(forget_screening,),
            on_appended=(checkpoint_on_append,),
        ),
        kinds=Kinds(KINDS),
    )
