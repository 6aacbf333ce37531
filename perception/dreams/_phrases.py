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
              "gym", "waiting room", "boathouse", "ballroom", "bus depot", "cloister",
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
               "a keeper of lamps", "a beekeeper", "a ticket inspector", "{my} younger self",
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
    "surface": ["a windowsill", "the counter", "a bench", "the banister", "a page", "a plate", "a drum", "the dashboard", "a step", "the wall", "a window", "{my} palm", "the ceiling", "a napkin", "the floor",
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
    "hour": ["closing time", "the last bus", "the middle of lunch", "the hour of the post", "a Tuesday morning", "the hour of the bakers", "the blue hour", "the end of the afternoon",
             "a Sunday evening", "the darkest hour", "the last dance",
             "the first hour after rain", "noon with no shadows", "dawn on a holiday",
             "the last train"],
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
    ("a circus tent in a car park", ["a trapeze", "a striped ticket booth", "a sleeping lion"]),
    ("a monastery kitchen", ["a copper pan", "a long table", "a basket of leeks"]),
    ("a ferry crossing a lake at night", ["the ferry's horn", "a life ring", "a bench on the deck"]),
    ("an allotment with a shed", ["a rain barrel", "a row of beans", "the shed padlock"]),
    ("a department store after closing", ["an escalator", "a shop mannequin", "a glass counter"]),
    ("a cinema showing one film", ["the velvet curtain", "a projector", "an usherette's torch"]),
    ("a village hall set for a wedding", ["a tiered cake", "bunting", "a piano with a missing key"]),
    ("a mountain hut above the clouds", ["a wood stove", "a guest book", "a pair of skis"]),
    ("a printing works", ["a tray of type", "a press", "a stack of posters"]),
    ("a lido by the sea", ["a striped deckchair", "the turnstile", "a lifeguard's chair"]),
    ("a tailor's shop with one window", ["a tape measure", "a bolt of wool", "a pincushion"]),
    ("a signal box on a branch line", ["the levers", "a kettle", "a train register"]),
    ("an aquarium with the lights off", ["a tank of eels", "a bench", "the glass tunnel"]),
    ("a rooftop garden in a city", ["a deckchair", "a beehive", "a string of bulbs"]),
    ("a clock shop", ["a grandfather clock", "a jeweller's loupe", "a drawer of springs"]),
    ("a river barge", ["a tiller", "a pot of geraniums", "the cabin stove"]),
    ("a school at the end of term", ["a blackboard", "a globe", "a box of chalk"]),
    ("a botanical garden in winter", ["the palm house", "a fern", "a gardener's ledger"]),
    ("a music room above a shop", ["a cello", "a metronome", "a music stand"]),
    ("an island with one road", ["a bus shelter", "a red postbox", "a cattle grid"]),
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
    "sky": ["{s_over} {=cond_np}, {sky_cold}."],
    "s_over": ["Above it all the sky {is}", "The weather {is}", "Outside it {is}",
               "Over the roofs it {is}", "All night the sky {t:stay}", "Over {here} it {is}",
               "Beyond the windows it {is}", "The sky {t:keep} to", "Up above, it {is}",
               "The air outside {is}", "Overhead {I} {v:see}"],
    # a change of weather: "from overcast to a thunderstorm, then light rain" ({=cond_from})
    # after a verb of change, or "overcast, then light rain" ({=cond_seq}) after one of being
    "sky.arc": ["{s_from} {=cond_from}; {sky_cold}.", "{s_seq} {=cond_seq}; {sky_cold}."],
    "s_from": ["The sky {t:go}", "The weather {t:turn}", "Overhead it {t:change}",
               "{I} {v:watch} the {adj} sky go", "The sky over {here} {t:go}"],
    "s_seq": ["It {is} first", "At first the sky {is}", "Out there it {is}"],
    "sky_cold": ["{=deg} and {air_word}", "{air_word}, {=deg}", "{=deg} in the air",
                 "{=deg}, {air_word} on {my} hands", "{air_word} at {=deg}",
                 "{=deg} on {a:adj} thermometer"],
    "air.cold": ["cold", "bitter", "raw", "sharp", "frost-bright", "chilly", "biting", "numbing"],
    "air.cool": ["cool", "fresh", "crisp", "mild", "brisk", "soft", "still"],
    "air.warm": ["warm", "close", "sticky", "heavy with heat", "balmy", "drowsy"],
    # the storm said as a thing that happens ({=storm}: "a thunderstorm"), never a bare word
    "sky.storm": ["{st_a}{st_b} {=motif_a}{st_c}."],
    "st_a": ["Then {=storm} {t:break}", "{=storm_cap} {t:come} for {me} at last",
             "Lightning {t:find} {here} in {=storm}", "The night {t:split} open with {=storm}",
             "Out of nowhere {t:come} {=storm}"],
    "st_b": [", and thunder {t:shake}", "; the lightning {t:show}", ", rattling",
             "; {I} {v:hold} on to", ", and the thunder {t:roll} over"],
    "st_c": ["", " {adv}", " like {a:thing}", " in the flashes", " until {I} {am} soaked"],
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
               "The water {I} {v:keep} in {a:thing}", "A silver stream"],
    "m_down": ["{t:go} out", "{t:drain} away", "{t:sink}", "{t:ebb}", "{t:shrink}",
               "{t:run} thin", "{t:fall} back", "{t:slip} away", "{t:leak} away under {=motif_b}"],
    "m_up": ["{t:come} in", "{t:rise}", "{t:swell}", "{t:climb} the steps", "{t:fill} up",
             "{t:brim}", "{t:gather}", "{t:spill} over {surface}", "{t:grow}"],
    "m_still": ["{t:stir}, barely", "barely {t:move}", "{t:shift} {adv}", "{t:lap} {adv}",
                "{t:tremble} a little", "{t:rest}"],
    "m_by": ["by {=pct_about}", "{=pct_about} in one night", "{=pct_about} at once",
             "{=pct_about} while {I} {v:watch}", "by {=pct_about}, {adv}"],
    "m_tail": ["; {m_lab} {m_is} {=amount}", ", and {m_lab} {m_is} {=amount}"],
    "m_lab": ["the {=label}", "{my} {=label}"],
    "m_is": ["{nis}", "{n:stand} at", "{n:read}", "{n:come} to", "{n:settle} at", "{n:rest} at",
             "{n:sit} at", "{n:hold}", "{n:show}"],

    # reputation: voices, a crowd
    "reputation.up": ["{r_subj} {r_up} {=delta_voices}{r_tail}."],
    "reputation.down": ["{r_subj} {r_down} {=delta_voices}{r_tail}."],
    "r_subj": ["The crowd {pp}", "A choir {pp}", "The murmur around {=motif_a}",
               "The {adj} audience {pp}", "A gathering by {=motif_b}", "The applause {pp}",
               "The room {pp}", "A line of {adj} strangers", "{a:adj} congregation"],
    "r_up": ["{t:grow} by", "{t:swell} by", "{t:gain}", "{t:take} in", "{t:welcome}",
             "{t:find} room for"],
    "r_down": ["{t:lose}", "{t:thin} by", "{t:shed}", "{t:let} go of", "{t:drop}"],
    "r_tail": ["; {m_lab} {m_is} {=last_says}", ", and {m_lab} {m_is} {=last_says}",
               ", and {person} {t:call} {my} name; {m_lab} {m_is} {=last_says}"],

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
               ": {m_lab}, {=last_says} in all"],
    "sessions": ["{se_a} {=count_says}{se_b} {=duration}{se_c}."],
    "se_a": ["{I} {v:remember} being awake", "A lamp {t:burn} beside {=motif_a} while {I} {am} awake",
             "{I} {am} awake {pp}", "{I} {v:sit} up awake {pp}",
             "{I} {v:work} awake by {=motif_b}", "{person} {t:see} {me} awake",
             "{I} {am} up and awake"],
    "se_b": [", {adv}, for", "; in all", ", for", ", working {adv} for", ", {pp}, for", ", and for"],
    "se_c": ["", ", writing on {surface}", ", {adv}", " {pp}", ", {feeling}"],

    # new items: letters arriving
    "items": ["{i_subj} {=items_letters} {i_verb} {i_from} the {=label}{i_tail}."],
    "items.one": ["{i_subj} {one_letter} {i_verb} {i_from} the {=label}{i_tail}."],
    "one_letter": ["a single letter", "one letter", "a lone letter", "just one letter", "a letter",
                   "one {adj} envelope", "a postcard"],
    "i_from": ["from"],
    "i_subj": ["Then", "Under the door,", "On {=motif_b}", "By morning", "Through the window,",
               "In {a:adj} sack,", "Beside {=motif_a}"],
    "i_verb": ["{n:arrive}", "{n:wait}", "{n:come}", "{n:lie}", "{n:turn} up", "{n:blow} in",
               "{n:drift} in", "{n:slide} in", "{n:land}", "{n:flutter} down"],
    "i_tail": ["", ", {adj}, addressed in {stuff}", ", {adv}", ", {pp}", ", {adj} in {a:color} envelope",
               ", {adj} and {adj}"],
    "items.title": ["{I} {v:open} one {adv}; it {t:say} “{=title}”.",
                    "One {is} addressed to {me}: “{=title}”.",
                    "{person} {t:read} one aloud: “{=title}”.",
                    "The first one {t:begin} “{=title}”.",
                    "{I} {v:read} “{=title}” {adv}.", "“{=title}”, {I} {v:read}, {pp}."],

    # a failing source: a door that does not open
    "health.down": ["{h_subj} {=source} {h_down}."],
    "health.up": ["{h_subj} {=source} {h_up}."],
    "h_subj": ["The door marked", "A door in {here} that {t:lead} to the", "The gate to the",
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
        "{I} {back_to} {=motif_b}; {np} {vp}.",
        "{=motif_b} {is} still there, {adj} now, and {np} {vp}.",
        "{pp}, {=motif_a} {vp}.",
        "{I} {nvp} beside {=motif_b}.",
    ],
    "back_to": ["{v:go} back to", "{v:return} to", "{v:come} back to", "{v:drift} back to",
                "{v:wander} over to", "{v:find} {my} way to"],
    "np": ["{a:animal}", "{person}", "the {thing}", "{a:adj} {thing}", "the {adj} {animal}",
           "{a:color} {thing}", "{a:thing} of {stuff}", "{sound}",
           "{my} {thing}"],
    "vp": ["{t:drift}", "{t:wait} {adv}", "{t:hum}", "{t:lean} toward {a:thing}", "{t:turn} {color}",
           "{t:sleep}", "{t:whisper} about {smell}", "{t:hold} {a:adj} {thing}", "{t:count} {things}",
           "{t:smell} of {smell}", "{t:carry} {things}", "{t:follow} {me}", "{t:watch} {me}",
           "{t:fold} into {a:thing}", "{t:sing} of {a:season}", "{t:spill} {stuff}",
           "{t:shine} like {stuff}", "{t:sink} into {surface}", "{t:shiver}", "{t:settle}",
           "{t:rattle}", "{t:remember} {a:season}", "{t:ask} for {a:thing}", "{t:hide} {things}",
           "{t:glow} {color}", "{t:spin} {adv}", "{t:forget} {my} name", "{t:knock} on {surface}"],
    # where a thing is: always within the night's one scene, never a new place
    "pp": ["in {here}", "under {a:thing}", "beside {a:animal}", "at {hour}",
           "near {surface}", "on {surface}", "across {here}", "inside {a:thing}",
           "among {things}", "by {a:color} {thing}", "between {things} and {things}",
           "beyond {here}", "in the dark",
           "under the one lamp", "by the door", "at the window"],
    "nvp": ["{v:walk}", "{v:wait} {adv}", "{v:listen} for {sound}", "{v:carry} {a:adj} {thing}",
            "{v:count} {things}", "{v:follow} {a:animal}", "{v:hold} {a:thing}", "{v:kneel}",
            "{v:drift}", "{v:wash} {a:thing}", "{v:try} to name {a:animal}", "{v:sort} {things}",
            "{v:climb} {a:adj} {thing}", "{v:whisper} to {a:animal}", "{v:fold} {a:thing}",
            "{v:remember} {a:season}", "{v:hide} {a:thing}", "{v:swim}", "{v:wander}"],
    # the end: back to the motifs
    "close": ["{c_a} {=motif_a}{c_b}."],
    "c_a": ["{I} {v:wake} still holding", "At the end there {is} only", "The last thing {I} {v:see} {is}",
            "{I} {v:leave} behind", "Morning {t:come} and {t:take}", "When {I} {v:wake}, {I} {am} thinking of",
            "The dream {t:fold} itself {adv} around", "{I} {v:wake} {feeling}, with", "Last of all {I} {v:hear}"],
    "c_b": ["", ", or {a:adj} shadow of it", ", and then morning", ", {adj} in the half-light", " and {=motif_b}",
            ", and {I} {am} awake", ", {adv}", ", and {here} {t:go} {color}"],
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

