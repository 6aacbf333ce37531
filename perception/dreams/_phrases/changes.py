"""What moved in the day, each kind in its own imagery: money as water and coins,
reputation as voices, the agent's own work as pages, sessions as hours awake, new items as
letters, a failing source as a door, anything else as a gauge. Each kind says its move with
its figures (``money.up``) and told by direction and size (``money.up.told``)."""

from __future__ import annotations

T: dict[str, list[str]] = {
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
}

# -- more ways to say each part (Self-BLEU: see the package's docstring) -----------------
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
T["se_a"] += ["{I} {v:get} up in the night and {am} awake", "Sleep {t:let} {me} go, and {I} {am} awake",
              "{I} {am} awake at {my} table", "{person} {t:find} {me} awake"]
T["se_b"] += [", the lamp on, for", "; the hours come to", ", reading, for", ", all in all"]
T["sessions"] += ["{=count_says_cap} {I} {v:sit} up awake, {=duration} in all{se_c}."]
T["reputation.up"] += ["{=delta_voices_cap} {r_join} {r_where}{r_tail}.",
                       "{I} {v:hear} {=delta_voices} more {r_where}{r_tail}."]
T["reputation.down"] += ["{=delta_voices_cap} {r_leave} {r_where}{r_tail}."]
T["se_c"] += [", the kettle cold beside {me}", ", {my} notes spread out", ", counting nothing",
              ", with the lamp low", ", listening to the house", ", in {my} coat"]
