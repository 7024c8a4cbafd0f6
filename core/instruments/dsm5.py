"""The DSM-5 gambling disorder checklist, for trained staff (the back-office), not citizens.

Source: American Psychiatric Association (2013). *Diagnostic and Statistical
Manual of Mental Disorders, Fifth Edition* (DSM-5), Gambling Disorder
(312.31, F63.0), criterion A: persistent and recurrent problematic gambling
with four or more of nine criteria in a 12-month period. Severity: 4-5
criteria mild, 6-7 moderate, 8-9 severe; fewer than four does not meet the
criteria.

The items are short labels of the nine criteria in the manual's order, for a
trained officer who asks about each in their own words; they are not a
questionnaire to read out, and they do not replace the manual's text (nor its
exclusion criterion B, a manic episode, which the officer judges).
"""

from __future__ import annotations

from core.i18n import N_
from core.instruments.base import Band, BandCode, Instrument, InstrumentCode
from core.instruments.liebet import YES_NO

DSM5 = Instrument(
    code=InstrumentCode.DSM5,
    edition="2013",
    revision=1,
    items=(
        N_("Needs to gamble with more and more money to get the excitement wanted"),
        N_("Restless or irritable when trying to cut down or stop gambling"),
        N_("Has tried again and again, without success, to control, cut back or stop"),
        N_("Often preoccupied with gambling (reliving it, planning it, finding money)"),
        N_("Often gambles when feeling distressed (helpless, guilty, anxious, low)"),
        N_("After losing, often returns another day to get even (chasing losses)"),
        N_("Lies to hide how much they gamble"),
        N_("Has risked or lost a relationship, job, or study or career chance by gambling"),
        N_("Relies on others for money to escape a desperate situation caused by gambling"),
    ),
    options=YES_NO,
    bands=(
        Band(BandCode.NOT_MET, 0, 3, N_("criteria not met")),
        Band(BandCode.MILD, 4, 5, N_("mild"), refer=True),
        Band(BandCode.MODERATE, 6, 7, N_("moderate"), refer=True),
        Band(BandCode.SEVERE, 8, 9, N_("severe"), refer=True),
    ),
)
