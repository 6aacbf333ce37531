"""The sky as the record has it: the night's weather and its change, the air by its band
of temperature, the storm, and the sky's own images (rain, fog, snow, wind...). The
entries that name a weather are the ones ``sky.py`` rules out when the record disagrees."""

from __future__ import annotations

T: dict[str, list[str]] = {
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
}

# -- more ways to say each part (Self-BLEU: see the package's docstring) -----------------
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
T["sky.img.rain"] += ["Rain {t:tap} {pp}.", "The gutters {tp:talk} {adv}.", "Rain {t:find} {=motif_a}."]
T["sky.img.cloud"] += ["Cloud {t:press} on {here}.", "The clouds {tp:hide} the stars."]
T["sky.img.clear"] += ["The {adj} stars {tp:wait} {pp}."]
T["sky.img.fog"] += ["{=motif_a} {t:come} and {t:go} in the fog."]
T["sky.img.snow"] += ["Snow {t:gather} {pp}."]
T["sky.img.wind"] += ["The wind {t:worry} at {here}."]

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
T["sky_cold"] += ["{air_word} on {my} hands", "{air_word} to the touch",
                  "{air_word} all through", "{air_word} at the windows", "the air {air_word}",
                  "{air_word} on {my} face", "{air_word} in every room"]
T["sky.img.snow"] += ["The snow {t:muffle} every sound {pp}.", "{I} {v:walk} in snow up to {my} ankles.",
                      "Snow {t:gather} on the sill and on {=motif_a}.",
                      "{person} {t:sweep} snow from the step {adv}.",
                      "The snow {t:keep} falling, {adj} and slow.",
                      "Snow {t:drift} against the door of {here}."]
T["sky.img.snow"] += ["Snow {t:bury} the path to {here}.", "The snow {t:squeak} under {my} feet.",
                      "Snow {t:sift} down through the {color} light.", "{my} footprints {tp:fill} with snow."]
T["sky.img.wind"] += ["The wind {t:find} every crack in {here}.", "Outside, the wind {t:shout} at nothing."]
T["sky.arc"] += ["{s_from} {=cond_from}, {sky_cold}."]
T["s_from"] += ["All night the weather {t:go}", "Hour by hour the sky {t:go}", "{I} {v:see} the night go"]
