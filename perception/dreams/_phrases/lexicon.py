"""The words the slots take: ``{adj}``, ``{thing}``, ``{person}``, ``{hour}``... None of them is
weather, a place the record could contradict, or a figure."""

from __future__ import annotations

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
