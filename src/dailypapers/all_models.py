"""Imports every model module so that `Base.metadata` describes the whole schema."""

from dailypapers import leases, revisions  # noqa: F401
from dailypapers.curation import models as curation_models  # noqa: F401
from dailypapers.database import Base
from dailypapers.digests import models as digests_models  # noqa: F401
from dailypapers.discussion import models as discussion_models  # noqa: F401
from dailypapers.follows import models as follows_models  # noqa: F401
from dailypapers.foryou import models as foryou_models  # noqa: F401
from dailypapers.harvest import models as harvest_models  # noqa: F401
from dailypapers.library import models as library_models  # noqa: F401
from dailypapers.mail import models as mail_models  # noqa: F401
from dailypapers.members import models as members_models  # noqa: F401
from dailypapers.papers import models as papers_models  # noqa: F401
from dailypapers.search import models as search_models  # noqa: F401

metadata = Base.metadata
