"""Which questions in a diary are open: ones the agent means to find out or decide, not
exclamations in question form, tag questions, questions answered on their own line or
someone else's question told (the offline distillation keeps only open ones).
"""

from __future__ import annotations

import re


def asks(text: str) -> bool:
    """A question: the line ends with "?", or a "?" ends all but a short aside ("… ? not
    sure yet")."""
    head, sep, aside = text.rpartition("?")
    return bool(sep) and len(aside.strip(" \t)\"'\u201d").split()) <= 4


# A question kept as an open question is one the agent means to find out or decide
# ("should I …", "how do we …", "why does X fail?"). People also write exclamations in
# question form, which ask nothing: the markers below are how English marks them, not
# the words of any one diary. Each is matched on the question's own sentence.
_AUX = (r"(?:do|does|did|is|are|was|were|am|can|could|would|will|should|has|have|had|"
        r"isn't|aren't|wasn't|weren't|don't|doesn't|didn't|hasn't|haven't|hadn't|won't|"
        r"wouldn't|can't|couldn't|shouldn't|mustn't)")
_WHO = r"(?:i|we|you|they|it|he|she|that|this|there|anyone|anybody|people|one)"
_RHETORIC = re.compile(
    # "even" straight after the question's opening: "who even reads …", "why do I even …",
    # "does anyone even …" (not "what if even …": there it is a concession)
    rf"(?:\b(?:who|what|why|how|where|which)(?:\s+{_AUX}(?:\s+{_WHO})?)?|^{_AUX}\s+{_WHO})\s+even\b"
    r"|\bon earth\b|\bin the world\b|\bthe (?:hell|heck|devil)\b"  # "what on earth …"
    r"|\bwho (?:cares|knows|needs|would(?: have)? (?:thought|guessed)|doesn't|does not|"
    r"wouldn't|isn't)\b"
    r"|\bwhat(?:'s| is) (?:the point|not to (?:like|love))\b|\bwhy bother\b"
    r"|\bwhat (?:could|can) (?:possibly )?go wrong\b|\bwhat else is new\b"
    r"|\bhow (?:hard|bad|difficult) (?:can|could) it (?:be|get)\b"
    r"|\bhow (?:\w+ )?(?:cool|great|nice|weird|odd|funny|strange|lucky|typical) (?:is|was) that\b"
    r"|\b(?:can|could|would) you believe\b|\b(?:are|were) you kidding\b|\bguess what\b"
    r"|^(?:isn't|wasn't|aren't|weren't) (?:it|that|this|they)\b"  # "isn't it odd that …"
    r"|\bdon't you think\b|\bwouldn't you say\b"
    # a lone interjection asked back: "… Really?", "Right?", "Huh?"
    r"|^(?:right|really|seriously|huh|eh|no|yeah|ok|okay)\W*$",
    re.I)
# a tag question: a statement with "…, isn't it?", "…, right?", "…, huh?" on its end
_TAG_Q = re.compile(
    rf",\s*(?:{_AUX}(?: not)?\s+{_WHO}|right|eh|huh|no|yeah|yes|ok|okay|innit|or what|true)"
    r"\s*\?+$", re.I)
# a question followed by its own answer ("Is it worth it? No.", "Why? Because …")
_ANSWER = re.compile(
    r"^(?:yes|yep|yup|yeah|nope|nah|no(?!\s+(?:idea|clue|answer|one knows)\b)|because|"
    r"obviously|definitely|absolutely|clearly|of course|sure|nobody|no one|none|nothing|"
    r"never|everyone|everybody|always|not really|not at all|not a chance|apparently|"
    r"turns out|answer)\b", re.I)
SENTENCES = re.compile(r"(?<=[.!?])\s+")


def rhetorical(text: str) -> bool:
    """A line whose question the agent does not mean to answer: an exclamation in
    question form ("who even reads …?", "what on earth …?", "?!"), a tag question ("…,
    isn't it?", "…, right?"), a question answered on the same line ("Is it worth it?
    No."), or someone else's question told (:func:`_reported`)."""
    head, _, aside = text.replace("\u2019", "'").rpartition("?")
    if _ANSWER.match(aside.strip(" \t.,;:-\u2014)\"'\u201d")):
        return True
    if aside.lstrip().startswith("!") or head.rstrip().endswith("!"):
        return True  # "?!" and "!?": an exclamation
    asked = SENTENCES.split(head + "?")[-1].strip()  # the sentence the last "?" ends
    return bool(_RHETORIC.search(asked) or _TAG_Q.search(asked) or _reported(asked))


_REPORTED = re.compile(r"\b(?:asked|asks|wondered|wonders|wants to know|wanted to know)\s+"
                       r"(?:\w+\s+)?(?:whether|if|why|how|what|when|where|who)\b", re.I)
_FIRST = re.compile(r"\b(?:i|we|me|us|my|our|i'm|i'll|we'll|we're|i've|we've)\b", re.I)


def _reported(asked: str) -> bool:
    """Someone else's question told ("The forum asked whether fees will fall?"): not one
    the agent asks itself, unless the agent is in it ("I wonder whether …" is its own,
    "Ada asked me if …" is put to it)."""
    return bool(_REPORTED.search(asked)) and not _FIRST.search(asked)
