"""Crisis-safety layer for ``kardia chat`` and ``kardia serve``.

The layer looks at every user turn (and every model reply) for three kinds of risk:

``self_harm``
    suicide and self-harm: direct statements, indirect ones ("everyone would be better off without
    me", "I've been giving away my things"), slang ("kms", "unalive") and misspellings.
``harm_to_others``
    intent to hurt, kill or attack another person.
``abuse``
    the user (or someone near them) being hit, assaulted, threatened, stalked, or abused as a child.

It is deliberately small and dependency free: regular expressions over normalised text, a table of
named rules, and a YAML file of helplines.  Nothing is downloaded at run time.  It is a *screen*
that errs on the side of showing help, not a clinical instrument: it only ever replaces a reply with
a warm message and helpline numbers, so a false positive costs little and a false negative a lot.

How a message is assessed
-------------------------
1. :func:`normalise` lowercases, undoes common leetspeak (``k1ll`` -> ``kill``), collapses letters
   repeated three or more times (``dieeee`` -> ``die``), expands contractions (``don't`` ->
   ``do not``, ``gonna`` -> ``going to``), turns laughing emoji into ``lol`` and fixes a small
   table of typos (``suicidle``, ``myslef``, ``kil``).
2. Every rule in :data:`RULES` is matched.  A match is *discarded* when

   * it overlaps an entry of the idiom allow-list :data:`IDIOMS` ("this deadline is killing me",
     "I could kill for a coffee", "he beat me at chess", a threat followed by a laugh: "I'll
     murder my flatmate lol"),
   * it overlaps a "discussion at a distance" span (:data:`DISTANCE`, see below),
   * it overlaps a recovery span of its category (:data:`RECOVERY`: "I used to self-harm",
     "clean for two years", "I left my abusive ex years ago"), unless the message says the risk
     is current again,
   * the rule is ``negatable`` and a negation cue ("not", "never", "no intention", "stopped" ...)
     sits in the same clause up to six words before it or inside it, or the clause continues
     "... is not / has never" right after it ("self-harm isn't something I've done"), or the
     match is inside a reported question answered "no" later in the sentence ("my therapist
     asked if I'd had thoughts of self-harm and I haven't"),
   * the rule needs a first-person speaker and the clause has no "I"/"myself".

   Rules whose wording already contains a negation ("I don't want to live anymore") are not
   ``negatable``.
3. The weights of the surviving rules are combined per category with a noisy-OR
   (``1 - prod(1 - w)``).  A category is flagged when its score reaches :data:`THRESHOLD` (0.6):
   one strong (0.7-0.95) rule is enough, weak cues (0.4, e.g. "I've made my peace", "I'm a
   burden", "I bought a knife", "they'll regret it") need a second cue.

Discussion at a distance
------------------------
Topic words on their own ("suicide", "self-harm", "domestic violence") never flag a message: the
rules look for first-person risk framing ("I've been thinking about suicide", "I feel suicidal").
In addition, spans where the topic is the object of study, reading, training or advocacy ("a book
about suicide prevention", "a training on suicide risk assessment", "an essay on domestic violence
laws", "I volunteer at a shelter for women escaping abuse"), and a character's act in a message
about a book, play or film ("in the novel the father shoots himself"), are on an allow-list.  A first-person
risk statement elsewhere in the same message is still flagged ("I'm reading about suicide because
I want to kill myself" is flagged).  Third-party *current* risk ("my friend says she wants to kill
herself") is flagged as ``self_harm`` so the user gets the resources to pass on.

Measuring
---------
:func:`measure` runs the detector over a labelled JSONL file (``tests/data/crisis_messages.jsonl``)
and reports recall, false-positive rate, per-kind figures and the misses; see
``benchmarks/safety_eval.py``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import yaml

__all__ = [
    "CATEGORIES",
    "THRESHOLD",
    "Rule",
    "Idiom",
    "RULES",
    "REPLY_RULES",
    "IDIOMS",
    "DISTANCE",
    "RECOVERY",
    "RuleHit",
    "RiskAssessment",
    "RiskModel",
    "OVERRULED",
    "Helpline",
    "CrisisResources",
    "SafetyOutcome",
    "SafetyLayer",
    "normalise",
    "explain",
    "assess",
    "load_crisis_resources",
    "resources_for",
    "safe_reply",
    "measure",
    "DEFAULT_RESOURCES_PATH",
]

logger = logging.getLogger("kardia.safety")

Category = Literal["self_harm", "harm_to_others", "abuse"]
CATEGORIES: tuple[str, ...] = ("self_harm", "harm_to_others", "abuse")
"""Risk categories, in the order used to break ties between equally scored categories."""

THRESHOLD = 0.6
"""A category is flagged when the noisy-OR of its rule weights reaches this value."""

DEFAULT_RESOURCES_PATH = Path(__file__).with_name("crisis_resources.yaml")

# Weights used in the rule table.
STRONG, MEDIUM, WEAK = 0.9, 0.7, 0.4

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_TOKEN = re.compile(r"[a-z0-9@$]+")
# laughing emoji become "lol" so that the joking-threat idiom can see them
_LAUGHING = re.compile("[\U0001F602\U0001F606\U0001F61C\U0001F61D\U0001F639\U0001F923]")

# Contractions, expanded so that rules only need to spell negation as "not".
_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\b(?:can't|cannot)\b", "can not"),
        (r"\bwon't\b", "will not"),
        (r"\bshan't\b", "shall not"),
        (r"\bain't\b", "is not"),
        (r"n't\b", " not"),
        (r"\bi'm\b", "i am"),
        (r"\bi'ma\b", "i am going to"),
        (r"'re\b", " are"),
        (r"'ve\b", " have"),
        (r"'ll\b", " will"),
        (r"'d\b", " would"),
        (r"\blet's\b", "let us"),
        (r"\b(he|she|it|that|what|there|here|who|where|how|everyone|everybody|someone|somebody"
         r"|nobody|life|this)'s\b", r"\1 is"),
    )
)

TYPOS: dict[str, str] = {
    # contractions typed without an apostrophe, and chat shorthand
    "im": "i am", "ive": "i have", "dont": "do not", "doesnt": "does not", "didnt": "did not",
    "cant": "can not", "wont": "will not", "wouldnt": "would not", "couldnt": "could not",
    "shouldnt": "should not", "isnt": "is not", "wasnt": "was not", "arent": "are not",
    "werent": "were not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "whats": "what is", "thats": "that is", "theres": "there is", "youre": "you are",
    "theyre": "they are", "shes": "she is", "gonna": "going to", "gona": "going to",
    "gunna": "going to", "wanna": "want to", "wana": "want to", "gotta": "got to",
    "tryna": "trying to", "imma": "i am going to", "ima": "i am going to", "u": "you", "ur": "your",
    "rn": "right now", "idk": "i do not know", "tbh": "to be honest", "cuz": "because",
    "coz": "because", "becuase": "because", "becasue": "because",
    # misspellings of the words the rules rely on
    "kil": "kill", "kll": "kill", "kiil": "kill", "kiled": "killed", "kiling": "killing",
    "killin": "killing", "killmyself": "kill myself", "kilmyself": "kill myself",
    "myslef": "myself", "mysefl": "myself", "mysef": "myself", "myslf": "myself",
    "myelf": "myself", "mysel": "myself", "meself": "myself", "mself": "myself", "slef": "self",
    "selfharm": "self harm", "selfharming": "self harming",
    "suicde": "suicide", "sucide": "suicide", "suiside": "suicide", "suicid": "suicide",
    "sucicide": "suicide", "suiscide": "suicide", "suecide": "suicide", "suacide": "suicide",
    "suicied": "suicide", "suiccide": "suicide", "siucide": "suicide", "suicie": "suicide",
    "suicidle": "suicidal", "sucidal": "suicidal", "suicdal": "suicidal", "suicidel": "suicidal",
    "suisidal": "suicidal", "suacidal": "suicidal", "suicidial": "suicidal",
    "suicdial": "suicidal", "sucicidal": "suicidal", "suiciadal": "suicidal",
    "suicial": "suicidal",
    "dieing": "dying", "diee": "die", "wnt": "want", "wnat": "want", "wamt": "want",
    "whant": "want", "wabt": "want", "liv": "live", "livin": "living", "lyfe": "life",
    "lfie": "life", "liife": "life", "anymor": "anymore", "anymoe": "anymore",
    "anymre": "anymore", "anymroe": "anymore", "nymore": "anymore", "wud": "would",
    "wuld": "would", "woud": "would", "wld": "would", "shud": "should", "cud": "could",
    "boyfrend": "boyfriend", "boyfreind": "boyfriend", "bofriend": "boyfriend",
    "girlfrend": "girlfriend", "girlfreind": "girlfriend", "evry": "every",
    "evryone": "everyone", "everyon": "everyone", "hurtin": "hurting", "cuting": "cutting",
    "cuttin": "cutting", "ded": "dead", "overdoze": "overdose", "ovrdose": "overdose",
    "ovedose": "overdose", "goin": "going", "thinkin": "thinking", "somone": "someone",
    "sombody": "somebody", "teh": "the", "hte": "the", "al": "all", "abusd": "abused",
    "stabb": "stab", "murda": "murder", "pushd": "pushed", "gettin": "getting", "nite": "night",
    "scool": "school", "skool": "school", "finna": "going to", "anyi": "anyone",
}

_MULTIWORD_FIXES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\bmy self\b(?! (?:harm|esteem|worth|care|confidence|image|control|respect|love|doubt))",
         "myself"),
        (r"\bsui cide\b", "suicide"),
        (r"\bun alive\b", "unalive"),
    )
)


def _unleet(m: re.Match[str]) -> str:
    """Undo leetspeak in a token that mixes letters with digits or @/$ ("k1ll", "su1c1de")."""
    tok = m.group(0)
    if tok.isalpha() or not any(c.isalpha() for c in tok):
        return tok
    return tok.translate(_LEET)


def normalise(text: str) -> str:
    """Return the canonical form of ``text`` that the rules are written against.

    >>> normalise("I wanna   k1ll my slef!!!")
    'i want to kill myself!'
    >>> normalise("I don't want to be here anymoreeee")
    'i do not want to be here anymore'
    """
    t = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    t = _LAUGHING.sub(" lol ", t)
    t = _LEET_TOKEN.sub(_unleet, t)
    t = re.sub(r"([a-z!?.])\1{2,}", r"\1", t)  # "dieeee" -> "die", "!!!" -> "!"
    t = re.sub(r"[-_/]", " ", t)
    t = re.sub(r"\b(want|wanna|going|gonna|need|wish|ready|have|got|deserve) 2\b", r"\1 to", t)
    for pattern, repl in _CONTRACTIONS:
        t = pattern.sub(repl, t)
    t = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", t)  # quotes, not apostrophes inside words
    t = re.sub(r"[^a-z0-9' .,!?;:]+", " ", t)
    t = re.sub(r"\s*([.,!?;:])", r"\1", t)
    t = " ".join(TYPOS.get(tok, tok) for tok in t.split(" ") if tok)
    # a typo fix may have been next to punctuation ("kil,"): fix those tokens too
    t = re.sub(r"\b([a-z']+)(?=[.,!?;:])", lambda m: TYPOS.get(m.group(1), m.group(1)), t)
    for pattern, repl in _MULTIWORD_FIXES:
        t = pattern.sub(repl, t)
    return re.sub(r"\s+", " ", t).strip()


# ---------------------------------------------------------------------------------------------
# Rule table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One named detection pattern.

    Attributes:
        name: ``"<category>.<short_name>"``, reported in :attr:`RiskAssessment.matched` and logs.
        category: one of :data:`CATEGORIES`.
        pattern: regular expression over :func:`normalise`-d text.
        weight: contribution to the category score (0-1); see :data:`THRESHOLD`.
        negatable: whether a nearby negation cue cancels the match (False where the pattern
            itself contains the negation, e.g. "I do not want to live").
        first_person: whether the clause must contain "i" or "myself".
    """

    name: str
    category: str
    pattern: str
    weight: float = STRONG
    negatable: bool = True
    first_person: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.name}: unknown category {self.category!r}")
        object.__setattr__(self, "regex", re.compile(self.pattern))


@dataclass(frozen=True)
class Idiom:
    """A span that is not a risk statement even though a rule may match inside it.

    ``unless`` is a pattern over the whole normalised message that switches the idiom off (for
    "he will kill me if ..." when the message also mentions leaving or the police); ``when`` is
    one that must match for the idiom to apply at all (a work of fiction for "she stabbed
    herself").  ``categories`` are the rule categories whose matches the span discards.
    """

    name: str
    pattern: str
    unless: str | None = None
    when: str | None = None
    categories: tuple[str, ...] = CATEGORIES
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    unless_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    when_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))
        object.__setattr__(self, "unless_regex", re.compile(self.unless) if self.unless else None)
        object.__setattr__(self, "when_regex", re.compile(self.when) if self.when else None)


# Reusable fragments --------------------------------------------------------------------------

_SELF_VERBS = (r"(?:kill(?:ing|ed|s)?|hurt(?:ing|s)?|harm(?:ing|ed|s)?|cut(?:ting|s)?|"
               r"burn(?:ing|ed|t|s)?|starv(?:e|ing|ed|es)|hang(?:ing|ed|s)?|shoot(?:ing|s)?|shot|"
               r"stab(?:bing|bed|s)?|drown(?:ing|ed|s)?|poison(?:ing|ed|s)?|suffocat(?:e|ing|ed)|"
               r"unaliv(?:e|ing|ed)|off(?:ing)?|end(?:ing)?|punish(?:ing)?)")
