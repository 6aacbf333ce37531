"""The offline dream's phrase groups (a Tracery-like grammar; see offline.py).

Tokens: ``{pool}`` expands a pool; ``{a:pool}`` the same with "a"/"an" before it;
``{=x}`` a figure or text of the scene, inserted literally; ``{v:verb}`` the
narrator's verb (I/you, present or past), ``{t:verb}`` a third-person-singular verb,
``{tp:verb}`` a plural one, ``{n:verb}`` one that agrees with the scene's ``{=name}``
("the total items rise"); ``{I} {me} {my} {am} {is} {are} {can} {cannot}`` follow person
and tense. ``{N:x:noun}`` is a noun of ``NOUNS`` agreeing with the figure ``{=x}`` ("1 voice",
"2 voices"; ``{N:x:=name}`` takes the noun from the scene's name) and ``{c:x:verb}`` a verb
agreeing with it ("1 room opens", "3 rooms open"); an entry with either is never used for a
negative figure.

Phrase text never holds a digit nor a number word: every figure in a dream comes from
the digest through ``{=...}``, so every number a dream shows is backed by its record.
Entries are short and templates put a slot every few words, so that long word runs do
not recur from night to night.
"""

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

# -- the lexicon ------------------------------------------------------------------

LEXICON: dict[str, list[str]] = {
    "adj": ["pale", "narrow", "salt-white", "humming", "borrowed", "unlit", "velvet", "rusted",
            "patient", "hollow", "brass", "sleepless", "tilted", "glass", "folded", "distant",
            "crooked", "bitter", "silver", "drowned", "endless", "paper", "copper", "amber",
            "faded", "polished", "damp", "wooden", "nameless", "half-built", "lopsided",
            "flooded", "whitewashed", "echoing", "upside-down", "moth-eaten", "lacquered",
            "sunken", "enormous", "tiny", "overgrown", "windowless", "rain-dark", "gilded"],
    "place": ["station", "orchard", "corridor", "harbour", "attic", "greenhouse", "library",
              "ferry", "market", "cellar", "lighthouse", "bridge", "platform", "courtyard",
              "chapel", "tunnel", "kitchen", "hotel", "rooftop", "museum", "pier", "square",
              "hallway", "observatory", "quarry", "meadow", "laundromat", "stairwell",
              "school gym", "waiting room", "boathouse", "ballroom", "bus depot", "cloister",
              "post office", "swimming pool", "bakery", "train carriage", "vineyard", "archive"],
    "thing": ["lantern", "suitcase", "umbrella", "teacup", "ladder", "mirror", "kite", "bicycle",
              "compass", "key", "piano", "birdcage", "typewriter", "map", "clock", "ribbon",
              "bell", "rowing boat", "chair", "coat", "jar", "candle", "shell", "spool",
              "button", "spoon", "feather", "violin", "telescope", "hat", "glove", "kettle",
              "radio", "paper crown", "hourglass", "watering can", "pocket knife", "globe",
              "harmonica", "shoebox"],
    "things": ["lanterns", "suitcases", "umbrellas", "teacups", "ladders", "mirrors", "kites",
               "keys", "birdcages", "maps", "clocks", "ribbons", "bells", "chairs", "coats",
               "jars", "candles", "shells", "buttons", "spoons", "feathers", "hats", "gloves",
               "radios", "globes", "shoes", "oranges", "chess pieces", "postcards", "marbles"],
    "person": ["a woman in a raincoat", "{my} grandmother", "a boy with a kite", "a conductor",
               "someone {I} used to know", "a stranger with wet hair", "a fisherman", "a clerk",
               "a child in a paper hat", "a tailor", "an old teacher", "a neighbour",
               "a night nurse", "a gardener", "a man selling maps", "a girl on roller skates",
               "a lighthouse keeper", "a beekeeper", "a ticket inspector", "{my} younger self",
               "a baker dusted with flour", "a cartographer", "a retired magician", "a twin"],
    "animal": ["heron", "fox", "moth", "crow", "hare", "dog", "owl", "cat", "carp", "swallow",
               "horse", "beetle", "deer", "gull", "snail", "goat", "eel", "tortoise", "wren",
               "badger", "stag", "jellyfish", "lizard", "pigeon", "bat", "otter"],
    "color": ["ochre", "violet", "grey", "white", "green", "rust-red", "blue", "amber", "black",
              "rose", "lemon", "slate", "copper", "milk-white", "teal", "plum", "sand", "ink-blue"],
    "sound": ["a kettle", "a radio between stations", "a bell", "a footstep overhead",
              "a distant train", "rain on tin", "a dog barking", "a piano being tuned",
              "a ceiling fan", "someone whistling", "a typewriter", "a gull", "a lift cable",
              "a tap dripping", "a crowd far off", "a clock with no hands", "a brass band"],
    "stuff": ["chalk", "ink", "salt", "frost", "wax", "soot", "honey", "sand", "dust", "flour",
              "moss", "lipstick", "rust", "pollen", "ash", "milk", "pencil", "glitter", "clay"],
    "surface": ["the wall", "a window", "my palm", "the ceiling", "a napkin", "the floor",
                "a tile", "a mirror", "the back of a ticket", "a tablecloth", "a door",
                "a paper bag", "the inside of a hat", "a pebble", "a leaf", "a sail"],
    "smell": ["oranges", "wet stone", "diesel", "bread", "pencil shavings", "the sea",
              "cut grass", "old books", "cloves", "chlorine", "smoke", "rain", "lilies",
              "burnt sugar", "mothballs", "engine oil", "snow"],
    "passage": ["corridor", "stair", "street", "jetty", "tunnel", "lane", "gangway", "aisle",
                "arcade", "ramp", "footbridge", "towpath", "escalator"],
    "landscape": ["marsh", "city", "forest", "desert", "bay", "plain", "valley", "lake",
                  "moor", "archipelago", "suburb", "canyon", "estuary", "steppe"],
    "season": ["winter", "summer", "autumn", "spring", "school holiday", "harvest",
               "monsoon", "long weekend", "fair week", "thaw"],
    "vehicle": ["tram", "night bus", "rowing boat", "cable car", "bicycle", "goods train",
                "hot-air balloon", "elevator", "ferry", "sledge", "taxi", "funicular"],
    "hour": ["the hour before the bakeries open", "the blue hour", "the end of the afternoon",
             "the end of a Sunday", "the darkest hour of a long night", "the end of a party",
             "the first hour after rain", "noon with no shadows", "dawn on a holiday",
             "the hour when trains stop"],
    "feeling": ["calm", "homesick", "late", "lucky", "watched", "light", "unfinished",
                "forgiven", "curious", "small", "patient", "almost happy", "expected"],
    "foot": ["feet", "left shoe", "right hand", "elbow", "knees"],
    "sound_n": ["chorus", "murmur", "radio", "choir", "applause", "crowd", "gossip", "din"],
    "adv": ["slowly", "carefully", "without hurry", "by heart",
            "in silence", "twice", "on tiptoe", "the long way", "for no reason",
            "with both hands", "sideways", "half asleep"],
}

