"""Import every domain's tables so that Base.metadata knows them all."""

from warroom.alerts import models as alert_models
from warroom.db.base import Base
from warroom.incidents import models as incident_models
from warroom.users import models as user_models

__all__ = ["Base", "alert_models", "incident_models", "user_models"]
