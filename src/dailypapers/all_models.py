"""Imports every model module so that `Base.metadata` describes the whole schema."""

from dailypapers import jobs, revisions  # noqa: F401
from dailypapers.database import Base
from dailypapers.members import models as members_models  # noqa: F401
from dailypapers.papers import models as papers_models  # noqa: F401
from dailypapers.search import models as search_models  # noqa: F401

metadata = Base.metadata