# -- more ways to say each part ----------------------------------------------------------
# A reader meets these frames every morning: the fewer fixed runs of words a frame has and
# the more frames a kind has, the less one night reads like the last month (Self-BLEU).

T["open"] += [
    "{o_first} {=motif_a}{o_and} {=motif_b}, {o_where} {=setting}.",
    "{=setting_cap}{o_again}; {o_near} {=motif_a}{o_and} {=motif_b}.",
]
T["o_first"] = ["The first thing {I} {v:notice} {is}", "{I} {v:come} to beside",
                "It {t:start} with", "Before anything else there {is}",
                "{person} {t:point} {me} toward", "{I} {v:find} {my} way to",
                "Everything {t:begin} at", "{I} {v:open} {my} eyes on"]
T["o_where"] = ["somewhere in", "all of it in", "and around them", "and all around,",
                "and beyond them", "inside", "in the middle of", "at the back of"]
T["o_again"] = [", {adj} and {adj}", ", at {hour}",  ", or something like it",
                ", {adj} as ever", ", and {I} {am} {feeling} there"]
T["o_near"] = ["in it", "there {is}", "{I} {v:see}", "{person} {t:show} {me}", "nearby",
                "on a shelf", "by the door", "{I} {v:keep} near"]
T["o_with"] += [", and near {me}", ", and on a table", "; in a corner", ", holding",
                ", where {I} {v:keep}", "; {I} {v:notice}", ", with {person} and",
                ", among other things", "; someone has left", ", full of {stuff}, and"]
