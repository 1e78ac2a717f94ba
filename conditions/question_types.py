"""The answer type of a history question read from its own words, for the importer.

"When did it start?" takes a date, "Is it on one side of the body or both?" a single
choice of side, "How bad is the pain?" a 0-10 scale, "Does anything make it better or
worse?" free text; yes or no only for questions that are truly yes-or-no.
"""

import re

# A frequency question's default scale, from most to least often.
FREQUENCY_SCALE = [
    "All the time",
    "Several times an hour",
    "Several times a day",
    "About once a day",
    "A few times a week",
    "Less than once a week",
]
SIDES = ["Left side", "Right side", "Both sides"]

_YES_NO_START = re.compile(r"(?:is|are|do|does|did|have|has|can|was|were|had)\b")
# "Is it sharp or dull?", "Did it start suddenly, or slowly?": the subject is the symptom,
# not the patient ("Are you pregnant, or could you be?" is a yes-or-no question).
_ALTERNATIVES = re.compile(
    r"(?:is|are|was|were|does|do|did) (?:it|they|this|the \w+|your \w+)"
    r"(?: \w+)? (?P<first>[\w' -]+?),? or (?P<second>[\w' -]+?)\??",
)
_SIDE = re.compile(
    r"\bone side\b.*\bor both\b|\bleft\b.*\bright\b.*\bor both\b|\bleft or right\b"
    r"|\bwhich side\b"
)
# "Is it worse in the morning?" stays yes or no: only what changes it is free text.
_BETTER_OR_WORSE = re.compile(
    r"\bbetter or worse\b|\bmakes? (?:it|them|the \w+) (?:better|worse)\b"
    r"|\b(?:relieves?|helps?|triggers?)\b|\bbrings? (?:it|them) on\b"
)
_SCALE = re.compile(
    r"\bhow (?:much|bad|severe|strong|intense|painful)\b|\bscale of\b|\brate (?:the|your)\b"
)
_BODY_SITES = re.compile(
    r"\b(?:which|what) (?:muscles?|parts?|areas?|body parts?|joints?|limbs?)\b|\bwhere\b"
)


def answer_type_for(wording, *, red_flags=()):
    """(answer type, choices) for a question worded so; `red_flags` are the page's
    red-flag symptoms, offered by a question about other symptoms."""
    text = " ".join(wording.lower().split())
    if re.search(r"\bwhen did\b|\bwhat date\b|\bsince when\b", text):
        return "date", []
    if re.search(r"\bhow long\b", text):
        return "duration", []
    if re.search(r"\bhow often\b|\bhow many times\b|\bhow frequent", text):
        return "frequency", list(FREQUENCY_SCALE)
    if _SIDE.search(text):
        return "single_choice", list(SIDES)
    if _BETTER_OR_WORSE.search(text):
        return "free_text", []
    if _SCALE.search(text):
        return "scale", []
    if _BODY_SITES.search(text):
        return "body_sites", []
    if re.search(r"\bother symptoms\b", text) and red_flags:
        return "multiple_choice", [*red_flags, "None of these"]
    if alternatives := _ALTERNATIVES.fullmatch(text):
        choices = [_choice(alternatives["first"]), _choice(alternatives["second"])]
        if len({choice.lower() for choice in choices}) == 2:
            return "single_choice", choices
    if _YES_NO_START.match(text) and " or " not in text.replace(", or could", ""):
        return "yes_no", []
    return "free_text", []


def _choice(words):
    words = re.sub(r"^(?:does it|do they|is it|are they) ", "", words.strip(" ,"))
    return words[:1].upper() + words[1:]