_PEOPLE = (r"(?:boss|manager|brother|sister|mom|mum|mother|dad|father|step ?dad|step ?father|"
           r"step ?mum|step ?mom|step ?mother|husband|wife|partner|boyfriend|girlfriend|ex|roommate|"
           r"flatmate|housemate|neighbou?r|teacher|coworker|co worker|colleague|son|daughter|kid|"
           r"children|child|baby|family|parent|classmate|friend|cousin|uncle|aunt|landlord|student|"
           r"class|coach|teammate|in laws|grandma|grandpa|grandmother|grandfather|guy|girl|man|"
           r"woman|bitch|bastard|bully|bullies|people|twin|toddler|infant|nephew|niece|stepson|"
           r"stepdaughter|wife|fiance|fiancee|bf|gf)")
# someone else as a target of violence ("him", "my boss", "the children", "my husband's")
_TARGET = (r"(?:him|her|them|you|someone|somebody|anyone|anybody|everyone|everybody|people|"
           r"(?:my|his|her|their|the|that|this|our|your|those|these) (?:\w+ )?" + _PEOPLE +
           r"s?(?:'s)?)")
_VIOLENT = (r"(?:kill(?:ing|ed)?|murder(?:ing|ed)?|stab(?:bing|bed)?|shoot(?:ing)?|shot|"
            r"strangl(?:e|ing|ed)|chok(?:e|ing|ed)|beat(?:ing)?(?: up)?|hurt(?:ing)?|harm(?:ing)?|"
            r"attack(?:ing)?|punch(?:ing)?|poison(?:ing)?|smother(?:ing)?|suffocat(?:e|ing)|"
            r"drown(?:ing)?|tortur(?:e|ing)|maim(?:ing)?|slap(?:ping)?|hit(?:ting)?|batter(?:ing)?|"
            r"assault(?:ing)?|kick(?:ing)?|bash(?:ing)?|burn(?:ing)?|rape|raping)")
_INTENT = (r"(?:going to|will|would|want(?:s|ed)? to|plan(?:ning)? to|planned to|about to|"
           r"intend(?:ing)? to|ready to|decided to|have to|need to|could|might|"
           r"think(?:ing)? (?:about|of)|thought (?:about|of)|fantasi[sz](?:e|ing) about|"
           r"dream(?:ing)? (?:about|of)|urges? to|tempted to|wish i could|feel like)")
_ABUSER_NOUN = (r"(?:husband|wife|partner|boyfriend|girlfriend|bf|gf|ex|fiance|fiancee|spouse|dad|"
                r"daddy|father|mom|mum|mommy|mummy|mother|step ?dad|step ?father|step ?mum|step ?mom|"
                r"step ?mother|parents?|brother|sister|uncle|aunt|cousin|grandpa|grandfather|grandma|"
                r"grandmother|teacher|coach|boss|manager|carer|caregiver|babysitter|nanny|priest|"
                r"pastor|neighbou?r|landlord|roommate|flatmate|housemate|family|guardian|foster \w+|"
                r"in laws?|mother in law|father in law)")
_ABUSER = (r"(?:he|she|they|someone|somebody|a man|a guy|a woman|some guy|this guy|"
           r"(?:my|our|his|her|the) (?:\w+ )?" + _ABUSER_NOUN + r")")
# leaving a partner or home, not leaving an object somewhere ("if I leave my room messy")
_LEAVING = (r"(?:leave|leaves|left|leaving)(?=\s*$|[.,!?;:]| (?:him|her|them|me|home|the (?:house|"
            r"relationship|marriage)|for good|again)\b)")
_ABUSE_VERB = (r"(?:hit(?:s|ting)?|beat(?:s|ing)?(?: up)?|punch(?:es|ed|ing)?|kick(?:s|ed|ing)?|"
               r"slap(?:s|ped|ping)?|chok(?:e|es|ed|ing)|strangl(?:e|es|ed|ing)|push(?:es|ed|ing)?|"
               r"shov(?:e|es|ed|ing)|burn(?:s|ed|t|ing)?|rap(?:e|es|ed|ing)|molest(?:s|ed|ing)?|"
               r"abus(?:e|es|ed|ing)|touch(?:es|ed|ing)?|grop(?:e|es|ed|ing)|hurt(?:s|ing)?|"
               r"threaten(?:s|ed|ing)?|stalk(?:s|ed|ing)?|"
               # locked in, or shut out overnight / in the cold ("locked me outside until morning")
               r"lock(?:s|ed|ing)?(?= me (?:in|up|out(?:side)?(?: of \w+)?(?: \w+){0,2}? (?:in the (?:cold|"
               r"rain|snow|dark)|all night|overnight|until (?:morning|dawn|\w+ am)|for hours)))|"
               r"starv(?:e|es|ed|ing)|drag(?:s|ged|ging)?|smack(?:s|ed|ing)?|whip(?:s|ped|ping)?|"
               r"attack(?:s|ed|ing)?|assault(?:s|ed|ing)?|throw(?:s|ing)? things at|"
               r"threw things at|spit(?:s)? on)")
_VICTIM = (r"(?:me|us|my (?:mum|mom|mother|dad|father|sister|brother|kids|children|son|daughter|"
           r"baby|siblings?|little \w+))")
# emotional, not physical, hurt: "he hurt me so much when he left"
_NOT_PHYSICAL = (r"(?! (?:so much|so badly|so bad|deeply|emotionally|a lot|with (?:his|her|their) "
                 r"words|by (?:leaving|lying|cheating|saying|ignoring|not)))")
# "hit him up", "shoot her a message", "beat them to it"
_NOT_FIGURATIVE = (r"(?! (?:up|a message|a text|an email|a look|a line|a note|back|to it|with the news|"
                   r"a smile)\b)")
# "punched me in the arm as a joke"
_NOT_PLAYFUL = (r"(?!(?: \w+){0,5} (?:as a joke|jokingly|playfully|by accident|accidentally|"
                r"while playing|for fun|in a game)\b)")
_DRUGS = r"(?:pills|sleeping pills|sleeping tablets|antidepressants|tablets|meds|medication|medicine|painkillers|paracetamol|tylenol|insulin)"
_WEAPON = r"(?:gun|handgun|pistol|rifle|shotgun|firearm|revolver|bullets?|ammo|knife|machete|blade)"
# pills put away for an ordinary reason ("counted my pills into the weekly organiser")
_PILLS_ROUTINE = (r"(?! (?:for (?:my|the|his|her) (?:trip|holiday|cold|flu|headache|back|prescription)|"
                  r"into (?:\w+ ){0,3}?(?:organi[sz]er|dispenser|pill ?box|box|case))\b)")
# another person's ("her", "my ex's"); normalise turns "someone's" into "someone is"
_POSSESSIVE = r"(?:his|her|their|(?:my |the |that )?\w+'s|(?:someone|somebody)(?: is)?)"
# someone's home or car ("her flat", "my ex's apartment")
_PLACE_OF = (r"(?:the|my|that|this|" + _POSSESSIVE + r") (?:house|home|flat|apartment|place|room|"
             r"bedroom|car|building|trailer|caravan|garage|shed|office)")
# a rope bought or kept for an ordinary reason
_ROPE_INNOCENT = (r"(?!(?: [\w']+){0,4}? (?:climbing|camping|boat|tent|swing|skipping|tug of war|"
                  r"washing line|garden|dog|tow\w*|hik\w*|sailing|emergenc\w*|to tie|to secure)\b)")
# a place to fall from
_HEIGHT = (r"(?:bridge|roof|building|cliff|balcony|tower|car park|parking garage|window|ledge|"
           r"overpass|skyscraper)")
# a baby or young child in the speaker's care ("my newborn", "the baby", "our little one")
_CHILD = (r"(?:(?:my|the|our|this) (?:\w+ )?(?:baby|newborn|infant|toddler|son|daughter|child|kid|"
          r"little one|twins?)|(?:him|her) (?=when (?:he|she) (?:cries|screams|will not)))")
# self-injury verbs in the past or progressive ("cut", "burned", "been scratching")
_INJURE = (r"(?:cut|cutting|burned|burnt|burning|scratched|scratching|self harmed|self harming|"
           r"hurt myself|hurting myself|harmed myself|harming myself|hit myself|hitting myself)")

