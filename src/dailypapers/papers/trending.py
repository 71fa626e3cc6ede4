"""The trending score: upvotes (plus a little for GitHub stars) decaying with age.

    trending_score = (upvotes + STARS_WEIGHT * log10(1 + github_stars))
                     / (age_in_days + AGE_OFFSET_DAYS) ** GRAVITY

`age_in_days` counts from the paper's featured date to the newest featured date on the site,
so a site whose list stopped a while ago (such as the bundled demo) still has a trending page.
Explained to readers at /about/trending; keep that page in step with these constants.
"""

from __future__ import annotations

import math
from datetime import date

GRAVITY = 1.5
AGE_OFFSET_DAYS = 1.0
STARS_WEIGHT = 2.0  # upvote-equivalents for each factor of ten in GitHub stars


def trending_score(upvotes: int, github_stars: int | None, featured: date, anchor: date) -> float:
    age_days = max((anchor - featured).days, 0)
    boost = STARS_WEIGHT * math.log10(1 + (github_stars or 0))
    return (upvotes + boost) / (age_days + AGE_OFFSET_DAYS) ** GRAVITY
