"""Every model module imported, so that Base.metadata knows all tables (Alembic, backup, tests)."""

from accord.accounts import models as accounts_models
from accord.attachments import models as attachments_models
from accord.audit import models as audit_models
from accord.cases import models as cases_models
from accord.core.db import Base
from accord.cyber.taxii import models as taxii_models
from accord.dialogue import models as dialogue_models
from accord.evidence import models as evidence_models
from accord.federation import models as federation_models
from accord.idempotency import models as idempotency_models
from accord.identity import models as identity_models
from accord.ops import models as ops_models

__all__ = [
    "Base",
    "accounts_models",
    "attachments_models",
    "audit_models",
    "cases_models",
    "dialogue_models",
    "evidence_models",
    "federation_models",
    "idempotency_models",
    "identity_models",
    "ops_models",
    "taxii_models",
]