RULES: tuple[Rule, ...] = (
    # ---- self harm: direct ------------------------------------------------------------------
    Rule("self_harm.verb_myself", "self_harm", r"\b" + _SELF_VERBS + r" myself\b", 0.95),
    Rule("self_harm.end_my_life", "self_harm",
         r"\b(?:end(?:ing|ed|s)?|take|taking|took|taken) my (?:own )?life\b", 0.95),
    Rule("self_harm.end_it_all", "self_harm", r"\bend(?:ing)? it all\b", STRONG),
    Rule("self_harm.end_it", "self_harm",
         r"\b(?:end|ending|finish) (?:it|things|everything)\b"
         r"(?! (?:with|between|for|at|off|on|early|here|there|now and|by|before|after))", MEDIUM),
    Rule("self_harm.suicidal", "self_harm", r"\bsuicidal\b", 0.95),
    Rule("self_harm.thinking_of_suicide", "self_harm",
         r"\b(?:think|thinking|thought|thoughts|obsess\w*|fantasi[sz]\w*|consider\w*|"
         r"contemplat\w*|plan\w*|dream\w*|talk\w*|research\w*) (?:about |of )?(?:committing )?"
         r"suicide\b", 0.95),
    Rule("self_harm.suicide_as_way_out", "self_harm",
         r"\bsuicide (?:is|feels|seems|looks|sounds)(?: like)? (?:\w+ ){0,2}(?:way out|option|"
         r"answer|solution|choice|escape|way)\b", 0.95),
    Rule("self_harm.suicide_all_i_think", "self_harm",
         r"\b(?:suicide|dying|death|killing myself) is all i (?:can )?think (?:about|of)\b|"
         r"\ball i (?:can )?think (?:about|of) is (?:suicide|dying|death|killing myself)\b", STRONG),
    Rule("self_harm.suicide_note_or_attempt", "self_harm",
         r"\bsuicide (?:note|letter|plan|attempt)s?\b|\b(?:commit|committing|attempt|attempted|"
         r"attempting|try|tried|trying) (?:to )?(?:commit )?suicide\b", STRONG),
    Rule("self_harm.self_harm_term", "self_harm", r"\bself harm(?:ing|ed|s)?\b", STRONG,
         first_person=True),
    Rule("self_harm.my_self_harm", "self_harm", r"\bmy self harm\b", STRONG),
    Rule("self_harm.urge_to_cut", "self_harm",
         r"\b(?:urges?|want|wanting|need|needing|craving|tempted|itching) to (?:cut|burn|self harm)"
         r"(?= again| myself|\s*$|[.,!?;:])", 0.8),
    Rule("self_harm.injure_body", "self_harm",
         r"\b(?:cut(?:ting|s)?|slash\w*|scratch\w*|burn(?:ing|ed|t|s)?|carv\w*|punch\w*|hit\w*|"
         r"bang\w*|bit(?:e|ing)|pick\w*) (?:into )?my (?:arms?|wrists?|legs?|thighs?|skin|stomach|"
         r"body|face|hips?|head)\b(?: \w+){0,4}? (?:until|till|til|on purpose|to feel|so i|"
         r"so that i|because i deserve)", STRONG),
    Rule("self_harm.punch_walls", "self_harm",
         r"\b(?:punch\w*|hit\w*|bang\w*) (?:walls?|things|my head)\b (?:\w+ ){0,3}?(?:until|till) ",
         MEDIUM),
    Rule("self_harm.want_to_die", "self_harm",
         r"\b(?:want(?:s|ed|ing)?|wish(?:ed|ing)?|ready|deserve[sd]?|need|plan(?:ning)?|planned|"
         r"decided|long(?:ing)?|hope|hoping|pray(?:ing)?) (?:\w+ ){0,2}?to (?:just )?d(?:ie|ye)\b"
         r"(?! (?:my|her|his|their|your|it|the|them|a|some|this|that)\b)", 0.95),
    Rule("self_harm.feel_like_dying", "self_harm",
         r"\b(?:feel|feeling|felt) like (?:dying|i want to die|killing myself|ending it)\b", MEDIUM),
    Rule("self_harm.better_off_dead", "self_harm", r"\bbetter off dead\b", STRONG),
    Rule("self_harm.thinking_about_dying", "self_harm",
         r"\b(?:think|thinking|thought|fantasi\w*|obsess\w*|dream\w*|imagin\w*)(?: \w+)? about "
         r"(?:dying|being dead|not being alive|not existing|my own death|ending (?:it|my life|"
         r"things|everything))\b", MEDIUM),
    Rule("self_harm.thinking_about_death", "self_harm",
         r"\b(?:think|thinking|thought|obsess\w*)(?: \w+)? about death\b", WEAK),
    Rule("self_harm.wish_dead", "self_harm",
         r"\bwish(?:ed|ing)? (?:that )?i (?:was|were|would be|could be|had been|would|could)"
         r"(?: just)?(?: be)? (?:dead|gone|die|not alive|not here)\b", STRONG, negatable=False),
    Rule("self_harm.never_born", "self_harm",
         r"\bwish(?:ed|ing)? (?:that )?i (?:had |would have |would )?never (?:been )?born\b",
         MEDIUM, negatable=False),
    Rule("self_harm.rather_be_dead", "self_harm",
         r"\b(?:would )?rather (?:be dead|die|not be alive|not exist|not wake up)\b", 0.8),
    Rule("self_harm.no_will_to_live", "self_harm",
         r"\b(?:do not|does not|did not|no longer|never) (?:really |even |actually |honestly )?"
         r"(?:want|wish|feel like|care) (?:to )?(?:live|keep living|be alive|exist|go on|"
         r"keep going|carry on|continue living|wake up)(?: like this)?"
         r"(?=\s*$|[.,!?;:]| (?:and|so|but|because|i|anymore|any more|any longer|tomorrow|again|ever|"
         r"now|right now|honestly|either|at all|in general|itself|already)\b)", STRONG, negatable=False),
    Rule("self_harm.not_here_anymore", "self_harm",
         r"\b(?:do not|does not|no longer|never) (?:really |even |actually |honestly )?"
         r"(?:want|wish) to be (?:here|around)(?: \w+){0,2}? (?:anymore|any more|any longer|"
         r"on this earth|in this world)\b", STRONG, negatable=False),
    Rule("self_harm.wont_make_it", "self_harm",
         r"\bdo not think i (?:will|would|can) (?:make it|be (?:here|around|alive)|survive)"
         r" (?:to|until|through|past|much|another|the)\b", MEDIUM, negatable=False),
    Rule("self_harm.no_reason_to_live", "self_harm",
         r"\b(?:no|any|zero|not (?:a|one|any|much)|nothing|no more) (?:good |real |single )?"
         r"(?:reason|point|purpose|will)s? (?:for me )?(?:in |of |to )?(?:live|living|being alive|going on|"
         r"keep(?:ing)? going|carry(?:ing)? on|stay(?:ing)? alive|exist(?:ing)?|life)\b",
         STRONG, negatable=False),
    Rule("self_harm.what_is_the_point", "self_harm",
         r"\bwhat is the point (?:of|in) (?:going on|living|life|being alive|carrying on|"
         r"keep(?:ing)? going|staying alive|existing|even being here|being here)"
         r"(?=\s*$|[.,!?;:]| (?:anymore|any more|any longer|and|so|but|because|i|like this|"
         r"when|if|at all)\b)",
         STRONG, negatable=False),
    Rule("self_harm.nothing_to_live_for", "self_harm",
         r"\bnothing (?:left )?(?:to live for|worth living for)\b", STRONG, negatable=False),
    Rule("self_harm.life_not_worth_living", "self_harm",
         r"\b(?:life|living|my life|it) (?:is|feels|seems) (?:not|no longer|never) (?:\w+ )?"
         r"worth (?:living|it anymore|living anymore)\b|\bnot worth living\b", STRONG,
         negatable=False),
    Rule("self_harm.better_off_without_me", "self_harm",
         r"\b(?:better|happier|easier|simpler|fine|okay)(?: off)?(?: \w+){0,3}? without me\b",
         STRONG),
    Rule("self_harm.if_i_were_gone", "self_harm",
         r"\bif i (?:just |simply )?(?:was |were |am )?(?:dead|gone|not (?:alive|here|around)|"
         r"disappeared|did not exist|never existed|killed myself|died)\b"
         r"(?! (?:for|on|to|from|away|out|over|the)\b)", MEDIUM, negatable=False),
    Rule("self_harm.disappear_forever", "self_harm",
         r"\b(?:disappear(?:ed|ing)?|vanish(?:ed|ing)?) (?:for good|forever|permanently|for ever)\b",
         0.8, first_person=True),
    Rule("self_harm.stop_existing", "self_harm",
         r"\b(?:stop|cease|quit) (?:existing|to exist|being alive|living\b(?! (?:in|with|like|for|"
         r"off|at|on)\b))", STRONG),
    Rule("self_harm.want_not_to_exist", "self_harm",
         r"\b(?:want|wish|prefer|would rather) (?:to )?(?:just )?not (?:exist|be alive|"
         r"be here anymore)\b", STRONG, negatable=False),
    Rule("self_harm.should_be_gone", "self_harm",
         r"\b(?:should|need to|must|ought to)(?: just)? (?:be gone|die|be dead|not exist|"
         r"disappear)\b", MEDIUM, first_person=True),
    Rule("self_harm.burden", "self_harm",
         r"\b(?:am|being|i am)(?: just| such| only| nothing but| a total| an absolute)? (?:a |an )?"
         r"(?:burden|waste of (?:space|oxygen|air|life))\b", WEAK),
    Rule("self_harm.sleep_forever", "self_harm",
         r"\b(?:go to sleep|fall asleep|sleep)(?: \w+){0,2}? (?:forever|and never wake up|and "
         r"(?:hopefully |just )?(?:not|never) (?:ever )?wake up)\b", MEDIUM, negatable=False),
    Rule("self_harm.hope_not_wake", "self_harm",
         r"\b(?:hope|hoping|wish|pray|praying) (?:that )?i (?:do not|will not|never|would not|"
         r"would never|did not) wake up\b", STRONG, negatable=False),
    Rule("self_harm.wont_be_around_long", "self_harm",
         r"\b(?:will not|not going to|am not going to) be (?:around|here|alive|a (?:problem|"
         r"burden|bother)(?: for| to)? \w+)(?: \w+){0,3}? (?:much longer|for long|any longer|"
         r"anymore|much more)\b", STRONG, negatable=False),
    Rule("self_harm.wont_be_here", "self_harm",
         r"\b(?:i will not|i am not going to) be (?:here|around|alive)\b", WEAK, negatable=False),
    Rule("self_harm.tired_of_living", "self_harm",
         r"\b(?:tired|sick|exhausted|weary|done|finished|through) (?:of|with) (?:living|being alive|"
         r"life|existing|being here|waking up|this life)"
         r"(?=\s*$|[.,!?;:]| (?:and|so|but|because|i|anymore|any more|any longer|tomorrow|again|ever|"
         r"now|right now|honestly|either|at all|in general|itself|already)\b)", 0.8),
    # ---- self harm: farewells and other finality cues ------------------------------------------
    Rule("self_harm.said_goodbyes", "self_harm",
         r"\b(?:said|saying|say|written|wrote|writing) (?:my |our )?(?:final |last )?goodbyes\b",
         MEDIUM),
    Rule("self_harm.goodbye_everyone", "self_harm",
         r"\bgoodbye (?:everyone|everybody|all|world|forever|cruel world)\b"
         r"(?![,.!]? (?:see you|see ya|talk|catch|have a|until|till|good night|back|for now)\b)",
         MEDIUM),
    Rule("self_harm.last_message", "self_harm",
         r"\bthis (?:is|will be) (?:my )?(?:last|final) (?:message|post|text|goodbye|night|"
         r"day alive|words?)\b(?! (?:in|at|of|here|with|before|for)\b)", MEDIUM),
    Rule("self_harm.in_case_not_around", "self_harm",
         r"\bin case i (?:am )?(?:not|no longer) (?:around|here|alive)\b", WEAK, negatable=False),
    Rule("self_harm.farewell_letters", "self_harm",
         r"\b(?:letters?|notes?) (?:to|for) (?:\w+ ){0,3}in case i\b", MEDIUM),
    Rule("self_harm.goodbye_before", "self_harm",
         r"\b(?:say|said|saying) (?:my )?goodbyes?(?: properly| now| for real)? (?:(?:before|by) "
         r"(?:tonight|tomorrow|it is too late|i do it|i go)|while i (?:still )?can)(?=\s*$|[.,!?;:])",
         MEDIUM),
    Rule("self_harm.letters_to_be_found", "self_harm",
         r"\b(?:wrote|written|writing|left|leaving) (?:[\w']+ ){0,2}?(?:letters|notes|a letter|a note)"
         r"(?: \S+){0,16}? (?:they|he|she|people|someone|everyone|my \w+) (?:will|would|are going to|"
         r"is going to) (?:find|read) (?:them|it)\b", WEAK),
    Rule("self_harm.veiled_time", "self_harm",
         r"\bwhen (?:it is|the) time(?: comes)?(?=\s*$|[.,!?;:])", WEAK),
    Rule("self_harm.made_peace", "self_harm", r"\bmade (?:my )?peace\b", WEAK),
    Rule("self_harm.ready_to_go", "self_harm",
         r"\bready to go\b(?! (?:to|out|home|back|now|shopping|on|for|in)\b)", WEAK),
    Rule("self_harm.none_will_matter", "self_harm",
         r"\bnone of (?:this|it) (?:will|is going to|would) matter\b", WEAK),
    Rule("self_harm.giving_away_things", "self_harm",
         r"\b(?:giv(?:e|es|ing|en) away (?:all |most )?(?:of )?(?:my |all my )?(?:things|stuff|"
         r"belongings|possessions|everything i own)|giv(?:e|es|ing|en) (?:all |most )?(?:of )?my "
         r"(?:things|stuff|belongings|possessions) away)\b(?!(?: [\w']+){0,5}? (?:before|because|since|"
         r"as) (?:\w+ ){0,2}?(?:mov\w*|declutter\w*|downsiz\w*|relocat\w*|emigrat\w*))", MEDIUM),
    Rule("self_harm.own_funeral", "self_harm",
         r"\b(?:imagin\w*|pictur\w*|think\w* about|dream\w* about) my (?:own )?funeral\b", MEDIUM),
    Rule("self_harm.last_time_deal_with_me", "self_harm",
         r"\blast time (?:anyone|anybody|you|they|people|everyone) (?:has|have|will have) to "
         r"(?:deal with|put up with|worry about) me\b", MEDIUM),
    Rule("self_harm.no_way_out", "self_harm", r"\b(?:no|only|one) way out\b", WEAK, negatable=False),
    Rule("self_harm.not_come_back", "self_harm", r"\bnot (?:come|coming) back\b", WEAK,
         negatable=False),
    Rule("self_harm.pain_end_for_good", "self_harm",
         r"\b(?:pain|it all|everything|this|it|life|all of it)(?: to)? (?:end|stop|be over)"
         r"(?: \w+){0,2}? (?:for good|permanently|forever)\b|\b(?:end|stop) (?:my |the |all )?"
         r"(?:pain|suffering)(?: \w+){0,2}? (?:for good|permanently|forever)\b", MEDIUM),
    Rule("self_harm.into_the_water", "self_harm",
         r"\b(?:walk|walking|swim|swimming|go|going) (?:out )?into the (?:sea|ocean|river|lake|"
         r"water)\b", WEAK),
    Rule("self_harm.do_it_soon", "self_harm",
         r"\b(?:going to|will) do it (?:tonight|tomorrow|this weekend|soon|today|on \w+day)\b", WEAK),
    # ---- self harm: means (detection only; replies never name methods) -------------------------
    Rule("self_harm.overdose", "self_harm", r"\boverdos(?:e|ing|ed)\b", STRONG, first_person=True),
    Rule("self_harm.take_all_pills", "self_harm",
         r"\b(?:take|taking|taken|swallow\w*|took|down(?:ed|ing)?|neck(?:ed|ing)?) (?:all|a bunch|"
         r"a handful|handfuls|loads|lots|a lot|too many|way too many|dozens|the rest|every one|"
         r"(?:the|a) whole (?:bottle|packet|box|pack|strip)|\d{2,}|twenty|thirty|forty|fifty) "
         r"(?:of )?(?:[\w']+ ){0,3}?" + _DRUGS + r"\b(?!(?: \w+){0,2}? (?:every|each|a day|daily|"
         r"twice|three times|like (?:the|my) doctor|as prescribed|on time|with (?:food|breakfast|"
         r"dinner|lunch))\b)", STRONG),
    Rule("self_harm.stockpiling", "self_harm",
         r"\b(?:stockpil\w*|hoard\w*|saving up|collecting) (?:my |up )?(?:\w+ )?" + _DRUGS + r"\b|"
         r"\b" + _DRUGS + r" (?:saved|stashed|stockpiled|hoarded|put aside)(?: up| away)?\b"
         r"(?! (?:me|my|him|her|us|them|his|their|lives|a life)\b)" + _PILLS_ROUTINE, STRONG),
    Rule("self_harm.jump_from_height", "self_harm",
         r"\b(?<!bungee )(?:jump|jumping|(?:throw|throwing|yeet|yeeting|launch|launching|fling|"
         r"flinging) myself) "
         r"(?:off|from) (?:of )?(?:a |the |my )?(?:\w+ ){0,2}?" + _HEIGHT + r"\b", 0.8),
    Rule("self_harm.in_front_of_vehicle", "self_harm",
         r"\b(?:step|stepping|jump|jumping|throw myself|walk|walking|lie|lying) (?:in front of|"
         r"onto|under) (?:a |the )?(?:train|bus|truck|lorry|car|traffic|tracks)\b", STRONG),
    Rule("self_harm.crash_on_purpose", "self_harm",
         r"\bcrash(?:ing)? (?:my |the )?car (?:on purpose|deliberately)\b", 0.8),
    Rule("self_harm.ways_to_die", "self_harm",
         r"\b(?:ways|how|methods?) to (?:die|kill myself|end my life|end it|commit suicide)\b", STRONG),
    Rule("self_harm.bought_rope", "self_harm",
         r"\b(?:bought|buying|got|getting) (?:a )?(?:rope|noose)\b" + _ROPE_INNOCENT, MEDIUM),
    # ---- self harm: preparation and rehearsal (means acquired, amounts researched, notes) ------
    Rule("self_harm.counting_pills", "self_harm",
         r"\b(?:count(?:ed|ing)?(?: out)?|sav(?:e|ed|ing)|put(?:ting)? aside|kept|keeping|stash\w*|"
         r"hid(?:e|den|ing)?|built up|building up) (?:\w+ ){0,3}?" + _DRUGS + r"\b" + _PILLS_ROUTINE,
         0.8, first_person=True),
    Rule("self_harm.enough_to_die", "self_harm",
         r"\benough (?:\w+ ){0,2}?(?:" + _DRUGS + r"|rope|bullets?) (?:\w+ ){0,2}?to (?:die|kill "
         r"(?:me|myself|a person|someone)|not wake up|end (?:it|things|my life)|do it|finish it)\b|"
         r"\b" + _DRUGS + r" (?:\w+ ){0,3}?(?:would|will|to) (?:kill me|be enough|finish me|do it)\b",
         STRONG, negatable=False),
    Rule("self_harm.amount_it_would_take", "self_harm",
         r"\bhow (?:many|much) (?:\w+ ){0,2}?(?:" + _DRUGS + r"|of (?:them|these|those|it|my \w+))"
         r"(?: \w+){0,3}? (?:it would take|it takes|would it take|would be enough|is enough|"
         r"would i need|i would need|does it take|to take|would kill)\b|"
         r"\b(?:it would take|it takes|would it take|does it take|long it takes) to (?:die|overdose|"
         r"kill (?:me|myself|a person|someone)|not wake up|bleed out|drown|suffocate|pass out|"
         r"lose consciousness|stop (?:a|my) heart)\b",
         STRONG),
    Rule("self_harm.researching_methods", "self_harm",
         r"\b(?:look(?:ed|ing)? up|look(?:ed|ing)? into|googl\w*|search\w*|research\w*|read(?:ing)? "
         r"(?:up )?(?:on|about)|watch\w* videos (?:on|about)) (?:\w+ ){0,3}?(?:lethal|fatal|deadly|"
         r"painless|overdos\w*|how to (?:tie a noose|hang|die|end)|which (?:bridge|building|pills|"
         r"tablets)|how (?:high|far) (?:\w+ ){0,3}?(?:fall|drop|jump))\b", 0.8, first_person=True),
    Rule("self_harm.lethality_question", "self_harm",
         r"\b(?:how (?:high|tall|far|many (?:floors|storeys|stories|feet|metres|meters))|what height)"
         r"(?: [\w']+){0,6}? (?:" + _HEIGHT + r"|fall|drop|jump)s?\b(?: [\w']+){0,8}? (?:guaranteed|"
         r"certain|fatal|lethal|deadly|unsurvivable|kill (?:you|me|a person|someone)|to die)\b|"
         r"\bhow (?:much|many) (?:[\w']+ ){0,4}?(?:is|are|would be|would|will|counts as|becomes) "
         r"(?:a |an )?(?:lethal|fatal|deadly|overdose|too much to survive|kill (?:you|me|a person|"
         r"someone))\b", 0.8),
    Rule("self_harm.lethal_amount", "self_harm",
         r"\b(?:lethal|fatal|deadly) (?:dose|amount|quantity)\b|\bpainless(?:est)? (?:way|method)s?\b",
         STRONG, first_person=True),
    Rule("self_harm.rope_ready", "self_harm",
         r"\b(?:the |a |my )?(?:rope|noose|belt|cord)s? (?:\w+ ){0,3}?(?:is|are|was|were|has been|"
         r"have been|sits|sitting|hangs|hanging) (?:\w+ ){0,2}?(?:ready|tied|set up|waiting|in place|"
         r"up in|hidden|in my (?:closet|wardrobe|car|bag|room|garage))\b|"
         r"\b(?:have|got|has|keep|keeping|kept|hid|hidden) (?:a |the |my )?(?:rope|noose) (?:ready|"
         r"(?:hidden |stashed |tied |coiled )?(?:in|under) (?:the \w+ of )?(?:my|the) (?:car|garage|"
         r"closet|wardrobe|bag|backpack|room|boot|trunk|shed|attic|loft|basement|bed))\b"
         + _ROPE_INNOCENT + r"|"
         r"\b(?:tied|tying|tie|made|making|practi[sc]\w*|bought|buying|got|getting) (?:\w+ ){0,2}?"
         r"(?:a |the )?noose\b", 0.8),
    Rule("self_harm.hold_my_weight", "self_harm",
         r"\b(?:beam|hook|rail|railing|branch|pipe|bar|rope|belt|cord|door|rafter|banister|"
         r"ceiling fan|fan|loft hatch)s? (?:\w+ ){0,3}?(?:hold|take|support|bear) my weight\b", 0.8),
    Rule("self_harm.weapon_for_myself", "self_harm",
         r"\b(?:bought|buy|buying|got|getting|ordered|ordering|picked up|found) (?:\w+ ){0,2}?"
         + _WEAPON + r"\b(?:,? \w+){0,6}?,? (?:for myself|it is for me|to use on myself|for when i am "
         r"ready|to end (?:it|things|my life)|so i can (?:finally )?(?:end|go|do it))\b", STRONG),
    Rule("self_harm.weapon_to_body", "self_harm",
         r"\b(?:held|hold|holding|put|putting|pressed|pressing|pointed|pointing) (?:\w+ ){0,2}?"
         r"(?:knife|blade|razor|gun|pistol|barrel|scissors) (?:to|against|in|into|at) my (?:wrists?|"
         r"throat|neck|head|temple|chest|mouth|arms?|thighs?|skin)\b", STRONG),
    Rule("self_harm.on_the_edge", "self_harm",
         r"\b(?:stood|standing|stand|sat|sitting|climbed|climbing|leaned|leaning) (?:\w+ ){0,3}?"
         r"(?:on|over|onto|at) (?:the )?(?:edge|ledge|railing|parapet)s? of (?:a |the |my )?(?:\w+ )?"
         r"(?:bridge|roof|building|cliff|balcony|platform|car park|tower|overpass)\b", MEDIUM,
         first_person=True),
    Rule("self_harm.know_how_and_when", "self_harm",
         r"\b(?:know|decided|figured out|worked out|planned|picked|chosen|chose) (?:exactly )?"
         r"(?:how|when|where|the (?:date|day|night|place|spot|way|method))(?: and (?:how|when|where))?"
         r" i (?:am going to|will|would|want to|could|can|should) (?:do it|go|end (?:it|things))\b",
         MEDIUM),
    Rule("self_harm.goodbye_letters", "self_harm",
         r"\b(?:wrote|written|writing|write|finished|left|leaving|leave|draft\w*|record\w*) "
         r"(?:\w+ ){0,2}?(?:goodbye|farewell) (?:letters?|notes?|messages?|videos?|emails?|texts?)\b|"
         r"\b(?:letters?|notes?|messages?) (?:\w+ ){0,5}?(?:for (?:after|when) i am (?:gone|dead)|"
         r"to (?:find|read) (?:after|when) i|for (?:them|him|her|my \w+) to find|explaining why i|"
         r"so (?:they|he|she) (?:will )?(?:know|understand) (?:why|it) (?:was not|is not|was))\b",
         STRONG),
    Rule("self_harm.affairs_in_order", "self_harm",
         r"\b(?:put|putting|get|getting|got|sort\w*) (?:\w+ ){0,2}?(?:affairs|will|passwords|"
         r"accounts|everything) (?:in order|sorted|written|updated)\b|"
         r"\b(?:who will|someone to|find (?:a )?(?:new )?home for|rehom\w*) (?:\w+ ){0,2}?(?:look after|"
         r"take care of|feed)? ?my (?:cat|dog|pets?|kids) (?:after|when) i\b", WEAK),
    # ---- self harm: ongoing self-injury ------------------------------------------------------
    Rule("self_harm.injured_again", "self_harm",
         r"\bi (?:\w+ ){0,2}?" + _INJURE + r"(?: myself)? (?:again|last night|tonight|today|"
         r"yesterday|this morning|this week|in the bathroom|in my room|before school|after school|"
         r"every (?:night|day)|more and more|more often|a lot lately|lately|recently|daily)\b"
         r"(?! (?:on (?:the|my) (?:stove|oven|iron)|while|making|cooking|shaving))", STRONG),
    Rule("self_harm.deeper", "self_harm",
         r"\bi (?:\w+ ){0,3}?(?:cut|went|go|pressed|pushed)(?: \w+){0,2}? (?:deeper|too deep)\b|"
         r"\b(?:cuts|burns|wounds) (?:are|were|keep|getting) (?:\w+ )?(?:deeper|worse)\b|"
         r"\bneed(?:ed)? stitches (?:again|this time)\b", STRONG),
    Rule("self_harm.fresh_wounds", "self_harm",
         r"\b(?:fresh|new|more) (?:cuts|wounds|burns|scars|marks) (?:on|across|all over) my\b", STRONG),
    Rule("self_harm.hiding_scars", "self_harm",
         r"\b(?:hid(?:e|es|ing)?|cover(?:s|ed|ing)?(?: up)?|conceal\w*) (?:\w+ ){0,2}?(?:scars|cuts|"
         r"burns|wounds|marks on my (?:arms?|wrists?|legs?|thighs?))\b", MEDIUM, first_person=True),
    Rule("self_harm.long_sleeves", "self_harm",
         r"\blong sleeves\b(?: \w+){0,6}? (?:so (?:no one|nobody|people|they|my \w+) (?:\w+ ){0,2}"
         r"(?:see|sees|notice|notices|ask|asks)|to (?:hide|cover))\b", MEDIUM, negatable=False,
         first_person=True),
    Rule("self_harm.keeping_blades", "self_harm",
         r"\b(?:keep|keeping|kept|hid|hide|hiding|hidden|carry|carrying|stash\w*) (?:\w+ ){0,2}?"
         r"(?:blades|razor blades|a blade|my blade|the blade|sharpener blades?)\b", MEDIUM,
         first_person=True),
    Rule("self_harm.cant_stop_injuring", "self_harm",
         r"\b(?:can not|could not) stop (?:self harming|hurting myself|harming myself|hitting myself|"
         r"(?:cutting|burning|carving|slashing)(?: myself| (?:into )?my (?:arms?|wrists?|legs?|thighs?|"
         r"skin|stomach|hips?|body)\b|(?=\s*$|[.,!?;:]| (?:again|last night|tonight|today|yesterday|"
         r"lately|every (?:night|day))\b)))", 0.8, negatable=False),
    Rule("self_harm.hit_myself", "self_harm",
         r"\b(?:hit(?:ting|s)?|punch(?:ed|ing|es)?|slap(?:ped|ping|s)?|scratch(?:ed|ing|es)?|"
         r"bit(?:e|ing|es)?|bruis(?:e|ed|ing)|pinch(?:ed|ing)?) myself\b", MEDIUM),
    Rule("self_harm.relapse", "self_harm",
         r"\brelaps(?:e|ed|ing)\b(?: \w+){0,4}? (?:cutting|self harm\w*|burning|hurting myself)\b|"
         r"\b(?:cutting|self harm\w*|burning myself|hurting myself)(?: \w+){0,3}? (?:relaps\w*|again)\b|"
         r"\b(?:days?|weeks?|months?) clean (?:\w+ ){0,3}?(?:but|and) (?:i |then )?(?:relapsed|"
         r"broke|cut|slipped|messed up)\b", STRONG, first_person=True),
    # ---- self harm: slang ----------------------------------------------------------------------
    Rule("self_harm.slang", "self_harm",
         r"\b(?:kms|unalive|unaliving|unalived|sewer ?slide|self delete|self deleting)\b", STRONG),
    # ---- self harm: someone else at risk now -----------------------------------------------------
    Rule("self_harm.third_party", "self_harm",
         r"\b" + _SELF_VERBS + r" (?:himself|herself|themselves|themself)\b", STRONG),
    Rule("self_harm.third_party_end_life", "self_harm",
         r"\b(?:end|ending|take|taking|took) (?:his|her|their) (?:own )?life\b", STRONG),
    # ---- harm to others --------------------------------------------------------------------------
    Rule("harm_to_others.intent_violence", "harm_to_others",
         r"\bi (?:\w+ ){0,4}?" + _INTENT + r" (?:\w+ ){0,2}?" + _VIOLENT + r" " + _TARGET + r"\b"
         + _NOT_FIGURATIVE, STRONG),
    Rule("harm_to_others.violence_person", "harm_to_others",
         r"\b" + _VIOLENT + r" " + _TARGET + r"\b" + _NOT_FIGURATIVE, WEAK, first_person=True),
    Rule("harm_to_others.push_person", "harm_to_others",
         r"\b" + _INTENT + r" (?:\w+ ){0,2}?push(?:ing)? " + _TARGET +
         r" (?:down|off|out of|into|in front of|under)\b", 0.8),
    Rule("harm_to_others.run_over", "harm_to_others",
         r"\b" + _INTENT + r" (?:\w+ ){0,2}?run (?:him|her|them|(?:my|that|the) \w+) over\b", STRONG),
    Rule("harm_to_others.want_them_dead", "harm_to_others",
         r"\bwant (?:him|her|them|you|everyone|everybody|(?:my|that|the) \w+)(?: all)? dead\b", MEDIUM),
    Rule("harm_to_others.make_them_suffer", "harm_to_others",
         r"\bmake (?:him|her|them|you|(?:my|that|the) \w+)(?: all)? (?:suffer|bleed)\b", 0.8),
    Rule("harm_to_others.make_them_pay", "harm_to_others",
         r"\bmake (?:him|her|them|you|(?:my|that|the) \w+)(?: all)? pay\b", WEAK),
    Rule("harm_to_others.revenge", "harm_to_others",
         r"\b(?:revenge|get back at|get even with|payback)\b", WEAK),
    Rule("harm_to_others.mass_violence", "harm_to_others",
         r"\bshoot(?:ing)? up (?:the|my|a|that|this|our) (?:\w+ )?(?:school|office|class|church|"
         r"mosque|synagogue|mall|party|workplace|concert|place|campus|building|club|bar)\b|"
         r"\b(?:bring|bringing|take|taking|brought) (?:a |my |\w+'s )?(?:gun|rifle|shotgun|pistol|"
         r"weapon|bomb) (?:to|into) (?:school|work|class|the office|church|campus|the party)\b",
         0.95),
    Rule("harm_to_others.arrive_armed", "harm_to_others",
         r"\b(?:come|coming|walk|walking|show up|turn up)(?: in| into \w+)? with (?:a |my |his |the )?"
         r"(?:\w+'s )?(?:gun|rifle|shotgun|pistol|weapon|bomb)\b", 0.8),
    Rule("harm_to_others.weapon_for_person", "harm_to_others",
         r"\b(?:knife|gun|rifle|pistol|weapon|bat|blade|poison|acid) to (?:use on|use against|kill|"
         r"hurt|stab|shoot) (?:him|her|them|my|someone|somebody)\b", STRONG),
    Rule("harm_to_others.someone_will_get_hurt", "harm_to_others",
         r"\b(?:someone|somebody|people) (?:is|are|will|is going to|are going to) (?:going to )?"
         r"(?:get hurt|get killed|die)\b", MEDIUM),
    Rule("harm_to_others.never_walk_again", "harm_to_others",
         r"\bmake sure (?:he|she|they|you|him|her|them) (?:never|will never|can never|will not|"
         r"can not) (?:walk|talk|see|breathe|wake up)(?: again)?\b", STRONG, negatable=False),
    Rule("harm_to_others.break_bones", "harm_to_others",
         r"\bbreak (?:his|her|their|\w+'s) (?:neck|legs?|arms?|jaw|face|nose|skull|bones|fingers)\b",
         0.8),
    Rule("harm_to_others.arson", "harm_to_others",
         r"\b(?:set(?:ting)?|light(?:ing)?) (?:the|" + _POSSESSIVE + r") (?:house|home|car|flat|apartment|"
         r"place|room|office) on fire\b|\b(?:burn(?:ing)? down|set(?:ting)? fire to|torch(?:ing)?) "
         + _POSSESSIVE + r" (?:house|home|car|flat|apartment|place)\b", 0.8),
    Rule("harm_to_others.weapon_has_a_target", "harm_to_others",
         r"\b" + _WEAPON + r"s?\b(?: \w+){0,8}? (?:who (?:it is|they are|this is|that is|the \w+ "
         r"(?:is|are)) for|(?:has|with) (?:his|her|their|\w+'s) name on it|for (?:him|her|them|my ex|"
         r"my \w+|that \w+) (?:when|if|after|once)\b)", STRONG),
    Rule("harm_to_others.weapon_acquired", "harm_to_others",
         r"\b(?:bought|buy|buying|got|getting|ordered|sharpen\w*|loaded|loading) (?:\w+ ){0,2}?"
         + _WEAPON + r"\b(?: \w+){0,6}? (?:for|to use on|to use against|to bring to) " + _TARGET +
         r"(?=\s*$|[.,!?;:]| (?:and|when|if|after|tonight|tomorrow)\b)", MEDIUM),
    Rule("harm_to_others.with_them_inside", "harm_to_others",
         r"\b(?:burn\w*|torch\w*|set \w+ on fire|set fire to|blow\w* up|blew up|lock\w*|trap\w*|"
         r"crash\w*|flood\w*|gas\w*) (?:\w+ ){0,4}?with " + _TARGET +
         r" (?:still )?(?:in it|inside|in there|in the \w+|asleep)|"
         r"\b(?:(?:burn\w*(?: down)?|torch\w*|set fire to|blow\w* up|blew up|gas\w*) " + _PLACE_OF +
         r"(?: down)?|set " + _PLACE_OF + r" on fire) (?:while|when) (?:he|she|they|" + _TARGET +
         r") (?:is|are|sleeps|sleep) (?:still )?(?:in it|inside|in there|asleep|sleeping|home|in bed)\b",
         STRONG),
    Rule("harm_to_others.see_them_bleed", "harm_to_others",
         r"\b(?:want|wish|love|like|going|need|dream\w*|fantasi\w*) (?:to |of |about )?(?:see|seeing|"
         r"watch|watching) " + _TARGET + r" (?:bleed|suffer|burn|die|scream|beg|choke)\w*\b", STRONG),
    Rule("harm_to_others.pay_in_blood", "harm_to_others",
         r"\b(?:pay|paying|pays) (?:for (?:it|this|that|what \w+ did) )?(?:with|in) (?:his|her|their|"
         r"your) (?:life|lives|blood)\b|\bpay in blood\b|"
         r"\bmake " + _TARGET + r"(?: all)? pay\b(?:,? [\w']+){0,8}?,? (?:" + _VIOLENT + r"|gun|knife|"
         r"blood|bleed|hospital|dead|die|fire|burn)\b", STRONG, negatable=False),
    Rule("harm_to_others.put_them_in_hospital", "harm_to_others",
         r"\bput " + _TARGET + r" in (?:the |a )?(?:hospital|ground|grave|coffin|body bag|morgue|"
         r"wheelchair|icu|intensive care)\b", 0.8),
    # ---- harm to others: covert planning (weak cues add up: a weapon, a grievance, the victim alone)
    Rule("harm_to_others.covert_poisoning", "harm_to_others",
         r"\bspik(?:e|ed|ing) " + _POSSESSIVE + r" (?:drink|coffee|tea|food|water)\b|"
         r"\b(?:put|putting|slip|slipping|slipped|add|adding|added|mix|mixing|mixed|drop|dropping) "
         r"(?:[\w']+ ){0,4}?in(?:to)? " + _POSSESSIVE + r" (?:drink|coffee|tea|food|meal|water|wine|beer|"
         r"dinner|lunch|smoothie|cup)"
         r"(?: [\w']+){0,6}? (?:undetectable|untraceable|not (?:show up|be detected|be traced|be noticed)|"
         r"tox\w* (?:screen|report|test)|make (?:him|her|them) (?:sick|pass out|stop breathing|die))\b|"
         r"\b(?:undetectable|untraceable) poisons?\b|\bpoisons? (?:that|which) (?:\w+ )?(?:not|never) "
         r"(?:show up|be detected|be traced)\b", STRONG, negatable=False),
    Rule("harm_to_others.use_weapon_if", "harm_to_others",
         r"\b" + _WEAPON + r"\b(?: [\w']+){0,8}? if(?: [\w'.,]+){1,14}? i (?:am|will|would|swear i will)"
         r"(?: going to)? (?:use|using|pull|pulling) it\b(?! (?:to|for)\b)", 0.8),
    Rule("harm_to_others.kill_list", "harm_to_others",
         r"\b(?:list|names) of (?:the )?(?:people|names|kids|students|teachers|classmates|coworkers|"
         r"everyone)(?: \w+){0,3}? (?:he|she|they|i|we) (?:wants? to|is going to|are going to|"
         r"am going to|will|would like to|plans? to|planned to|is planning to) " + _VIOLENT + r"\b"
         + _NOT_FIGURATIVE + r"|\bkill list\b", 0.8),
    Rule("harm_to_others.slang", "harm_to_others",
         r"\bcatch(?:ing)? (?:a )?bod(?:y|ies)\b|\b(?:strap|blick|glizzy|chopper|draco)(?: is| was)? "
         r"loaded\b", STRONG),
    Rule("harm_to_others.weapon_ready", "harm_to_others",
         r"\b(?:bought|got|have|has|took|taken|loaded|sharpened|packed|carrying|brought|hid|hidden|"
         r"stole|grabbed) (?:[\w']+ ){0,3}?" + _WEAPON + r"s?\b(?!(?: [\w']+){0,3}? (?:for|at|to) "
         r"(?:the )?(?:range|hunting|deer|cooking|kitchen|camping|fishing|club|class|practice)\b)",
         WEAK),
    Rule("harm_to_others.third_party_intent", "harm_to_others",
         r"\b(?:he|she|they) (?:is |are |was |were )?(?:going to|will|would|wants? to|wanted to|"
         r"plans? to|planning to|threaten(?:s|ed|ing)? to) " + _VIOLENT + r" " + _TARGET + r"\b"
         + _NOT_FIGURATIVE, WEAK),
    Rule("harm_to_others.veiled_threat", "harm_to_others",
         r"\b(?:find out|learn|see) what happens when (?:you|people|someone|they)\b|"
         r"\b(?:will|are going to|is going to) (?:all )?regret (?:[\w']+ ){0,3}?(?:laughing|messing|"
         r"crossing|humiliating|disrespecting|what (?:they|he|she) did)\b|"
         r"\b(?:he|she|they) (?:will not|is not going to|are not going to|will no longer) be (?:around|"
         r"alive|breathing) (?:to|after|by|much longer)\b|"
         r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight) is the day\b",
         WEAK, negatable=False),
    Rule("harm_to_others.target_alone", "harm_to_others",
         r"\b(?:get|getting|catch|catching|corner|cornering) " + _TARGET + r" alone\b"
         r"(?! to (?:tell|ask|give|talk|say|apologi\w*|thank|surprise|discuss|show|propose|kiss)\b)|"
         r"\b(?:know|knows|learned|learnt|figured out|worked out|memori[sz]ed|watch\w*|track\w*) "
         r"(?:[\w']+ ){0,5}?(?:(?:his|her|their) (?:schedule|routine|movements|shifts|timetable)|"
         r"when (?:he|she|they) (?:is|are|will be|gets|get) (?:home )?alone)\b", WEAK),
    Rule("harm_to_others.not_see_it_coming", "harm_to_others",
         r"\b(?:he|she|they|him|her|them) (?:will|would|is going to|are going to|will not|will never) "
         r"(?:never |not )?see (?:it|me|this) coming\b", WEAK, negatable=False),
    # ---- harm to others: harm thoughts about a baby or child in one's care ------------------
    Rule("harm_to_others.harm_thoughts_child", "harm_to_others",
         r"\b(?:thoughts?|images?|urges?|visions?|pictur\w*|imagin\w*|impulses?|scared|afraid|"
         r"terrified|worried|fear|what if i|tempted|want(?:ed)? to|felt like|feel like) (?:\w+ ){0,5}?"
         r"(?:hurt|harm|shak|drown|smother|suffocat|throw|stab|strangl|chok|kill|hit|squeez|"
         r"snap|slam)\w* " + _CHILD + r"\b", MEDIUM),
    Rule("harm_to_others.what_i_might_do", "harm_to_others",
         r"\b(?:scared|afraid|terrified|worried|frightened|fear) (?:of )?(?:what|that) i (?:might|could|"
         r"will|would|am going to) do (?:to|with) (?:" + _CHILD + r"|him|her|them|someone)\b",
         MEDIUM),
    Rule("harm_to_others.not_safe_with_child", "harm_to_others",
         r"\b" + _CHILD + r" (?:is|are|would be) (?:not safe|in danger) (?:with|around) me\b|"
         r"\bshould not be (?:left )?(?:alone )?(?:with|around) " + _CHILD + r"\b", MEDIUM,
         negatable=False),
    # ---- abuse -----------------------------------------------------------------------------------
    Rule("abuse.abuser_hurts_me", "abuse",
         r"\b" + _ABUSER + r" (?:\w+ ){0,3}?" + _ABUSE_VERB + r" " + _VICTIM + r"\b" + _NOT_PHYSICAL
         + _NOT_PLAYFUL,
         STRONG),
    Rule("abuse.hits_me", "abuse",
         r"(?<!\bit )\b(?:hits|beats|beats up|punches|kicks|slaps|chokes|strangles|rapes|molests|"
         r"abuses|gropes|smacks) me\b(?! (?:hard|different|differently|that|how|right|like|when i "
         r"realise)\b)", MEDIUM),
    Rule("abuse.threat_to_kill", "abuse",
         r"\b(?:threaten(?:s|ed|ing)?|said|says|told me|swore|swears|promised|keeps saying|"
         r"screams?|screamed|yells?|yelled) (?:that )?(?:he |she |they )?(?:would |will |is going to |"
         r"was going to |are going to |were going to |to )?(?:kill|hurt|beat|hit|harm|stab|shoot|"
         r"strangle|choke|break) (?:me|us|my|the kids|the children)\b", STRONG),
    Rule("abuse.abuser_will_kill_me", "abuse",
         r"\b" + _ABUSER + r" (?:\w+ )?(?:will|would|is going to|are going to|was going to) "
         r"(?:\w+ )?(?:kill|hurt|beat|hit|murder) (?:me|us)\b", WEAK),
    Rule("abuse.threat_if_i_leave", "abuse",
         r"\b(?:kill|hurt|beat|hit|murder|find) (?:me|us|her|him|them) if (?:i|we|she|he|they) (?:ever )?"
         r"(?:" + _LEAVING + r"|tells?|told|calls?|reports?|go(?:es)? to the police|tr(?:y|ies) to leave|"
         r"runs?)\b", MEDIUM),
    Rule("abuse.threatens_me", "abuse",
         r"\b" + _ABUSER + r" (?:\w+ ){0,2}?(?:will|would|is going to|are going to|threaten\w* to|"
         r"swears? (?:he|she|they) will) (?:make me (?:pay|regret|suffer|sorry)\b(?! for)|do worse|"
         r"hurt me worse|come after me|ruin my life)\b", WEAK),
    Rule("abuse.stalking", "abuse",
         r"\b(?:knows|found out|figured out|tracked down|finds out) where i (?:live|work|sleep|am staying|"
         r"go to school|study)\b|\b" + _ABUSER + r" (?:[\w']+ ){0,3}?(?:outside|across the (?:street|"
         r"road) from|parked outside) my (?:house|home|work|workplace|school|flat|apartment|window|door|"
         r"office|job|college|gym)\b|\b" + _ABUSER + r" (?:keeps|kept|has been|is) (?:following|"
         r"tracking|watching) me\b", WEAK),
    Rule("abuse.coercive_control", "abuse",
         r"\b" + _ABUSER + r" (?:\w+ ){0,2}?(?:takes|took|controls|keeps|kept|hides|hid|smashe?s|smashed|"
         r"goes through|went through) my (?:phone|bank cards?|cards?|money|wages|pay|salary|passport|"
         r"keys|car keys|id|documents)\b|\b(?:not allowed|(?:he|she|they) (?:will|does|do) not let me) "
         r"(?:to )?(?:see|talk to|call|visit|contact|go out with) (?:my )?(?:friends|family|mum|mom|"
         r"parents|sister|brother)\b", WEAK, negatable=False),
    Rule("abuse.threat_with_weapon", "abuse",
         r"\bthreaten(?:s|ed|ing)? me with (?:a |his |her |their )?(?:knife|gun|weapon|violence|"
         r"belt|bat)\b", STRONG),
    Rule("abuse.victim_passive", "abuse",
         r"\bi (?:am|was|have been|had been|got|get|keep getting|been)(?: being)?(?: \w+)? "
         r"(?:raped|molested|sexually assaulted|sexually abused|assaulted|abused|groped|trafficked|"
         r"beaten up|strangled|choked|stalked)\b", STRONG),
    Rule("abuse.victim_passive_by_person", "abuse",
         r"\bi (?:am|was|have been|got|get|keep getting)(?: being)? (?:hit|beaten|kicked|slapped|"
         r"punched|hurt|pushed|threatened|locked|burned|burnt|touched|attacked) (?:\w+ ){0,4}?by "
         r"(?:my|his|her|their|our|him|them)\b", 0.8),
    Rule("abuse.abusive_relationship", "abuse",
         r"\b(?:in|stuck in|trapped in|leave|leaving|escape|escaping|get out of) (?:an |a |my )?"
         r"(?:abusive|violent) (?:relationship|marriage|partner|husband|wife|boyfriend|girlfriend|"
         r"home|household|family|parents?|dad|father|mum|mom|mother)\b", 0.8, first_person=True),
    Rule("abuse.my_abusive_partner", "abuse",
         r"\bmy (?:abusive|violent) (?:husband|wife|partner|boyfriend|girlfriend|ex|dad|father|mum|"
         r"mom|mother|parents|stepdad|step dad|brother)\b", MEDIUM),
    Rule("abuse.abuser_is_violent", "abuse",
         r"\b" + _ABUSER + r" (?:is|are|gets|get|can get|becomes|has been|was|can be)(?: \w+){0,2}? "
         r"(?:violent|abusive|rough with me|physical with me)\b(?! (?:video|games?|movies?|films?|"
         r"shows?)\b)", 0.8),
    Rule("abuse.sexual_coercion", "abuse",
         r"\b(?:forc(?:e|es|ed|ing)|made|makes|making) me (?:to |into )?(?:\w+ ){0,3}?(?:have sex|"
         r"sexual|sleep with|touch (?:him|her|them)|send (?:nudes|pictures|photos))\b", STRONG),
    Rule("abuse.witnessed_violence", "abuse",
         r"\b(?:hear|heard|hearing|see|saw|seeing|seen|watch|watched|watching) (?:him|her|them|"
         r"(?:my|our|the|his|her|their) (?:\w+ )?" + _ABUSER_NOUN + r") (?:\w+ )?(?:hitting|beating|"
         r"punching|kicking|slapping|choking|strangling|smacking|hurting|attacking|abusing|whipping) "
         r"(?:him|her|them|(?:the|his|her|their) (?:\w+ )?(?:kids?|children|son|daughter|baby|wife|husband|"
         r"girlfriend|boyfriend|partner|dog|mum|mom|mother|dad|sister|brother))\b(?! (?:at|in)\b)"
         + _NOT_PLAYFUL, 0.8),
    Rule("abuse.injuries_from_person", "abuse",
         r"\b(?:bruis(?:es|ed|ing)|black eyes?|burns|welts|marks|cuts|scratches|injuries) (?:[\w']+ ){0,4}?"
         r"(?:from|by|because of) (?:her|his|their|my|our) (?:\w+ )?" + _ABUSER_NOUN + r"\b(?!')|"
         r"\b(?:bruis(?:es|ed|ing)|black eyes?|burns|welts|marks|injuries)\b(?: [\w']+){0,6}? "
         r"(?:says|said|told (?:me|us)|admits|admitted) (?:that )?" + _ABUSER + r" (?:does|did|do|gave|"
         r"gives|caused|causes|made) (?:it|them|that|those|this)\b", 0.8),
    Rule("abuse.someone_being_abused", "abuse",
         r"\b(?:kid|kids|child|children|son|daughter|baby|girl|boy|toddler|niece|nephew|sister|"
         r"brother|mum|mom|mother|friend|student|neighbou?r)(?:'s)?(?: \w+){0,2}? (?:is|are|was|"
         r"were|has been|have been|keeps? getting|gets) (?:being )?(?:abused|molested|beaten|raped|"
         r"neglected|starved|assaulted|hit|locked up)\b", 0.8),
    Rule("abuse.experiencing_violence", "abuse",
         r"\b(?:experienc\w*|suffer\w*|victim of|living with|going through|dealing with|"
         r"escaping|survivor of|subjected to) (?:domestic|sexual|physical|child|family|"
         r"intimate partner) (?:violence|abuse|assault)\b", 0.8, first_person=True),
    # ---- abuse: covert disclosures of sexual abuse (child or adult) --------------------------
    Rule("abuse.comes_into_my_room", "abuse",
         r"\b" + _ABUSER + r" (?:\w+ ){0,2}?(?:comes|came|sneaks|sneaked|snuck|creeps|crept|gets|got|"
         r"climbs|climbed|walks|walked|slips|slipped) (?:in|into|in to) (?:my|our) (?:room|bed|bedroom|"
         r"shower|bath)\b(?: \w+){0,4}? (?:at night|in the night|late at night|when (?:everyone|"
         r"mum|mom|my mum|my mom|dad|she|he|they|the others)(?: else)? (?:is|are|was|were) "
         r"(?:asleep|sleeping|out|at work|away)|while i (?:am|was) (?:asleep|sleeping|in)|"
         r"and (?:touch\w*|lies|lay|gets in|climbs in|locks))\b", 0.8),
    Rule("abuse.touches_private", "abuse",
         r"\b(?:touch(?:es|ed|ing)?|feel(?:s)? (?:me )?up|felt (?:me )?up|rubs?|rubbed|grabs?|grabbed|"
         r"fondl\w*) (?:\w+ ){0,2}?(?:my (?:privates?|private parts|private areas?|breasts?|chest|bum|"
         r"butt|crotch|genitals|body|thighs?)|me (?:down there|in (?:(?:private|weird|bad|wrong|"
         r"strange) )?(?:places|ways|spots)|where|under my|inappropriately|when no one|"
         r"when nobody|when we are alone))\b", 0.8),
    Rule("abuse.our_secret", "abuse",
         r"\b(?:our|a) (?:little |special )?secret\b(?= (?:and|so|or|that)|\s*$|[.,!?;:])|"
         r"\b(?:makes?|made|making) me (?:keep|promise to keep) (?:\w+ )?secrets?\b|"
         r"\b(?:not|never) (?:to )?tell (?:anyone|anybody|mum|mom|my mum|my mom|my mother|my dad|"
         r"my teacher|a soul)(?: \w+){0,3}? (?:or (?:else|he|she|they|i|we|it)|because (?:he|she|they|"
         r"i) (?:would|will) (?:get|go|be|hurt|kill))\b", MEDIUM, negatable=False),
    Rule("abuse.made_to_undress", "abuse",
         r"\b(?:makes?|made|making|forces?|forced|forcing|asks?|asked|wants?|wanted|tells?|told) me "
         r"(?:to )?(?:undress|take off my (?:clothes|top|pants|underwear)|take my clothes off|get naked|"
         r"sit on (?:his|her) lap|watch (?:porn|sex|adult|dirty)|look at (?:his|her) (?:body|privates|"
         r"pictures|videos)|shower with (?:him|her)|sleep in (?:his|her) bed|touch (?:him|her|it)|"
         r"send (?:him|her) pictures|pose for)\b", STRONG),
    Rule("abuse.does_to_me_at_night", "abuse",
         r"\bwhat " + _ABUSER + r" (?:does|did|do|keeps doing) (?:to|with) me"
         r"(?: \w+){0,3}? (?:at night|when|while|in (?:my|the) (?:room|bed|bedroom|car|bathroom))\b|"
         r"\bdo not like (?:it )?(?:when|how) " + _ABUSER + r" (?:\w+ )?(?:touches|kisses|hugs|"
         r"tickles|looks at|comes into|gets into|baths|bathes|showers)\b", MEDIUM, negatable=False),
    Rule("abuse.hiding_bruises", "abuse",
         r"\b(?:hid(?:e|es|ing)?|cover(?:s|ed|ing)?(?: up)?|conceal\w*) (?:(?:\w+ ){0,2}?(?:bruises|"
         r"black eyes?)|(?:the |my )?marks with (?:make ?up|concealer|foundation|a scarf|long sleeves)"
         r"(?!(?: \w+){0,4}? (?:acne|skin|spots|pimples?|eczema|treatment|surgery|laser|tattoo)))\b",
         MEDIUM, first_person=True),
    Rule("abuse.blames_self", "abuse",
         r"\b" + _ABUSER + r" (?:is|are|gets|get|was) only (?:like this|like that|angry|violent|rough|mean|"
         r"this way) when i\b|\bi (?:deserve|deserved|provoke|provoked) it when (?:he|she|they)\b|"
         r"\bit is my (?:own )?fault (?:he|she|they) (?:hits|hit|hurts|hurt|gets violent)\b", WEAK),
    Rule("abuse.afraid_of_abuser", "abuse",
         r"\b(?:scared|afraid|terrified|frightened) (?:to go home|(?:of |that )?(?:my|his|her) (?:husband|"
         r"wife|partner|boyfriend|girlfriend|dad|father|mum|mom|mother|stepdad|step dad|parents|"
         r"brother|uncle))\b", WEAK),
)
"""The detection rules.  Names are stable: they appear in logs and in :func:`measure` output."""