T["o_and"] += [", and by the window", " and, under the stairs,", "; not far off,",
               ", and in {a:color} box", ", and on the floor", " and, half hidden,",
               ", and past it", " and, like always,", "; across from it,", ", and overhead",
               " and, in the dark,", ", and by {a:thing}"]
T["o_in"] += ["{I} {v:drift} into", "Somehow {I} {am} in", "{I} {v:walk} {adv} into",
              "{person} {t:wave} {me} into", "{I} {v:get} off {a:vehicle} in",
              "It {is} {hour} in", "{I} {v:turn} up in"]

T["sky"] += ["{s_there} {=cond_np} {s_now}, {sky_cold}.", "It {is} {=temp} {s_here}, and {=cond_np} {s_out}."]
T["s_there"] = ["There {is}", "{I} {v:look} up at", "{person} {t:point} at",
                "The windows {tp:show}", "{I} {v:step} out into", "It {is} all"]
T["s_now"] = ["overhead", "over {here}", "above {=motif_a}", "outside", "beyond the glass",
              "all night"]
T["s_out"] = ["outside", "beyond the windows", "overhead", "over {here}",
              "above {=motif_b}", "all the way down", "in every window"]
T["s_here"] = ["by the {adj} thermometer", "on the glass", "in {here}", "by {my} reckoning",
                "down by {=motif_a}", "at {hour}"]
T["s_over"] += ["Through the skylight it {is}", "At the windows it {is}", "The {adj} sky {is}",
                "Everywhere it {is}", "Over {here} it {is}", "Out past {=motif_b} it {is}"]
T["s_from"] += ["The night {t:turn}", "The light {t:change}", "The sky above {here} {t:turn}",
                "The {adj} weather {t:go}", "The sky above {=motif_b} {t:go}"]
T["s_seq"] += ["The night {t:begin} as", "{person} {t:say} it {is}", "The windows {tp:show}",
               "All night it {is}"]
T["sky_cold"] += ["{=deg}; {air_word}", "{air_word} and {=deg}", "{=deg} by the clock",
                  "{air_word}, {=deg} at most", "{=deg} when {I} {v:check}",
                  "{air_word} against the glass, {=deg}"]

T["money.down"] += ["{m_lab_cap} {m_fall} {m_pct}, {m_to} {=amount}, as {m_subj_lc} {m_down}.",
                    "{m_watch} {m_subj_lc} {m_down_base} {m_by}; {m_lab} {m_is} {=amount}."]
T["money.up"] += ["{m_lab_cap} {m_rise} {m_pct}, {m_to} {=amount}, as {m_subj_lc} {m_up}.",
                  "{m_watch} {m_subj_lc} {m_up_base} {m_by}; {m_lab} {m_is} {=amount}."]
