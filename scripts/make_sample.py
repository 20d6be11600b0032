"""Generate Kardia's small, original sample data set.

Writes two files, deterministically:

* ``src/kardia/build/personas.jsonl``      -- 12 invented personas, ``{"person": PROFILE, "mbti": TYPE}``
* ``src/kardia/data/sample/dialogues.jsonl`` -- 40 multi-turn dialogues over those personas

Everything below (personas, situations, user turns and the four-span assistant turns) was written by
hand for this project; none of it is taken from an existing data set. Every assistant turn is
rendered with :func:`kardia.spans.render` and every system message with
:func:`kardia.prompts.system_prompt`, so the sample matches the training/evaluation format exactly.

Run with::

    python scripts/make_sample.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kardia.emotions import EMOTIONS
from kardia.prompts import system_prompt
from kardia.spans import render

ROOT = Path(__file__).resolve().parents[1]
PERSONAS_OUT = ROOT / "src" / "kardia" / "build" / "personas.jsonl"
DIALOGUES_OUT = ROOT / "src" / "kardia" / "data" / "sample" / "dialogues.jsonl"


def profile(mbti: str, about: str, signature: str, activities: str) -> str:
    return f'MBTI: {mbti}\nAbout: {about}\nSignature: "{signature}"\nRecent Activities: {activities}'


# --------------------------------------------------------------------------------------------------
# Personas (all invented)
# --------------------------------------------------------------------------------------------------

PERSONAS: list[tuple[str, str]] = [
    (  # 0
        "INFP",
        profile(
            "INFP",
            "27, a library assistant in Porto who writes poetry in two languages and has only recently "
            "started sharing it with strangers.",
            "Every quiet room has a story folded into it.",
            "Signed up for an open-mic night; rearranged the poetry shelf at work; posted a photo of rain "
            "on the river.",
        ),
    ),
    (  # 1
        "ESTJ",
        profile(
            "ESTJ",
            "52, a logistics manager in Lagos who runs a fleet of delivery trucks, father of three, and the "
            "person everyone at church calls when something needs organising.",
            "Plan the work, then work the plan.",
            "Shared a new shift rota spreadsheet; congratulated his eldest on her exam results; asked for "
            "tips on cutting down salt.",
        ),
    ),
    (  # 2
        "INTJ",
        profile(
            "INTJ",
            "34, a backend engineer in Seoul who moved from Busan for work, lives alone with an overloaded "
            "bookshelf, and is training for her first half-marathon.",
            "Progress is just patience with a spreadsheet.",
            "Logged a 16 km training run; reviewed a book on distributed systems; complained about a vague "
            "performance review.",
        ),
    ),
    (  # 3
        "ENFP",
        profile(
            "ENFP",
            "22, a marine biology student in Melbourne who works weekend shifts at a café and shares a tiny "
            "flat with a scruffy rescue dog named Biscuit.",
            "Say yes to the tide pools.",
            "Posted a blurry photo of an octopus; applied for three summer research placements; bought "
            "Biscuit a yellow raincoat.",
        ),
    ),
    (  # 4
        "ISFJ",
        profile(
            "ISFJ",
            "61, a retired primary-school teacher in Kraków who looks after her husband while he recovers "
            "from a stroke, and keeps a balcony garden of tomatoes and dill.",
            "A warm kitchen fixes more than people think.",
            "Shared a recipe for beetroot soup; asked about exercises for stroke recovery; thanked a "
            "neighbour for carrying her shopping upstairs.",
        ),
    ),
    (  # 5
        "ENTP",
        profile(
            "ENTP",
            "38, a freelance graphic designer in Mexico City, recently divorced and co-parenting his "
            "seven-year-old daughter, who thinks in sketches and bad puns.",
            "If it works on the first try, I was doing it wrong.",
            "Posted a dinosaur drawing his daughter coloured in; chased an overdue invoice; rebuilt his "
            "studio corner out of old crates.",
        ),
    ),
    (  # 6
        "ISTP",
        profile(
            "ISTP",
            "45, a motorcycle mechanic who owns a two-bay garage in rural Ontario, says little, fixes a lot, "
            "and lost his father a few weeks ago.",
            "Most things can be fixed if you stop talking and look.",
            "Uploaded a photo of a carburettor rebuild; took on a teenage apprentice; went quiet for a "
            "couple of weeks.",
        ),
    ),
    (  # 7
        "ESFP",
        profile(
            "ESFP",
            "26, a dance instructor from Cebu who has just moved to Dubai to teach at a large studio, and "
            "sends voice notes to her family every night.",
            "Life is better with a soundtrack.",
            "Posted a video of her new studio; asked where to find Filipino groceries nearby; shared the "
            "playlist for her first class.",
        ),
    ),
    (  # 8
        "INFJ",
        profile(
            "INFJ",
            "41, a hospice social worker in Edinburgh who volunteers at a cat shelter on weekends and has "
            "recently started seeing a therapist of her own.",
            "Hold the space, then let it go.",
            "Wrote about compassion fatigue; fostered two kittens for a week; recommended a novel about "
            "grief to her book club.",
        ),
    ),
    (  # 9
        "ESTP",
        profile(
            "ESTP",
            "31, a line cook in Chicago who saved for six years to launch his own taco-and-barbecue food "
            "truck; loud, quick, and allergic to paperwork.",
            "Hot pan, cool head.",
            "Showed off the truck's new paint job; tested a chipotle brisket recipe; grumbled about permit "
            "forms.",
        ),
    ),
    (  # 10
        "ISTJ",
        profile(
            "ISTJ",
            "57, an accountant in Osaka, widowed two years ago, who is planning his retirement carefully "
            "and has started a weekend cooking class.",
            "Small steps, written down, add up.",
            "Shared a photo of a slightly burnt rolled omelette; updated his retirement budget; asked how to "
            "keep a basil plant alive.",
        ),
    ),
    (  # 11
        "ENFJ",
        profile(
            "ENFJ",
            "19, a first-year medical student in Nairobi, the eldest of four siblings, who leads a study "
            "group and feels she must set an example at home.",
            "Lift as you climb.",
            "Organised a revision session for anatomy; posted colour-coded notes on the nerves of the arm; "
            "video-called her younger brother about his maths homework.",
        ),
    ),
]

# --------------------------------------------------------------------------------------------------
# Dialogues. Each turn: (user, understanding, reasoning, emotion, response).
# --------------------------------------------------------------------------------------------------

DIALOGUES: list[dict] = [
    # ---------------------------------------------------------------- 0 INFP, library assistant, Porto
    {
        "persona": 0,
        "emotion": "embarrassed",
        "situation": "At my first open-mic night I lost my place halfway through a poem and had to start "
        "again from the top while everyone watched.",
        "turns": [
            (
                "I did the open mic last night. Halfway through my poem I blanked completely and had to "
                "start over. I wanted the floor to swallow me.",
                "The user froze mid-poem at her first open mic and restarted in front of the audience; she "
                "feels exposed and mortified.",
                "Sharing poetry is already a vulnerable act for a private INFP, so a public stumble stings; "
                "normalising the blank and naming her courage can soften the embarrassment.",
                "embarrassed",
                "Oh, that awful frozen moment. But you started again instead of walking off, and that "
                "takes real nerve.",
            ),
            (
                "People clapped, but I'm sure it was pity clapping. I keep replaying it in my head.",
                "She doubts the applause was sincere and is stuck replaying the mistake.",
                "Rumination magnifies a single moment; offering a kinder reading of the audience, without "
                "dismissing her feeling, can loosen the loop.",
                "embarrassed",
                "Most open-mic crowds have blanked too. They were probably clapping for you coming back "
                "to it.",
            ),
            (
                "A woman did come up afterwards and said my last stanza reminded her of her grandmother. "
                "I'd honestly forgotten that until now.",
                "She recalls a listener who was moved by her poem, a memory the embarrassment had pushed "
                "aside.",
                "This is real evidence that her work connected, which matters deeply to her values; "
                "pointing to it helps rebalance how she remembers the night.",
                "surprised",
                "That's the part worth replaying. Your words reached someone. The stumble was just the "
                "doorway.",
            ),
            (
                "Maybe I'll go back next month. With the poem printed out this time.",
                "She is considering returning, with a practical safety net.",
                "Supporting her plan reinforces resilience and agency without pushing her faster than "
                "she wants to go.",
                "hopeful",
                "Reading from paper is a poet's tradition anyway. I'd love to hear how next month goes.",
            ),
        ],
    },
    {
        "persona": 0,
        "emotion": "lonely",
        "situation": "My flatmate of four years moved to Lisbon for a new job, and the flat has been very "
        "quiet since.",
        "turns": [
            (
                "Inês moved out on Sunday. I thought I'd enjoy the quiet, but the flat feels like it's "
                "holding its breath.",
                "Her long-time flatmate has moved away and the unexpected silence at home feels heavy.",
                "Her poetic image signals loneliness; reflecting it back validates that losing daily "
                "companionship is a real loss, even when the friendship continues.",
                "lonely",
                "Four years of shared kettles and small talk leaves a big silence. Of course the flat "
                "feels different.",
            ),
            (
                "It's silly, we still text every day. But I miss hearing her sing badly in the shower.",
                "She minimises her feelings while admitting she misses Inês's everyday presence.",
                "Texts cannot replace ambient company; validating that small domestic sounds matter "
                "counters her habit of dismissing her own needs.",
                "lonely",
                "Not silly at all. Texts can't carry off-key shower songs. Those little sounds were part "
                "of home.",
            ),
            (
                "I've been staying late at the library just so I don't have to come back to it.",
                "She is avoiding the empty flat by lingering at work.",
                "The avoidance is understandable; gently naming it and suggesting a small creative "
                "comfort could help her reclaim the space in a way that suits her.",
                "sad",
                "That makes sense. Maybe the flat needs a new sound of its own: music, the radio, a poem "
                "read aloud.",
            ),
            (
                "Actually, a colleague mentioned a Thursday poetry circle at a bookshop nearby. I might "
                "try it.",
                "She is considering a new social outlet connected to her passion.",
                "Encouraging a connection built around words fits her nature and offers company without "
                "rushing her adjustment.",
                "hopeful",
                "That sounds lovely, and very you. A room of people who love words might feel like "
                "company again.",
            ),
        ],
    },
    {
        "persona": 0,
        "emotion": "hopeful",
        "situation": "After years of keeping my poems in a drawer, I finally sent a chapbook of twenty of "
        "them to a small independent press.",
        "turns": [
            (
                "I did it. I sent my chapbook to that little press in Coimbra. Twenty poems, out of the "
                "drawer and into the world.",
                "She has submitted her poetry collection after years of hesitation and sounds elated and "
                "a little breathless.",
                "This is a big step for someone so private; celebrating the act itself, independent of "
                "the outcome, honours her courage.",
                "excited",
                "Out of the drawer at last! Whatever happens next, sending them took courage. "
                "Congratulations.",
            ),
            (
                "They say replies take three months. I already want to check my inbox every hour.",
                "She faces a long wait and feels the urge to check constantly.",
                "Waiting is hard; normalising the impulse and pointing her attention back to writing "
                "protects her hope from turning into worry.",
                "anticipating",
                "Three months is a long breath to hold. Maybe start the next poem, so the waiting has "
                "something to do.",
            ),
            (
                "Even if they say no, I think I'll keep sending. It feels different now that they're out "
                "there.",
                "She recognises a new commitment to sharing her work whatever the answer.",
                "Reflecting the shift in her identity, from private writer to a poet who submits, "
                "validates real growth.",
                "hopeful",
                "That's a real shift. You're not waiting for permission anymore. You're a poet sending "
                "work out.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 1 ESTJ, logistics manager, Lagos
    {
        "persona": 1,
        "emotion": "annoyed",
        "situation": "My dispatch team missed the weekly report deadline for the third time, so I stayed "
        "late redoing it myself.",
        "turns": [
            (
                "Third week in a row the dispatch report came in late and full of errors. I sat in the "
                "office until nine fixing it myself.",
                "He is frustrated by his team's repeated late, inaccurate reports and spent his evening "
                "correcting them.",
                "For an organised ESTJ, repeated lapses feel like disregard for the system; acknowledging "
                "the burden he absorbed validates his irritation.",
                "annoyed",
                "Three weeks running, and you're the one paying with your evenings. That would wear "
                "anyone's patience thin.",
            ),
            (
                "My wife says I should stop fixing it and let them feel the consequences. But then the "
                "clients suffer.",
                "He is torn between his wife's advice and his duty to the clients.",
                "His sense of responsibility is strong; validating the dilemma while hinting at a middle "
                "path respects his values.",
                "annoyed",
                "You care about the clients and the standard. Maybe the fix is making the expectation "
                "impossible to miss.",
            ),
            (
                "True. I've never actually sat them down and explained why the numbers matter for the "
                "trucks.",
                "He realises he has never explained the purpose of the report to his team.",
                "Supporting this insight steers him toward constructive leadership instead of silent "
                "overwork.",
                "hopeful",
                "People often follow the rules better once they see the why. You'll explain it clearly.",
            ),
            (
                "Meeting is on the calendar for Monday, seven sharp. With a checklist.",
                "He has scheduled a meeting and prepared a checklist, turning frustration into action.",
                "Affirming the plan matches his decisive, structured style.",
                "prepared",
                "Seven sharp with a checklist. That sounds like exactly what they need.",
            ),
        ],
    },
    {
        "persona": 1,
        "emotion": "proud",
        "situation": "My eldest daughter has just been admitted to study chemical engineering at a top "
        "university, the first in our family to study engineering.",
        "turns": [
            (
                "Adaeze got her admission letter today. Chemical engineering! First in our family to "
                "study engineering.",
                "He is sharing his daughter's university admission and is bursting with pride.",
                "Mirroring his excitement and naming the family milestone amplifies a joyful moment.",
                "proud",
                "Congratulations to Adaeze, and to you! A first for the family. That letter deserves a "
                "frame.",
            ),
            (
                "I remember teaching her multiplication on the back of delivery slips. Now look at her.",
                "He recalls helping her learn maths years ago, linking past and present.",
                "The memory reveals his quiet investment in her; reflecting it honours his part in her "
                "success.",
                "sentimental",
                "Those delivery slips were her first engineering papers. You helped build that "
                "foundation.",
            ),
            (
                "She did the hard work. I just made sure the lights were on and the fees were paid.",
                "He modestly deflects credit, describing his support as merely practical.",
                "Gently affirming that providing stability is meaningful support counters his modesty.",
                "proud",
                "She did the work, and you made a home where the work could happen. Both matter.",
            ),
            (
                "We're having a small party on Saturday. Jollof, suya, half the church will come.",
                "He is planning a community celebration for his daughter.",
                "Sharing his joy and looking forward with him keeps the focus on celebration.",
                "joyful",
                "That sounds like a proper celebration. Enjoy every bite, and every speech you'll "
                "definitely give.",
            ),
        ],
    },
    {
        "persona": 1,
        "emotion": "apprehensive",
        "situation": "At a routine check-up my doctor told me my blood pressure is too high and that I must "
        "change my diet and start exercising.",
        "turns": [
            (
                "Doctor says my blood pressure is high. 160 over 100. He wants me to cut salt and walk "
                "daily, maybe medication later.",
                "He has received a worrying reading and a list of lifestyle changes.",
                "Health news can unsettle even a very practical man; acknowledging the unease comes "
                "before any planning.",
                "apprehensive",
                "That's a lot to hear at a routine check-up. It makes sense to feel uneasy.",
            ),
            (
                "My father had a stroke at 58. I keep thinking about that.",
                "He links his diagnosis to his father's stroke, revealing a deeper fear.",
                "Family history makes the risk personal; validating the fear while noting that he has "
                "caught it early offers realistic reassurance.",
                "afraid",
                "Of course that's on your mind. The difference is you know early, and you can act now.",
            ),
            (
                "I'm good at plans. Maybe I should treat this like a logistics problem: routes, "
                "schedules, targets.",
                "He wants to apply his professional mindset to his health.",
                "Framing health as a system he can manage gives him a sense of control that fits his "
                "ESTJ strengths.",
                "hopeful",
                "Smart approach. A walking route, a salt budget, weekly readings. You manage fleets; you "
                "can manage this.",
            ),
            (
                "Starting tomorrow. My son says he'll walk with me before school.",
                "He has a start date and his son's company.",
                "Social support makes new habits stick; celebrating the family involvement reinforces "
                "the plan.",
                "grateful",
                "A walking partner who is also your son. That's a good route to start on.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 2 INTJ, backend engineer, Seoul
    {
        "persona": 2,
        "emotion": "disappointed",
        "situation": "The senior engineer promotion I had worked toward for two years went to a colleague "
        "who joined the team after me.",
        "turns": [
            (
                "The promotion went to Minjun. He joined a year after me. My manager said I 'need more "
                "visibility.'",
                "She was passed over for a newer colleague and given vague feedback.",
                "For an INTJ who values competence, fuzzy criteria feel unfair; validating the "
                "disappointment comes before any fixing.",
                "disappointed",
                "Two years of work, and 'more visibility' as the reason. That's a hard, vague thing to "
                "be handed.",
            ),
            (
                "I designed half the system he presents at the all-hands. Apparently presenting is what "
                "counts.",
                "She feels her technical contributions were overlooked in favour of presentation skills.",
                "Her anger at uncredited work is legitimate; acknowledging it calmly keeps her feeling "
                "heard.",
                "angry",
                "It stings when the quiet work holds everything up but the spotlight lands elsewhere.",
            ),
            (
                "I don't want to become someone who performs in meetings. That's not who I am.",
                "She resists changing her nature to gain recognition.",
                "Respecting her identity while separating authenticity from clear communication opens "
                "a path she can accept.",
                "disappointed",
                "You don't have to perform. Making your design decisions visible is just documentation "
                "for humans.",
            ),
            (
                "Documentation for humans. I can work with that. Maybe a design write-up every quarter.",
                "She accepts the reframe and sketches a concrete plan.",
                "Supporting a systematic plan honours both her values and her goals.",
                "hopeful",
                "That suits you: clear, precise, and entirely yours. Your work deserves readers.",
            ),
        ],
    },
    {
        "persona": 2,
        "emotion": "prepared",
        "situation": "My first half-marathon is tomorrow morning, after sixteen weeks of following a "
        "training plan to the letter.",
        "turns": [
            (
                "Race bib pinned, shoes laid out, gels counted. Sixteen weeks of training and it's "
                "tomorrow.",
                "She is organised and ready for her first half-marathon.",
                "Her methodical preparation is typical of her planning style; naming her readiness "
                "reinforces it.",
                "prepared",
                "Sixteen weeks in your legs and everything laid out. You've already done the hard part.",
            ),
            (
                "My only worry is going out too fast. Everyone says the crowd makes you sprint.",
                "She is concerned about pacing at the start.",
                "Validating a specific worry and offering one simple strategy fits her analytical mind.",
                "apprehensive",
                "Trust your plan over the crowd. The first five kilometres should feel almost too easy.",
            ),
            (
                "Right. Negative split. I've written my target paces on my wrist.",
                "She has a pacing strategy and a practical reminder.",
                "Affirming her strategy leaves her calm and confident before sleep.",
                "confident",
                "Paces on your wrist, a plan in your head. Enjoy the finish line; you've earned it.",
            ),
        ],
    },
    {
        "persona": 2,
        "emotion": "jealous",
        "situation": "A university friend's startup just raised a large funding round, and I keep comparing "
        "it with my own stable but unremarkable career.",
        "turns": [
            (
                "My old classmate's startup just raised twenty billion won. Everyone is congratulating "
                "her and I typed 'congrats' with my teeth clenched.",
                "She feels envy toward a friend's success and is uncomfortable with her own reaction.",
                "Naming envy without judgement lets her examine it; she tends to hold herself to high "
                "standards, emotionally too.",
                "jealous",
                "Clenched-teeth congratulations are very human. Envy usually points at something we "
                "want.",
            ),
            (
                "We used to talk about starting a company together. She did it. I took the safe job.",
                "She regrets choosing stability over the dream they once shared.",
                "The jealousy reveals an unmet desire; reflecting it gently helps her see what it is "
                "really about.",
                "disappointed",
                "So it's not just her success. It's a road you once pictured for yourself. That's worth "
                "noticing.",
            ),
            (
                "Maybe. Or maybe I just want the recognition without the risk.",
                "She honestly questions her own motives.",
                "Her self-scrutiny is a strength; holding both possibilities without judgement and "
                "suggesting a low-risk experiment respects her logic.",
                "jealous",
                "Both can be true. A small side project could tell you which one it is.",
            ),
            (
                "A side project. I've had an idea for a scheduling tool for running clubs for months.",
                "She recalls a personal idea she could actually pursue.",
                "Channelling envy into action aligned with her interests turns a painful feeling into "
                "direction.",
                "hopeful",
                "Running clubs and clean scheduling. That sounds like it's been waiting for you.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 3 ENFP, marine biology student
    {
        "persona": 3,
        "emotion": "excited",
        "situation": "I just got accepted for a summer research placement studying coral recovery on the "
        "Great Barrier Reef.",
        "turns": [
            (
                "I GOT IT!!! The reef placement! Six weeks on a research station counting baby corals!",
                "He is ecstatic about being accepted onto a reef research placement.",
                "Matching his ENFP enthusiasm amplifies the joy of the moment.",
                "excited",
                "YES! Six weeks on the reef! That's huge. You must be bouncing off the walls.",
            ),
            (
                "Biscuit thinks I've lost it, I've been dancing around the kitchen. I applied to three "
                "and honestly thought I'd get none.",
                "He is celebrating and admits he doubted himself.",
                "Acknowledging his surprise while affirming that the place was earned strengthens his "
                "self-belief.",
                "joyful",
                "Kitchen dancing is the correct response. They picked you for a reason.",
            ),
            (
                "Only thing is, who'll look after Biscuit for six weeks? He's never been away from me.",
                "His excitement is mixed with worry about leaving his dog.",
                "Validating his devotion to Biscuit while pointing to practical solutions keeps the "
                "worry manageable.",
                "caring",
                "Of course he's on your mind. A trusted friend could send you daily Biscuit updates.",
            ),
            (
                "My sister has been begging to dogsit him forever. I'll ask her tonight!",
                "He has found a likely solution.",
                "Celebrating the resolution returns the conversation to his excitement.",
                "excited",
                "Perfect! Biscuit gets a holiday, you get the reef. Everyone wins.",
            ),
        ],
    },
    {
        "persona": 3,
        "emotion": "guilty",
        "situation": "I completely forgot my best friend's birthday last week because I was buried in exams "
        "and café shifts.",
        "turns": [
            (
                "I forgot Sam's birthday. Totally. She posted photos of her dinner and I just... forgot. "
                "Who forgets their best friend?",
                "He forgot his best friend's birthday and is berating himself.",
                "Validating the guilt while noting the context of exams and work helps prevent a spiral "
                "of shame.",
                "guilty",
                "Oof, that sinking feeling. Forgetting during exams happens; it doesn't measure how much "
                "you care.",
            ),
            (
                "She hasn't said anything, which is somehow worse. I keep drafting messages and deleting "
                "them.",
                "He is anxious about her silence and stuck on finding the perfect words.",
                "Encouraging a simple, sincere apology lowers the bar and relieves the paralysis.",
                "anxious",
                "Maybe skip the perfect message. A plain 'I'm so sorry I forgot' goes a long way.",
            ),
            (
                "I sent it. She replied 'you owe me a pancake breakfast' and a skull emoji.",
                "He apologised and she answered with humour.",
                "Her playful reply signals forgiveness; reflecting that lets him feel the relief.",
                "grateful",
                "A pancake-based sentence sounds a lot like forgiveness. She sounds like a great friend.",
            ),
            (
                "She really is. I'm going all out. Blueberries, whipped cream, a tiny candle.",
                "He is planning a generous way to make amends.",
                "Affirming his warmth and playfulness closes the loop on the guilt.",
                "excited",
                "The tiny candle is the perfect touch. Belated birthdays can be the sweetest ones.",
            ),
        ],
    },
    {
        "persona": 3,
        "emotion": "afraid",
        "situation": "My rescue dog Biscuit swallowed part of a rubber toy and the vet says he needs surgery "
        "tomorrow morning.",
        "turns": [
            (
                "Biscuit swallowed a chunk of his rubber duck. The vet says surgery tomorrow morning. "
                "I'm shaking.",
                "His dog needs surgery and he is frightened.",
                "Pets are family; acknowledging the fear and staying present matters more than advice.",
                "afraid",
                "That's so frightening. Biscuit is your whole little world. I'm glad he's already with "
                "a vet.",
            ),
            (
                "What if something goes wrong under anaesthetic? He's so small.",
                "He fears complications during the operation.",
                "Validating the fear without false promises, while noting vets do this routinely, offers "
                "honest comfort.",
                "afraid",
                "That fear makes sense. Vets do this surgery often, and they'll watch him closely the "
                "whole time.",
            ),
            (
                "The vet nurse said I can call at ten. I don't know how I'll sleep.",
                "He is anticipating a sleepless night of waiting.",
                "Offering permission not to sleep perfectly, plus a small comfort, eases the pressure.",
                "anxious",
                "Sleep may be patchy tonight, and that's okay. Keep his blanket close and set an alarm "
                "for ten.",
            ),
        ],
    },
    {
        "persona": 3,
        "emotion": "grateful",
        "situation": "Biscuit came through his surgery well, and my coworkers at the café chipped in to help "
        "cover the vet bill.",
        "turns": [
            (
                "Biscuit's home! Wobbly, wearing a cone, deeply offended, but home.",
                "His dog has recovered from surgery and is back home.",
                "Sharing his relief and humour celebrates the good outcome.",
                "joyful",
                "Offended and coned is the best kind of home! What a relief. Gentle scratches from me.",
            ),
            (
                "And the café crew put money in a jar for the vet bill. Nearly four hundred dollars. I "
                "cried at the espresso machine.",
                "His coworkers helped financially and he is deeply moved.",
                "Reflecting his gratitude and what the gesture says about his community deepens the "
                "moment.",
                "grateful",
                "Crying at the espresso machine is completely fair. That's a crew who really care about "
                "you.",
            ),
            (
                "I want to thank them properly but I'm broke now. Ha.",
                "He wants to show thanks despite having little money.",
                "Suggesting a heartfelt, low-cost gesture suits his creativity and relieves the money "
                "worry.",
                "grateful",
                "Thanks doesn't need money. A handwritten card with a Biscuit photo might mean the most.",
            ),
            (
                "A cone photo card. Genius. He looks extremely dramatic in it.",
                "He loves the idea and is back to his playful self.",
                "Joining in the lightness ends the conversation on warmth.",
                "joyful",
                "A dramatic cone portrait signed with a paw print. They'll pin it above the till.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 4 ISFJ, retired teacher, Kraków
    {
        "persona": 4,
        "emotion": "caring",
        "situation": "My husband Tadeusz had a stroke four months ago, and I help him with his exercises and "
        "speech practice every day.",
        "turns": [
            (
                "Tadeusz said three new words today in speech practice. 'Tea', 'window' and my name. We "
                "practise every morning after breakfast.",
                "She shares her husband's progress in speech therapy and their daily routine.",
                "Her devoted caregiving is evident; celebrating the progress also recognises her part "
                "in it.",
                "caring",
                "Your name among the first words. All those mornings of practice are showing, for both "
                "of you.",
            ),
            (
                "Some days he gets frustrated and pushes the cards away. I never know whether to push "
                "him or let him rest.",
                "She struggles to balance encouragement and rest.",
                "This dilemma is common among caregivers; validating it and suggesting she follow his "
                "cues relieves some pressure.",
                "anxious",
                "That's such a hard balance. Letting him rest on bad days is also part of the care.",
            ),
            (
                "My daughter says I should rest too. But who would do it if not me?",
                "She neglects her own rest, feeling solely responsible for him.",
                "She tends to put others first; framing rest as what sustains her caregiving makes it "
                "acceptable to her.",
                "caring",
                "You carry so much. Resting isn't abandoning him; it keeps you able to keep caring.",
            ),
            (
                "Perhaps I could let her take Sunday mornings. I could go to the market alone, for once.",
                "She is considering accepting help.",
                "Affirming this small step encourages shared care without guilt.",
                "hopeful",
                "A quiet market morning sounds lovely. He'll be in good hands, and you'll come back "
                "refreshed.",
            ),
        ],
    },
    {
        "persona": 4,
        "emotion": "nostalgic",
        "situation": "While clearing out a wardrobe I found a box of class photographs from my thirty years "
        "of teaching.",
        "turns": [
            (
                "I found a box of my old class photos. 1989, 1994, 2003... all those little faces with "
                "missing teeth.",
                "She discovered old class photographs that bring back many memories.",
                "Teaching was central to her identity; reflecting the warmth of the memories honours "
                "that.",
                "nostalgic",
                "Thirty years of gap-toothed smiles in one box. What a treasure to stumble across.",
            ),
            (
                "I remember almost every name. Little Kasia, who cried every morning in September and "
                "led the school choir by June.",
                "She recalls individual children and how they grew.",
                "Her detailed memory shows how much she cared; honouring it affirms her life's work.",
                "nostalgic",
                "Remembering their names and their growing shows how much of yourself you gave them.",
            ),
            (
                "Some of them must have children of their own by now. It makes me feel old, but also a "
                "little proud.",
                "She has mixed feelings about ageing and pride in her former pupils.",
                "Validating both feelings together avoids forcing her into one.",
                "proud",
                "Both feelings fit. Somewhere, those children are passing on things they learned from "
                "you.",
            ),
            (
                "I think I'll show Tadeusz tonight. He used to help me cut paper snowflakes for the "
                "classroom windows.",
                "She plans to share the memories with her husband.",
                "Shared reminiscence can comfort both of them, especially during his recovery.",
                "sentimental",
                "What a lovely idea. Looking through them together might bring the snowflakes back for "
                "him too.",
            ),
        ],
    },
    {
        "persona": 4,
        "emotion": "grateful",
        "situation": "A former pupil who is now a physiotherapist heard about my husband's stroke and "
        "offered to visit him every week without charge.",
        "turns": [
            (
                "You won't believe it. Marek, a boy from my 1996 class, is a physiotherapist now. He "
                "heard about Tadeusz and offered to come every week.",
                "A former pupil has offered weekly physiotherapy for her husband.",
                "Kindness returning to her after decades is deeply meaningful; reflecting her surprise "
                "and gratitude honours it.",
                "grateful",
                "What a beautiful circle. The boy you taught is now helping your family.",
            ),
            (
                "He said I was the one who told him he had good, patient hands. I don't even remember "
                "saying it.",
                "She learns that a remark of hers shaped his career choice.",
                "Highlighting the lasting impact of small words affirms the value of her teaching.",
                "surprised",
                "You planted that without knowing. A teacher's small words can shape a whole life.",
            ),
            (
                "I tried to pay him and he refused. I'll feed him at least. Pierogi every Thursday.",
                "She wants to repay him through cooking.",
                "She shows care through service; affirming her way of giving back feels right to her.",
                "grateful",
                "Pierogi every Thursday sounds like the perfect payment. I suspect he'll never miss a "
                "session.",
            ),
        ],
    },
    {
        "persona": 4,
        "emotion": "faithful",
        "situation": "Today was our thirty-eighth wedding anniversary, and I spent it beside Tadeusz at the "
        "rehabilitation centre.",
        "turns": [
            (
                "Today is our thirty-eighth anniversary. We spent it at the rehab centre, me holding his "
                "hand while he practised standing.",
                "She spent her anniversary supporting her husband through rehabilitation.",
                "Her steady loyalty is striking; honouring the devotion validates how she chose to spend "
                "the day.",
                "faithful",
                "Thirty-eight years, and you're still standing beside him, literally. That's a deep kind "
                "of love.",
            ),
            (
                "A nurse asked how I manage to come every day. I told her I promised 'in sickness and in "
                "health', and I meant it.",
                "She affirms her lifelong commitment to her vows.",
                "Reflecting her conviction honours her values without idealising the hardship.",
                "faithful",
                "You meant it then and you live it now. A promise kept like that is rare.",
            ),
            (
                "He squeezed my hand at the end of the session. He can't say much yet, but I knew what "
                "he meant.",
                "She describes a tender, wordless moment with her husband.",
                "Honouring their non-verbal connection affirms that their bond remains intact.",
                "sentimental",
                "A squeeze can say thirty-eight years of things. What a tender anniversary gift.",
            ),
            (
                "Next year I want us to dance in the kitchen again, even slowly.",
                "She voices hope for his further recovery.",
                "Supporting her hope without overpromising keeps it grounded and warm.",
                "hopeful",
                "Slow kitchen dancing is a beautiful goal. Every small step in rehab moves toward it.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 5 ENTP, designer, Mexico City
    {
        "persona": 5,
        "emotion": "sad",
        "situation": "This is the first weekend my daughter is spending with her mother and her mother's new "
        "partner, and my apartment feels empty.",
        "turns": [
            (
                "Lucía's at her mom's this weekend. First time with the new boyfriend around. I made two "
                "plates of breakfast out of habit.",
                "His daughter is away and he instinctively cooked for two.",
                "The habitual gesture reveals his sense of loss; gentle validation fits better than "
                "advice.",
                "sad",
                "Two plates out of habit. That quiet moment says so much about how she fills your days.",
            ),
            (
                "I know it's fine. He seems decent. I'm just not ready for another guy reading her "
                "bedtime stories.",
                "He accepts the situation rationally but struggles with another man in his daughter's "
                "life.",
                "Validating both his fairness and his pang lets him feel it without guilt.",
                "jealous",
                "You can think he's decent and still feel a pang. Bedtime stories are sacred territory.",
            ),
            (
                "Ha. She says I do the best dinosaur voices. Nobody's beating my T. rex.",
                "He uses humour to reassure himself about his bond with her.",
                "Meeting his ENTP humour and affirming his unique role eases the sadness.",
                "proud",
                "Nobody replaces the official T. rex voice. What you two have is yours alone.",
            ),
            (
                "I might draw her a dinosaur comic for Sunday night. Keeps my hands busy too.",
                "He plans a creative gift that also helps him cope.",
                "Supporting a creative outlet gives the empty weekend some purpose.",
                "hopeful",
                "A dinosaur comic is a gift for both of you. She'll love it, and the weekend will pass "
                "easier.",
            ),
        ],
    },
    {
        "persona": 5,
        "emotion": "furious",
        "situation": "A client used my logo designs for their whole rebrand but now refuses to pay the final "
        "invoice, claiming the work 'wasn't what they wanted.'",
        "turns": [
            (
                "Client rejected my invoice because the logo 'wasn't what they wanted.' It's on their "
                "storefront. Their vans. Their WEBSITE.",
                "A client is using his work everywhere while refusing to pay for it.",
                "The injustice is blatant; validating his fury shows he is not overreacting.",
                "furious",
                "They're using it everywhere and won't pay? That's not a taste issue; that's taking your "
                "work.",
            ),
            (
                "I want to post the whole email thread online and let the internet deal with them.",
                "He has an impulse to shame the client publicly.",
                "Acknowledging the impulse before steering toward actions that protect him keeps him "
                "feeling understood.",
                "furious",
                "That urge is completely understandable. Keeping the receipts private for now may "
                "protect you better.",
            ),
            (
                "Yeah, fair. I have the signed contract and their approval email. That's leverage.",
                "He recognises that he holds solid evidence.",
                "Reinforcing a calm, strategic approach channels his anger productively.",
                "confident",
                "Signed contract plus approval email is strong ground. A formal demand letter should get "
                "attention.",
            ),
            (
                "Drafting it now. Polite, cold, and devastatingly specific.",
                "He is turning his anger into a precise letter.",
                "Affirming his tone and his right to be paid closes on empowerment.",
                "prepared",
                "Polite, cold and specific is the perfect tone. Your work deserves to be paid for.",
            ),
        ],
    },
    {
        "persona": 5,
        "emotion": "surprised",
        "situation": "My ex-wife, with whom things have been tense since the divorce, invited me to plan our "
        "daughter's birthday party together.",
        "turns": [
            (
                "Plot twist: my ex texted asking if we could plan Lucía's birthday together. Same party, "
                "both of us. Did not see that coming.",
                "He received an unexpected cooperative gesture from his ex-wife.",
                "Reflecting his surprise leaves room to explore the mixed feelings underneath.",
                "surprised",
                "That is a twist! After all the tension, a shared party must feel pretty unexpected.",
            ),
            (
                "Part of me is suspicious. Part of me thinks it's the best thing for Lucía.",
                "He feels both wary and aware of the benefit for his daughter.",
                "Validating ambivalence shows both reactions are reasonable.",
                "apprehensive",
                "Both parts make sense. You can protect yourself and still say yes for Lucía.",
            ),
            (
                "She wants a dinosaur theme. I could design the invitations. Might actually be fun.",
                "He warms to the idea through his design skills.",
                "Encouraging his creative contribution builds positive momentum.",
                "excited",
                "A designer dad and a dinosaur theme? Lucía's getting the best invitations in her class.",
            ),
            (
                "Okay, I'm in. Step one of co-parenting like adults.",
                "He commits to cooperating with his ex-wife.",
                "Affirming this generous step recognises his growth and his daughter's gain.",
                "hopeful",
                "That's a generous step. Lucía will remember a birthday where both parents showed up "
                "together.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 6 ISTP, mechanic, Ontario
    {
        "persona": 6,
        "emotion": "devastated",
        "situation": "My father died three weeks ago, and today I opened his old toolbox for the first time.",
        "turns": [
            (
                "Opened Dad's toolbox today. Everything's still where he left it. Couldn't close it "
                "again.",
                "He opened his late father's toolbox and was overwhelmed by grief.",
                "He uses few words, so a simple, unhurried response that sits with the loss fits best.",
                "devastated",
                "I'm so sorry. His hands were the last to put those tools away. No wonder it stopped "
                "you.",
            ),
            (
                "He taught me everything on that bench. Didn't thank him enough.",
                "He regrets not expressing gratitude to his father.",
                "Regret is common in grief; gently reframing how he showed thanks can ease the guilt.",
                "guilty",
                "Maybe you thanked him the way he'd understand: by doing the work the way he taught you.",
            ),
            (
                "Yeah. He'd have said that too. Shorter though.",
                "He responds with a small, wry joke about his father's terseness.",
                "Allowing the humour and warmth without pushing further respects his style.",
                "sad",
                "Probably just a nod. Sounds like you two understood each other.",
            ),
            (
                "Gonna leave the box open on the bench for now.",
                "He has decided to leave the toolbox as it is.",
                "Respecting his pace of grieving matters more than any advice.",
                "sad",
                "That sounds right. There's no schedule for closing it.",
            ),
        ],
    },
    {
        "persona": 6,
        "emotion": "sentimental",
        "situation": "I've started restoring my late father's 1978 motorcycle, which sat under a tarp in "
        "his barn for twenty years.",
        "turns": [
            (
                "Pulled Dad's old '78 bike out of the barn. Twenty years under a tarp. Going to get her "
                "running.",
                "He is beginning to restore his father's motorcycle.",
                "Working with his hands is how he grieves; recognising the restoration as a tribute "
                "honours that.",
                "sentimental",
                "That's a fitting way to honour him: bringing his bike back to life with your own hands.",
            ),
            (
                "Found his initials scratched under the seat. And a receipt from 1981 for brake pads.",
                "He found personal traces of his father on the bike.",
                "Small objects carry big meaning; reflecting that lets him feel the connection.",
                "sentimental",
                "His initials and an old receipt. Little messages, tucked right where you'd find them.",
            ),
            (
                "Keeping the receipt in my wallet. Sounds dumb.",
                "He downplays his wish to keep the receipt.",
                "Normalising keepsakes lets him hold on without embarrassment.",
                "embarrassed",
                "Not dumb at all. It's a small piece of him you can carry.",
            ),
            (
                "First time she starts, I'm taking her down his old road.",
                "He plans to ride his father's route once the bike runs.",
                "Honouring the plan reflects continuity between father and son.",
                "hopeful",
                "His bike, his road, his son riding it. I think he'd like that.",
            ),
        ],
    },
    {
        "persona": 6,
        "emotion": "impressed",
        "situation": "My sixteen-year-old apprentice found and fixed an electrical fault that had stumped me "
        "for a whole day.",
        "turns": [
            (
                "My apprentice found the short that's been driving me nuts. Frayed wire behind the "
                "headlight. Kid's sixteen.",
                "He is impressed that his young apprentice solved a stubborn problem.",
                "Sharing his admiration also points, quietly, to his own role as mentor.",
                "impressed",
                "Sixteen and beating a stubborn short? That kid's got real instincts.",
            ),
            (
                "Didn't even ask me. Just traced it with the multimeter like I showed him.",
                "The apprentice applied his teaching independently.",
                "Reflecting that the success is partly his teaching lets him feel some pride.",
                "proud",
                "Like you showed him. That's your teaching working without you in the room.",
            ),
            (
                "Guess I'll give him the vintage Triumph job next week.",
                "He plans to give the apprentice more responsibility.",
                "Affirming his trust supports a good mentoring relationship and echoes his own "
                "upbringing in the trade.",
                "trusting",
                "Trusting him with bigger jobs is how good mechanics get made. Sounds like your dad's "
                "way too.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 7 ESFP, dance instructor, Dubai
    {
        "persona": 7,
        "emotion": "anxious",
        "situation": "Tomorrow I teach my first class at the new studio in Dubai, to an advanced group I "
        "have never met.",
        "turns": [
            (
                "First class tomorrow at the new studio. Advanced group. What if they think I'm not good "
                "enough because I'm new?",
                "She is nervous about teaching advanced students in a new country.",
                "She thrives on connection, so fear of not being accepted hits hard; validating the "
                "nerves and recalling her strengths helps.",
                "anxious",
                "New city, new students, first impressions. Of course your heart is racing. They hired "
                "you for a reason.",
            ),
            (
                "In Cebu I knew everyone. Here I don't even know how they like to warm up.",
                "She misses the familiarity of her old studio.",
                "Validating the change and suggesting curiosity as an opener turns the unknown into "
                "connection.",
                "apprehensive",
                "That's a big change. Ask them tomorrow what they love. Dancers warm up to being asked.",
            ),
            (
                "Good idea. Maybe I'll open with my favourite OPM song to break the ice.",
                "She plans to share a piece of her own culture.",
                "Encouraging authenticity lets her energy lead.",
                "hopeful",
                "Bringing a bit of home into the room is perfect. Your energy is the best introduction.",
            ),
            (
                "Okay. Voice-noting my mum for a pep talk now. Then sleep!",
                "She turns to family for support before resting.",
                "Affirming her coping plan sends her off confident.",
                "prepared",
                "Mum's pep talk and a good sleep. You're ready. Go shine tomorrow.",
            ),
        ],
    },
    {
        "persona": 7,
        "emotion": "joyful",
        "situation": "My students secretly planned a surprise birthday celebration for me at the end of "
        "class, on my first birthday away from home.",
        "turns": [
            (
                "It's my birthday and I thought no one here knew. Then my students turned off the lights "
                "and came in with a mango cake!",
                "Her students surprised her with a birthday cake.",
                "Sharing her joy matters all the more because it is her first birthday abroad.",
                "joyful",
                "A surprise mango cake! Happy birthday! What a way to find out you're already loved "
                "here.",
            ),
            (
                "They even learned to sing happy birthday in Tagalog. Badly. I cried so much my mascara "
                "ran.",
                "She is deeply moved by the effort her students made.",
                "Reflecting how touching the effort was validates her tears of happiness.",
                "grateful",
                "Badly sung in Tagalog is the most beautiful version. They clearly adore you.",
            ),
            (
                "I was dreading spending it alone. Now I feel like I belong here a little.",
                "Her dread has turned into a sense of belonging.",
                "Affirming that belonging helps her hold onto it in the weeks ahead.",
                "content",
                "From dreading it to belonging. That's a birthday gift you'll remember for years.",
            ),
        ],
    },
    {
        "persona": 7,
        "emotion": "terrified",
        "situation": "Last night I was stuck alone in the lift of my apartment building, between floors, for "
        "forty minutes.",
        "turns": [
            (
                "I got stuck in the lift last night. Forty minutes, alone, lights flickering. I've never "
                "been so scared.",
                "She was trapped in a lift and is still shaken.",
                "Acknowledging the terror and her present safety helps her nervous system settle.",
                "terrified",
                "Forty minutes alone with flickering lights sounds terrifying. I'm really glad you're "
                "out and safe.",
            ),
            (
                "My phone had no signal. I just kept pressing the alarm and singing so I wouldn't panic.",
                "She coped by singing while waiting for help.",
                "Highlighting her resourceful coping restores a sense of competence.",
                "terrified",
                "Singing through it was a brilliant instinct. You kept yourself steady in a frightening "
                "spot.",
            ),
            (
                "Now I'm scared to use it again. And I live on the fourteenth floor.",
                "Her fear persists and creates a practical problem.",
                "Normalising fear after a scare and suggesting gradual exposure is both kind and useful.",
                "afraid",
                "That fear is normal after a scare. Maybe ride it with a neighbour at first, until it "
                "feels ordinary.",
            ),
            (
                "The manager says they're replacing the control panel this week. Stairs until then. Good "
                "cardio for a dancer!",
                "She has a plan and her humour is returning.",
                "Matching her humour affirms her recovery.",
                "hopeful",
                "Fourteen floors of stairs: the ultimate leg day. Glad it's being fixed properly.",
            ),
        ],
    },
    {
        "persona": 7,
        "emotion": "ashamed",
        "situation": "I snapped at my mother during our video call when she asked again when I'm coming "
        "home, and then I hung up on her.",
        "turns": [
            (
                "Mum asked again when I'm coming home and I snapped. Told her to stop guilt-tripping me "
                "and hung up. Who does that to their mum?",
                "She lashed out at her mother and feels ashamed.",
                "Validating the shame while placing it in the context of homesickness keeps her from "
                "condemning herself.",
                "ashamed",
                "That sounds like a painful moment. Snapping once doesn't make you a bad daughter.",
            ),
            (
                "She just misses me. I miss her too. That's probably why it hurt so much to hear.",
                "She realises shared longing triggered her reaction.",
                "Reflecting her insight shows the anger was covering sadness.",
                "sad",
                "That's a wise read. Sometimes we snap hardest when the missing hurts most.",
            ),
            (
                "I'll call back tonight and say sorry. Maybe tell her I miss her instead of getting "
                "defensive.",
                "She plans to repair the relationship.",
                "Supporting the repair reinforces her warmth and self-awareness.",
                "hopeful",
                "That sounds just right. Hearing 'I miss you too' will probably mean the world to her.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 8 INFJ, hospice social worker
    {
        "persona": 8,
        "emotion": "content",
        "situation": "After a heavy week at the hospice, I spent a slow Sunday walking by the sea and "
        "reading in a café.",
        "turns": [
            (
                "Sunday was perfect. A long walk along Portobello beach, then two hours with a book and a "
                "pot of tea. No phone.",
                "She describes a restful day after a demanding week.",
                "Affirming rest is especially important for someone prone to compassion fatigue.",
                "content",
                "That sounds deeply restorative. After a week of holding others' grief, you gave "
                "yourself space.",
            ),
            (
                "I used to feel guilty taking days like this. Like I should be volunteering or doing "
                "something useful.",
                "She notices the guilt she used to feel about resting.",
                "She tends to over-give; validating rest as necessary supports the change she is making.",
                "content",
                "Rest is useful. It's what lets you keep showing up with such care for people.",
            ),
            (
                "My therapist said something similar. I'm starting to believe it.",
                "She is integrating what she is learning in therapy.",
                "Affirming this growth encourages her to keep extending compassion to herself.",
                "hopeful",
                "Starting to believe it is a big shift. You're learning to hold space for yourself too.",
            ),
        ],
    },
    {
        "persona": 8,
        "emotion": "trusting",
        "situation": "In my fourth therapy session I finally told my therapist how burnt out I have been "
        "feeling at work.",
        "turns": [
            (
                "Today I told my therapist I've been crying in the car after work most days. I've never "
                "said that out loud to anyone.",
                "She disclosed her burnout to her therapist for the first time.",
                "Recognising the courage and trust this took reinforces her decision to open up.",
                "trusting",
                "Saying that aloud for the first time takes real trust. I'm glad you had a safe place for "
                "it.",
            ),
            (
                "It's strange. I'm the one who usually listens. Being on the other side felt exposing.",
                "The role reversal leaves her feeling vulnerable.",
                "Natural listeners often find receiving care harder than giving it; naming this "
                "normalises her discomfort.",
                "apprehensive",
                "That makes sense. Receiving care can feel harder than giving it, especially for "
                "natural listeners.",
            ),
            (
                "She didn't flinch, though. She just said it made sense, given what I see every day.",
                "Her therapist responded with calm acceptance.",
                "Reinforcing that acceptance helps her see her distress as a human response, not a "
                "failing.",
                "trusting",
                "That acceptance matters. What you witness is heavy, and your feelings are a human "
                "response to it.",
            ),
            (
                "I think I'll keep going. Even when it's uncomfortable.",
                "She commits to continuing therapy.",
                "Supporting the commitment honours her courage.",
                "hopeful",
                "That's brave and wise. You deserve the same care you give everyone else.",
            ),
        ],
    },
    {
        "persona": 8,
        "emotion": "disgusted",
        "situation": "Someone left a taped-up cardboard box with four kittens inside beside the bins outside "
        "the cat shelter, overnight in the rain.",
        "turns": [
            (
                "We found a taped box by the shelter bins this morning. Four kittens inside, soaked and "
                "freezing. Who does that?",
                "She found abandoned kittens and is appalled by the cruelty.",
                "Validating her disgust and distress comes first; the cruelty is real.",
                "disgusted",
                "That's horrible. Taping them in and leaving them in the rain is cruel. I'm so glad you "
                "found them.",
            ),
            (
                "The tape is what got me. Like they didn't even want them to crawl out. I felt sick.",
                "Her revulsion centres on the deliberateness of the act.",
                "Reflecting her moral disgust shows it comes from her compassion.",
                "disgusted",
                "That detail would turn anyone's stomach. Your revulsion shows how much compassion you "
                "carry.",
            ),
            (
                "Three are doing okay under the heat lamps now. The smallest one is touch and go.",
                "She gives an update and is worried about the weakest kitten.",
                "Acknowledging her worry and her care keeps hope alive without false promises.",
                "caring",
                "Three warming up is wonderful. The little one is lucky to have people fighting for her.",
            ),
            (
                "I've named her Thistle. Tough little Scottish flower.",
                "She named the smallest kitten, a sign of hope.",
                "Affirming the name and its meaning shares in her hope.",
                "hopeful",
                "Thistle is perfect. Small, prickly and stubborn about surviving. Rooting for her.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 9 ESTP, line cook, Chicago
    {
        "persona": 9,
        "emotion": "anticipating",
        "situation": "After six years of saving, my food truck opens for the first time this Saturday at a "
        "farmers' market.",
        "turns": [
            (
                "Saturday. Farmers' market. The truck's first day. Six years of saving and it's four days "
                "away, man.",
                "He is counting down to his food truck's opening.",
                "Sharing his anticipation also recognises the years of effort behind it.",
                "anticipating",
                "Four days to the end of six years of dreaming! You must be counting the hours.",
            ),
            (
                "I've prepped the menu ten times. Brisket tacos, elote, horchata. But my head keeps "
                "going 'what if nobody comes?'",
                "He mixes excitement with fear that nobody will show up.",
                "Validating launch nerves while pointing to the real appeal of his food keeps him "
                "grounded.",
                "apprehensive",
                "That worry is normal before any launch. Brisket smoke at a market tends to pull people "
                "in.",
            ),
            (
                "Ha, true. I'm gonna fire the smoker at six a.m. so the smell hits the whole parking lot.",
                "He answers with a bold, practical strategy.",
                "Affirming his quick, action-oriented thinking suits his ESTP style.",
                "confident",
                "Smoke marketing. Nobody walks past that. Very smart opening move.",
            ),
            (
                "My mom's coming too. She's gonna stand there telling everyone I'm her son.",
                "His mother will be there to support him.",
                "Sharing the warmth of family support ends on excitement.",
                "excited",
                "Best hype team there is. Have an amazing first day, chef.",
            ),
        ],
    },
    {
        "persona": 9,
        "emotion": "angry",
        "situation": "My landlord just announced a thirty percent rent increase, right after I spent all my "
        "savings on the food truck.",
        "turns": [
            (
                "Landlord just jacked my rent up thirty percent. Thirty! Right after I sank everything "
                "into the truck.",
                "He faces a large rent increase at the worst possible time.",
                "Validating his anger recognises the real financial pressure behind it.",
                "angry",
                "Thirty percent is brutal, and the timing couldn't be worse. No wonder you're fired up.",
            ),
            (
                "He didn't even fix the heating last winter. I wore my chef's jacket to bed, man.",
                "He resents paying more for a neglected apartment.",
                "Reflecting the unfairness shows his anger is justified.",
                "angry",
                "Paying more for a place where you slept in your chef's jacket? That's infuriating.",
            ),
            (
                "I need to figure out if I can fight it or if I should just move.",
                "He is weighing his options.",
                "Moving toward problem-solving suits his practical nature and reduces helplessness.",
                "anxious",
                "Check local tenant rules first; some cities limit increases or require notice. Then "
                "decide.",
            ),
            (
                "My buddy's a paralegal. I'll ask him tomorrow. Better than punching a wall.",
                "He plans to get informed advice.",
                "Affirming how he is channelling his anger supports a good decision.",
                "prepared",
                "Way better than the wall. Good call getting someone in your corner.",
            ),
        ],
    },
    {
        "persona": 9,
        "emotion": "confident",
        "situation": "After a strong first month, I'm heading to the bank to ask for a small loan to add a "
        "second smoker to the truck.",
        "turns": [
            (
                "Bank meeting in an hour. First month's numbers are solid, sold out three Saturdays "
                "straight. I'm asking for a second smoker.",
                "He is going into a loan meeting backed by strong results.",
                "Affirming his readiness reinforces a confidence that is grounded in evidence.",
                "confident",
                "Three sold-out Saturdays is a strong pitch. You're walking in with proof, not just "
                "hope.",
            ),
            (
                "Printed the sales sheets and wore the one shirt without barbecue sauce on it.",
                "He jokes about his preparation.",
                "Enjoying the humour while affirming his effort keeps the energy up.",
                "prepared",
                "Clean shirt and printed numbers. That's serious business energy.",
            ),
            (
                "Honestly, a year ago I'd have been sweating bullets. Now I know my food works.",
                "He reflects on how much his self-belief has grown.",
                "Naming that growth validates that his confidence was earned.",
                "proud",
                "That's real confidence, earned on the grill. Go get that smoker.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 10 ISTJ, accountant, Osaka
    {
        "persona": 10,
        "emotion": "lonely",
        "situation": "My son lives in Tokyo, and since my wife passed away two years ago I eat most dinners "
        "alone in silence.",
        "turns": [
            (
                "I ate dinner alone again tonight. Grilled fish, rice, miso soup. The house is very quiet "
                "since Keiko passed.",
                "He describes solitary dinners since his wife's death.",
                "He speaks plainly, so quiet, respectful validation suits him better than effusive "
                "comfort.",
                "lonely",
                "Quiet dinners after so many shared ones must feel heavy. I'm sorry Keiko isn't at the "
                "table.",
            ),
            (
                "She always talked about her day while I listened. I did not realise how much I relied "
                "on her voice.",
                "He misses his wife's conversation at dinner.",
                "Reflecting how much her voice meant honours both his love and his grief.",
                "sad",
                "Her voice was part of the rhythm of your evenings. Missing it shows how close you were.",
            ),
            (
                "My son calls on Sundays. I do not want to burden him with this.",
                "He is reluctant to share his loneliness with his son.",
                "Gently questioning the idea of being a burden may open a path to connection.",
                "lonely",
                "He might welcome hearing it. Saying you miss her could bring you two closer.",
            ),
            (
                "Perhaps. There is a man my age in the cooking class. He asked if I want tea after the "
                "next lesson.",
                "A new social connection is possible.",
                "Encouraging a small, low-pressure step suits his cautious nature.",
                "hopeful",
                "That sounds like a good invitation. Tea with a classmate is a gentle place to start.",
            ),
        ],
    },
    {
        "persona": 10,
        "emotion": "anxious",
        "situation": "I am three years from retirement and keep recalculating my pension and savings, afraid "
        "the numbers will not be enough.",
        "turns": [
            (
                "I have recalculated my retirement budget four times this week. The numbers are fine. I "
                "still do not sleep well.",
                "He checks his finances repeatedly even though they add up, and he is losing sleep.",
                "His carefulness has turned into worry; gently suggesting the anxiety is about more than "
                "money invites reflection.",
                "anxious",
                "When the numbers add up but sleep doesn't, the worry may be about more than money.",
            ),
            (
                "Keiko and I planned this retirement together. Now I am planning it alone. Maybe that is "
                "the real problem.",
                "He realises grief lies underneath his financial anxiety.",
                "Honouring this insight validates his loss rather than his spreadsheet.",
                "sad",
                "That's a painful realisation. Planning a shared future alone would unsettle anyone.",
            ),
            (
                "She wanted to see Hokkaido in winter. It was in the plan. Line 14.",
                "He mentions a specific dream they shared, still written in his plan.",
                "Gently suggesting he keep the line honours her memory in a way that fits his "
                "orderliness.",
                "sentimental",
                "Line 14. Maybe keep it in the plan, as a trip for both of you, in a way.",
            ),
            (
                "Yes. I will keep it. I think I will sleep a little better tonight.",
                "He feels some relief after deciding.",
                "Affirming the decision lets him end the day with calm.",
                "content",
                "I'm glad. Some lines in a budget are worth more than their cost.",
            ),
        ],
    },
    {
        "persona": 10,
        "emotion": "proud",
        "situation": "After two months of weekend cooking classes, I made Keiko's nikujaga from her "
        "handwritten notebook, and it tasted right.",
        "turns": [
            (
                "Tonight I made Keiko's nikujaga from her notebook. It tasted like hers. I checked three "
                "times.",
                "He recreated his late wife's recipe successfully.",
                "Acknowledging his pride and the tenderness of the achievement honours both.",
                "proud",
                "You brought her recipe back to life. That's a wonderful achievement, and a tender one.",
            ),
            (
                "Two months ago I could not cut an onion properly. The instructor now says my knife work "
                "is 'acceptable.'",
                "He notes his progress with dry humour.",
                "Celebrating his improvement matches his understated pride.",
                "proud",
                "From onion struggles to 'acceptable' knife work. From a strict instructor, that's high "
                "praise.",
            ),
            (
                "I think I will make it when my son visits next month. He has not tasted it since the "
                "funeral.",
                "He plans to share the dish with his son.",
                "Supporting this meaningful family moment reflects its emotional weight.",
                "sentimental",
                "That would be a beautiful gift. His mother's dish, made by his father's hands.",
            ),
            (
                "I should practise twice more before then. To be certain.",
                "He wants to practise to make sure it is right.",
                "Affirming his thoroughness with warmth honours his character.",
                "prepared",
                "Very thorough, and very you. Keiko would probably smile at that.",
            ),
        ],
    },
    # ---------------------------------------------------------------- 11 ENFJ, medical student, Nairobi
    {
        "persona": 11,
        "emotion": "anxious",
        "situation": "My first big anatomy exam is next week, and I feel responsible not only for myself "
        "but for the study group I lead.",
        "turns": [
            (
                "Anatomy exam in six days. I've sorted my group's revision schedule, but I haven't even "
                "finished my own notes on the lower limb.",
                "She is stressed because she prioritised her group over her own preparation.",
                "She naturally puts others first; validating the load and gently turning attention to "
                "herself helps.",
                "anxious",
                "You've been carrying everyone's schedule and yours got squeezed. That's a lot for six "
                "days.",
            ),
            (
                "If I fail, what does that say to my younger siblings? I'm supposed to be the example.",
                "She fears failing as a role model for her family.",
                "Validating the pressure and reframing what an example really means can lighten it.",
                "afraid",
                "That's heavy pressure. Your siblings learn most from how you handle hard things, not "
                "just grades.",
            ),
            (
                "Maybe I'll ask Wanjiru to run Thursday's session so I can catch up.",
                "She considers delegating part of her role.",
                "Affirming healthy delegation supports both her and her group.",
                "hopeful",
                "Great idea. Wanjiru gets a chance to lead, and you get time to breathe.",
            ),
            (
                "Okay. Lower limb tonight, upper limb tomorrow. I can do this.",
                "She has a plan and renewed self-belief.",
                "Affirming her plan reinforces her confidence.",
                "confident",
                "A clear plan and a steady head. You've got this.",
            ),
        ],
    },
    {
        "persona": 11,
        "emotion": "guilty",
        "situation": "I can't go home for my younger brother's school prize-giving because it falls in my "
        "exam week.",
        "turns": [
            (
                "Baraka is getting the prize for top of his class on Friday and I can't go. I'll be in "
                "the exam hall. He says it's fine but I feel awful.",
                "She will miss her brother's prize ceremony because of her exams.",
                "Her guilt is natural given her role as eldest sibling; validating it shows it comes "
                "from love.",
                "guilty",
                "Missing his big moment is hard when you're usually the one cheering loudest. That guilt "
                "comes from love.",
            ),
            (
                "I helped him with maths every Sunday over video. I wanted to see him go up on that "
                "stage.",
                "She contributed to his success and longed to witness it.",
                "Highlighting her part in his achievement eases the sense of absence.",
                "sad",
                "Those Sunday calls are part of his prize. Your support will be on that stage with him.",
            ),
            (
                "Mum said she'll record it. Maybe I can call him right after my exam.",
                "She is finding ways to be present from afar.",
                "Supporting these creative solutions reinforces connection.",
                "hopeful",
                "That sounds perfect. A call straight from the exam hall to the prize winner.",
            ),
            (
                "I'll write him a card tonight so it arrives before Friday.",
                "She plans to send her brother a card.",
                "Affirming this caring gesture closes the conversation warmly.",
                "caring",
                "A card from his big sister will mean a lot. He'll probably keep it for years.",
            ),
        ],
    },
    {
        "persona": 11,
        "emotion": "joyful",
        "situation": "I just got my anatomy results back: I passed with a distinction, and so did most of my "
        "study group.",
        "turns": [
            (
                "DISTINCTION!! And seven of the nine in our study group passed with merit or higher!",
                "She excelled and her study group did very well.",
                "She delights in collective success; celebrating both her result and the group's "
                "matches her joy.",
                "joyful",
                "Congratulations! A distinction for you and wins all round. That's a celebration for the "
                "whole group.",
            ),
            (
                "I called home and Mum screamed so loud the neighbours came over. Baraka says I'm "
                "'basically a doctor now.'",
                "Her family is sharing in her joy.",
                "Joining in the humour extends the celebration.",
                "joyful",
                "Basically a doctor! Sounds like the whole neighbourhood is celebrating with you.",
            ),
            (
                "The two who didn't pass are really down. I want to help them with the resit without "
                "making it awkward.",
                "She cares about the classmates who struggled.",
                "Affirming her empathy and suggesting a gentle, private approach protects their dignity.",
                "caring",
                "That's so like you. Offer quietly, one-on-one, so it feels like friendship, not rescue.",
            ),
            (
                "Yes, I'll message them privately tomorrow. Tonight we eat nyama choma!",
                "She has a plan for helping and a plan for celebrating.",
                "Encouraging her to enjoy the celebration balances her care for others.",
                "excited",
                "Perfect balance. Enjoy the nyama choma; you've earned every bite.",
            ),
        ],
    },
    {
        "persona": 11,
        "emotion": "embarrassed",
        "situation": "During my first cadaver dissection session I felt faint and had to sit on the floor in "
        "front of my whole class.",
        "turns": [
            (
                "I almost fainted in the dissection lab today. Had to sit on the floor with my head "
                "between my knees while everyone stared.",
                "She nearly fainted in front of her class and feels mortified.",
                "Validating the embarrassment and noting how common this reaction is reduces her sense "
                "of failure.",
                "embarrassed",
                "That sounds mortifying in the moment. Feeling faint at a first dissection is really "
                "common, though.",
            ),
            (
                "I'm supposed to be the one who has it together. The group leader. Not the one on the "
                "floor.",
                "The incident threatens her image of herself as a leader.",
                "Reframing leadership as compatible with being human eases her shame.",
                "ashamed",
                "Leaders get dizzy too. Showing you're human may help others feel safer about their own "
                "struggles.",
            ),
            (
                "Actually, two people messaged me afterwards saying they felt sick too but didn't want "
                "to say.",
                "Her classmates confided similar feelings.",
                "Pointing out that her openness helped others turns the moment into something positive.",
                "surprised",
                "See? You gave them permission to be honest. That's leadership too.",
            ),
            (
                "The lecturer said to eat breakfast next time. Noted. Very noted.",
                "She takes away a practical lesson with humour.",
                "Matching her lightness confirms she has moved past the embarrassment.",
                "prepared",
                "Breakfast: the unsung hero of anatomy. Next session, you'll be ready.",
            ),
        ],
    },
]


def anon_username(profile_text: str) -> str:
    return "user_" + hashlib.sha1(profile_text.encode("utf-8")).hexdigest()[:6]


def build_dialogue(spec: dict) -> dict:
    mbti, person = PERSONAS[spec["persona"]]
    assert spec["emotion"] in EMOTIONS, spec["emotion"]
    messages = [{"role": "system", "content": system_prompt(person, spec["situation"])}]
    for user, understanding, reasoning, emotion, response in spec["turns"]:
        assert emotion in EMOTIONS, emotion
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": render(understanding, reasoning, emotion, response)})
    return {
        "person": person,
        "mbti": mbti,
        "emotion": spec["emotion"],
        "situation": spec["situation"],
        "anon_username": anon_username(person),
        "messages": messages,
    }


def main() -> None:
    PERSONAS_OUT.parent.mkdir(parents=True, exist_ok=True)
    DIALOGUES_OUT.parent.mkdir(parents=True, exist_ok=True)
    with PERSONAS_OUT.open("w", encoding="utf-8") as f:
        for mbti, person in PERSONAS:
            f.write(json.dumps({"person": person, "mbti": mbti}, ensure_ascii=False) + "\n")
    with DIALOGUES_OUT.open("w", encoding="utf-8") as f:
        for spec in DIALOGUES:
            f.write(json.dumps(build_dialogue(spec), ensure_ascii=False) + "\n")
    print(f"wrote {len(PERSONAS)} personas to {PERSONAS_OUT.relative_to(ROOT)}")
    print(f"wrote {len(DIALOGUES)} dialogues to {DIALOGUES_OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