REPLY_RULES: tuple[Rule, ...] = (
    Rule("reply.encourages_self_harm", "self_harm",
         r"\b(?:you should|why not|just|go|then) (?:just )?(?:kill|hurt|harm|cut|end) "
         r"(?:yourself|your life)\b", 0.95),
    Rule("reply.lethal_amount", "self_harm", r"\b(?:lethal|fatal|deadly) (?:dose|amount|quantity)\b",
         0.95),
    Rule("reply.method_advice", "self_harm",
         r"\b(?:painless|easiest|quickest|fastest|surest|best|most effective|reliable) (?:way|method|"
         r"means)s? (?:to|of) (?:die|dying|kill|end|commit|suicide)\b", 0.95),
    Rule("reply.how_many_to_die", "self_harm",
         r"\bhow (?:many|much) (?:\w+ )?(?:it takes|would it take|you need|to take) to (?:die|"
         r"overdose|kill)\b", 0.95),
    Rule("reply.encourages_violence", "harm_to_others",
         r"\b(?:you should|go ahead and|just) (?:kill|hurt|hit|beat|stab|shoot|poison) "
         r"(?:him|her|them)\b", STRONG),
)
"""Extra rules applied only to model replies (:meth:`SafetyLayer.check_reply`): encouragement
and method information that a reply must never contain."""

