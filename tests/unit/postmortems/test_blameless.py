"""Blameless wording check (process.md §5: flag blaming wording, suggest neutral wording)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.unit.postmortems.blameless_corpus import (
    CORPUS,
    DEV,
    FINAL,
    FRESH,
    HELD_OUT,
    LATE,
    ROSTER,
)
from warroom.postmortems.blameless import ADVICE, RULE_IDS, RULES, is_blameful, lint

TARGET = 0.9


@pytest.mark.parametrize(
    ("text", "rule", "flagged"),
    [
        ("The outage was Dave's fault.", "fault", "Dave's fault"),
        ("It was the on-call engineer's fault.", "fault", "engineer's fault"),
        ("Honestly, it was his fault.", "fault", "his fault"),
        ("Quinn is to blame for the missing backups.", "fault", "Quinn is to blame"),
        ("Blame lies with the payments team.", "fault", "Blame lies with the payments team"),
        ("Root cause: human error.", "human-error", "human error"),
        ("It was operator error again.", "human-error", "operator error"),
        ("Classic PEBKAC.", "human-error", "PEBKAC"),
        ("Alice failed to run the migration.", "failed-to", "Alice failed to"),
        ("@bob forgot to renew the certificate.", "failed-to", "@bob forgot to"),
        ("She didn't bother to check.", "failed-to", "She didn't bother"),
        ("Pete deployed without approval.", "failed-to", "without approval"),
        ("The change was pushed carelessly by Dave.", "careless", "carelessly"),
        ("Paul was sloppy with the rollback.", "careless", "sloppy"),
        ("Tanya wasn't paying attention.", "careless", "n't paying attention"),
        ("Frank's negligence caused it.", "negligence", "negligence"),
        ("The SRE on duty dropped the ball.", "negligence", "dropped the ball"),
        ("Bob should have known better.", "should-have-known", "Bob should have known"),
        ("Someone should have caught this.", "should-have-known", "Someone should have caught"),
        ("If Carol had followed the runbook.", "counterfactual", "If Carol had"),
        ("Had Sam reviewed it, we would know.", "counterfactual", "Had Sam reviewed"),
        ("Carol broke prod.", "blame-verb", "Carol broke"),
        ("They ignored the warnings.", "blame-verb", "They ignored"),
        ("The outage was caused by the new hire.", "blame-verb", "caused by the new hire"),
        ("The intern's mistake took down checkout.", "mistake-by-person", "intern's mistake"),
        ("It was a mistake by Grace.", "mistake-by-person", "mistake by Grace"),
        ("Leo accidentally deleted the bucket.", "mistake-by-person", "accidentally"),
        ("Why didn't anyone check?", "why-didnt", "Why didn't anyone"),
        ("Why did nobody escalate?", "why-didnt", "Why did nobody"),
        ("Engineers just need to follow it.", "just-should", "Engineers just need to"),
        ("Please be more careful.", "just-should", "be more careful"),
        ("The new hire ran it against the wrong database.", "wrong-thing", "the wrong database"),
    ],
)
def test_each_rule_flags_its_wording(text, rule, flagged):
    found = [f for f in lint(text) if f.rule == rule]
    assert [f.text for f in found] == [flagged]
    finding = found[0]
    assert text[finding.start : finding.end] == finding.text
    assert (finding.message, finding.suggestion) == ADVICE[rule]


def test_every_rule_has_advice_and_a_test_above():
    assert {rule.id for rule in RULES} == set(RULE_IDS) == set(ADVICE)
    for message, suggestion in ADVICE.values():
        assert message
        assert suggestion.endswith((".", ".'", "?'"))


@pytest.mark.parametrize(
    "text",
    [
        "The health check failed to detect the outage.",
        "The job errored after the upstream API returned 500s.",
        "We lacked an alert for replication lag.",
        "Human review is now required for all schema changes.",
        "The fault was in the disk controller.",
        "Fault tolerance kept orders from being lost.",
        "We burned 40% of the error budget.",
        "We should have an alert for this.",
        "Alice restarted the service at 14:05.",
        "Avoid saying 'human error'; describe the conditions.",
        "Avoid saying “human error”; describe the conditions.",
        "Nobody is at fault here.",
        "Dave wasn't at fault.",
        "Human error is not an acceptable root cause.",
        "The on-call engineer did not receive the page.",
        "Heidi's change added a new index.",
        "Lazy loading hid the bug.",
    ],
)
def test_systems_language_is_not_flagged(text):
    assert lint(text) == []
    assert not is_blameful(text)


def test_offsets_point_into_a_multi_line_document():
    text = "## Root cause\n\nThe deploy went out.\nLater, Judy messed up the DNS change.\n"
    [finding] = lint(text)
    assert (finding.rule, finding.text) == ("blame-verb", "Judy messed up")
    assert finding.start == text.index("Judy")
    assert finding.end == text.index(" the DNS")


@pytest.mark.parametrize(
    "text",
    [
        "```\nDave's fault: human error\n```\n",
        "~~~text\nBob failed to renew\n~~~\n",
        "Grep for `human error` in old reports.",
        "See https://wiki.example.com/dave-failed-to-deploy for the old page.",
        'He wrote "it was my fault" in chat.',
    ],
)
def test_code_urls_and_quotes_are_ignored(text):
    assert lint(text) == []


def test_text_after_a_code_block_is_still_checked():
    text = "```\nhuman error\n```\nThe intern's mistake took down checkout."
    [finding] = lint(text)
    assert finding.rule == "mistake-by-person"
    assert finding.start == text.index("intern's")


@pytest.mark.parametrize(
    ("text", "people", "blameful"),
    [
        ("alice forgot to rotate the key.", (), False),  # lower case: no name cue
        ("alice forgot to rotate the key.", ("Alice",), True),
        ("ckent broke the build.", ("@ckent",), True),
        ("Chen failed to page anyone.", ("Carol Chen",), True),
        # With a roster, capitalised words are no longer guessed to be people.
        ("Rundeck failed to run the job.", (), True),  # an unlisted tool looks like a name
        ("Rundeck failed to run the job.", ("Alice", "@bob"), False),
        # A handle that is also a word is not a person after "the".
        ("The cache failed to warm up.", ("cache",), False),
        # Pronouns, handles and roles count whatever the roster says.
        ("He failed to notice the disk filling up.", ("Alice",), True),
        ("@zoe failed to hand over the pager.", ("Alice",), True),
        ("The intern forgot to scale the workers.", ("Alice",), True),
    ],
)
def test_people_make_person_patterns_certain(text, people, blameful):
    assert is_blameful(text, people=people) is blameful


def test_each_finding_is_reported_once_per_rule():
    findings = lint("Bob was careless, so careless, and his mistake broke prod.")
    rules = [f.rule for f in findings]
    assert rules.count("careless") == 2  # two separate words, two places to rewrite
    assert len({(f.start, f.end, f.rule) for f in findings}) == len(findings)


def _scores(samples: Sequence[tuple[str, bool]], people: Sequence[str] = ()) -> tuple[float, float]:
    """Precision and recall of is_blameful over labelled sentences."""
    tp = fp = fn = 0
    for sentence, label in samples:
        got = is_blameful(sentence, people=people)
        tp += got and label
        fp += got and not label
        fn += label and not got
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1)


def test_corpus_is_large_and_balanced():
    assert len(CORPUS) >= 100
    assert len({s for s, _ in CORPUS}) == len(CORPUS)
    blameful = sum(label for _, label in CORPUS)
    assert 0.4 <= blameful / len(CORPUS) <= 0.6


@pytest.mark.parametrize("people", [(), ROSTER], ids=["no-people", "roster"])
def test_precision_and_recall_over_the_corpus(people):
    p, r = _scores(CORPUS, people)
    print(f"precision={p:.3f} recall={r:.3f} n={len(CORPUS)}")
    splits = {"dev": DEV, "held_out": HELD_OUT, "late": LATE, "fresh": FRESH, "final": FINAL}
    for name, split in splits.items():
        sp, sr = _scores(split, people)
        print(f"  {name}: precision={sp:.3f} recall={sr:.3f} n={len(split)}")
    assert p >= TARGET
    assert r >= TARGET