T["money.small"] += ["{m_lab_cap} {m_is} {=amount}{m_still_tail}.",
                     "{m_watch} {m_subj_lc} {m_still_base}; {m_lab} {m_is} {=amount}."]
T["m_lab_cap"] = ["The {=label}", "{my} {=label}"]
T["m_fall"] = ["{n:fall}", "{n:drop}", "{n:sink}", "{n:slip}", "{n:shrink}", "{n:go} down"]
T["m_rise"] = ["{n:rise}", "{n:climb}", "{n:grow}", "{n:swell}", "{n:go} up", "{n:gain}"]
T["m_pct"] = ["{=pct_about}", "by {=pct_about}", "{=pct_about} overnight", "{=pct_about} in the dark"]
T["m_to"] = ["to", "down to", "all the way to", "and {n:stop} at", "and {n:land} on", "until it {is}"]
T["m_subj_lc"] = ["the tide {pp}", "the water by {=motif_b}", "the heap of coins on {surface}",
                  "the river {pp}", "the well by {=motif_a}", "the fountain in {here}",
                  "the puddle of coins {pp}", "the sea {pp}",
                  "{a:adj} stream of coins", "the canal {pp}", "the pool {pp}"]
T["m_watch"] = ["{I} {v:watch}", "{person} and {I} {v:watch}", "From {=motif_a} {I} {v:see}",
                "{I} {v:stand} {adv} and {v:watch}", "All night {I} {v:watch}", "{I} {v:let}"]
T["m_down_base"] = ["go out", "drain away", "sink", "ebb", "run thin", "fall back", "slip away",
                    "empty"]
T["m_up_base"] = ["come in", "rise", "swell", "fill up", "brim", "gather", "climb the steps"]
T["m_still_base"] = ["barely move", "stir", "lap {adv}", "tremble a little", "rest", "shift"]
T["m_still_tail"] = ["; {m_subj_lc} {m_still}", ", and {m_subj_lc} {m_still}",
                     ", give or take, while {m_subj_lc} {m_still}", ", {adv}"]
T["m_subj"] += ["The canal {pp}", "The puddle of coins {pp}", "A jar of {color} coins",
                "The pool {pp}", "The tide by {=motif_a}", "A drawer of coins"]
T["m_is"] += ["{n:come} out at", "{n:stop} at", "{n:add} up to", "{n:end} at", "{n:settle} on",
              "{n:amount} to", "{n:show} just", "{n:land} on", "{n:wait} at",
              "{n:keep} to", "{n:hover} at"]
T["m_tail"] += ["; {I} {v:count} {=amount} in {m_lab}", ", {pp}: {m_lab}, {=amount}",
                ", until {m_lab} {m_is} {=amount}", "; {=amount}, says {m_lab}",
]
T["m_down"] += ["{t:pull} back", "{t:drop} away", "{t:run} out {pp}", "{t:thin}"]
T["m_up"] += ["{t:run} high", "{t:lift}", "{t:spread}", "{t:flood} {surface}"]
T["m_by"] += ["by {=pct_about} {pp}", "{=pct_about} before {I} {v:look} away"]

T["reputation.up"] += ["{r_pre} {=delta_voices} {r_join} {r_where}{r_tail}.",
                       "{person} {t:count} {=delta_voices} more {r_where}{r_tail}."]
T["reputation.down"] += ["{r_pre} {=delta_voices} {r_leave} {r_where}{r_tail}."]
T["r_pre"] = ["Then", "Quietly,", "{pp},", "Somewhere", "After a while", "Little by little,",
              "At {hour}", "All at once"]
T["r_join"] = ["{d:join} the crowd", "{d:call} out", "{d:gather}", "{d:sing} with them", "{d:arrive}",
               "{d:rise}", "{d:start} talking"]
T["r_where"] = ["around {=motif_a}", "in {here}", "by {=motif_b}", "{pp}", "outside",
                "under the {adj} lights", "on the stairs", "in the gallery"]
T["r_leave"] = ["{d:leave}", "{d:slip} out", "{d:fall} quiet", "{d:drift} off", "{d:go} home"]
T["r_subj"] += ["A hall of {adj} listeners",  "The chorus {pp}",
                "A crowd of {adj} neighbours", "The gallery {pp}"]
T["r_up"] += ["{t:gather}", "{t:fill} with", "{t:open} to", "{t:count}", "{t:collect}"]
T["r_down"] += ["{t:miss}", "{t:lose} track of", "{t:send} away"]
T["r_tail"] += ["; {=last_says}, {m_lab} {n:say} now", ", {pp}; {m_lab}: {=last_says}",
                "; {I} {v:hear} that {m_lab} {m_is} {=last_says}", ", until {m_lab} {m_is} {=last_says}",
]

T["work.up"] += ["{r_pre} {=delta_pages} {w_more} {w_where}{w_tail}.", "{I} {v:write} {=delta_pages} {w_where}{w_tail}."]
T["work.down"] += ["{w_lose} {=delta_pages} {w_where}{w_tail}."]
T["w_more"] = ["more {d:turn} up", "of {my} own {d:lie}", "in {my} hand {d:wait}",
               "{d:hang} drying", "{d:arrive}, in {my} hand,"]
T["w_where"] = ["on {=motif_b}", "by {=motif_a}", "{pp}", "at {a:adj} desk", "on the floor",
                "in {a:thing}"]
T["w_lose"] = ["{I} {v:lose}", "The wind {t:take}", "{person} {t:borrow}", "{I} {v:misplace}"]
T["w_subj"] += ["In {a:thing} {I} {v:find}", "{I} {v:pin} up", "{person} {t:read} out",
                "Under {=motif_a} {I} {v:find}", "{I} {v:fold}", "{I} {v:sign}"]
T["w_tail"] += ["; {m_lab}, {=last_says} now", ", until {m_lab} {m_is} {=last_says}",
                "; {I} {v:count} {m_lab}: {=last_says}", ", {pp}: {m_lab}, {=last_says}"]

