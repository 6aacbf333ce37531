"""The night's one scene: its settings and their things, the opening that sets them down,
the sentences that hold on to them (the motifs, the texture between the events), the turns
between sentences, and the end that returns to the motifs."""

from __future__ import annotations

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
T["turn"] += ["Afterwards", "Soon", "Somewhere in there,", "A little later,", "At some point"]

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

# -- more ways to end (Self-BLEU) -------------------------------------------------------
T["c_a"] += ["Morning {t:find} {me} with", "{I} {v:surface} clutching", "Daylight {t:leave} {me} only",
             "The last of it {is}", "{I} {v:open} {my} eyes on", "What {t:remain} {is}",
             "Waking, {I} {v:reach} for", "It {t:end} where it began, with",
             "Everything {t:go} but", "The dream {t:let} go of all but"]
T["c_pre"] += ["{I} {v:wake}, and in {my} mind {is}", "By daylight only {is} left of it:",
               "When {I} {v:wake}, there {is} still", "Out of it all {I} {v:keep}"]
