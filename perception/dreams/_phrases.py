"""The offline dream's phrase groups (a Tracery-like grammar; see offline.py).

Pools are named for the kind of signal they express (money, reputation, work, items,
weather, health, host) and its direction; each kind keeps its imagery (money is water
and coins, reputation voices, posts letters the dreamer wrote, sessions hours awake, a
failing source a door that does not open, the weather the sky). An entry whose words
the record contradicts (rain on a dry night, warmth in the cold) is never picked: see
``offline._forbidden``.

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
    "adj": ["speckled", "sleep-warm", "chipped", "green-glass", "stitched", "feathered", "ribbed", "dented", "starched", "frayed", "varnished", "soot-black", "mended", "bone-white", "velveteen", "knotted", "tin", "lamplit", "salt-stained", "creaking", "secondhand", "embroidered", "hand-painted", "wind-bent", "spotless", "scorched", "buttoned", "lopsided", "slow", "quiet", "pale", "narrow", "salt-white", "humming", "borrowed", "unlit", "velvet", "rusted",
            "patient", "hollow", "brass", "sleepless", "tilted", "glass", "folded", "distant",
            "crooked", "bitter", "silver", "drowned", "endless", "paper", "copper", "amber",
            "faded", "polished", "damp", "wooden", "nameless", "half-built", "lopsided",
            "flooded", "whitewashed", "echoing", "upside-down", "moth-eaten", "lacquered",
            "sunken", "enormous", "tiny", "overgrown", "windowless", "rain-dark", "gilded"],
    "place": ["boathouse", "signal box", "cinema", "ice rink", "shoe shop", "tailor's shop", "print works", "greengrocer", "car park", "bandstand", "allotment", "planetarium", "clock tower", "ferry terminal", "launderette", "barbershop", "botanical garden", "boarding house", "chemist's", "aquarium", "station", "orchard", "corridor", "harbour", "attic", "greenhouse", "library",
              "ferry", "market", "cellar", "lighthouse", "bridge", "platform", "courtyard",
              "chapel", "tunnel", "kitchen", "hotel", "rooftop", "museum", "pier", "square",
              "hallway", "observatory", "quarry", "meadow", "laundromat", "stairwell",
              "school gym", "waiting room", "boathouse", "ballroom", "bus depot", "cloister",
              "post office", "swimming pool", "bakery", "train carriage", "vineyard", "archive"],
    "thing": ["thimble", "matchbox", "paperweight", "accordion", "lampshade", "fishing net", "rocking horse", "cuckoo clock", "snow globe", "sewing box", "pocket watch", "weather map", "abacus", "metronome", "gramophone", "tin soldier", "flute", "scarf", "lunchbox", "ink bottle", "lantern", "suitcase", "umbrella", "teacup", "ladder", "mirror", "kite", "bicycle",
              "compass", "key", "piano", "birdcage", "typewriter", "map", "clock", "ribbon",
              "bell", "rowing boat", "chair", "coat", "jar", "candle", "shell", "spool",
              "button", "spoon", "feather", "violin", "telescope", "hat", "glove", "kettle",
              "radio", "paper crown", "hourglass", "watering can", "pocket knife", "globe",
              "harmonica", "shoebox"],
    "things": ["thimbles", "matchboxes", "paperweights", "lampshades", "pocket watches", "tin soldiers", "scarves", "ink bottles", "apples", "pebbles", "pinecones", "bottle caps", "sugar cubes", "tickets", "seashells", "spectacles", "lanterns", "suitcases", "umbrellas", "teacups", "ladders", "mirrors", "kites",
               "keys", "birdcages", "maps", "clocks", "ribbons", "bells", "chairs", "coats",
               "jars", "candles", "shells", "buttons", "spoons", "feathers", "hats", "gloves",
               "radios", "globes", "shoes", "oranges", "chess pieces", "postcards", "marbles"],
    "person": ["a woman with a violin case", "a postman", "a ferryman", "a boy selling newspapers", "an usher", "a widow in green", "a man with a ladder", "a schoolgirl", "the landlady", "a violinist", "a chimney sweep", "a bus driver", "a lifeguard", "a waiter", "a bookbinder", "a woman in a raincoat", "{my} grandmother", "a boy with a kite", "a conductor",
               "someone {I} used to know", "a stranger with wet hair", "a fisherman", "a clerk",
               "a child in a paper hat", "a tailor", "an old teacher", "a neighbour",
               "a night nurse", "a gardener", "a man selling maps", "a girl on roller skates",
               "a lighthouse keeper", "a beekeeper", "a ticket inspector", "{my} younger self",
               "a baker dusted with flour", "a cartographer", "a retired magician", "a twin"],
    "animal": ["magpie", "mole", "rabbit", "moorhen", "kingfisher", "ferret", "toad", "sparrow", "weasel", "starling", "newt", "mackerel", "sheepdog", "donkey", "robin", "ladybird", "heron", "fox", "moth", "crow", "hare", "dog", "owl", "cat", "carp", "swallow",
               "horse", "beetle", "deer", "gull", "snail", "goat", "eel", "tortoise", "wren",
               "badger", "stag", "jellyfish", "lizard", "pigeon", "bat", "otter"],
    "color": ["saffron", "mint", "oxblood", "dove-grey", "cobalt", "mustard", "peach", "moss-green", "ochre", "violet", "grey", "white", "green", "rust-red", "blue", "amber", "black",
              "rose", "lemon", "slate", "copper", "milk-white", "teal", "plum", "sand", "ink-blue"],
    "sound": ["a bicycle bell", "a spoon on a cup", "a choir practising", "a foghorn", "gulls arguing", "a tram bell", "a kettle", "a radio between stations", "a bell", "a footstep overhead",
              "a distant train", "rain on tin", "a dog barking", "a piano being tuned",
              "a ceiling fan", "someone whistling", "a typewriter", "a gull", "a lift cable",
              "a tap dripping", "a crowd far off", "a clock with no hands", "a brass band"],
    "stuff": ["sugar", "sawdust", "resin", "paint", "tar", "lace", "tea leaves", "smoke", "cotton", "brass filings", "chalk", "ink", "salt", "frost", "wax", "soot", "honey", "sand", "dust", "flour",
              "moss", "lipstick", "rust", "pollen", "ash", "milk", "pencil", "glitter", "clay"],
    "surface": ["a windowsill", "the counter", "a slate roof", "a bench", "the banister", "a page", "a plate", "a drum", "the dashboard", "a step", "the wall", "a window", "{my} palm", "the ceiling", "a napkin", "the floor",
                "a tile", "a mirror", "the back of a ticket", "a tablecloth", "a door",
                "a paper bag", "the inside of a hat", "a pebble", "a leaf", "a sail"],
    "smell": ["coffee", "tar", "apples", "linen", "varnish", "pine", "wet wool", "camphor", "ginger", "toast", "oranges", "wet stone", "diesel", "bread", "pencil shavings", "the sea",
              "cut grass", "old books", "cloves", "chlorine", "smoke", "rain", "lilies",
              "burnt sugar", "mothballs", "engine oil", "snow"],
    "passage": ["alley", "colonnade", "causeway", "boardwalk", "cloister walk", "ladder", "corridor", "stair", "street", "jetty", "tunnel", "lane", "gangway", "aisle",
                "arcade", "ramp", "footbridge", "towpath", "escalator"],
    "landscape": ["heath", "delta", "glacier", "fen", "orchard country", "coast", "tundra", "marsh", "city", "forest", "desert", "bay", "plain", "valley", "lake",
                  "moor", "archipelago", "suburb", "canyon", "estuary", "steppe"],
    "season": ["winter", "summer", "autumn", "spring", "school holiday", "harvest",
               "monsoon", "long weekend", "fair week", "thaw"],
    "vehicle": ["tram", "night bus", "rowing boat", "cable car", "bicycle", "goods train",
                "hot-air balloon", "elevator", "ferry", "sledge", "taxi", "funicular"],
    "hour": ["closing time", "the last bus", "the middle of lunch", "the hour of the post", "a Tuesday morning", "the hour before the bakeries open", "the blue hour", "the end of the afternoon",
             "a Sunday evening", "the darkest hour of a long night", "the last dance",
             "the first hour after rain", "noon with no shadows", "dawn on a holiday",
             "the hour when trains stop"],
    "feeling": ["rested", "brave", "shy", "young", "relieved", "restless", "unhurried", "calm", "homesick", "late", "lucky", "watched", "light", "unfinished",
                "forgiven", "curious", "small", "patient", "almost happy", "expected"],
    "foot": ["feet", "left shoe", "right hand", "elbow", "knees"],
    "sound_n": ["chorus", "murmur", "radio", "choir", "applause", "crowd", "gossip", "din"],
    "adv": ["politely", "at a run", "backwards", "as if late", "in a whisper", "with care", "like a guest", "without a word", "slowly", "carefully", "without hurry", "by heart",
            "in silence", "twice", "on tiptoe", "the long way", "for no reason",
            "with both hands", "sideways", "half asleep"],
}

# -- the night's one scene: a setting and the things in it that can become motifs ------

SETTINGS: list[tuple[str, list[str]]] = [
    ("a harbour town at low water", ["a rowing boat", "the harbour bell", "a coil of rope"]),
    ("a railway station with no timetable", ["a station clock", "a porter's trolley", "the last bench"]),
    ("an old house with too many stairs", ["a brass doorknob", "the landing window", "a hall mirror"]),
    ("a greenhouse on a roof", ["a watering can", "a fig tree in a pot", "the glass roof"]),
    ("a library that is also a ferry", ["a reading lamp", "the ship's rail", "a card catalogue"]),
    ("a seaside hotel out of season", ["a room key on a wooden fob", "the empty ballroom", "a lift with a gate"]),
    ("a night market under a bridge", ["a paper lantern", "a fishmonger's scale", "a crate of oranges"]),
    ("a lighthouse kept by nobody", ["the great lamp", "a spiral stair", "a logbook"]),
    ("a school gym after hours", ["a climbing rope", "a whistle on a string", "the wooden horse"]),
    ("an orchard behind a wall", ["a ladder in the branches", "a wheelbarrow", "the garden gate"]),
    ("a post office at the end of a pier", ["a sorting table", "a rubber stamp", "the counter bell"]),
    ("a town made of attics", ["a dressmaker's dummy", "a skylight", "a trunk of letters"]),
    ("a museum of small things", ["a glass case", "the guard's chair", "a stuffed heron"]),
    ("a village at the edge of a salt marsh", ["a footbridge", "a heron", "the tide table"]),
    ("a tram that never reaches the depot", ["the driver's bell", "a leather strap", "a fogged window"]),
    ("a bakery before dawn", ["a long wooden paddle", "the oven door", "a sack of flour"]),
    ("an observatory on a hill", ["the telescope", "a star chart", "the turning dome"]),
    ("a swimming pool with no water", ["the diving board", "a lost sandal", "the lane ropes"]),
    ("a boathouse on a slow river", ["an upturned canoe", "a tin of varnish", "the boathouse doors"]),
    ("a hospital corridor that turns into a garden", ["a wheelchair", "a vase of tulips", "the night desk"]),
]

# -- sentences ------------------------------------------------------------------------

T: dict[str, list[str]] = {
    # the scene: where the dream is, and its motifs, said once at the start; each
    # sentence is put together from short parts so that no run of words recurs
    "open": ["{o_in} {=setting}{o_with} {=motif_a}{o_and} {=motif_b}."],
    "o_in": ["{I} {am} in", "It {t:begin} in", "{I} {v:arrive} by {vehicle} at",
             "{person} {t:lead} {me} into", "Tonight {I} {am} back in", "{I} {v:wake} in",
             "{I} {v:stand} {adv} in", "The dream {t:put} {me} down in", "{I} {v:wander} into",
             "There {is} {a:adj} light over", "{I} {v:know} by heart"],
    "o_with": [", with", ": there {is}", "; beside {me}", ", and {I} {v:find}", ", carrying",
               "; first {I} {v:see}", ", where {person} {t:hold}", ", near", ", smelling of {smell} and of"],
    "o_and": [" and", ", and later", ", then", " and, further off,", ", and behind it",
              ", and somewhere", " and also"],

    # the sky: the night's weather, in its own words
    "sky": ["{s_over} {=cond}, {sky_cold}."],
    "s_over": ["Above it all the sky {is}", "The weather {is}", "Outside it {is}",
               "Over the roofs it {is}", "All night the sky {t:stay}", "The {landscape} {is}",
               "Beyond the windows it {is}", "The sky {t:keep} to", "Up above, it {is}",
               "The air outside {is}", "Overhead {I} {v:see}"],
    "sky.arc": ["{s_from} {=cond_first} {s_to} {=cond_last}, {sky_cold}."],
    "s_from": ["The sky {t:go} from", "It {is} first", "The weather {t:turn} from",
               "Overhead it {t:change} from", "{I} {v:watch} the sky go from", "It {t:start} as"],
    "s_to": ["to", "and then", "and later", "and by the end", "before it {t:become}", "to"],
    "sky_cold": ["{=deg} and {air_word}", "{air_word}, {=deg}", "{=deg} in the air",
                 "{=deg}, {air_word} on {my} hands", "{air_word} at {=deg}",
                 "{=deg} on {a:adj} thermometer", "{air_word}; {person} {t:say} {=deg}"],
    "air.cold": ["cold", "bitter", "raw", "sharp", "frost-bright", "chilly", "biting", "numbing"],
    "air.cool": ["cool", "fresh", "crisp", "mild", "brisk", "soft", "still"],
    "air.warm": ["warm", "close", "sticky", "heavy with heat", "balmy", "drowsy"],
    "sky.storm": ["{st_a} {=cond}{st_b} {=motif_a} {st_c}."],
    "st_a": ["Then the storm {t:break}:", "Thunder {t:come} for {me} at last,",
             "Lightning {t:find} the {place}:", "The night {t:split} open,",
             "Out of nowhere,"],
    "st_b": [", and thunder {t:shake}", "; the lightning {t:show}", ", rattling",
             "; {I} {v:hold} on to", ", and the thunder {t:roll} over"],
    "st_c": ["", "{adv}", "like {a:thing}", "in the flashes", "until {I} {am} soaked"],
    "sky.img.rain": ["Rain {t:run} off {=motif_b} {pp}.", "Rain {t:talk} on {surface} {adv}.",
                     "{I} {v:hear} rain {pp}."],
    "sky.img.fog": ["Fog {t:sit} {pp} like {stuff}.", "The fog {t:hide} {=motif_b}, then {t:give} it back."],
    "sky.img.snow": ["Snow {t:settle} on {=motif_a} {adv}.", "Snow {t:fill} {my} footprints {pp}."],
    "sky.img.wind": ["Wind {t:push} at {=motif_b} {adv}.", "The wind {t:carry} {things} {pp}."],
    "sky.img.clear": ["The stars {tp:stand} over {=motif_a}, {adj} and near.",
                      "The sky {is} clean {pp}, and {I} {can} see a long way."],
    "sky.img.cloud": ["Low cloud {t:lie} over {=motif_b}.", "The clouds {tp:move} {adv} {pp}."],

    # money: water, the tide, coins
    "money.down": ["{m_subj} {m_down} {m_by}{m_tail}."],
    "money.up": ["{m_subj} {m_up} {m_by}{m_tail}."],
    "money.small": ["{m_subj} {m_still}{m_tail}."],
    "m_subj": ["The tide {pp}", "The water under {=motif_b}", "{my} purse of {color} coins",
               "The well {pp}", "A pile of coins on {surface}", "The {adj} river",
               "The sea beside {=motif_a}", "{a:adj} bowl of coins", "The fountain {pp}",
               "The water {I} {v:keep} in {a:thing}", "The harbour {pp}", "A silver stream"],
    "m_down": ["{t:go} out", "{t:drain} away", "{t:sink}", "{t:ebb}", "{t:shrink}",
               "{t:run} thin", "{t:fall} back", "{t:slip} away", "{t:leak} into {a:landscape}"],
    "m_up": ["{t:come} in", "{t:rise}", "{t:swell}", "{t:climb} the steps", "{t:fill} up",
             "{t:brim}", "{t:gather}", "{t:spill} over {surface}", "{t:grow}"],
    "m_still": ["{t:stir}, barely", "barely {t:move}", "{t:shift} {adv}", "{t:lap} {adv}",
                "{t:tremble} a little", "{t:rest}"],
    "m_by": ["by {=pct_about}", "{=pct_about} in one night", "{=pct_about} at once",
             "{=pct_about} while {I} {v:watch}", "by {=pct_about}, {adv}"],
    "m_tail": ["; {m_lab} {m_is} {=amount}", ", and {m_lab} {m_is} {=amount}",
               "; {person} {t:say} {m_lab} {m_is} {=amount}", ", {adv}; {m_lab} {m_is} {=amount}"],
    "m_lab": ["the {=label}", "{my} {=label}", "the {adj} {=label}", "the whole {=label}"],
    "m_is": ["{nis}", "{n:stand} at", "{n:read}", "{n:come} to", "{n:settle} at", "{n:rest} at",
             "{n:sit} at", "{n:hold}", "{n:show}"],

    # reputation: voices, a crowd
    "reputation.up": ["{r_subj} {r_up} {=delta_voices}{r_tail}."],
    "reputation.down": ["{r_subj} {r_down} {=delta_voices}{r_tail}."],
    "r_subj": ["The crowd outside", "A choir {pp}", "The murmur around {=motif_a}",
               "The audience in the {place}", "A gathering by {=motif_b}", "The applause {pp}",
               "The room {pp}", "A line of strangers"],
    "r_up": ["{t:grow} by", "{t:swell} by", "{t:gain}", "{t:take} in", "{t:welcome}",
             "{t:find} room for"],
    "r_down": ["{t:lose}", "{t:thin} by", "{t:shed}", "{t:let} go of", "{t:drop}"],
    "r_tail": ["; {m_lab} {m_is} {=last_says}", ", and {m_lab} {m_is} {=last_says}",
               ", and {I} {v:hear} {my} name; {m_lab} {m_is} {=last_says}",
               "; {person} {t:say} {m_lab} {m_is} {=last_says}", ", {adv}; {m_lab} {m_is} {=last_says}"],

    # the agent's own work: the letters it wrote, the hours it was awake
    "work.up": ["{w_subj} {w_up}{w_tail}."],
    "work.down": ["{w_subj} {w_down}{w_tail}."],
    "w_subj": ["On {=motif_b} {I} {v:find}", "At {a:adj} desk {I} {v:count}",
               "{I} {v:recognise} {my} hand in", "Beside {=motif_a} {I} {v:stack}",
               "{person} {t:hand} {me}", "{I} {v:read} over"],
    "w_up": ["{=delta_pages} more", "{=delta_pages}, {adj} and new", "{=delta_pages} {pp}",
             "{=delta_pages} in {stuff}", "{=delta_pages}, {adv}"],
    "w_down": ["{=delta_pages} fewer", "{=delta_pages} gone missing", "{=delta_pages} torn out"],
    "w_tail": ["; {m_lab} {m_is} {=last_says}", ", and {m_lab} {m_is} {=last_says}",
               ": {m_lab}, {=last_says} in all", ", {adv}; {m_lab} {m_is} {=last_says}"],
    "sessions": ["{se_a} {=count_says}{se_b} {=duration}{se_c}."],
    "se_a": ["{I} {v:remember} being awake", "A lamp {t:burn} beside {=motif_a} while {I} {am} awake",
             "{I} {am} awake inside the dream", "{I} {v:sit} up awake in the {place}",
             "{I} {v:work} awake by {=motif_b}", "{person} {t:see} {me} awake",
             "{I} {am} up and awake"],
    "se_b": [", {adv},", "; in all", ", for", ", working {adv} for", ", {pp}, for", ", and for"],
    "se_c": ["", " under {a:adj} lamp", ", writing on {surface}", ", {adv}", " {pp}"],

    # new items: letters arriving
    "items": ["{i_subj} {=items_letters} {i_verb} from the {=label}{i_tail}."],
    "items.one": ["{i_subj} a single letter {i_verb} from the {=label}{i_tail}."],
    "i_subj": ["Then", "Under the door,", "On {=motif_b}", "By morning", "Through the window,",
               "In {a:adj} sack,", "Beside {=motif_a}"],
    "i_verb": ["{n:arrive}", "{n:wait}", "{n:come}", "{n:lie}", "{n:turn} up"],
    "i_tail": ["", ", {adj}, addressed in {stuff}", ", {adv}", ", {pp}", ", in {a:color} envelope",
               ", {adj} and {adj}"],
    "items.title": ["{I} {v:open} one; it {t:say} only “{=title}”.",
                    "One {is} addressed to {me}: “{=title}”.",
                    "{person} {t:read} one aloud: “{=title}”.",
                    "The first one {t:begin} “{=title}”."],

    # a failing source: a door that does not open
    "health.down": ["{h_subj} {=source} {h_down}."],
    "health.up": ["{h_subj} {=source} {h_up}."],
    "h_subj": ["The door marked", "A door in the {place} that {t:lead} to the", "The gate to the",
               "The {adj} door of the"],
    "h_down": ["{t:refuse} to open", "{t:stay} shut however {I} {v:knock}", "{is} locked, and behind it {sound}",
               "will not give, {adv}"],
    "h_up": ["{t:swing} open at last", "{t:give} after some knocking", "{is} open again, {adv}"],

    # the host, and anything else: gauges and dials
    "other.up": ["{g_subj} {=label} {t:climb} to {=last_plain}."],
    "other.down": ["{g_subj} {=label} {t:sink} to {=last_plain}."],
    "g_subj": ["A gauge marked", "On the wall a dial for the", "A needle for the", "The meter for the"],

    "turn": ["Then", "Later", "After that", "Further in,", "By then", "Meanwhile,",
             "Without warning,", "When {I} {v:look} again,", "On the way back,", "Much later,"],

    # filler built from clause parts, so that it rarely says the same four words twice
    "texture": [
        "{np} {vp} {pp}.",
        "{pp}, {np} {vp}.",
        "{np} {vp}, and {np} {vp}.",
        "{I} {nvp} {pp}.",
        "{pp}, {I} {nvp}.",
        "{I} {nvp} while {np} {vp}.",
    ],
    # the motifs come back: filler that holds on to the scene
    "motif": [
        "{=motif_a} {vp} {pp}.",
        "{I} {v:go} back to {=motif_b}; {np} {vp}.",
        "{=motif_b} {is} still there, {adj} now, and {np} {vp}.",
        "{pp}, {=motif_a} {vp}.",
        "{I} {nvp} beside {=motif_b}.",
    ],
    "np": ["{a:animal}", "{person}", "the {thing}", "{a:adj} {thing}", "the {adj} {animal}",
           "{a:color} {thing}", "{a:thing} of {stuff}", "{sound}",
           "the {animal} from {a:place}", "{my} {thing}"],
    "vp": ["{t:drift}", "{t:wait} {adv}", "{t:hum}", "{t:lean} toward {a:thing}", "{t:turn} {color}",
           "{t:sleep}", "{t:whisper} about {smell}", "{t:hold} {a:adj} {thing}", "{t:count} {things}",
           "{t:smell} of {smell}", "{t:carry} {things}", "{t:follow} {me}", "{t:watch} {me}",
           "{t:fold} into {a:thing}", "{t:sing} of {a:season}", "{t:spill} {stuff}",
           "{t:shine} like {stuff}", "{t:sink} into {surface}", "{t:shiver}", "{t:settle}",
           "{t:rattle}", "{t:remember} {a:season}", "{t:ask} for {a:thing}", "{t:hide} {things}",
           "{t:glow} {color}", "{t:spin} {adv}", "{t:forget} {my} name", "{t:knock} on {surface}"],
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
    # the end: back to the motifs
    "close": ["{c_a} {=motif_a}{c_b}."],
    "c_a": ["{I} {v:wake} still holding", "At the end there {is} only", "The last thing {I} {v:see} {is}",
            "{I} {v:leave} behind", "Morning {t:come} and {t:take}", "When {I} {v:wake}, {I} {am} thinking of",
            "The dream {t:fold} itself up around", "{I} {v:wake} {feeling}, with", "Last of all {I} {v:hear}"],
    "c_b": ["", ", or {a:adj} shadow of it", ", and then morning", ", {adj} in the light", " and {=motif_b}",
            ", and {I} {am} awake", ", {adv}", ", and the {place} {t:go} {color}"],
}

VERBS.update({
    "name": ("names", "named"), "watch": ("watches", "watched"), "feel": ("feels", "felt"),
    "go": ("goes", "went"), "let": ("lets", "let"), "smell": ("smells", "smelled"),
    "drink": ("drinks", "drank"), "drop": ("drops", "dropped"), "leave": ("leaves", "left"),
    "thin": ("thins", "thinned"), "swing": ("swings", "swung"), "happen": ("happens", "happened"),
    "flash": ("flashes", "flashed"), "talk": ("talks", "talked"), "push": ("pushes", "pushed"),
    "roll": ("rolls", "rolled"), "remain": ("remains", "remained"), "change": ("changes", "changed"),
    "stir": ("stirs", "stirred"), "check": ("checks", "checked"), "get": ("gets", "got"),
    "thicken": ("thickens", "thickened"), "recognise": ("recognises", "recognised"),
    "work": ("works", "worked"), "slide": ("slides", "slid"), "do": ("does", "did"),
    "put": ("puts", "put"), "start": ("starts", "started"), "become": ("becomes", "became"),
    "split": ("splits", "split"), "shake": ("shakes", "shook"), "roll": ("rolls", "rolled"),
    "ebb": ("ebbs", "ebbed"), "brim": ("brims", "brimmed"), "hardly": ("hardly", "hardly"),
    "shift": ("shifts", "shifted"), "lap": ("laps", "lapped"), "tremble": ("trembles", "trembled"),
    "rest": ("rests", "rested"), "gain": ("gains", "gained"), "welcome": ("welcomes", "welcomed"),
    "shed": ("sheds", "shed"), "stack": ("stacks", "stacked"), "hand": ("hands", "handed"),
})