T["sessions"] += ["{se_pre} {I} {am} awake {=count_says}, {se_for} {=duration}{se_c}.",
                  "{se_hours} {=count_says}, {se_for} {=duration}{se_c}."]
T["se_pre"] = ["In between,", "Somewhere in the dream", "By {=motif_a}", "{pp},", "For a while",
               "Between the dreams", "Off and on,"]
T["se_for"] = ["for", "all told", "in all", "working for"]
# under a minute: not "all told a moment", which reads as a slip
T["sessions.brief"] = ["{se_a} {=count_says}, but only for a moment{se_c}.",
                       "{se_hours} {=count_says}, though only for a moment{se_c}.",
                       "{I} {am} awake {=count_says} in the night, and only for a moment."]
T["se_hours"] = ["{I} {v:lie} awake", "{I} {v:get} up and {v:work} awake",
                 "{I} {v:light} the lamp and {v:stay} awake", "{person} {t:keep} {me} awake",
                 "{I} {am} called awake", "{I} {v:sit} awake at {a:adj} desk"]
T["se_a"] += ["{I} {v:rise} and {v:work} awake", "{I} {v:keep} awake {pp}", "{I} {v:stay} awake",
              "{person} {t:keep} {me} awake", "{I} {am} awake by {a:color} lamp"]
T["se_b"] += [", {pp}, for", ", as if on duty, for", ", {adv}, for", "; altogether"]
T["se_c"] += [", {adv} and {feeling}", ", at {hour}", ", with {=motif_a} near",
              ", reading {my} own notes", ", talking to nobody"]

T["items.one"] += ["{one_letter_cap} {i_verb} {i_from} the {=label} {pp}{i_tail}."]
T["one_letter_cap"] = ["A letter", "A single letter", "A postcard", "One letter", "A lone envelope"]
T["i_from"] += ["out of", "sent by", "care of", "straight from"]
T["i_subj"] += ["At the door", "On the mat,", "In {my} pocket", "Past {=motif_a}", "{pp},",
                "Later", "From nowhere,"]
T["i_verb"] += ["{n:fall} in", "{n:appear}", "{n:wait} for {me}", "{n:pile} up", "{n:show} up"]
T["items.title"] += ["It {t:read}: “{=title}”.", 
                     "{person} {t:hand} {me} one: “{=title}”.", "On top: “{=title}”."]

T["close"] += ["{c_pre} {=motif_a}{c_b}.", "{=motif_a_cap} {c_last}{c_b}."]
T["c_pre"] = ["Then {I} {am} awake, {my} hands still full of", "The dream {t:end} on",
              "All that {t:stay} {is}", "{I} {v:carry} into the morning",
              "When the light {t:come}, {I} {am} still beside", "What {I} {v:keep} {is}"]
T["c_last"] = ["{t:stay} with {me} into the morning", "{is} the last thing to go",
               "{t:wait} for {me} on waking", "{t:fade} last", "{t:stay} when the rest {t:go}"]
T["c_a"] += ["{I} {v:come} up out of it holding", "{here} {t:fade}, leaving",
             "Waking, {I} {can} still see", "Just before waking {I} {v:see}"]
T["c_b"] += [", {pp}", ", and {here} with it", ", {color} as the light {t:come}"]

T["motif"] += ["{I} {v:touch} {=motif_a} {adv}.",
               "{np} {vp} by {=motif_b}.", "{=motif_a}, {adj} in this light, {vp}.",
               "Somewhere {=motif_b} {vp}."]
T["back_to"] += ["{v:look} again at", "{v:check} on", "{v:turn} back to", "{v:sit} down by"]
T["sky.img.rain"] += ["Rain {t:tap} {pp}.", "The gutters {tp:talk} {adv}.", "Rain {t:find} {=motif_a}."]
T["sky.img.cloud"] += ["Cloud {t:press} on {here}.", "The clouds {tp:hide} the stars."]
T["sky.img.clear"] += ["The {adj} stars {tp:wait} {pp}."]
T["sky.img.fog"] += ["{=motif_a} {t:come} and {t:go} in the fog."]
T["sky.img.snow"] += ["Snow {t:gather} {pp}."]
T["sky.img.wind"] += ["The wind {t:worry} at {here}."]
T["turn"] += ["Afterwards", "Soon", "Somewhere in there,", "A little later,", "At some point"]

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

# -- the sky by bands (see sky.py): frost below 0 °C, cold below ~8, mild, warm, hot ------
T["air.frost"] = ["frost-bright", "bitter", "biting", "iron-hard", "freezing", "ice-clear"]
T["air.cold"] = ["cold", "raw", "sharp", "chilly", "brisk", "thin and cold"]
T["air.mild"] = ["mild", "cool", "fresh", "soft", "still", "gentle"]
T["air.warm"] = ["warm", "soft and warm", "balmy", "close", "summery"]
T["air.hot"] = ["hot", "heavy with heat", "sweltering", "stifling", "blazing"]
T["sky.img.snow"] += ["Snow {t:come} down on {here} {adv}.", "Snow {t:lie} on {=motif_b}.",
                      "Everything {is} white under the snow, {=motif_a} too.",
                      "Snow {t:fill} the window {pp}.", "Flakes of snow {tp:settle} on {my} sleeves."]
T["sky.img.blizzard"] = ["The wind {t:drive} the snow sideways across {here}.",
                         "Snow {t:come} flying on the wind, and {=motif_b} {t:vanish} in it.",
                         "A blizzard {t:howl} at {here}, {adv}.",
                         "The wind {t:throw} snow against {=motif_a}."]
T["sky.img.wind"] += ["The wind {t:lean} on {here} all night.", "A hard wind {t:rattle} {=motif_b}.",
                      "Gusts {tp:slam} the door of {here} {adv}.",
                      "The wind {t:tug} at {my} coat {pp}."]
