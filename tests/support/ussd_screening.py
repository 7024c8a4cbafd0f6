"""Inputs and exact screens of the USSD "check your gambling" dialogue, shared by its tests."""

from __future__ import annotations

EN, SW = "2", "1"  # language choices
CHECK = "4"  # main menu: check your gambling
YES, NO = "1", "2"  # Lie/Bet answers
POSITIVE = (YES, NO)
NEGATIVE = (NO, NO)
MORE = "1"  # on a Lie/Bet result: on to the PGSI

#: Typed PGSI answers (1 Never .. 4 Almost always) giving each boundary total.
PGSI_TOTALS = {
    0: ("1",) * 9,
    1: ("2",) + ("1",) * 8,
    2: ("2", "2") + ("1",) * 7,
    3: ("2", "2", "2") + ("1",) * 6,
    7: ("4", "4", "2") + ("1",) * 6,
    8: ("4", "4", "3") + ("1",) * 6,
    27: ("4",) * 9,
}
BANDS = {
    0: "non_problem",
    1: "low_risk",
    2: "low_risk",
    3: "moderate_risk",
    7: "moderate_risk",
    8: "problem",
    27: "problem",
}


def text(*inputs: str) -> str:
    """The gateway's ``text`` for these inputs."""
    return "*".join(inputs)


def to_pgsi_result(lang: str, total: int, lie_bet: tuple[str, str] = POSITIVE) -> str:
    """Inputs from the first screen to the PGSI result with ``total``."""
    return text(lang, CHECK, *lie_bet, MORE, *PGSI_TOTALS[total])


HELPLINE = "TEST Helpline 0800000000"
RESULTS = {
    "en": {
        "negative": "CON No sign of harm from betting in your answers.\n"
        "1. 9 more questions (last 12 months)\n2. Remind me every 3 months\n00. Main menu",
        "positive": "CON Your answers suggest betting may be harming you. 9 more questions "
        "about the last 12 months will tell more.\n1. Continue\n00. Main menu",
        "non_problem": "CON Your result: no risk. No sign of harm from betting in your answers.\n"
        "1. Remind me every 3 months\n00. Main menu",
        "low_risk": "CON Your result: low risk. A few of your answers show some harm from "
        "betting.\n1. Remind me every 3 months\n00. Main menu",
        "moderate_risk": f"CON Your result: moderate risk.\nHelpline (also by SMS): {HELPLINE}\n"
        "1. Stop betting\n2. Remind me every 3 months\n00. Main menu",
        "problem": f"CON Your result: problem gambling.\nHelpline (also by SMS): {HELPLINE}\n"
        "1. Stop betting\n2. Remind me every 3 months\n00. Main menu",
    },
    "sw": {
        "negative": "CON Majibu yako hayaonyeshi dalili za madhara ya kubeti.\n"
        "1. Maswali 9 zaidi (miezi 12 iliyopita)\n2. Nikumbushe kila miezi 3\n00. Menyu kuu",
        "positive": "CON Majibu yako yanaonyesha kwamba huenda kubeti kunakudhuru. Maswali 9 "
        "zaidi kuhusu miezi 12 iliyopita yataeleza zaidi.\n1. Endelea\n00. Menyu kuu",
        "non_problem": "CON Matokeo: hakuna hatari. Majibu yako hayaonyeshi dalili za madhara "
        "ya kubeti.\n1. Nikumbushe kila miezi 3\n00. Menyu kuu",
        "low_risk": "CON Matokeo: hatari ndogo. Baadhi ya majibu yako yanaonyesha madhara "
        "kidogo ya kubeti.\n1. Nikumbushe kila miezi 3\n00. Menyu kuu",
        "moderate_risk": "CON Matokeo: hatari ya wastani.\n"
        f"Simu ya msaada (pia kwa SMS): {HELPLINE}\n"
        "1. Jizuie kubeti\n2. Nikumbushe kila miezi 3\n00. Menyu kuu",
        "problem": f"CON Matokeo: tatizo la kamari.\nSimu ya msaada (pia kwa SMS): {HELPLINE}\n"
        "1. Jizuie kubeti\n2. Nikumbushe kila miezi 3\n00. Menyu kuu",
    },
}
EN_SCALE = "1. Never\n2. Sometimes\n3. Most of the time\n4. Almost always"
SW_SCALE = "1. Kamwe\n2. Wakati mwingine\n3. Mara nyingi\n4. Karibu kila mara"
EN_ITEMS = (
    "Have you bet more than you could really afford to lose?",
    "Have you needed to bet larger amounts of money to get the same excitement?",
    "Have you gone back another day to try to win back the money you lost?",
    "Have you borrowed money or sold anything to get money to gamble?",
    "Have you felt that you might have a problem with gambling?",
    "Has gambling caused you any health problems, including stress or anxiety?",
    "Have people criticised your betting or said you had a gambling problem, true or not?",
    "Has your gambling caused any financial problems for you or your household?",
    "Have you felt guilty about the way you gamble or what happens when you gamble?",
)
SW_ITEMS = (
    "Je, umebeti zaidi ya kiasi ambacho ungeweza kumudu kupoteza?",
    "Je, umehitaji kubeti pesa nyingi zaidi ili kupata msisimko uleule?",
    "Je, umerudi siku nyingine kujaribu kushinda tena pesa ulizopoteza?",
    "Je, umekopa pesa au kuuza kitu chochote ili upate pesa za kubeti?",
    "Je, umehisi kwamba huenda una tatizo la kubeti?",
    "Je, kubeti kumekuletea matatizo ya afya, kama msongo wa mawazo au wasiwasi?",
    "Je, watu wamekukosoa kwa kubeti au kusema una tatizo la kubeti, kweli au la?",
    "Je, kubeti kwako kumesababisha matatizo ya pesa kwako au kwa familia yako?",
    "Je, umejihisi na hatia kuhusu jinsi unavyobeti au kinachotokea unapobeti?",
)
EN_LIE_BET = (
    "CON 1/2 Have you ever felt the need to bet more and more money?\n1. Yes\n2. No\n0. Back",
    "CON 2/2 Have you ever had to lie to people important to you about how much you "
    "gambled?\n1. Yes\n2. No\n0. Back",
)
SW_LIE_BET = (
    "CON 1/2 Je, umewahi kuhisi haja ya kubeti pesa zaidi na zaidi?\n1. Ndiyo\n2. Hapana\n0. Rudi",
    "CON 2/2 Je, umewahi kulazimika kuwadanganya watu muhimu kwako kuhusu kiasi "
    "ulichobeti?\n1. Ndiyo\n2. Hapana\n0. Rudi",
)


def pgsi_item(lang: str, number: int) -> str:
    """The exact screen of PGSI item ``number`` (1-9)."""
    if lang == "en":
        return f"CON {number}/9 {EN_ITEMS[number - 1]}\n{EN_SCALE}\n0. Back"
    return f"CON {number}/9 {SW_ITEMS[number - 1]}\n{SW_SCALE}\n0. Rudi"