# -- sentences ------------------------------------------------------------------------

T: dict[str, list[str]] = {
    # where the dream opens
    "open": [
        "{I} {am} somewhere between {a:place} and {a:place}, and the {stuff} on the floor {t:keep} {my} footprints.",
        "It {is} {hour} in {a:adj} {place}; {I} {v:know} it by the sound of {sound}.",
        "The {place} {is} {adj} and full of {things}, and {I} {am} late for something nobody {t:name}.",
        "{I} {v:arrive} at {a:place} by {vehicle}, carrying {a:adj} {thing} that {t:belong} to {person}.",
        "Everything {is} {color}: the {place}, the {thing}, even the {animal} asleep by the door.",
        "{person} {t:lead} {me} through {a:adj} {place} {adv}.",
        "There {is} {a:place} at the edge of {a:adj} {landscape}, and {I} {am} inside it before {I} {v:decide} to go.",
        "{I} {v:wake} inside the dream already walking, down {a:adj} {passage} that {t:smell} of {smell}.",
        "At first there {is} only {a:adj} {passage} and {sound} somewhere ahead.",
        "{I} {am} {feeling} in {a:adj} {place} that {is} also, somehow, {a:landscape}.",
    ],
    "open.weather": [
        "Over {a:adj} {place} the weather {is} {=cond}, the kind {I} {v:remember} from {a:season}.",
        "In the dream the weather {is} {=cond}, even indoors, even over the {thing} on {my} lap.",
        "{=cond}, and {a:adj} {place} under it; {I} {v:stand} in the doorway holding {a:thing}.",
        "Someone had brought the weather inside: {=cond} over the {things}, and {I} {v:walk} through it {adv}.",
        "The {landscape} {is} {=cond} all the way to the horizon, and {I} {v:cross} it by {vehicle}.",
    ],
    "open.arc": [
        "{=cond_first} at first, {=cond_last} by the end, over {a:adj} {place} {pp}.",
        "First {=cond_first}, then {=cond_last}; {I} {nvp} {pp}.",
        "{I} {v:watch} the sky go from {=cond_first} to {=cond_last} over {a:adj} {place}.",
    ],
    "turn": [
        "Then", "Later", "After that", "Somewhere behind {me},", "Without warning,", "Further on,",
        "By the time the {animal} {t:stop},", "When {I} {v:look} again,", "Next door,",
        "Down {a:adj} {passage},", "Much later,", "Under the {thing},", "Meanwhile,",
        "In another room,", "On the way back,",
    ],
    # filler built from clause parts, so that it rarely says the same four words twice
    "texture": [
        "{np} {vp} {pp}.",
        "{pp}, {np} {vp}.",
        "{np} {vp}, and {np} {vp}.",
        "{I} {nvp} {pp}.",
        "{pp}, {I} {nvp}.",
        "{I} {nvp} while {np} {vp}.",
        "{np} {vp} {pp}, {adv}.",
    ],
    "np": ["{a:animal}", "{person}", "the {thing}", "{a:adj} {thing}", "the {adj} {animal}",
           "the {place}", "{a:color} {thing}", "{a:thing} of {stuff}", "{sound}",
           "the {animal} from {a:place}", "{my} {thing}"],
    "vp": ["{t:drift}", "{t:wait} {adv}", "{t:hum}", "{t:lean} toward {a:thing}", "{t:turn} {color}",
           "{t:sleep}", "{t:whisper} about {smell}", "{t:hold} {a:adj} {thing}", "{t:count} {things}",
           "{t:smell} of {smell}", "{t:carry} {things}", "{t:follow} {me}", "{t:watch} {me}",
           "{t:fold} into {a:thing}", "{t:sing} of {a:season}", "{t:spill} {stuff}",
           "{t:shine} like {stuff}", "{t:sink} into {surface}", "{t:shiver}", "{t:settle}",
           "{t:rattle}", "{t:remember} {a:season}", "{t:ask} for {a:thing}", "{t:hide} {things}",
           "{t:glow} {color}", "{t:spin} {adv}", "{t:forget} {my} name", "{t:knock} twice on {surface}"],
    "pp": ["in {a:adj} {place}", "under {a:thing}", "beside {a:animal}", "at {hour}",
           "near {surface}", "on {surface}", "past the {place}", "through {a:adj} {passage}",
           "behind {a:place}", "across the {landscape}", "inside {a:thing}",
           "above {a:adj} {landscape}", "where {a:place} used to be", "among {things}",
           "by {a:color} {thing}", "between {things} and {things}",
           "below {a:adj} {place}", "along {a:passage}"],
    "nvp": ["{v:walk}", "{v:wait} {adv}", "{v:listen} for {sound}", "{v:carry} {a:adj} {thing}",
            "{v:count} {things}", "{v:follow} {a:animal}", "{v:hold} {a:thing}", "{v:kneel}",
            "{v:drift}", "{v:wash} {a:thing}", "{v:try} to name {a:animal}", "{v:sort} {things}",
            "{v:climb} {a:adj} {thing}", "{v:whisper} to {a:animal}", "{v:fold} {a:thing}",
            "{v:remember} {a:season}", "{v:hide} {a:thing}", "{v:swim}", "{v:wander}"],
    "close": [
        "{I} {v:wake} with the taste of {smell} still there and {a:thing} not in {my} hand.",
        "Then the {place} {t:fold} itself up like {a:thing}, and {I} {am} awake.",
        "The last thing {I} {v:see} {is} {a:animal} on {surface}, and then morning.",
        "{I} {v:wake} {feeling}, {sound} still going somewhere.",
        "It {t:end} the way such dreams do: {a:adj} {thing}, {a:adj} {passage}, light.",
        "Before {I} {can} answer, the {landscape} {t:go} {color} and thin, and {I} {v:wake}.",
        "{person} {t:say} something {I} {cannot} keep, and the {place} {t:let} {me} go.",
        "In the end {I} {v:sit} down on {a:adj} {thing} and {v:wait} for the morning to find {me}.",
    ],

    # weather: the dream's weather
    # temperature: warmth and cold (only a temperature can be "warmer")
    "temp.up": [
        "The warmth {t:climb} until {a:adj} {thing} on {surface} {t:read} {=last}{=u}.",
        "It {is} warmer than it should be, {=last}{=u}, and the {animal} {t:pant} in the shade of {a:thing}.",
        "Heat {t:gather} in the {place}: up {=delta}{=u} since yesterday, {=last}{=u} now, honey-slow.",
        "The {=name} {n:rise} by {=delta}{=u}; {I} {v:open} every window of the {place} {adv}.",
    ],
    "temp.down": [
        "The cold {t:arrive} early: {=last}{=u}, written in {stuff} on {surface}.",
        "{I} {v:see} {my} breath; {person} {t:say} it {is} {=last}{=u} and still falling.",
        "The {place} {t:lose} {=delta}{=u} while {I} {v:look} away, and frost {t:find} the {things}.",
        "Down to {=last}{=u}, the {=name} {n:drop} like {a:thing} into a well.",
    ],
    "temp.flat": [
        "The {=name} {n:hold} at {=last}{=u} as if someone had pinned it to {surface}.",
        "All night the {=name} {n:stay} near {=last}{=u}, steady as {a:adj} {animal}.",
    ],
    # wind, humidity, rain, cloud: the weather's other dials, with no warmth in them
    "weather.up": [
        "The {=name} {n:rise} by {=delta}{=u}; {I} {v:open} every window of the {place} {adv}.",
        "Outside, the {=name} {n:climb} to {=last}{=u}, and the {things} on the sill {tp:rattle}.",
        "A weathervane {pp} {t:read} {=name}: {=last}{=u}, up from {=before}{=u}.",
    ],
    "weather.down": [
        "Down to {=last}{=u}, the {=name} {n:drop} like {a:thing} into a well.",
        "The {=name} {n:fall} away to {=last}{=u}, and the {place} {t:go} quiet.",
        "A weathervane {pp} {t:read} {=name}: {=last}{=u}, down from {=before}{=u}.",
    ],
    "weather.flat": [
        "The {=name} {n:hold} at {=last}{=u} as if someone had pinned it to {surface}.",
        "All night the {=name} {n:stay} near {=last}{=u}, steady as {a:adj} {animal}.",
    ],
    "weather.img": [
        "Rain {t:fall} {pp}, and {np} {vp}.",
        "Wind {t:carry} {things} {pp}.",
        "Fog {t:settle} {pp} like {stuff}.",
        "The light {is} {color} {pp}.",
    ],

    # balances: coins or water
    "balance.up": [
        "Water {t:rise} {pp} to {=last}{=u}; {I} {v:wade} {adv}.",
        "Coins {tp:pile} on {surface}: {=last}{=u}, up {=delta}{=u}, bright as {stuff}.",
        "{a:adj} well {t:fill} by {=pct}%, and {a:animal} {t:drink}.",
        "{person} {t:pour} {=delta}{=u} into {my} cupped hands and {t:say} it {is} mine now.",
    ],
    "balance.down": [
        "Water {t:drain} {pp}: {=before}{=u}, then {=last}{=u}.",
        "Coins {tp:slip} through a crack in {surface}, {=delta}{=u} of them, one by one.",
        "The {thing} {I} {v:keep} {my} savings in {t:leak} {=pct}% of itself onto the floor.",
        "The tide {t:go} out {=delta}{=u} and {t:leave} {things} on the sand.",
    ],
    "balance.flat": [
        "The pool {t:lie} still at {=last}{=u}, and {I} {v:see} {a:adj} {thing} at the bottom.",
        "{=last}{=u} in coins, counted and recounted, never more and never less.",
    ],
    "balance.img": [
        "Water {t:run} {pp}, {adv}.",
        "{I} {v:count} coins {pp} and {v:lose} count at {a:animal}.",
        "The coins {are} {adj} {pp}.",
    ],

    # karma, followers, unread: voices
    "voices.up": [
        "Voices {tp:gather} {pp}: {=last} now, {=delta} more.",
        "A crowd {pp} {t:grow} by {=delta}; {I} {v:hear} {my} name {adv}.",
        "Applause {pp}, {=pct}% louder, for {a:adj} {thing}.",
        "{=last} {N:last:person} {c:last:be} waiting {pp}, {feeling}, and {c:last:know} {me}.",
    ],
    "voices.down": [
        "Voices {tp:thin} {pp}, {=delta} fewer, {=last} left.",
        "{a:adj} {place} {t:empty}: {=before} {N:before:voice}, then {=last} {N:last:voice}.",
        "{person} {t:turn} the {sound_n} down by {=pct}% {pp}.",
    ],
    "voices.flat": [
        "{=last} {N:last:voice} {c:last:hum} in the walls, neither more nor fewer.",
        "The same murmur, {=last} strong, {t:follow} {me} from room to room.",
    ],
    "voices.img": [
        "{person} {t:call} {pp}, and {I} {v:answer} {adv}.",
        "Whispers in {a:adj} {place}, {feeling}, {adv}.",
        "{person} {t:shout} {my} name {pp}.",
    ],

    # new feed items: letters
    "letters.any": [
        "{=items} {N:items:letter} {c:items:be} waiting {pp}.",
        "{a:animal} in {a:adj} cap {t:bring} {=items} {N:items:envelope} {pp}.",
        "{=items} {N:items:letter} {c:items:fall} out of {a:adj} {thing} like {things}.",
        "On {surface} {=items} {N:items:letter} {c:items:lie}, tied with {a:color} {thing}.",
    ],
    "letters.one": [
        "A letter {t:wait} under the door of the {place}, addressed in {stuff}.",
        "{a:animal} in {a:adj} cap {t:bring} a letter {pp}.",
        "A letter {t:fall} out of {a:adj} {thing} and {t:land} by {my} {foot}.",
    ],
    "letters.title": [
        "{I} {v:open} one with {a:adj} {thing}; it {t:say} only “{=title}”.",
        "The {adj} envelope, in {stuff}, {t:read} “{=title}”.",
        "One {is} addressed to {me} in {stuff}: “{=title}”, it {t:begin}, and then {t:run}.",
        "{person} {t:read} one aloud {pp}: “{=title}”.",
    ],

    # file counts: pages, rooms, shelves
    "files.up": [
        "The shelves {tp:grow}: {=last} {N:last:=name} now, {=delta} more than {I} {v:remember}.",
        "{I} {v:write} {adv}; {=name} {tp:pile} {pp}, {=last} of them.",
        "{=delta} {adj} {N:delta:room} {c:delta:open} {pp}, full of {color} pages.",
    ],
    "files.down": [
        "Pages {are} missing; {=delta} gone, {=last} left in the drawer.",
        "The archive {t:shrink} to {=last} {N:last:=name} while {I} {am} not looking.",
    ],
    "files.flat": [
        "{=last} {N:last:=name} on the shelf, exactly as {I} had left it.",
        "The drawer still {t:hold} {=last} {N:last:=name}, and the {animal} {t:sleep} on top.",
    ],
    "files.img": [
        "Pages {tp:smell} of {smell} {pp}.",
        "{I} {v:sort} pages into {color} and {color} {pp}.",
    ],

    # failing sources: doors that do not open
    "doors.down": [
        "A door marked {=source} {t:refuse} to open; {I} {v:knock} {=failed} {N:failed:time}.",
        "{I} {v:try} the door that says {=source}: locked, and behind it {sound}.",
        "The door called {=source} {t:stay} shut through {=failed} of {=polls} {N:polls:knock}.",
    ],
    "doors.up": [
        "The {=source} door, {adj} with {stuff}, {t:swing} open {pp}.",
        "After {=failed} {N:failed:try} the {=source} door {t:give}, and {person} {t:come} through.",
    ],
    "doors.img": [
        "Every handle {pp} {is} {adj}.",
        "The keys on {my} ring all {tp:belong} to {a:adj} {place} elsewhere.",
        "{a:animal} {t:sleep} by the locked {thing} {pp}.",
    ],

    # sessions: the hours awake
    "sessions.any": [
        "{I} {v:remember} sitting at a desk {=sessions} {N:sessions:time}, {=minutes} {N:minutes:minute} in all, under {a:adj} lamp.",
        "A lamp {t:come} on {=sessions} {N:sessions:time} and {t:burn} {=minutes} {N:minutes:minute} before the dream {t:let} it go out.",
        "For {=minutes} {N:minutes:minute} {I} {am} awake inside the dream, writing on {surface}.",
    ],

    # anything else: dials and tides
    "other.up": [
        "A dial marked {=name} {t:climb} to {=last}{=u}, {=delta} higher than the day before.",
        "The {=name} {n:swell} by {=pct}% and {n:press} against the walls of the {place}.",
        "{I} {v:watch} the {=name} rise from {=before} to {=last}{=u}, {adv}.",
    ],
    "other.down": [
        "The needle of the {=name} gauge {t:sink} to {=last}{=u}, down {=delta}.",
        "The {=name} {n:fall} away by {=pct}%, like {stuff} poured from {a:thing}.",
        "{I} {v:watch} the {=name} slip from {=before} to {=last}{=u}.",
    ],
    "other.flat": [
        "The {=name} {n:stay} at {=last}{=u}, patient as {a:animal}.",
        "Somewhere a gauge {t:read} {=name}: {=last}{=u}, and {t:mean} it.",
    ],
    "other.img": [
        "Hands of {a:adj} {thing} {tp:turn} {pp}.",
        "{np} {vp} toward the {place}.",
    ],

    # a new high or low, after any scene
    "high": [
        "{person} {t:point} at the {=name}: {=max}{=u}, {adj} and new.",
        "{a:color} mark {pp}: {=max}{=u}, {adj} and new.",
        "{person} {t:climb} {a:thing} to mark {=max}{=u} for the {=name}.",
        "The {=name} {n:touch} {=max}{=u}, and the {animal} {t:look} up {adv}.",
        "{=max}{=u}, {t:whisper} the {adj} {thing}: a month's {adj} record.",
    ],
    "low": [
        "{a:animal} {t:find} the {=name} at {=min}{=u} {pp}.",
        "{person} {t:chalk} {=min}{=u} on {surface} {adv}.",
        "The {=name} {n:sink} to {=min}{=u} {pp}.",
        "At {=min}{=u} the {=name} {n:lie} at the bottom of the {place}, {adv}.",
    ],
}

# verbs used above that are not in VERBS
VERBS.update({
    "name": ("names", "named"), "change_mood": ("changes its mood", "changed its mood"),
    "watch": ("watches", "watched"), "remark": ("remarks", "remarked"), "feel": ("feels", "felt"),
    "go": ("goes", "went"), "nod": ("nods", "nodded"), "tilt": ("tilts", "tilted"),
    "let": ("lets", "let"), "smell": ("smells", "smelled"), "reach": ("reaches", "reached"),
    "drink": ("drinks", "drank"), "pant": ("pants", "panted"), "drop": ("drops", "dropped"),
    "leave": ("leaves", "left"), "thin": ("thins", "thinned"), "lift": ("lifts", "lifted"),
    "swing": ("swings", "swung"), "mean": ("means", "meant"), "chalk": ("chalks", "chalked"), "touch": ("touches", "touched"), "land": ("lands", "landed"),
})