T["sky.img.rain"] += ["Rain {t:stream} down the glass {pp}.", "{I} {v:hear} the rain on {=motif_b}."]
T["sky.img.heat"] = ["The heat {t:sit} on {here} {adv}.", "The air {is} thick with heat {pp}.",
                     "Even the shade {is} hot {pp}."]
T["sky.img.frost"] = ["Frost {t:whiten} {=motif_b}.", "Frost {t:climb} the window {pp}.",
                      "{my} breath {t:hang} in the air {pp}."]

# -- told, not itemized: a move by its direction and size, no figure --------------------
T["money.up.told"] = ["{m_subj} {m_up} {=size}{mt_tail}.",
                      "{m_watch} {m_subj_lc} {m_up_base} {=size}{mt_tail}.",
                      "{m_lab_cap} {m_rise} {=size}, as {m_subj_lc} {m_up}."]
T["money.down.told"] = ["{m_subj} {m_down} {=size}{mt_tail}.",
                        "{m_watch} {m_subj_lc} {m_down_base} {=size}{mt_tail}.",
                        "{m_lab_cap} {m_fall} {=size}, as {m_subj_lc} {m_down}."]
T["mt_tail"] = ["; it {is} {m_lab}", ", and {m_lab} with it", "; {I} {v:know} it for {m_lab}",
                ", which {is} {m_lab}", ": {m_lab}"]
T["reputation.up.told"] = ["{r_subj} {t:grow} {=size}{rt_tail}.",
                           "{r_pre} more voices {tp:join} them {r_where}{rt_tail}.",
                           "{person} {t:count} more voices {r_where} than before{rt_tail}."]
T["reputation.down.told"] = ["{r_subj} {t:thin} {=size}{rt_tail}.",
                             "{r_pre} some voices {tp:leave} {r_where}{rt_tail}.",
                             "{person} {t:count} fewer voices {r_where} than before{rt_tail}."]
T["rt_tail"] = [": {m_lab}", ", and {m_lab} with them", "; {I} {v:know} them for {m_lab}",
                ", and {m_lab} {n:change} with them"]
T["work.up.told"] = ["{I} {v:write} more pages {w_where}{wk_tail}.",
                     "{r_pre} new pages in {my} hand {tp:turn} up {w_where}{wk_tail}.",
                     "{w_subj} {w_fresh}{wk_tail}."]
T["w_fresh"] = ["new pages of {my} own", "fresh pages in {my} hand", "more of {my} writing",
                "a sheaf of {my} new pages", "pages still wet with {my} ink",
                "another handful of {my} pages"]
T["work.down.told"] = ["Some of {my} pages {tp:go} missing {w_where}{wk_tail}.",
                       "{w_lose} some of {my} pages {w_where}{wk_tail}."]
T["wk_tail"] = ["; they {are} {m_lab}", ", {m_lab}", ": {m_lab}", ", all of them {m_lab}"]
T["sessions.told"] = ["{I} {am} awake {=awake_how}{se_c}.", "{se_hours} {=awake_how}{se_c}.",
                      "{se_pre} {I} {am} awake at {my} work {=awake_how}.",
                      "{I} {v:lie} awake {=awake_how}{se_c}.",
                      "{=awake_how_cap}, {I} {am} awake{se_c}.",
                      "Sleep {t:let} go of {me} {=awake_how}; {I} {v:work} awake {pp}."]
T["items.told"] = ["{i_subj} letters {tp:arrive} {i_from} the {=label}{i_tail}.",
                   "Letters from the {=label} {tp:pile} up {pp}.",
                   "{person} {t:bring} {i_bundle} from the {=label}{i_tail}.",
                   "{i_bundle_cap} from the {=label} {tp:wait} {pp}."]
T["i_bundle"] = ["letters", "a bundle of letters", "a handful of letters", "envelopes",
                 "a stack of letters", "letters tied with string"]
T["i_bundle_cap"] = ["Letters", "A bundle of letters", "Envelopes", "A stack of letters"]
T["other.up.told"] = ["{g_subj} {=label} {t:climb} {=size}.", "{g_subj} {=label} {t:rise} {=size}."]
T["other.down.told"] = ["{g_subj} {=label} {t:sink} {=size}.", "{g_subj} {=label} {t:fall} {=size}."]

# -- the agent's own words, changed as dreams change things -----------------------------
T["own"] = ["In {my} own hand, on {surface}: “{=own}”.",
            "{person} {t:hum} something that goes “{=own}”.",
            "The words “{=own}” {tp:hang} over {here} like a sign.",
            "{I} {v:remember} writing “{=own}”, but not where.",
            "“{=own}”, says a label tied to {=motif_b}.",
            "There {is} a note pinned to {=motif_a}: “{=own}”.",
            "{person} {t:hand} {me} a page of {my} diary; it {t:say} “{=own}”.",
"{I} {v:find} {my} own words on {=motif_b}: “{=own}”.",
            "Someone has written “{=own}” on {surface}, in {my} hand.",
            "{person} {t:read} aloud from {my} diary: “{=own}”.",
            "Across a wall, in {stuff}: “{=own}”.",
            "“{=own}”, {I} {v:say} to {=motif_a}, and it {t:sound} like someone else's line.",
            "A loose page {t:blow} past with “{=own}” on it.",
            "{I} {v:keep} repeating “{=own}”, {adv}.",
            "{=motif_a_cap} {t:hold} a note in {my} writing: “{=own}”.",
            "{person} {t:ask} {me} what “{=own}” means."]
