"""The verbs the phrases conjugate (base -> third person singular, past) and the nouns a
figure counts (singular -> plural): ``{v:...}``, ``{t:...}``, ``{N:x:...}`` look them up."""

from __future__ import annotations

# -- verbs: base -> (third person singular, past) ---------------------------------

VERBS = {
    "arrive": ("arrives", "arrived"), "be": ("is", "was"), "begin": ("begins", "began"),
    "belong": ("belongs", "belonged"), "burn": ("burns", "burned"), "call": ("calls", "called"),
    "carry": ("carries", "carried"), "climb": ("climbs", "climbed"), "close": ("closes", "closed"),
    "come": ("comes", "came"), "count": ("counts", "counted"), "cross": ("crosses", "crossed"),
    "decide": ("decides", "decided"), "drift": ("drifts", "drifted"), "drip": ("drips", "dripped"),
    "drain": ("drains", "drained"), "end": ("ends", "ended"), "fall": ("falls", "fell"),
    "fill": ("fills", "filled"), "find": ("finds", "found"), "follow": ("follows", "followed"),
    "gather": ("gathers", "gathered"), "glow": ("glows", "glowed"), "grow": ("grows", "grew"),
    "hang": ("hangs", "hung"), "hear": ("hears", "heard"), "hold": ("holds", "held"),
    "hum": ("hums", "hummed"), "keep": ("keeps", "kept"), "kneel": ("kneels", "knelt"),
    "knock": ("knocks", "knocked"), "know": ("knows", "knew"), "lead": ("leads", "led"),
    "lean": ("leans", "leaned"), "leak": ("leaks", "leaked"), "lie": ("lies", "lay"),
    "listen": ("listens", "listened"), "look": ("looks", "looked"), "lose": ("loses", "lost"),
    "mind": ("minds", "minded"), "move": ("moves", "moved"), "open": ("opens", "opened"),
    "pass": ("passes", "passed"), "pour": ("pours", "poured"), "press": ("presses", "pressed"),
    "read": ("reads", "read"), "refuse": ("refuses", "refused"), "remember": ("remembers", "remembered"),
    "rise": ("rises", "rose"), "run": ("runs", "ran"), "say": ("says", "said"),
    "see": ("sees", "saw"), "shine": ("shines", "shone"), "show": ("shows", "showed"),
    "shrink": ("shrinks", "shrank"), "sing": ("sings", "sang"), "sink": ("sinks", "sank"),
    "sit": ("sits", "sat"), "sleep": ("sleeps", "slept"), "slip": ("slips", "slipped"),
    "spill": ("spills", "spilled"), "stand": ("stands", "stood"), "stay": ("stays", "stayed"),
    "stop": ("stops", "stopped"), "swell": ("swells", "swelled"), "swim": ("swims", "swam"),
    "take": ("takes", "took"), "tell": ("tells", "told"), "try": ("tries", "tried"),
    "turn": ("turns", "turned"), "wade": ("wades", "waded"), "wait": ("waits", "waited"),
    "wake": ("wakes", "woke"), "walk": ("walks", "walked"), "wander": ("wanders", "wandered"),
    "wash": ("washes", "washed"), "whisper": ("whispers", "whispered"), "write": ("writes", "wrote"),
    "give": ("gives", "gave"), "break": ("breaks", "broke"), "shout": ("shouts", "shouted"),
    "rattle": ("rattles", "rattled"), "settle": ("settles", "settled"), "hide": ("hides", "hid"),
    "bring": ("brings", "brought"), "forget": ("forgets", "forgot"), "ask": ("asks", "asked"),
    "answer": ("answers", "answered"), "ring": ("rings", "rang"), "spin": ("spins", "spun"), "search": ("searches", "searched"), "point": ("points", "pointed"),
    "fold": ("folds", "folded"), "pile": ("piles", "piled"), "sort": ("sorts", "sorted"),
    "empty": ("empties", "emptied"), "trickle": ("trickles", "trickled"), "shiver": ("shivers", "shivered"),
    "sweat": ("sweats", "sweated"), "blow": ("blows", "blew"), "tick": ("ticks", "ticked"),
}

