"""Blameless wording check for postmortems (process.md §5, §6 "blaming individuals").

Pure and stdlib-only. A rule is a phrase pattern plus where the person must be
for the phrase to blame someone: "failed to" blames only when a person
failed, while "the health check failed to detect" is how systems language
should read. People are the ``people`` the caller knows (incident
participants, users), @handles, pronouns and role nouns ("the intern", "the
payments team"); without ``people``, also capitalised words that look like
first names, which is a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from warroom.postmortems.blameless_rules import ADVICE, RULE_IDS, RULES, Rule, Who

__all__ = ["ADVICE", "RULES", "RULE_IDS", "Finding", "is_blameful", "lint"]


@dataclass(frozen=True)
class Finding:
    """Blaming wording at ``start:end`` of the checked text, with a neutral rewrite."""

    start: int
    end: int
    text: str
    rule: str
    message: str
    suggestion: str


def _words(text: str) -> frozenset[str]:
    """A word list written as space-separated text, which reads better than literals."""
    return frozenset(text.split())


PRONOUNS = _words(
    "he she they i you him her them me someone somebody anyone anybody everyone everybody whoever"
)
ROLES = _words(
    "engineer operator developer dev intern hire contractor admin administrator dba sre ops "
    "devops qa oncaller on-caller on-call responder reviewer author employee person people "
    "staff team ic commander lead manager guy folk folks member colleague coworker teammate "
    "owner junior newbie individual approver committer"
)
DETERMINERS = _words(
    "the a an our their this these those its his her my your one some any every each "
    "no of in on at to for from with by into via"
)
# Auxiliaries and adverbs between a subject and its verb: "Bob had simply ignored".
SKIPPED = _words(
    "had has have was were is are did does do also just simply then again already still "
    "somehow that all both even"
)
INTRO = _words("because when then so and but after later also once since while")
CONJUNCTIONS = _words("and but then so")
# Capitalised words that start sentences or name systems, not people: the name
# guess is only as good as this list, so callers should pass ``people``.
NOT_NAMES = _words(
    """The This That These Those It We Our Their There Then When After Before Because During
    Since While If Once All Each Every No None Nothing Everything Nobody Someone Root Action
    Impact Summary Timeline Why What How Who Where Again Also Unfortunately Monday Tuesday
    Wednesday Thursday Friday Saturday Sunday January February March April May June July
    August September October November December Kubernetes Postgres PostgreSQL Redis Kafka
    Terraform Ansible Vault Consul Nginx Envoy Prometheus Grafana Alertmanager PagerDuty
    Jenkins GitHub GitLab Docker Helm Istio Linkerd Cloudflare Fastly Akamai Datadog Sentry
    Elasticsearch Cassandra MongoDB Celery Sidekiq Airflow Spark Lambda Linux Windows Java
    Python Node Rust Ruby Rails Django Slack Jira Okta Stripe Twilio Azure Google Amazon Argo
    Spinnaker Nomad Zookeeper Memcached Varnish Traefik Kibana Splunk Certbot Nagios Zabbix
    Icinga Puppet Chef Salt Loki Jaeger Fluentd Logstash Keycloak Heroku Vercel Netlify Pulsar
    RabbitMQ Ceph Calico Cilium Karpenter Harbor Artifactory Gradle Maven Bazel Apache Tomcat
    Gunicorn Puma Staging Production Prod Deploy Deployment Backup Cache Config Traffic
    Latency Load Status Rollback Rollout Upgrade Failover Retry Disk Network Storage Canary
    Cron Search Checkout Billing Payments Auth Login"""
)
NOUN_ENDINGS = ("ing", "tion", "sion", "ment", "ness", "ity", "ance", "ence", "sis", "over")
_NAME = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_TOKEN = re.compile(r"[@\w][\w@.'\u2019-]*")
_POSSESSIVE = re.compile(r"(?:'s|\u2019s|'|\u2019)$")
_SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)|\n")
_CLAUSE_END = re.compile(r"[.!?;:,)](?:\s|$)|\n|\s[-\u2013\u2014]\s")
_NEGATION = _words("not no never nobody none without avoid")

_HIDDEN = (
    re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL),
    re.compile(r"(`+)[^`].*?\1", re.DOTALL),
    re.compile(r"\b(?:https?|ftp)://[^\s<>()]+|\bwww\.[^\s<>()]+"),
    # Quoted words are mentioned, not used: "avoid saying 'human error'".
    re.compile(
        r"(?<![\w'\u2019])'[^'\n]{1,120}'(?!\w)|\"[^\"\n]{1,200}\"|\u201c[^\u201d\n]{0,200}\u201d"
    ),
    re.compile(r"(?<!\w)\u2018[^\u2019\n]{1,120}\u2019(?!\w)"),
)

Token = tuple[str, int, int]
Span = tuple[int, int]


def _mask(text: str) -> str:
    """``text`` with code, URLs and quotations blanked out, offsets unchanged."""
    chars = list(text)
    for pattern in _HIDDEN:
        for match in pattern.finditer("".join(chars)):
            for i in range(match.start(), match.end()):
                if chars[i] != "\n":
                    chars[i] = " "
    return "".join(chars)


def _names(people: Iterable[str]) -> frozenset[str]:
    """Lower-case names and name parts: "Carol Chen" gives carol, chen, carol chen."""
    names: set[str] = set()
    for person in people:
        name = person.strip().lstrip("@").lower()
        names.update(part for part in [name, *name.split()] if len(part) > 1)
    return frozenset(names)


def _window(pos: int, size: int = 300) -> int:
    """Where to start looking back from ``pos``: sentences are shorter than this."""
    return max(0, pos - size)


def _tokens(text: str, start: int, end: int) -> list[Token]:
    found = _TOKEN.finditer(text, start, end)
    return [(m.group().rstrip(".-"), m.start(), m.end()) for m in found]


def _bare(word: str) -> str:
    """``word`` without a possessive ending, lower-cased and without "@"."""
    return _POSSESSIVE.sub("", word).lstrip("@").lower()


def _is_role(word: str) -> bool:
    low = _bare(word)
    return low in ROLES or (low.endswith("s") and low[:-1] in ROLES)


def _looks_like_name(word: str, prev: str | None) -> bool:
    """Guess whether a capitalised word is a first name rather than a system or noun."""
    word = _POSSESSIVE.sub("", word)
    if not _NAME.fullmatch(word) or word in NOT_NAMES or word.endswith(NOUN_ENDINGS):
        return False
    if word.endswith("s") and not word.endswith(("us", "is", "as", "os")):
        return False  # plurals: "Backups failed to"
    return prev is None or prev.lower() not in DETERMINERS


def _is_person(word: str, prev: str | None, names: frozenset[str]) -> bool:
    """Whether ``word`` names a person; a known roster replaces the name guess."""
    low = _bare(word)
    if low in PRONOUNS or word.startswith("@") or _is_role(word):
        return True
    if names:  # a handle like "cache" is not meant in "the cache failed to"
        return low in names and (prev is None or prev.lower() not in DETERMINERS)
    return _looks_like_name(word, prev)


def _is_skipped(word: str) -> bool:
    return word.lower() in SKIPPED or (word.islower() and word.endswith("ly") and len(word) > 4)


def _subject_before(text: str, pos: int, names: frozenset[str]) -> int | None:
    """Start of the person just before ``pos`` ("Alice" in "Alice had failed to")."""
    starts = [m.end() for m in _SENTENCE_END.finditer(text, _window(pos), pos)]
    tokens = _tokens(text, starts[-1] if starts else _window(pos), pos)
    while tokens and _is_skipped(tokens[-1][0]):
        tokens.pop()
    if len(tokens) > 2 and tokens[-2][0] in ("on", "in") and tokens[-1][0] in ("duty", "call"):
        del tokens[-2:]  # "the SRE on duty"
    if not tokens:
        return None
    if tokens[-1][0].lower() in CONJUNCTIONS:  # "Steve was distracted and missed"
        return _clause_subject(text, pos, names)
    candidates = [len(tokens) - 1]
    words = [t[0].lower() for t in tokens]
    if "who" in words[1:]:  # "the developer who wrote this code clearly didn't"
        candidates.append(len(words) - 2 - words[::-1].index("who"))
    candidates += [i for i, w in enumerate(words) if w == "whoever"]
    for i in candidates:
        word, start, _ = tokens[i]
        prev = tokens[i - 1][0] if i > 0 else None
        if not _POSSESSIVE.search(word) and _is_person(word, prev, names):
            return start
    return None


def _person_np(tokens: list[Token], names: frozenset[str]) -> int | None:
    """End of the person that the noun phrase ``tokens`` starts with, if it is one."""
    i, prev = 0, None
    while i < len(tokens) and tokens[i][0].lower() in DETERMINERS:
        prev, i = tokens[i][0], i + 1
    if i == len(tokens) or _POSSESSIVE.search(tokens[i][0]):
        return None  # "Priya's typo" is about the typo
    word, _, end = tokens[i]
    if _is_person(word, prev, names):
        return end
    for word, _, end in tokens[i + 1 : i + 3]:
        if word.lower() in DETERMINERS:
            break
        if _is_role(word):
            return end
    return None


def _person_after(text: str, pos: int, names: frozenset[str]) -> int | None:
    stop = _CLAUSE_END.search(text, pos, pos + 200)
    return _person_np(_tokens(text, pos, stop.start() if stop else pos + 200)[:5], names)


def _clause_subject(text: str, pos: int, names: frozenset[str]) -> int | None:
    starts = [m.end() for m in _CLAUSE_END.finditer(text, _window(pos), pos)]
    tokens = _tokens(text, starts[-1] if starts else _window(pos), pos)
    while tokens and tokens[0][0].lower() in INTRO:
        tokens.pop(0)
    return _person_np(tokens[:5], names)


def _negated(text: str, start: int, end: int) -> bool:
    """Whether the phrase is denied: "not Dave's fault", "human error is not the cause"."""
    before = re.findall(r"[\w'\u2019]+", text[max(0, start - 40) : start])[-3:]
    after = re.findall(r"[\w'\u2019]+", text[end : end + 30])[:2]
    if any(w.lower() in _NEGATION or w.lower().endswith(("n't", "n\u2019t")) for w in before):
        return True
    return len(after) == 2 and after[0].lower() in ("is", "was") and after[1].lower() == "not"


def _span(rule: Rule, match: re.Match[str], text: str, names: frozenset[str]) -> Span | None:
    """The span that blames a person, or None when the match is about a system."""
    start, end = match.span()
    if rule.negatable and _negated(text, start, end):
        return None
    if rule.who is Who.SUBJECT:
        who = _subject_before(text, start, names)
        return None if who is None else (min(who, start), end)
    if rule.who is Who.POSSESSOR:
        tokens = _tokens(text, _window(start, 40), start)
        prev = tokens[-1][0] if tokens else None
        return (start, end) if _is_person(match.group("poss"), prev, names) else None
    if rule.who is Who.OBJECT:
        if match.group("who") is None:
            return start, end  # "why did nobody check"
        who_end = _person_after(text, match.start("who"), names)
        if who_end is None:
            return None
        return start, max(who_end, end if end > match.end("who") else 0)
    if rule.who is Who.CLAUSE and _clause_subject(text, start, names) is None:
        return None
    return start, end


def lint(text: str, *, people: Iterable[str] = ()) -> list[Finding]:
    """Flag wording in ``text`` that blames people, each with a neutral rewrite."""
    masked, names = _mask(text), _names(people)
    spans: list[tuple[int, int, str]] = []
    for rule in RULES:
        for match in rule.pattern.finditer(masked):
            span = _span(rule, match, masked, names)
            if span is not None:
                spans.append((*span, rule.id))
    findings: list[Finding] = []
    for start, end, rule_id in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        if any(f.rule == rule_id and f.start < end and start < f.end for f in findings):
            continue  # one finding per rule for overlapping phrasings
        message, suggestion = ADVICE[rule_id]
        findings.append(Finding(start, end, text[start:end], rule_id, message, suggestion))
    return findings


def is_blameful(sentence: str, *, people: Iterable[str] = ()) -> bool:
    """True when ``sentence`` has wording that blames people."""
    return bool(lint(sentence, people=people))