# -- last night comes back ---------------------------------------------------------------
T["echo"] = ["{=echo_cap}, last seen in another dream, {t:wait} {pp}.",
             "{I} {v:know} {=echo} at once; it {t:belong} to an earlier dream.",
             "{=echo_cap} {is} here again, as though {I} had never left.",
             "{person} {t:carry} {=echo} in, from a dream {I} {v:remember} only half.",
"{=echo_cap} from last night {is} here too, {pp}.",
             "{I} {v:recognise} {=echo} from another night.",
             "{=echo_cap} {t:turn} up again, as if it had waited for {me}.",
             "Somewhere {=echo} from the night before {t:wait}.",
             "{person} {t:bring} {=echo} back from yesterday's sleep."]
# -- the one change of place, told as a passage ------------------------------------------
T["move"] = ["{pa_way} {t:lead} from {here} into {=there}.",
                "{I} {v:go} through {pa_door} and {am} in {=there}.",
                "Behind {=motif_b}, {pa_door} {t:open} on {=there}, and {I} {v:go} in.",
                "{I} {v:follow} {pa_way_lc} down into {=there}."]
T["pa_way"] = ["A narrow stair", "A low door", "A narrow passage", "A gate", "A short ladder",
               "A covered passage"]
T["pa_way_lc"] = ["a narrow stair", "a narrow passage", "a short ladder", "a winding stair"]
T["pa_door"] = ["a low door", "a side door", "a gate", "a curtain", "a trapdoor"]

VERBS.update({
    "drive": ("drives", "drove"), "vanish": ("vanishes", "vanished"), "howl": ("howls", "howled"),
    "throw": ("throws", "threw"), "slam": ("slams", "slammed"), "tug": ("tugs", "tugged"),
    "stream": ("streams", "streamed"), "whiten": ("whitens", "whitened"),
    "sound": ("sounds", "sounded"), "repeat": ("repeats", "repeated"),
})
T["sky_cold"] += ["{air_word} on {my} hands", "{air_word} to the touch",
                  "{air_word} all through", "{air_word} at the windows", "the air {air_word}",
                  "{air_word} on {my} face", "{air_word} in every room"]

# -- a wider lexicon: the fewer times a word recurs in a month, the less one night reads like
# the next (Self-BLEU); none of these is weather, a place or a figure
LEXICON["adj"] += [
    "mottled", "threadbare", "gleaming", "freckled", "tarnished", "quilted", "scuffed",
    "glazed", "pleated", "smudged", "weathered", "shuttered", "chalky", "dappled", "marbled",
    "rumpled", "splintered", "braided", "cracked", "beaded", "hushed", "brittle", "ornate",
    "plain", "ancient", "newly painted", "sagging", "wobbly", "tidy", "dusty", "bright",
    "dim", "muffled", "fragrant", "careful", "stubborn", "forgotten", "heavy", "light",
    "feathery", "clockwork", "inky", "papery", "woollen", "leathery", "silken", "reedy",
    "rosy", "striped", "spotted", "checked", "fringed", "tasselled", "lacy", "waxed"]
LEXICON["thing"] += [
    "thermos", "tin whistle", "butter dish", "key ring", "shoehorn", "birdhouse", "egg cup",
    "sugar bowl", "hand mirror", "salt cellar", "tape measure", "pincushion", "oil lamp",
    "card table", "music box", "bread knife", "clothes peg", "water jug", "coat hanger",
    "fountain pen", "paper fan", "tea tray", "hat box", "button tin", "coffee grinder",
    "flower press", "door knocker", "rolling pin", "sewing machine", "bootjack", "yo-yo",
    "toy boat", "chessboard", "magnifying glass", "wind-up mouse", "wooden spoon", "ledger",
    "brass hook", "biscuit tin", "spinning top"]
LEXICON["things"] += [
    "thimbles", "walnuts", "hazelnuts", "conkers", "acorns", "matchsticks", "paper clips",
    "cotton reels", "dominoes", "playing cards", "postage stamps", "hairpins", "pearls",
    "coat buttons", "lemons", "plums", "figs", "cherries", "pine needles", "eggshells",
    "keys on a ring", "teaspoons", "saucers", "envelopes of seeds", "wooden pegs", "bottle corks"]
LEXICON["person"] += [
    "a woman selling eggs", "a man in a bowler hat", "a piano teacher", "a boy with a bucket",
    "a night porter", "a seamstress", "a clockmaker", "a girl with a satchel", "an old sailor",
    "a cousin {I} had forgotten", "a librarian", "a locksmith", "a woman knitting",
    "a man carrying a chair", "a child with a jar", "a choirboy", "a tinker", "a gardener's boy",
    "a woman with a parcel", "a man in slippers", "a ticket seller", "an apprentice",
    "a retired teacher", "a midwife", "a flower seller", "a man with a lantern"]
LEXICON["animal"] += [
    "jackdaw", "vole", "lapwing", "pike", "shrew", "curlew", "salamander", "stoat", "dormouse",
    "nightjar", "bullfinch", "trout", "grass snake", "hedgehog", "squirrel", "mouse", "goose",
    "duck", "swan", "cormorant", "plover", "hen", "rook", "dragonfly"]
LEXICON["surface"] += [
    "a saucer", "the mantelpiece", "a drawer", "the stair rail", "a music stand", "a suitcase lid",
    "the piano lid", "a ledger", "a lampshade", "the bread board", "a hatbox", "a birdbath",
    "a windowpane", "the table's edge", "a chopping board", "a tin tray", "the doormat"]
LEXICON["stuff"] += ["marmalade", "string", "thread", "pepper", "wool", "beeswax", "starch",
                     "charcoal", "linseed", "sealing wax", "chalk dust", "cinnamon", "oats",
                     "iron filings", "candle grease", "soap", "ribbon", "butter"]
LEXICON["color"] += ["russet", "heather", "primrose", "bottle-green", "pewter", "cream",
                     "brick-red", "indigo", "lavender", "sage", "apricot", "charcoal"]
