"""The Lie/Bet questionnaire: two yes/no questions, positive if either is answered yes.

Source: Johnson, E. E., Hamer, R., Nora, R. M., Tan, B., Eisenstein, N. &
Engelhart, C. (1997). The Lie/Bet Questionnaire for screening pathological
gamblers. *Psychological Reports*, 80(1), 83-88. The two items are the
published wording; a positive screen is followed by the PGSI
(:mod:`core.instruments.pgsi`). Swahili wording and its reasons:
``docs/screening.md``.
"""

from __future__ import annotations

from core.i18n import N_
from core.instruments.base import Band, BandCode, Instrument, InstrumentCode, Option

#: Yes scores 1, no scores 0; shown in this order ("1. Yes", "2. No").
YES_NO = (Option(N_("Yes"), 1), Option(N_("No"), 0))

LIE_BET = Instrument(
    code=InstrumentCode.LIE_BET,
    edition="1997",
    revision=1,
    items=(
        N_("Have you ever felt the need to bet more and more money?"),
        N_("Have you ever had to lie to people important to you about how much you gambled?"),
    ),
    options=YES_NO,
    bands=(
        Band(BandCode.NEGATIVE, 0, 0, N_("no sign of harm")),
        Band(BandCode.POSITIVE, 1, 2, N_("signs of possible harm")),
    ),
)
