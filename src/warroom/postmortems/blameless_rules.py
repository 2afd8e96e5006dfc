"""The patterns of the blameless check: rules, where the person must be, and advice.

Kept apart from the matching logic (blameless.py) because the table is long
and is what people tune.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Who(StrEnum):
    """Where a rule looks for the person its phrase would blame."""

    ANY = "any"  # the phrase blames whoever it is about
    SUBJECT = "subject"  # the subject just before the phrase
    OBJECT = "object"  # the noun phrase in group "who", after the phrase
    POSSESSOR = "possessor"  # the owner in group "poss" ("Dave's fault")
    CLAUSE = "clause"  # the subject at the start of the clause


ADVICE: dict[str, tuple[str, str]] = {
    "fault": (
        "assigns fault to a person",
        "Describe conditions, not a culprit: 'The pipeline let an unreviewed change ship.'",
    ),
    "human-error": (
        "'human error' ends the inquiry where it should start",
        "Focus on what made the action possible: a missing guardrail, an unclear runbook.",
    ),
    "failed-to": (
        "frames the incident as a person's omission",
        "Say what the system did not provide: 'Nothing prompted for the migration step.'",
    ),
    "careless": (
        "judges a person's care or competence",
        "Describe the action and its context: 'The change was applied without a confirmation.'",
    ),
    "negligence": (
        "accuses a person of negligence",
        "Describe what was visible and what was missing: 'The alert went to an idle channel.'",
    ),
    "should-have-known": (
        "hindsight: judges a person by what is known now",
        "Describe what was known then and what signal was missing: 'No dashboard showed it.'",
    ),
    "counterfactual": (
        "blames by imagining what a person should have done instead",
        "Describe what happened and why it made sense: 'Nothing enforced the skipped step.'",
    ),
    "blame-verb": (
        "names a person as the cause",
        "Name the change, not the person: 'A config change removed the rule; no check caught it.'",
    ),
    "mistake-by-person": (
        "pins a mistake on a person",
        "Describe the slip and what let it through: 'Nothing validated the region name.'",
    ),
    "why-didnt": (
        "asks why a person did not act, which invites defence",
        "Ask about the system: 'What would have made escalating the obvious step?'",
    ),
    "just-should": (
        "exhorts people to try harder, which does not prevent recurrence",
        "Propose a guardrail, check or automation as an action item instead.",
    ),
    "wrong-thing": (
        "centres a person picking the wrong target",
        "Say what made the wrong target easy to pick: similar names, a prod default, no prompt.",
    ),
}

RULE_IDS = tuple(ADVICE)


@dataclass(frozen=True)
class Rule:
    """One phrase pattern and where the blamed person must be."""

    id: str
    pattern: re.Pattern[str]
    who: Who
    # Skip "not Dave's fault", "it was not human error", "we don't blame people".
    negatable: bool = False


_NP = r"(?P<who>[@\w][\w@.'\u2019-]*(?:\s+[@\w][\w@.'\u2019-]*){0,3})"
_NP_THEN = r"(?P<who>[@\w][\w@.'\u2019-]*(?:\s+[\w-]+){0,2}?)\s+"  # a short NP before a verb
_POSS = r"(?<![\w@.'\u2019-])(?P<poss>@?\w[\w.-]*?)(?:'s|\u2019s|'|\u2019)\s+"
_OBJ = r"(?:his|her|their|my|your)\s+(?:own\s+)?"
_SLIPS = r"(?:mistake|error|blunder|screw-?up|slip-?up|oversight|goof|typo|fat[\s-]?finger)s?\b"
_NOT_ERROR_KIND = r"(?!\s+(?:handling|rates?|messages?|codes?|budgets?|logs?|paths?|pages?))"
# "Bob did not receive the page" is about the pager, not about Bob.
_DID_NOT = (
    r"\b(?:did\s+not|didn't|didnt|never)\s+(?:even\s+)?(?!(?:receive|get|have|know|see|hear|"
    r"need|want|expect|find|lose|mean|exist|work|fire|trigger|show|appear|happen)\w*\b)[a-z]\w*"
    r"|\bnot\s+(?:reading|checking|following|testing|looking|escalating|reviewing|verifying|"
    r"asking|waiting|updating)\b"
)
_CHECKS = (
    r"test(?:ing|s)?|approval|review(?:ing)?|check(?:ing)?|asking|telling|verifying|permission|"
    r"following|reading|sign-off|waiting|confirming|looking|consulting|notifying|double-checking"
)
_JUDGED = r"(?:attention|care|diligence|focus|rigou?r|discipline|ownership|competence)"
_CARELESS = (
    r"careless(?:ly|ness)?|sloppy|sloppily|sloppiness|reckless(?:ly|ness)?|incompeten(?:t|ce|tly)"
    r"|stupid(?:ity|ly)?|idiot(?:ic|s)?|moron(?:ic|s)?|clumsy|clumsily|thoughtless(?:ly)?|cowboy"
    r"|half-assed|distracted|inattent(?:ive|ion)|ashamed|shameful|lazy(?!\s+(?:load|init|eval))"
)
_HINDSIGHT = (
    r"known|caught|noticed|checked|double-checked|tested|reali[sz]ed|seen|spotted|verified|asked"
    r"|read(?!\s+(?:access|permissions?|rights|only|replicas?))|waited|reviewed|followed|looked"
    r"|escalated|thought|confirmed|paid\s+attention|prevented|avoided|stopped"
)
_BLAME_VERBS = (
    r"break|breaks|broke|ignores?|ignored|overlook(?:s|ed)?|disregard(?:s|ed)?|miss(?:es|ed)?"
    r"|rush(?:es|ed)?|mess(?:es|ed)?\s+up|screw(?:s|ed)?\s+up|botch(?:es|ed)?|bungled|fumbled"
    r"|blew\s+(?:away|up)|nuked|trashed|fat[\s-]?fingered|took\s+down|caused|mistyped|typo'd"
    r"|slept\s+through|wiped(?:\s+out)?"
)


def _rule(rule_id: str, who: Who, pattern: str, *, negatable: bool = False) -> Rule:
    return Rule(rule_id, re.compile(pattern, re.IGNORECASE | re.MULTILINE), who, negatable)


RULES: tuple[Rule, ...] = (
    _rule("fault", Who.POSSESSOR, _POSS + r"(?:own\s+)?fault\b", negatable=True),
    _rule("fault", Who.ANY, r"\b" + _OBJ + r"fault\b", negatable=True),
    _rule(
        "fault",
        Who.SUBJECT,
        r"\b(?:is|was|are|were)\s+(?:\w+ly\s+)?(?:to\s+blame|at\s+fault|responsible\s+for\s+"
        r"(?:the|this)\s+(?:outage|incident|failure|mess))\b",
        negatable=True,
    ),
    _rule(
        "fault",
        Who.OBJECT,
        r"\b(?:fault\s+of|(?:blame|responsibility)\s+(?:for\s+[^.;:!?\n]{1,60}?\s+)?"
        r"(?:lies|rests|falls|lay)\s+(?:\w+ly\s+)?(?:with|on)|(?:this|that|it)\s+(?:one\s+)?"
        r"(?:is|was)\s+(?:all\s+|entirely\s+)?on|blam(?:e|ed|es|ing)(?:\s+it)?(?:\s+on)?)\s+"
        # "the check flags wording that blames individuals" talks about blame in general
        r"(?!(?:individuals|people|persons|humans)\b)" + _NP,
        negatable=True,
    ),
    _rule(
        "human-error",
        Who.ANY,
        r"\b(?:human|operator|user|pilot|personnel|people)[\s-]+(?:error|mistake|failure)s?\b"
        + _NOT_ERROR_KIND
        + r"|\b(?:PEBKAC|PICNIC|ID-?10-?T)\b|\blayer[\s-]*8\s+(?:issue|problem|error)s?\b",
        negatable=True,
    ),
    _rule(
        "failed-to",
        Who.SUBJECT,
        r"\b(?:failed|neglected|forgot|forgotten|omitted)\s+to\b|\bforgot\b"
        r"|\b(?:was|were)\s+supposed\s+to\b|" + _DID_NOT,
    ),
    _rule(
        "failed-to",
        Who.CLAUSE,
        r"\bwithout\s+(?:\w+ly\s+)?(?:a\s+|any\s+)?(?:" + _CHECKS + r")\b"
        r"|\b(?:against|despite|in\s+spite\s+of)\s+(?:the\s+)?(?:policy|process|runbook|guidance"
        r"|advice|warnings?|freeze)\b|\b(?:directly|straight)\s+to\s+(?:main|master|prod)\b"
        r"|\b(?:but|and)\s+(?:didn't|did\s+not|never\s+did)\b",
    ),
    _rule("failed-to", Who.ANY, r"\b(?:nobody|no\s+one|no-one)\s+(?:even\s+)?(?:bothered|cared)\b"),
    _rule(
        "careless",
        Who.ANY,
        r"\b(?:" + _CARELESS + r")\b|(?:\bnot|n't)\s+(?:being\s+)?(?:careful|paying\s+attention)\b"
        r"|\black\s+of\s+" + _JUDGED,
        negatable=True,
    ),
    _rule("careless", Who.POSSESSOR, _POSS + r"(?:lack\s+of\s+\w+|inexperience|inattention)\b"),
    _rule(
        "careless",
        Who.OBJECT,
        r"\b(?:poor|bad|inadequate|insufficient|lack\s+of)\s+(?:\w+\s+){1,2}?"
        r"(?:by|from|on\s+the\s+part\s+of)\s+" + _NP,
    ),
    _rule(
        "negligence",
        Who.ANY,
        r"\b(?:negligen(?:t|tly|ce)|dereliction|irresponsibl[ey]|unprofessional(?:ly)?|"
        r"dropped\s+the\s+ball|asleep\s+(?:at\s+the\s+(?:wheel|switch)|on\s+the\s+job)|"
        r"(?:lapse\s+(?:in|of)|poor|bad)\s+judge?ment)\b",
        negatable=True,
    ),
    _rule(
        "should-have-known",
        Who.SUBJECT,
        r"\b(?:should|ought\s+to|could)(?:\s+have|'ve|\s+of)\s+(?:\w+ly\s+|just\s+|simply\s+)?"
        r"(?:" + _HINDSIGHT + r")\b|\bshould(?:\s+not|n't)\s+have\s+\w+",
    ),
    _rule(
        "should-have-known",
        Who.ANY,
        r"\b(?:should|ought\s+to)(?:\s+have|'ve)\s+known\s+better\b|\bknew\s+better\b",
    ),
    _rule(
        "counterfactual",
        Who.OBJECT,
        r"\bif(?:\s+only)?\s+" + _NP_THEN + r"(?:had|hadn't|had\s+not|would\s+have|'d)\b",
    ),
    _rule(
        "counterfactual",
        Who.OBJECT,
        r"\bhad\s+(?P<who>(?:the\s+)?[@\w][\w@.'\u2019-]*)\s+(?:\w+ed|read|run|done|known|seen)\b",
    ),
    _rule("blame-verb", Who.SUBJECT, r"\b(?:" + _BLAME_VERBS + r")\b"),
    _rule(
        "blame-verb",
        Who.OBJECT,
        r"\b(?:broken|botched|bungled|messed\s+up|screwed\s+up|caused|ignored|overlooked|"
        r"disregarded|nuked|wiped|taken\s+down)\s+(?:\w+ly\s+)?by\s+" + _NP,
    ),
    _rule(
        "mistake-by-person",
        Who.POSSESSOR,
        _POSS + r"(?:\w+\s+)?" + _SLIPS + _NOT_ERROR_KIND,
        negatable=True,
    ),
    _rule(
        "mistake-by-person",
        Who.ANY,
        r"\b" + _OBJ + r"(?:\w+\s+)?" + _SLIPS + _NOT_ERROR_KIND,
        negatable=True,
    ),
    _rule("mistake-by-person", Who.OBJECT, _SLIPS + r"\s+(?:made\s+|committed\s+)?by\s+" + _NP),
    _rule(
        "mistake-by-person",
        Who.SUBJECT,
        r"\b(?:made|makes|make)\s+(?:a|an|the|another|one|this|that|several|some|two)?\s*"
        r"(?:\w+\s+)?" + _SLIPS,
    ),
    _rule(
        "mistake-by-person",
        Who.CLAUSE,
        r"\b(?:accidentally|mistakenly|inadvertently|by\s+(?:mistake|accident))\b",
    ),
    _rule(
        "why-didnt",
        Who.OBJECT,
        r"\bwhy\s+(?:(?:didn't|did\s+not|didnt|wasn't|weren't|hadn't|couldn't|wouldn't|hasn't|"
        r"haven't)\s+" + _NP + r"|did\s+(?:nobody|no\s+one|no-one)\b)",
    ),
    _rule(
        "just-should",
        Who.SUBJECT,
        r"\b(?:just\s+(?:needs?|has|have|had)\s+to|(?:needs?|has|have)\s+to\s+just|"
        r"should\s+just|just\s+should|must\s+just|just\s+must)\b",
    ),
    _rule(
        "just-should",
        Who.OBJECT,
        r"\b(?:needs?|want|expect|remind|tell|ask)\s+"
        + _NP_THEN
        + r"to\s+(?:actually|just|really|simply|remember|stop|be\s+more)\b",
    ),
    _rule(
        "just-should",
        Who.ANY,
        r"\b(?:be(?:ing)?|were|was)\s+more\s+(?:careful|attentive|vigilant|diligent)\b|"
        r"\bpay(?:ing)?\s+(?:more|closer)\s+attention\b|\btry\s+harder\b",
    ),
    _rule("wrong-thing", Who.CLAUSE, r"\b(?:the|a)\s+wrong\s+[\w-]+"),
)