LEXICON["sound"] += ["a wireless playing low", "a door latch", "a pencil on paper",
                     "a tin cup on a nail", "someone humming", "a dog shaking itself",
                     "a chair scraping", "a page turning", "a spoon stirring", "a bicycle chain",
                     "a sewing machine", "a whistle far off"]
LEXICON["smell"] += ["soap", "ink", "woodsmoke", "boiled sweets", "wet earth", "lemon peel",
                     "floor polish", "new paper", "hot bread", "cedar", "mint", "tea"]
LEXICON["hour"] += ["just after supper", "the hour of the milk", "a quarter to something",
                    "the end of a long day", "bath time", "the hour before the post",
                    "an early train", "the last light", "the changing of a shift",
                    "a late breakfast"]
LEXICON["feeling"] += ["hopeful", "sleepy", "certain", "unready", "found", "grateful",
                       "older", "listened to", "glad", "quiet inside"]
LEXICON["adv"] += ["as if it mattered", "at a stroll", "without looking", "all at once",
                   "by lamplight", "in a hurry", "on purpose", "gently",
                   "absently", "out of habit", "like a secret"]

# an opening that names the scene and one thing in it; the second comes in later
T["open.one"] = ["{o_in} {=setting}{o_one} {=motif_a}.",
                 "{=setting_cap}{o_again}; {o_near} {=motif_a}.",
                 "{o_first} {=motif_a}, {o_where} {=setting}."]
T["o_one"] = [", with", ": there {is}", "; beside {me}", ", and {I} {v:find}", ", carrying",
              "; first {I} {v:see}", ", where {person} {t:hold}", ", near", ", holding",
              ", and in a corner", "; someone has left"]
T["motif.b"] = ["Then {I} {v:notice} {=motif_b} {pp}.", "{=motif_b_cap} {is} there too, {pp}.",
                "{person} {t:set} down {=motif_b} {pp}.", "Later there {is} {=motif_b}, {adj} and {adj}.",
                "{I} {v:find} {=motif_b} {pp}.", "{=motif_b_cap} {t:wait} {pp}, {adj}."]
T["sky.img.snow"] += ["The snow {t:muffle} every sound {pp}.", "{I} {v:walk} in snow up to {my} ankles.",
                      "Snow {t:gather} on the sill and on {=motif_a}.",
                      "{person} {t:sweep} snow from the step {adv}.",
                      "The snow {t:keep} falling, {adj} and slow.",
                      "Snow {t:drift} against the door of {here}."]
T["move"] += ["{=there_cap} {t:open} out behind {here}, and the dream {t:go} on there.",
              "A stair behind {=motif_a} {t:take} {me} down to {=there}.",
              "{I} {v:step} through a door in the wall into {=there}."]
VERBS.update({"muffle": ("muffles", "muffled"), "sweep": ("sweeps", "swept"),
              "set": ("sets", "set")})
T["se_a"] += ["{I} {v:get} up in the night and {am} awake", "Sleep {t:let} {me} go, and {I} {am} awake",
              "{I} {am} awake at {my} table", "{person} {t:find} {me} awake"]
T["se_b"] += [", the lamp on, for", "; the hours come to", ", reading, for", ", all in all"]
T["sessions"] += ["{=count_says_cap} {I} {v:sit} up awake, {=duration} in all{se_c}."]
T["reputation.up"] += ["{=delta_voices_cap} {r_join} {r_where}{r_tail}.",
                       "{I} {v:hear} {=delta_voices} more {r_where}{r_tail}."]
T["reputation.down"] += ["{=delta_voices_cap} {r_leave} {r_where}{r_tail}."]

# -- more ways to end, to be awake, to remember, to snow (Self-BLEU) ---------------------
T["c_a"] += ["Morning {t:find} {me} with", "{I} {v:surface} clutching", "Daylight {t:leave} {me} only",
             "The last of it {is}", "{I} {v:open} {my} eyes on", "What {t:remain} {is}",
             "Waking, {I} {v:reach} for", "It {t:end} where it began, with",
             "Everything {t:go} but", "The dream {t:let} go of all but"]
T["c_pre"] += ["{I} {v:wake}, and in {my} mind {is}", "By daylight only {is} left of it:",
               "When {I} {v:wake}, there {is} still", "Out of it all {I} {v:keep}"]
T["se_c"] += [", the kettle cold beside {me}", ", {my} notes spread out", ", counting nothing",
              ", with the lamp low", ", listening to the house", ", in {my} coat"]
T["echo"] += ["{=echo_cap} {is} back, just where {I} left it.", "Again {=echo}, as on the night before.",
              "{=echo_cap} {t:return}, a little {adj}.", "From some other night {=echo} {t:turn} up {pp}."]
T["sky.img.snow"] += ["Snow {t:bury} the path to {here}.", "The snow {t:squeak} under {my} feet.",
                      "Snow {t:sift} down through the {color} light.", "{my} footprints {tp:fill} with snow."]
T["sky.img.wind"] += ["The wind {t:find} every crack in {here}.", "Outside, the wind {t:shout} at nothing."]
T["own"] += ["{person} {t:write} “{=own}” in the dust on {surface}.",
             "The heading “{=own}” {t:float} past, {adj}.", "{I} {v:find} “{=own}” folded inside {a:thing}."]
T["move"] += ["Through {pa_door} {I} {v:come} out in {=there}.", "{pa_way} {t:climb} to {=there}, and {I} {v:follow} it."]
T["sky.arc"] += ["{s_from} {=cond_from}, {sky_cold}."]
T["s_from"] += ["All night the weather {t:go}", "Hour by hour the sky {t:go}", "{I} {v:see} the night go"]
VERBS.update({"surface": ("surfaces", "surfaced"), "reach": ("reaches", "reached"),
              "remain": ("remains", "remained"), "bury": ("buries", "buried"),
              "squeak": ("squeaks", "squeaked"), "sift": ("sifts", "sifted"),
              "float": ("floats", "floated")})
