"""What comes into the scene from outside it: the agent's own words from the day, a motif
of last night's dream, and the one change of place, told as a passage."""

from __future__ import annotations

T: dict[str, list[str]] = {}

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
T["move"] += ["{=there_cap} {t:open} out behind {here}, and the dream {t:go} on there.",
              "A stair behind {=motif_a} {t:take} {me} down to {=there}.",
              "{I} {v:step} through a door in the wall into {=there}."]
T["echo"] += ["{=echo_cap} {is} back, just where {I} left it.", "Again {=echo}, as on the night before.",
              "{=echo_cap} {t:return}, a little {adj}.", "From some other night {=echo} {t:turn} up {pp}."]
T["own"] += ["{person} {t:write} “{=own}” in the dust on {surface}.",
             "The heading “{=own}” {t:float} past, {adj}.", "{I} {v:find} “{=own}” folded inside {a:thing}."]
T["move"] += ["Through {pa_door} {I} {v:come} out in {=there}.", "{pa_way} {t:climb} to {=there}, and {I} {v:follow} it."]