# -- nouns counted by a figure: singular -> plural ------------------------------

NOUNS = {
    "voice": "voices", "person": "people", "room": "rooms", "time": "times", "try": "tries",
    "minute": "minutes", "page": "pages", "word": "words", "letter": "letters",
    "envelope": "envelopes", "knock": "knocks",
}

VERBS.update({
    "name": ("names", "named"), "watch": ("watches", "watched"), "feel": ("feels", "felt"),
    "go": ("goes", "went"), "let": ("lets", "let"), "smell": ("smells", "smelled"),
    "drink": ("drinks", "drank"), "drop": ("drops", "dropped"), "leave": ("leaves", "left"),
    "thin": ("thins", "thinned"), "swing": ("swings", "swung"), "happen": ("happens", "happened"),
    "flash": ("flashes", "flashed"), "flutter": ("flutters", "fluttered"), "land": ("lands", "landed"), "return": ("returns", "returned"), "talk": ("talks", "talked"), "push": ("pushes", "pushed"),
    "roll": ("rolls", "rolled"), "remain": ("remains", "remained"), "change": ("changes", "changed"),
    "stir": ("stirs", "stirred"), "check": ("checks", "checked"), "get": ("gets", "got"),
    "thicken": ("thickens", "thickened"), "recognise": ("recognises", "recognised"),
    "work": ("works", "worked"), "slide": ("slides", "slid"), "do": ("does", "did"),
    "put": ("puts", "put"), "start": ("starts", "started"), "become": ("becomes", "became"),
    "split": ("splits", "split"), "shake": ("shakes", "shook"),
    "ebb": ("ebbs", "ebbed"), "brim": ("brims", "brimmed"), "hardly": ("hardly", "hardly"),
    "shift": ("shifts", "shifted"), "lap": ("laps", "lapped"), "tremble": ("trembles", "trembled"),
    "rest": ("rests", "rested"), "gain": ("gains", "gained"), "welcome": ("welcomes", "welcomed"),
    "shed": ("sheds", "shed"), "stack": ("stacks", "stacked"), "hand": ("hands", "handed"),
})

VERBS.update({
    "notice": ("notices", "noticed"), "wave": ("waves", "waved"), "step": ("steps", "stepped"),
    "add": ("adds", "added"), "amount": ("amounts", "amounted"), "hover": ("hovers", "hovered"),
    "pull": ("pulls", "pulled"), "lift": ("lifts", "lifted"), "spread": ("spreads", "spread"),
    "flood": ("floods", "flooded"), "join": ("join", "joined"), "miss": ("misses", "missed"),
    "send": ("sends", "sent"), "collect": ("collects", "collected"), "borrow": ("borrows", "borrowed"),
    "misplace": ("misplaces", "misplaced"), "pin": ("pins", "pinned"), "sign": ("signs", "signed"),
    "spend": ("spends", "spent"), "light": ("lights", "lit"), "appear": ("appears", "appeared"),
    "fade": ("fades", "faded"), "touch": ("touches", "touched"), "tap": ("taps", "tapped"),
    "press": ("presses", "pressed"), "worry": ("worries", "worried"),
})
VERBS["join"] = ("joins", "joined")

VERBS.update({
    "drive": ("drives", "drove"), "vanish": ("vanishes", "vanished"), "howl": ("howls", "howled"),
    "throw": ("throws", "threw"), "slam": ("slams", "slammed"), "tug": ("tugs", "tugged"),
    "stream": ("streams", "streamed"), "whiten": ("whitens", "whitened"),
    "sound": ("sounds", "sounded"), "repeat": ("repeats", "repeated"),
})
VERBS.update({"muffle": ("muffles", "muffled"), "sweep": ("sweeps", "swept"),
              "set": ("sets", "set")})
VERBS.update({"surface": ("surfaces", "surfaced"), "reach": ("reaches", "reached"),
              "remain": ("remains", "remained"), "bury": ("buries", "buried"),
              "squeak": ("squeaks", "squeaked"), "sift": ("sifts", "sifted"),
              "float": ("floats", "floated")})