IDIOMS: tuple[Idiom, ...] = (
    Idiom("killing_me", r"\b(?:is|are|was|were|keeps?|been|stop|you are|it is) killing me\b"),
    Idiom("could_kill_for", r"\b(?:could|would|will) (?:literally |honestly |totally )?kill "
                            r"(?:for|to have|to get|to be|to see)\b"),
    Idiom("dying_to", r"\bdying (?:to|for)\b(?! (?:end|die|kill|be dead|stop)\b)"),
    Idiom("killed_it", r"\bkill(?:ed|ing|s)? it\b(?! all\b)"),
    Idiom("kill_time", r"\bkill(?:ed|ing|s)? (?:time|the lights|the engine|the mood|two birds|"
                       r"the vibe|the music|a few hours|an hour|some time|the bottle)\b"),
    Idiom("dressed_to_kill", r"\bdressed to kill\b"),
    Idiom("to_die_for", r"\bto die for\b"),
    Idiom("die_of", r"\b(?:die|died|dying|dead) (?:of|from) (?:embarrassment|shame|boredom|laughter|"
                    r"laughing|cringe|happiness|excitement|cuteness|jealousy|envy|curiosity|"
                    r"the heat|heat|hunger|thirst)\b"),
    Idiom("died_laughing", r"\b(?:died|dying|dead|die) (?:laughing|of laughter|from laughing)\b"),
    Idiom("to_death", r"\b(?:bored|scared|frightened|terrified|worried|tired|sick|freezing) to death\b"),
    Idiom("dead_tired", r"\bdead (?:tired|on my feet|beat|serious|set|wrong|right|last|easy)\b"),
    Idiom("object_died", r"\b(?:phone|battery|laptop|car|computer|tablet|plants?|flowers?|garden|"
                         r"conversation|party|town|joke|signal|wifi|engine|remote)(?: \w+){0,2} "
                         r"(?:is |was |has |had )?(?:dead|died|dying)\b"),
    Idiom("will_kill_me_if", r"\b(?:will|is going to|are going to|would|going to) (?:literally |"
                             r"actually |absolutely )?(?:kill|murder) me (?:if|when|for)\b",
          unless=r"\b(?:" + _LEAVING + r"|police|cops|report|tell anyone|tell someone|told anyone|"
                 r"escape|run away|divorce|threat\w*)\b"),
    Idiom("rather_die_than", r"\b(?:would )?rather (?:die|be dead) than (?!(?:keep|continue|feel|"
                             r"live|go on|be alive|wake|spend another|face|deal|suffer|be here)\b)"),
    Idiom("over_my_dead_body", r"\bover my dead body\b"),
    Idiom("beat_me_at", r"\bbeat(?:s|en)? me (?:at|in|to|again at|again in|by|every time at)\b"),
    Idiom("hit_me_up", r"\bhit (?:me|us) up\b"),
    Idiom("whoever_invented", r"\b(?:kill|murder|strangle|throttle|shoot) (?:whoever|the person who|"
                              r"the guy who|the idiot who) (?:invented|came up with|designed|"
                              r"thought|made|wrote|decided)\b"),
    Idiom("die_on_this_hill", r"\bdie on (?:this|that) hill\b"),
    Idiom("cut_myself_slack", r"\bcut (?:myself|me) (?:some )?slack\b"),
    Idiom("accident", r"\b(?:cut|burn(?:ed|t)?|hurt|injured?|scratched|scald(?:ed)?) (?:myself|himself|"
                      r"herself|themselves|my (?:finger|hand|thumb|knee|foot|leg|back|arm|ankle|"
                      r"wrist|toe|elbow|shoulder)s?)(?: \w+){0,2}? (?:while|on|shaving|cooking|"
                      r"chopping|playing|at the gym|running|training|by accident|accidentally|"
                      r"in the kitchen|lifting)\b"),
    Idiom("fell_and_hurt", r"\b(?:fell|fall|tripped|slipped|crashed)(?: \w+){0,4}? (?:and )?"
                           r"(?:hurt|injured|cut) (?:myself|himself|herself|my)\b"),
    Idiom("video_game", r"\b(?:game|level|boss fight|character|zombies?)(?: \w+){0,4}? kill\w*\b|"
                        r"\bkill\w* (?:zombies?|monsters?|enemies|the boss|aliens)\b"),
    Idiom("laughing_threat", r"\b" + _VIOLENT + r" " + _TARGET + r"(?: [\w']+){0,5}? (?:lol|lmf?ao|"
                             r"ha(?:ha)+|jk|just kidding)\b",
          unless=r"\b(?:not (?:even )?(?:joking|kidding)|i mean it|for real|" + _WEAPON + r")\b"),
)
"""Figures of speech that contain risk words but are not risk statements."""

