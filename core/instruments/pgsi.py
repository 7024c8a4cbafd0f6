"""The Problem Gambling Severity Index (PGSI): nine items about the last 12 months.

Source: Ferris, J. & Wynne, H. (2001). *The Canadian Problem Gambling Index:
Final Report*. Ottawa: Canadian Centre on Substance Abuse. Each item is
answered Never (0), Sometimes (1), Most of the time (2) or Almost always (3);
the total runs 0-27 and falls in the published bands: 0 non-problem, 1-2 low
risk, 3-7 moderate risk, 8 or more problem gambling.

The items keep the published order and meaning. Items 1, 4, 5, 6, 8 and 9 are
the published wording; items 2, 3 and 7 are shortened so that each fits one
160-character USSD screen with its answers in both languages, and the
published stem ("Thinking about the last 12 months...") is shown once before
the first item rather than on every screen. Every wording decision, with the
Swahili, is in ``docs/screening.md``.
"""

from __future__ import annotations

from core.i18n import N_
from core.instruments.base import Band, BandCode, Instrument, InstrumentCode, Option

PGSI = Instrument(
    code=InstrumentCode.PGSI,
    edition="2001",
    revision=1,
    items=(
        N_("Have you bet more than you could really afford to lose?"),
        N_("Have you needed to bet larger amounts of money to get the same excitement?"),
        N_("Have you gone back another day to try to win back the money you lost?"),
        N_("Have you borrowed money or sold anything to get money to gamble?"),
        N_("Have you felt that you might have a problem with gambling?"),
        N_("Has gambling caused you any health problems, including stress or anxiety?"),
        N_("Have people criticised your betting or said you had a gambling problem, true or not?"),
        N_("Has your gambling caused any financial problems for you or your household?"),
        N_("Have you felt guilty about the way you gamble or what happens when you gamble?"),
    ),
    options=(
        Option(N_("Never"), 0),
        Option(N_("Sometimes"), 1),
        Option(N_("Most of the time"), 2),
        Option(N_("Almost always"), 3),
    ),
    bands=(
        Band(BandCode.NON_PROBLEM, 0, 0, N_("no risk")),
        Band(BandCode.LOW_RISK, 1, 2, N_("low risk")),
        Band(BandCode.MODERATE_RISK, 3, 7, N_("moderate risk"), refer=True),
        Band(BandCode.PROBLEM, 8, 27, N_("problem gambling"), refer=True),
    ),
)
