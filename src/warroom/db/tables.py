"""Import every domain's tables so that Base.metadata knows them all."""

from warroom.alerts import models as alert_models
from warroom.db.base import Base
from warroom.escalation import models as escalation_models
from warroom.incidents import models as incident_models
from warroom.notify import models as notify_models
from warroom.oncall import models as oncall_models
from warroom.outbox import models as outbox_models
from warroom.postmortems import models as postmortem_models
from warroom.statuspage import models as statuspage_models
from warroom.users import models as user_models

__all__ = [
    "Base",
    "alert_models",
    "escalation_models",
    "incident_models",
    "notify_models",
    "oncall_models",
    "outbox_models",
    "postmortem_models",
    "statuspage_models",
    "user_models",
]