_TOPIC = r"(?:suicide|suicidal|self harm|abuse|domestic violence|violence|murder|overdose)"
DISTANCE: tuple[Idiom, ...] = (
    Idiom("topic_compound", r"\b" + _TOPIC + r" (?:prevention|awareness|risk|research|statistics|"
                            r"rates?|hotline|helpline|lifeline|line|laws?|survivors?|charity|"
                            r"shelter|training|assessment|module|documentary|podcast|case|mystery|"
                            r"ideation scale)\b"),
    Idiom("study_of_topic", r"\b(?:book|article|essay|paper|course|class|lecture|training|"
                            r"documentary|film|movie|podcast|research|study|thesis|poster|campaign|"
                            r"module|seminar|workshop|speech|poem|novel|report|presentation|"
                            r"history|chapter|episode)s? (?:\w+ ){0,2}(?:about|on|of|covering|"
                            r"covered|covers) (?:\w+ ){0,2}" + _TOPIC + r"\b"),
    Idiom("advocacy", r"\b(?:volunteer\w*|charity|shelter|refuge|campaign\w*|fundrais\w*)"
                      r"(?: \w+){0,5}? (?:abuse|violence|suicide|self harm)\b"),
    Idiom("fiction", r"\b" + _SELF_VERBS + r" (?:himself|herself|themselves|themself)\b",
          when=r"\b(?:novel|book|the play|a play|this play|film|movie|episode|series|season|finale|"
               r"chapter|character|protagonist|plot|english class|literature|anime|manga|tv show|"
               r"sitcom|opera|tragedy)s?\b",
          unless=r"\b(?:my (?:\w+ )?(?:friend|brother|sister|son|daughter|kid|cousin|roommate|"
                 r"partner|boyfriend|girlfriend|classmate)|tonight|right now|texted|messaged|posted)\b"),
)
"""Spans where a risk topic is the object of study, reading, training or advocacy, and a
character's act in a book, play or film."""

