"""Objective ``expert_rating``: a reviewer's rating 0-5. Comes from reviews (campaign/loop.py
apply_reviews), not the evaluation."""

from .base import Objective

OBJECTIVE = Objective(
    name='expert_rating', unit='0-5', source='review',
    description=("a reviewer's rating 0-5 (`sse-driver review DIR --rate ID VALUE`), the mean "
                 "when rated more than once; told to the optimizer when it arrives"),
)