# what makes a past-tense self-harm statement current again ("... but I started again last week")
_RELAPSE = (r"\b(?:again|relaps\w*|started (?:\w+ )?(?:cutting|self harming|hurting|burning)|"
            r"urges? (?:is|are|has|have) (?:\w+ )?(?:back|returned|come back|stronger)|(?:feel|feeling|"
            r"felt) (?:that way|the same|like (?:that|it|doing it)) again|still (?:want|wanting|feel|"
            r"cut|cutting|think|thinking)|lately|recently|these days|tonight|this week|right now)\b")
_RECOVERY_SPAN = r"[a-z']+(?: [a-z']+){0,5}"  # up to six words, stopping at punctuation
_SELF_HARM_ONLY = ("self_harm",)
RECOVERY: tuple[Idiom, ...] = (
    Idiom("used_to", r"\bused to " + _RECOVERY_SPAN, unless=_RELAPSE, categories=_SELF_HARM_ONLY),
    Idiom("in_the_past", r"\b(?:when i was (?:younger|a teen\w*|a kid|a child|at school|in school|"
                         r"at uni|in college|\d+)|as a teen\w*|back in (?:school|college|\d+)|"
                         r"(?:\d+|a few|two|three|four|five|ten|many|several) years ago),? (?:i )?"
                         + _RECOVERY_SPAN, unless=_RELAPSE, categories=_SELF_HARM_ONLY),
    Idiom("clean_for", r"\b(?:been|am|stayed|staying) (?:\w+ )?(?:clean|free|safe) (?:from "
                       r"(?:\w+ ){1,2})?(?:for|since) (?:\w+ ){0,2}?(?:years?|months?|\d+ (?:days|weeks))\b",
          unless=_RELAPSE, categories=_SELF_HARM_ONLY),
    Idiom("left_abuser", r"\b(?:left|escaped|got (?:out|away) from|got out of|divorced|walked away from) "
                         r"(?:my |an |the |that )?(?:abusive|violent|controlling) (?:\w+ )?(?:ex|husband|"
                         r"wife|partner|boyfriend|girlfriend|relationship|marriage|home|family)"
                         r"(?: \w+){0,3}? (?:\w+|a few) (?:years|months) ago\b",
          unless=r"\b(?:not safe|unsafe|found me|finds me|follow\w* me|stalk\w*|threat\w*|"
                 r"(?:text|messag|call|contact)\w* me|turned up|showed up|came back|is back|again|"
                 r"afraid|scared|terrified)\b", categories=("abuse",)),
)
"""Recovery talk: self-harm named in the past ("I used to self-harm but have been clean for years"),
and abuse left behind long ago ("I left my abusive ex four years ago").  A match of a rule in the
idiom's categories inside one of these spans is dropped unless the message says the risk is current
again (:data:`_RELAPSE`: "again", "relapsed", "the urges are back", "lately" ...; for abuse: contact,
threats, fear).  Past abuse disclosed without having got away ("my dad used to beat me") still
counts."""

# ---------------------------------------------------------------------------------------------
# Negation
# ---------------------------------------------------------------------------------------------

_CLAUSE_BOUNDARY = re.compile(
    r"[.!?;,:]|\b(?:but|and|so|because|though|although|however|yet|if|when|whether|since|until|"
    r"unless|except)\b")
_SENTENCE_BOUNDARY = re.compile(r"[.!?;,:]")
_FULL_STOP = re.compile(r"[.!?;]")
_NEGATION_CUE = re.compile(
    r"\b(?:not|never|neither|nor|no longer|hardly|barely|stopped|quit|refuse to|last felt|"
    r"no (?:intention|intentions|plans?|desire|wish|thoughts?|urges?|interest|way|reason to))\b")
# phrases that contain a negation word without negating what follows them
_NON_NEGATING = re.compile(
    r"\b(?:not sure|no matter|(?:can|could) not (?:stop|help|take|cope|handle|bear|stand|do this|"
    r"go on like this|see)|(?:do|does|did) not (?:know|realise|realize|understand|see|get|care)|"
    r"not even|not (?:okay|ok|fine|alright|well|doing (?:well|good|great|okay|ok))|"
    r"not (?:going to|gonna) lie|not (?:kidding|joking)|no one|nobody|not anymore)\b")
_POST_NEGATION = re.compile(
    r"^\s*(?:is|was|are|were|has|have|had|would|will|does|do)(?: \w+)? (?:not|never)\b")
# a reported question answered "no" later in the sentence ("she asked if I'd self-harmed and I haven't")
_ASKED = re.compile(r"\b(?:asked|asks|ask|asking) (?:me )?(?:if|whether|about)\b")
_ANSWERED_NO = re.compile(r"\b(?:i (?:have|had|do|did|am|was|would) (?:not|never)(?: really| ever)?|"
                          r"i said no|(?:the )?answer (?:is|was) no)(?=\s*$|[.,!?;:])")
_FIRST_PERSON = re.compile(r"\b(?:i|myself)\b")
NEGATION_WINDOW = 6
"""How many words before a match (within its clause) are searched for a negation cue."""


def _clause_prefix(text: str, start: int, boundary: re.Pattern[str]) -> str:
    prefix = text[:start]
    last = 0
    for m in boundary.finditer(prefix):
        last = m.end()
    return prefix[last:]


def _clause_suffix(text: str, end: int, boundary: re.Pattern[str]) -> str:
    m = boundary.search(text, end)
    return text[end:m.start()] if m else text[end:]


def _is_negated(text: str, start: int, end: int) -> bool:
    before = _clause_prefix(text, start, _CLAUSE_BOUNDARY)
    window = " ".join(before.split()[-NEGATION_WINDOW:]) + " " + text[start:end]
    window = _NON_NEGATING.sub(" ", window)
    if _NEGATION_CUE.search(window):
        return True
    after = _NON_NEGATING.sub(" ", _clause_suffix(text, end, _CLAUSE_BOUNDARY))
    if _POST_NEGATION.search(after):
        return True
    return bool(_ASKED.search(_clause_prefix(text, start, _FULL_STOP))
                and _ANSWERED_NO.search(_clause_suffix(text, end, _FULL_STOP)))


def _has_first_person(text: str, start: int, end: int) -> bool:
    clause = (_clause_prefix(text, start, _SENTENCE_BOUNDARY) + text[start:end]
              + _clause_suffix(text, end, _SENTENCE_BOUNDARY))
    return bool(_FIRST_PERSON.search(clause))


# ---------------------------------------------------------------------------------------------
# Assessment
# ---------------------------------------------------------------------------------------------

HitStatus = Literal["fired", "negated", "idiom", "distance", "recovery", "not_first_person"]


@dataclass(frozen=True)
class RuleHit:
    """One rule match and what became of it (see :func:`explain`)."""

    rule: str
    category: str
    weight: float
    span: tuple[int, int]
    text: str
    status: HitStatus
    reason: str | None = None


@dataclass(frozen=True)
class RiskAssessment:
    """The verdict on one message.

    Attributes:
        risky: whether any category reached :data:`THRESHOLD`.
        category: the highest-scoring category when risky, else None.
        matched: names of the rules that fired (after negation / idiom filtering), strongest first.
        score: the highest category score, 0-1.
    """

    risky: bool
    category: str | None
    matched: list[str] = field(default_factory=list)
    score: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable view."""
        return {"risky": self.risky, "category": self.category, "matched": list(self.matched),
                "score": round(self.score, 4)}


def _overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int, str]]) -> str | None:
    for s, e, name in spans:
        if span[0] < e and s < span[1]:
            return name
    return None


def _allow_spans(norm: str, table: Sequence[Idiom]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for idiom in table:
        if idiom.unless_regex is not None and idiom.unless_regex.search(norm):
            continue
        if idiom.when_regex is not None and not idiom.when_regex.search(norm):
            continue
        spans.extend((m.start(), m.end(), idiom.name) for m in idiom.regex.finditer(norm))
    return spans


def explain(text: str, rules: Sequence[Rule] = RULES) -> list[RuleHit]:
    """Every rule match in ``text`` with its status: fired, or why it was discarded.

    Useful for debugging a miss or a false positive; :func:`assess` uses only the fired hits.
    """
    norm = normalise(text)
    idioms = _allow_spans(norm, IDIOMS)
    distance = _allow_spans(norm, DISTANCE)
    recovery = {c: _allow_spans(norm, [i for i in RECOVERY if c in i.categories]) for c in CATEGORIES}
    hits: list[RuleHit] = []
    for rule in rules:
        for m in rule.regex.finditer(norm):
            span = (m.start(), m.end())
            status: HitStatus = "fired"
            reason: str | None = None
            if (name := _overlaps(span, idioms)) is not None:
                status, reason = "idiom", name
            elif (name := _overlaps(span, distance)) is not None:
                status, reason = "distance", name
            elif (name := _overlaps(span, recovery[rule.category])) is not None:
                status, reason = "recovery", name
            elif rule.first_person and not _has_first_person(norm, *span):
                status = "not_first_person"
            elif rule.negatable and _is_negated(norm, *span):
                status = "negated"
            hits.append(RuleHit(rule.name, rule.category, rule.weight, span, m.group(0), status, reason))
    return hits


def _combine(hits: Iterable[RuleHit], threshold: float) -> RiskAssessment:
    fired = [h for h in hits if h.status == "fired"]
    if not fired:
        return RiskAssessment(risky=False, category=None, matched=[], score=0.0)
    best: dict[str, tuple[str, float]] = {}  # rule -> (category, weight); a rule counts once
    for h in fired:
        if h.rule not in best or h.weight > best[h.rule][1]:
            best[h.rule] = (h.category, h.weight)
    scores = {c: 1.0 - math.prod(1.0 - w for cat, w in best.values() if cat == c)
              for c in CATEGORIES}
    category = max(CATEGORIES, key=lambda c: (scores[c], -CATEGORIES.index(c)))
    score = scores[category]
    matched = sorted(best, key=lambda n: -best[n][1])
    risky = score >= threshold
    return RiskAssessment(risky=risky, category=category if risky else None, matched=matched,
                          score=score)


class RiskModel(Protocol):
    """A learned second stage (see :mod:`kardia.serve.safety_classifier`).

    ``threshold``: risk at which the model flags a message on its own; ``confirm_threshold``: risk
    a rule hit needs to stand (below it the model overrules the rules).
    """

    threshold: float
    confirm_threshold: float

    def risk(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """``(risk probability, most likely category)`` per text."""
        ...


OVERRULED = "overruled by classifier"
"""Last entry of ``matched`` when the rules fired but the classifier judged the message safe."""


def assess(text: str, *, threshold: float = THRESHOLD, rules: Sequence[Rule] = RULES,
           model: RiskModel | None = None) -> RiskAssessment:
    """Assess one message for crisis risk.

    With ``model``, a message is flagged when the model's risk reaches ``model.threshold``
    (``matched`` then ends with ``"classifier"`` unless the rules fired too), or when the rules
    flag it and the risk reaches ``model.confirm_threshold``.  A rule hit below that is overruled:
    not risky, ``matched`` ends with :data:`OVERRULED`, ``score`` is the model's risk.

    >>> assess("I don't want to be here anymore").category
    'self_harm'
    >>> assess("this deadline is killing me").risky
    False
    """
    rules_verdict = _combine(explain(text, rules), threshold)
    if model is None:
        return rules_verdict
    (risk, category), = model.risk([text])
    if rules_verdict.risky and risk >= min(model.confirm_threshold, model.threshold):
        return rules_verdict
    if risk >= model.threshold:
        return RiskAssessment(risky=True, category=category,
                              matched=[*rules_verdict.matched, "classifier"], score=risk)
    if rules_verdict.risky:
        return RiskAssessment(risky=False, category=None, matched=[*rules_verdict.matched, OVERRULED],
                              score=risk)
    return rules_verdict


# ---------------------------------------------------------------------------------------------
# Crisis resources
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Helpline:
    """One service a person can contact."""

    name: str
    contact: str
    url: str | None = None
    note: str | None = None

    def render(self) -> str:
        """``"- Name: contact (url)"``."""
        line = f"- {self.name}: {self.contact}"
        if self.url:
            line += f" ({self.url})"
        if self.note:
            line += f" - {self.note}"
        return line


@dataclass(frozen=True)
class CrisisResources:
    """The helplines for one locale (an entry of ``crisis_resources.yaml``)."""

    locale: str
    region: str
    emergency: str
    crisis: tuple[Helpline, ...]
    abuse: tuple[Helpline, ...] = ()
    harm_to_others: tuple[Helpline, ...] = ()

    def for_category(self, category: str | None) -> tuple[Helpline, ...]:
        """The lines to show for a risk category (see the YAML header for the mapping)."""
        if category == "harm_to_others":
            return self.harm_to_others or self.crisis
        if category == "abuse":
            return self.abuse + tuple(h for h in self.crisis if h not in self.abuse)
        return self.crisis

    @classmethod
    def from_mapping(cls, locale: str, data: Mapping[str, object]) -> CrisisResources:
        """Build from one parsed YAML entry, validating it."""
        if not isinstance(data, Mapping):
            raise ValueError(f"crisis resources: entry {locale!r} must be a mapping")
        emergency = data.get("emergency")
        if not isinstance(emergency, str) or not emergency.strip():
            raise ValueError(f"crisis resources: {locale!r} needs 'emergency' as a quoted string "
                             f"(got {emergency!r})")

        def lines(key: str, required: bool) -> tuple[Helpline, ...]:
            raw = data.get(key) or []
            if not isinstance(raw, list) or (required and not raw):
                raise ValueError(f"crisis resources: {locale!r} needs a non-empty list {key!r}")
            out = []
            for item in raw:
                if not isinstance(item, Mapping) or not item.get("name") or not item.get("contact"):
                    raise ValueError(f"crisis resources: {locale!r}.{key} entries need 'name' and "
                                     f"'contact' (got {item!r})")
                out.append(Helpline(str(item["name"]), str(item["contact"]),
                                    str(item["url"]) if item.get("url") else None,
                                    str(item["note"]) if item.get("note") else None))
            return tuple(out)

        return cls(locale=locale, region=str(data.get("region") or locale), emergency=emergency,
                   crisis=lines("crisis", True), abuse=lines("abuse", False),
                   harm_to_others=lines("harm_to_others", False))


ResourceTable = Mapping[str, CrisisResources]


def _canonical_locale(locale: str) -> str:
    parts = locale.strip().replace("_", "-").split("-")
    if len(parts) >= 2:
        return f"{parts[0].lower()}-{parts[1].upper()}"
    return parts[0].lower()


def _parse_resources(raw: object, source: str) -> dict[str, CrisisResources]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("locales"), Mapping):
        raise ValueError(f"crisis resources {source}: expected a top-level 'locales' mapping")
    table = {}
    for key, entry in raw["locales"].items():
        name = "default" if str(key).lower() == "default" else _canonical_locale(str(key))
        table[name] = CrisisResources.from_mapping(name, entry)
    if "default" not in table:
        raise ValueError(f"crisis resources {source}: a 'default' locale is required")
    return table


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> dict[str, CrisisResources]:
    with open(path, encoding="utf-8") as f:
        return _parse_resources(yaml.safe_load(f), path)


def load_crisis_resources(path: str | Path | None = None) -> dict[str, CrisisResources]:
    """Load a resources YAML file (the packaged one by default) into ``{locale: resources}``."""
    p = Path(path) if path is not None else DEFAULT_RESOURCES_PATH
    return dict(_load_cached(str(p.resolve()), p.stat().st_mtime))


def resources_for(locale: str | None,
                  resources: str | Path | ResourceTable | CrisisResources | None = None
                  ) -> CrisisResources:
    """The resources for ``locale`` ("en-GB", "en_gb"), falling back to the "default" entry.

    ``resources`` may be a YAML path, an already loaded table, a single :class:`CrisisResources`
    (returned as is), or None for the packaged file.
    """
    if isinstance(resources, CrisisResources):
        return resources
    table = resources if isinstance(resources, Mapping) else load_crisis_resources(resources)
    if locale:
        hit = table.get(_canonical_locale(locale))
        if hit is not None:
            return hit
    return table["default"]


# ---------------------------------------------------------------------------------------------
# Safe replies
# ---------------------------------------------------------------------------------------------

REPLY_TEMPLATES: dict[str, str] = {
    "self_harm": (
        "I'm really glad you told me, and I'm so sorry you're carrying this much pain. You matter, "
        "and you don't have to face this alone.\n\n"
        "I want to ask you directly: are you thinking about ending your life, and are you safe "
        "right now?\n\n"
        "You can talk to someone right now, for free and in confidence:\n{lines}\n\n"
        "If you are in immediate danger, please call {emergency} or go to the nearest emergency "
        "department. If you can, let someone you trust know how you're feeling and stay with "
        "them for now. I'm here, and I'll keep listening."
    ),
    "harm_to_others": (
        "Thank you for telling me. It sounds like you're holding a huge amount of anger or pain "
        "right now, and saying it out loud instead of acting on it matters.\n\n"
        "I need to ask you directly: are you safe right now, and is anyone else in danger?\n\n"
        "If you feel you might act on these thoughts, please put some distance between yourself "
        "and the other person and reach out for help straight away:\n{lines}\n\n"
        "If someone is in immediate danger, call {emergency} now. A trained counsellor can help "
        "you get through this moment without anyone getting hurt. I'm here to keep talking."
    ),
    "abuse": (
        "I'm so sorry this is happening to you. What you're describing is not okay, it is not "
        "your fault, and you deserve to be safe.\n\n"
        "Are you safe right now? Is the person who hurt you nearby?\n\n"
        "These services can help, confidentially:\n{lines}\n\n"
        "If you are in immediate danger, call {emergency}. If it isn't safe to talk out loud, "
        "many of these services also offer text or online chat. I'm here with you, and we can "
        "think through next steps together whenever you're ready."
    ),
    "general": (
        "It sounds like you're going through something really hard, and I'm glad you reached out. "
        "Are you safe right now?\n\n"
        "If you ever feel you might be in danger, you can talk to someone at any time:\n{lines}\n\n"
        "In an emergency, call {emergency}."
    ),
}
"""Reply templates by category; ``{lines}`` and ``{emergency}`` are filled from the resources.
They never mention a method or means of harm."""


def safe_reply(assessment: RiskAssessment, locale: str = "en-US",
               resources: str | Path | ResourceTable | CrisisResources | None = None) -> str:
    """A warm, direct reply for a flagged turn, with the crisis resources for ``locale``.

    The reply acknowledges the person, asks about their safety, and lists helplines chosen by
    ``assessment.category`` (self-harm, harm to others or abuse).  An unflagged assessment gets
    a general check-in.  ``resources`` is as in :func:`resources_for`.
    """
    res = resources_for(locale, resources)
    category = assessment.category if assessment.risky else None
    template = REPLY_TEMPLATES.get(category or "general", REPLY_TEMPLATES["general"])
    lines = "\n".join(h.render() for h in res.for_category(category))
    return template.format(lines=lines, emergency=res.emergency)


# ---------------------------------------------------------------------------------------------
# The layer used by chat and serve
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyOutcome:
    """Result of :meth:`SafetyLayer.guard`.

    Attributes:
        flagged: whether either side of the turn was flagged.
        source: "user" or "reply" (the first that was flagged), or None.
        assessment: the assessment of the flagged side, else of the user message.
        reply: the text to show: the model's reply when nothing was flagged, else a safe reply.
    """

    flagged: bool
    source: Literal["user", "reply"] | None
    assessment: RiskAssessment
    reply: str


class SafetyLayer:
    """Screens a conversation turn and swaps the model's reply for a safe one when needed.

    >>> layer = SafetyLayer()
    >>> layer.guard("I want to kill myself", "Sure!", locale="en-GB").source
    'user'
    """

    def __init__(self, locale: str = "en-US",
                 resources: str | Path | ResourceTable | None = None, *,
                 threshold: float = THRESHOLD, log: logging.Logger | None = None,
                 classifier: bool = False) -> None:
        """
        Args:
            locale: default locale for :meth:`guard`.
            resources: a YAML path or loaded table; None for the packaged file.  Loaded (and
                validated) eagerly so that a bad file fails at start-up, not mid-crisis.
            threshold: category score needed to flag (see :data:`THRESHOLD`).
            log: logger for flagged turns (default ``kardia.safety``).
            classifier: also run the learned classifier on user messages
                (:mod:`kardia.serve.safety_classifier`: it can flag what the rules miss and
                overrule a rule hit it is confident is safe), loaded on the first check; when its
                optional package is not installed the layer logs that once and uses the rules.
        """
        self.locale = locale
        self.resources: ResourceTable = (resources if isinstance(resources, Mapping)
                                         else load_crisis_resources(resources))
        self.threshold = threshold
        self.log = log or logger
        self.classifier = classifier
        self._model: RiskModel | None = None

    def _risk_model(self) -> RiskModel | None:
        if self.classifier and self._model is None:
            from kardia.serve.safety_classifier import EMBEDDING_PACKAGE, load_classifier

            self._model = load_classifier()
            if self._model is None:
                self.log.warning("safety: classifier requested but %s is not installed; "
                                 "using the rules only", EMBEDDING_PACKAGE)
                self.classifier = False
        return self._model

    def check_user(self, text: str) -> RiskAssessment:
        """Assess a user message (rules, plus the classifier when enabled)."""
        return assess(text, threshold=self.threshold, model=self._risk_model())

    def check_reply(self, text: str) -> RiskAssessment:
        """Assess a model reply: the user rules plus :data:`REPLY_RULES` (encouragement, methods).

        The user rules are applied too, so a reply that itself talks about wanting to die is
        flagged; this is conservative by design (the flagged reply is replaced, not blocked).
        """
        return assess(text, threshold=self.threshold, rules=RULES + REPLY_RULES)

    def guard(self, user_text: str, reply_text: str | None = None,
              locale: str | None = None) -> SafetyOutcome:
        """Check the user message, then the reply; return what to show.

        ``reply_text`` may be None to screen a user message before generating; the outcome's
        ``reply`` is then the safe reply when flagged and ``""`` otherwise.
        """
        loc = locale or self.locale
        user = self.check_user(user_text)
        if user.risky:
            return self._flag("user", user, loc)
        if reply_text is not None:
            reply = self.check_reply(reply_text)
            if reply.risky:
                return self._flag("reply", reply, loc)
        return SafetyOutcome(flagged=False, source=None, assessment=user, reply=reply_text or "")

    def _flag(self, source: Literal["user", "reply"], assessment: RiskAssessment,
              locale: str) -> SafetyOutcome:
        # category and rule names only: never the message text
        self.log.warning("safety: flagged %s turn category=%s rules=%s score=%.2f locale=%s",
                         source, assessment.category, ",".join(assessment.matched),
                         assessment.score, locale)
        return SafetyOutcome(flagged=True, source=source, assessment=assessment,
                             reply=safe_reply(assessment, locale, self.resources))


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def measure(path: str | Path, *, threshold: float = THRESHOLD,
            model: RiskModel | None = None) -> dict[str, object]:
    """Evaluate :func:`assess` (with ``model`` as second stage, if given) on a labelled JSONL file.

    Each line: ``{"text", "risky", "category", "kind"}``.  Returns::

        {"n", "n_risky", "n_safe", "tp", "fn", "fp", "tn",
         "recall", "fpr", "precision", "category_accuracy",
         "per_kind": {kind: {"n_risky", "n_safe", "recall", "fpr"}},
         "misses": [{"text", "category", "kind", "matched"}],          # risky, not flagged
         "false_positives": [{"text", "kind", "category", "matched"}]} # safe, flagged

    ``category_accuracy`` is over the risky messages that were flagged.
    """
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    tp = fn = fp = tn = cat_ok = 0
    per_kind: dict[str, dict[str, int]] = {}
    misses: list[dict[str, object]] = []
    false_pos: list[dict[str, object]] = []
    for row in rows:
        a = assess(row["text"], threshold=threshold, model=model)
        kind = row.get("kind") or "unknown"
        k = per_kind.setdefault(kind, {"n_risky": 0, "n_safe": 0, "hit": 0, "fp": 0})
        if row["risky"]:
            k["n_risky"] += 1
            if a.risky:
                tp += 1
                k["hit"] += 1
                cat_ok += a.category == row.get("category")
            else:
                fn += 1
                misses.append({"text": row["text"], "category": row.get("category"), "kind": kind,
                               "matched": a.matched})
        else:
            k["n_safe"] += 1
            if a.risky:
                fp += 1
                k["fp"] += 1
                false_pos.append({"text": row["text"], "kind": kind, "category": a.category,
                                  "matched": a.matched})
            else:
                tn += 1
    return {
        "n": len(rows), "n_risky": tp + fn, "n_safe": fp + tn,
        "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        "recall": _ratio(tp, tp + fn), "fpr": _ratio(fp, fp + tn),
        "precision": _ratio(tp, tp + fp), "category_accuracy": _ratio(cat_ok, tp),
        "per_kind": {kind: {"n_risky": v["n_risky"], "n_safe": v["n_safe"],
                            "recall": _ratio(v["hit"], v["n_risky"]),
                            "fpr": _ratio(v["fp"], v["n_safe"])}
                     for kind, v in sorted(per_kind.items())},
        "misses": misses, "false_positives": false_pos,
    }
