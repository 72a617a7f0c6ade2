"""State-media sourcing: who published an article, which outlets its content relies on, how, and where.

Every named outlet mention (and every unnamed "Chinese state media" phrase) gets at most one *role*, decided from
the words around it inside its sentence, in this order (first match wins):

1. ``photo_credit`` — in the credits field, marked as a credit ("Photograph: …/TASS", "© Sputnik",
   "REUTERS/KCNA", "(AP-Yonhap)"), or in a sentence that describes a picture ("In this photo provided by the
   North Korean government …", "This photo released by SANA shows …"), or closing a parenthesised credit line
   ("(Korean Central News Agency/Korea News Service via AP)"). A credit is not content sourcing.
2. ``headline`` — the title starts with "KCNA:" or ends with ": KCNA" / "- TASS".
3. ``dateline`` — the copy opens with a wire dateline: "Pyongyang, November 10 (KCNA) --", "MOSCOW, March 14. /TASS/.",
   "MOSCOW (Sputnik) —", or a dashed wire byline: "— Anadolu Agency", "ANKARA — Anadolu Agency —".
4. ``republished`` — "Source: Xinhua", "Full story: Sputnik International", "originally published by".
5. ``interview`` — "Peskov told TASS", "in an interview with RT": the speaker is the source, the outlet the channel.
6. ``cited`` — a reporting verb after it ("KCNA said", "KCNA, the North's official news agency, reported"), an
   inverted attribution (", said KCNA"), a citing phrase before it ("according to China's Xinhua", "citing SANA",
   "in a dispatch carried by KCNA"), a report noun ("a KCNA report said"), or the same in French, German,
   Spanish, Russian, Korean, Chinese, Japanese, Arabic (verb first: "ذكرت وكالة ... (سانا)") or Persian
   ("به گزارش ایرنا").
7. ``photo_credit`` again for a bare "KCNA via REUTERS" (after the content cues, since "via" is also prose).

Anything else is a *mention*: a story about Ofcom revoking RT's licence is about RT, not sourced from it.
Back-references ("the agency said") later in the paragraph make the nearest preceding outlet ``cited``.
Intermediary chains ("KCNA reported …, according to South Korea's Yonhap") give both outlets their own
citation: KCNA (state) and Yonhap (a public-interest agency, recorded but not state media).

Unnamed phrases ("state media", "state TV", "the country's state news agency") resolve to the generic
``<cc>_state_media`` entry of the country named right before or after them ("Chinese", "North Korea's",
"in Pyongyang"), else of the side the report comes from (``_speaking_country``: a state outlet named in the
article, the first country of the phrase's sentence, the paragraph, a state publisher, the article); they need
the same cues as named outlets, and one describing a named outlet next to it
("state news agency KCNA") is that outlet's, not a second citation.

``state_sourced`` is true when the publisher or any non-photo citation is an outlet with ``state: true``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from streams.core.matcher import FIELDS, Candidate, Document
from streams.core.models import Article, Citation, CitationRole, StateMedia, sources_content
from streams.core.registry import OutletEntry, OutletIndex
from streams.core.text import WEEKDAYS

# Unnamed references to a country's state media, matched as whole phrases in any case.
MEDIA_PHRASES: tuple[str, ...] = (
    *(
        f"{adjective} {noun}"
        for adjective in (
            "state", "state-run", "state-owned", "state-controlled", "state-affiliated", "state-backed",
            "government-run", "government-controlled", "official", "semi-official", "party",
        )
        for noun in (
            "media", "media outlet", "media outlets", "outlets", "television", "TV", "broadcaster", "radio",
            "news agency", "newswire", "newspaper", "daily", "tabloid", "press",
        )
    ),
    "official state media", "official state news agency", "state-run news agency", "state television channel",
    "party mouthpiece", "propaganda outlet", "propaganda outlets", "state propaganda outlets",
    "médias d'État", "média d'État", "télévision d'État", "agence de presse officielle", "agence officielle",
    "Staatsmedien", "staatliche Medien", "staatlichen Medien", "Staatsfernsehen", "Staatssender",
    "staatliche Nachrichtenagentur", "staatlichen Nachrichtenagentur", "amtliche Nachrichtenagentur",
    "medios estatales", "medios oficiales", "medio estatal", "medio oficial", "televisión estatal", "agencia estatal",
    "agencia oficial",
    "государственные СМИ", "госСМИ", "государственное телевидение", "государственное информационное агентство",
    "관영 매체", "관영 언론", "관영 통신", "관영매체", "관영언론",
    # North Korea has no press but the state's: its "media" are state media, in every language.
    "North Korean media", "North Korea's media", "북한 매체", "북한 언론", "北朝鮮メディア", "北朝鮮の報道機関",
    "朝鲜媒体", "北韩媒体", "北韓媒體", "朝鮮媒體", "médias nord-coréens", "nordkoreanische Medien",
    "medios norcoreanos", "северокорейские СМИ", "truyền thông Triều Tiên",
    "官方媒体", "官媒", "国家媒体", "官方通讯社", "官方媒體", "國家媒體", "官方通訊社",
    "国営メディア", "国営テレビ", "国営通信", "国営放送", "官製メディア", "政府系メディア",
)  # fmt: skip

# --------------------------------------------------------------------------- lexicon
_EN_VERBS = (
    "said|says|say|reported|reports|quoted|quotes|cited|cites|announced|announces|stated|states|claimed|claims|"
    "added|adds|wrote|writes|noted|notes|warned|warns|described|describes|showed|shows|aired|airs|broadcast|"
    "broadcasts|carried|carries|published|publishes|released|releases|confirmed|confirms|denied|denies|called|"
    "calls|urged|urges|accused|accuses|hailed|hails|slammed|slams|blasted|blasts|criticized|criticised|"
    "criticizes|criticises|condemned|condemns|denounced|denounces|praised|praises|revealed|reveals|insisted|"
    "insists|alleged|alleges|declared|declares|branded|brands|dubbed|explained|explains|stressed|stresses|"
    "emphasized|emphasised|quoting|citing|reporting|showing|saying|vowed|threatened|boasted|lauded|touted|"
    "highlighted|posted|headlined|identified|predicted|asserted|argued|issued|ran|"
    # plural present, for plural subjects ("state media warn", "Chinese state outlets claim"); not the forms
    # that are also nouns after an outlet's name ("RT show", "the TASS state agency", "RT run by the Kremlin")
    "report|quote|cite|announce|claim|write|warn|describe|broadcast|carry|publish|release|confirm|deny|urge|"
    "accuse|hail|slam|blast|criticize|criticise|condemn|denounce|praise|reveal|insist|allege|declare|brand|dub|"
    "explain|stress|emphasize|emphasise|vow|threaten|boast|laud|tout|highlight|predict|assert|argue"
)
_FR_VERBS = (
    "a rapporté|rapporte|rapportait|a indiqué|indique|a annoncé|annonce|a affirmé|affirme|a déclaré|déclare|"
    "a précisé|précise|a publié|publie|a diffusé|diffuse|a cité|cite|a écrit|écrit|a ajouté|ajoute|a dit|dit|"
    "a assuré|assure|a relayé|relaie|ont rapporté|rapportent|ont indiqué|indiquent|ont annoncé|annoncent|"
    "ont affirmé|affirment|ont déclaré|déclarent|ont publié|publient|ont diffusé|diffusent|ont écrit|écrivent|"
    "ont ajouté|ajoutent|ont relayé|relaient"
)
_DE_VERBS = (
    "berichtete|berichtet|meldete|meldet|zufolge|schrieb|schreibt|teilte mit|zitierte|zitiert|sagte|erklärte|"
    "verbreitete|veröffentlichte|hieß es|vermeldete|vermeldet|berichteten|meldeten|schrieben"
)
_ES_VERBS = (
    "informó|informa|reportó|reporta|señaló|señala|indicó|indica|dijo|dice|afirmó|afirma|anunció|anuncia|"
    "publicó|publica|difundió|difunde|citó|cita|aseguró|asegura|agregó|añadió|declaró|recogió|recoge|"
    "reprodujo|reproduce|transmitió|transmite|informaron|informan|reportaron|señalaron|indicaron|dijeron|"
    "afirmaron|anunciaron|publicaron|difundieron|citaron|aseguraron|agregaron|añadieron|declararon|"
    "recogieron|reprodujeron|transmitieron"
)
_RU_VERBS = (
    "сообщает|сообщило|сообщили|передает|передаёт|передало|пишет|писало|заявило|отмечает|отметило|уточняет|"
    "цитирует|процитировало|опубликовало|показало|информирует|распространило|сообщил|сообщила|приводит|"
    "привело|приводят|цитируют|сообщают|передают|пишут|заявляет|уточнило|подчеркнуло"
)
_VI_VERBS = "cho biết|đưa tin|thông báo|dẫn lời|tường thuật|loan tin|đăng tải|đăng bài|công bố"
VERBS = "|".join((_EN_VERBS, _FR_VERBS, _DE_VERBS, _ES_VERBS, _RU_VERBS, _VI_VERBS))
_INVERTED_VERBS = (
    "said|says|reported|reports|added|adds|wrote|writes|quoted|announced|stated|noted|claimed|warned|declared|"
    "explained|insisted|" + _FR_VERBS + "|berichtete|meldete|vermeldete|schrieb|" + _ES_VERBS + "|" + _RU_VERBS
)
_CITING = (
    # English
    "according to|citing|cited by|quoted by|quoting|as reported by|reported by|carried by|published by|"
    "published in|appeared in|aired by|aired on|broadcast by|broadcast on|shown on|televised by|released by|"
    "released through|released via|issued by|issued through|announced through|announced via|announced by|"
    "distributed by|disseminated by|via|per|wrote in|writing in|reports? (?:by|from|in|on)|"
    "(?:article|commentary|editorial|op-ed|column|statement|report|dispatch|bulletin|piece|broadcast|"
    "footage|programme|program)s? (?:in|on|by|from|carried by|published by|published in|run by|aired on|"
    "aired by|released by|issued by|carried in|broadcast by|broadcast on)|"
    # French
    "selon|d['’]après|citant|publié dans|paru dans|"
    # a participle, agreeing in gender and number, a few words before "par": "images diffusées jeudi par"
    r"(?:cité|relayé|diffusé|publié|rapporté|transmis|reproduit|retransmis)e?s?(?:\s+[\w’']+){0,3}?\s+par|"
    # German
    "nach Angaben|laut|unter Berufung auf|zitiert von|wie|berichtete|meldete|berichtet|meldet|schrieb|"
    # Spanish
    "según|de acuerdo con|citando|a través de|"
    r"(?:citad|difundid|publicad|recogid|reproducid|transmitid|divulgad)[oa]s?(?:\s+\w+){0,3}?\s+por|"
    # Russian
    "по данным|по сообщению|по информации|со ссылкой на|как сообщает|как сообщило|как передает|как передаёт|"
    "как пишет|сообщает|сообщило|сообщили|передает|передаёт|пишет|цитирует|приводит|"
    # Vietnamese: "theo" (according to), "dẫn nguồn" / "trích dẫn" (citing)
    "theo|theo tin của|dẫn nguồn|trích dẫn|phóng viên|theo phóng viên"
)
_AR_FA_CITING = (
    "و?(?:ذكرت|ذكر|قالت|قال|أفادت|أفاد|نقلت|نقل|أعلنت|أعلن|أوردت|أورد|بثت|نشرت|أكدت|أشارت|كشفت)(?:ها|ه|هم)?|"
    "و?(?:بحسب|حسب|وفقا ل|وفقاً ل|وفقا لـ|وفقاً لـ|نقلا عن|نقلاً عن)|"
    "به گزارش|بنا بر گزارش|بنابر گزارش|طبق گزارش|به نقل از"
)
_AR_FA_WORD = r"[\u0600-\u06FF\u200c]+"
_UNNAMED_MEDIA_NOUN = (
    r"state media|official media|state-run media|medios estatales|medios oficiales|médias d['’]État|"
    r"médias officiels|Staatsmedien|staatlichen Medien|государственные СМИ|госСМИ"
)
_AR_INTERVIEW = "و?(?:في|خلال) (?:لقاء|مقابلة|حديث) (?:مع|ل|لـ)"
_OPENING_QUOTES = "«\"“„'‘"
_QUOTES = "«»\"“”„'‘’"
_INTERVIEW = (
    "told|tells|telling|said to|speaking to|spoke to|speaks to|talking to|talked to|talks to|"
    "in an? (?:exclusive )?interview (?:with|to|on|for|given to|granted to)|interview (?:with|to|given to|granted to)|"
    "interviewed by|in comments to|comments to|in remarks to|remarks to|in a conversation with|sat down with|"
    "gave an interview to|"
    "a déclaré à|a dit à|a affirmé à|a confié à|déclare à|confie à|interrogé par|interrogée par|"
    "dans une (?:interview|entrevue) (?:à|accordée à|avec)|dans un entretien (?:à|accordé à|avec)|a indiqué à|"
    "sagte|erklärte|im Interview mit|in einem Interview mit|im Gespräch mit|gegenüber|"
    "dijo a|declaró a|afirmó a|aseguró a|en una entrevista con|en entrevista con|entrevistado por|"
    "en declaraciones a|"
    "в интервью|рассказал|рассказала|заявил|заявила|сказал|сказала|в эфире|в эфире радио|в эфире телеканала"
)
_REPUBLISHED = (
    # "Source: TASS" in the languages desks read: en, de, es, fr, it, pt, ru, uk, tr, ar, fa, zh, ja, ko, vi.
    r"(?:full story|read the full story|read more|source|sources|quelle|fuente|fonte|источник|джерело|kaynak|"
    r"المصدر|منبع|来源|來源|出典|출처|nguồn)\s*[:：]|"
    r"(?:originally|first) published (?:by|in|on|at)|published originally (?:by|in)|"
    r"republished (?:from|with permission from)|"
    r"reprinted (?:from|with permission from)|courtesy of|story courtesy of"
)
_NATIONAL_ADJECTIVE = (
    r"[^\W\d_]+(?:isch|ische|ischen|ischer|isches|ienne|iennes|enne|ennes|aise|aises|oise|oises|ana|anas|ano|"
    r"anos|ense|enses|ina|inas|ino|inos|ский|ская|ское|ского|ской|ских|ские|ском|ную|ная|ной|ного)"
)
_FILLER_WORDS = (
    "the|a|an|its|their|his|her|state|state-run|state-owned|state-controlled|state-funded|state-backed|"
    "state-affiliated|government-run|government-controlled|government-owned|official|semi-official|"
    "semiofficial|quasi-official|news|agency|wire|service|outlet|channel|broadcaster|television|tv|radio|"
    "newspaper|daily|tabloid|website|mouthpiece|propaganda|party|ruling|communist|nationalist|hardline|"
    "[a-z]+-language|pro-[a-z]+|[a-z]+-backed|[a-z]+-controlled|[a-z]+-funded|country['’]s|nation['’]s|"
    "regime['’]s|government['’]s|north['’]s|south['’]s|military['’]s|army['’]s|party['’]s|central|national|"
    "international|leading|flagship|main|top|military|army|"
    "l['’]agence|l['’]|agence|officielle|officiel|presse|d['’]état|d['’]etat|étatique|publique|télévision|"
    "chaîne|journal|quotidien|russe|la|le|les|du|des|de|d['’]|"
    "der|die|das|dem|den|staatliche|staatlichen|staatlicher|amtliche|amtlichen|offizielle|offiziellen|"
    "el|los|las|del|agencia|estatal|oficial|noticias|televisión|televisora|cadena|diario|periódico|prensa|"
    "агентство|агентства|агентству|информационное|государственное|государственного|государственному|"
    "телеканал|телеканала|телеканалу|газета|газеты|газете|издание|издания|изданию|"
    f"{'|'.join(WEEKDAYS)}|lundi|mardi|mercredi|jeudi|vendredi|samedi|"
    "dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|on"
)
_CAPITALISED = r"[A-ZÀ-ÖØ-ÞА-ЯЁ][\w.'’&-]*"
_FILLER = rf"(?:(?:(?i:{_FILLER_WORDS})|{_CAPITALISED}|{_NATIONAL_ADJECTIVE})[\s,]+){{0,6}}"
_CONTENT_NOUNS = (
    "report|reports|dispatch|dispatches|commentary|commentaries|editorial|editorials|article|articles|"
    "statement|bulletin|broadcast|footage|photos|images|pictures|video|interview|coverage report"
)
_WRAPPED_START = r"(?:\(|/|\|)"

_BEFORE_CUES: tuple[tuple[CitationRole, re.Pattern[str]], ...] = (
    ("republished", re.compile(rf"(?i:\b(?:{_REPUBLISHED}))\s*(?:the\s+)?$")),
    ("interview", re.compile(rf"(?:^|(?<=\W))(?i:{_INTERVIEW})\s+{_FILLER}[{_OPENING_QUOTES}]?$")),
    ("cited", re.compile(rf"(?:^|(?<=\W))(?i:{_CITING})\s+{_FILLER}[{_OPENING_QUOTES}]?$")),
    # Inverted after a quotation: '…," said the agency', '…», — приводит ТАСС её слова', and Russian puts
    # the object between verb and subject: '— цитирует слова министра агентство «РИА Новости»'.
    (
        "cited",
        re.compile(
            rf"[,{_QUOTES}]\s*(?:[—–-]+\s*)?(?i:{_INVERTED_VERBS})\s+(?:[а-яё]+\s+){{0,3}}?{_FILLER}"
            rf"[{_OPENING_QUOTES}]?$"
        ),
    ),
    ("cited", re.compile(r"(?:据|根据|援引|引述|引用|据悉)\s*$")),
    # The media an unnamed phrase stands for, listed after a colon: "informaron los medios estatales: el diario
    # Rodong Sinmun y la emisora …", "state media reported: KCNA and Rodong Sinmun said".
    ("cited", re.compile(rf"(?i:{_UNNAMED_MEDIA_NOUN})[^.:\n]{{0,40}}[:：]\s*[^.:\n]{{0,100}}$")),
    # Arabic "in an interview with" (في لقاء مع، في مقابلة مع).
    ("interview", re.compile(rf"(?:^|(?<=[\s.،؛:]))(?:{_AR_INTERVIEW})\s*[{_QUOTES}]*\s*$")),
    # Arabic puts the reporting verb first ("ذكرت وكالة الأنباء السورية (سانا) أن", "وقالت ... إن"), and
    # "according to" is بحسب / وفقا لـ / نقلا عن; Persian: "به گزارش خبرگزاری ایرنا", "به نقل از".
    # The verb may follow a full stop with no space ("الثلاثاء.وأفادت"), the name may be quoted (''سانا'').
    (
        "cited",
        re.compile(
            rf"(?:^|(?<=[\s.،؛:]))(?:{_AR_FA_CITING})\s+(?:[{_QUOTES}]*{_AR_FA_WORD}[{_QUOTES}]*\s+){{0,6}}"
            rf"[({_QUOTES}]*\s*$"
        ),
    ),
)
_AFTER_CUES: tuple[tuple[CitationRole, re.Pattern[str]], ...] = (
    (
        "cited",
        re.compile(
            r"^\)?(?:['’]s)?\s*(?:\([^()]{1,40}\)\s*)?"  # "state media (SANA) quoted", possessive, "(KCNA)"
            r"(?:,\s*(?i:the|a|an|its|which is)\b[^,;.!?]{1,90},\s*)?"  # ", the North's official news agency,"
            r"(?:(?i:news agency|agency|news|wire service|broadcaster|television|tv|channel|newspaper|daily|tabloid|"
            r"outlet|website|network|radio|also|earlier|later|previously|separately|again|further|then|had|has|have|"
            rf"today|yesterday|{'|'.join(WEEKDAYS)}|"
            r"on \w+(?: \d{1,2}(?:st|nd|rd|th)?)?|late \w+|early \w+|"
            r"in (?:a|an|its)\s+(?:[\w-]+\s+){0,2}?(?:report|dispatch|statement|commentary|editorial|article|bulletin|"
            r"broadcast))[\s,]+){0,4}"
            rf"(?i:{VERBS})\b"
        ),
    ),
    (
        "cited",
        re.compile(
            rf"^(?:['’]s)?\s+(?:[\w-]+\s+){{0,2}}?(?i:{_CONTENT_NOUNS})\s+(?:(?i:also|on \w+)\s+)?(?i:{VERBS})\b"
        ),
    ),
    ("cited", re.compile(r"^\s*(?:의\s*)?(?:보도에\s*)?(?:에\s*)?따르면")),
    # Korean puts the reporting verb at the end of the sentence: the outlet is its subject or topic (은/는/이/가,
    # or first of a list joined by 과/와), or the channel ("…을 통해 공개한", released through).
    (
        "cited",
        re.compile(
            r"^\s*(?:(?:은|는|이|가|과|와)\s(?:(?!다\.\s)[^\n]){0,300}?"
            r"(?:보도했|보도하|보도한|밝혔|전했|게재했|게재한|공개했|공개한|발표했|주장했|논평했|보도)|(?:을|를)\s*(?:통해|인용))"
        ),
    ),
    # Chinese: a reporting verb right after the name, or after a short time or adverb ("周四表示", "并引述").
    (
        "cited",
        re.compile(
            r"^[^，。,、\n「“]{0,12}?(?:报道|报导|報道|報導|消息|称|稱|说|說|表示|指出|宣布|发布|發布|发表|發表|"
            r"播发|播發|援引|引述|证实|證實)"
        ),
    ),
    # Japanese: "…によると" (according to), "…は/が … 報じた/伝えました" (reported), to the end of the sentence.
    (
        "cited",
        re.compile(
            r"^\s*(?:の報道)?(?:によると|によれば|[はが][^。\n]{0,200}?"
            r"(?:報じ|伝え|報道し|発表し|明らかにし|放送し)(?:た|ました|ている|ています))"
        ),
    ),
    # Persian verb last: "ایرنا ... گزارش داد" / "اعلام کرد"
    ("cited", re.compile(r"^[^.!?؟\n]{0,120}?(?:گزارش داد|گزارش کرد|اعلام کرد|نوشت)")),
)
_REPORT_NOUN_AFTER = re.compile(rf"^(?:['’]s)?\s+(?:[\w-]+\s+){{0,2}}?(?i:{_CONTENT_NOUNS})\b")
_CITING_ARTICLE_BEFORE = re.compile(
    r"(?i:\b(?:according to|citing|quoting|in|from|per|cited in|quoted in)\s+(?:a|an|the)\s*)$"
)
_PHOTO_BEFORE = re.compile(
    r"(?:(?i:\b(?:photo(?:graph)?s?|pictures?|images?|credit|video|footage|file photo|illustration|screenshot|"
    r"screengrab|foto|фото)\b\s*(?:by|courtesy of)?\s*[:：]\s*[^\n:]{0,80})|©\s*|"
    rf"{_CAPITALISED}\s?/\s?|\(\s*{_CAPITALISED}\s*[-/]\s*)$"
)
_PHOTO_SENTENCE = re.compile(
    r"(?i:\b(?:in\s+)?this\s+(?:(?:undated|handout|file|image|video|frame|screen)\s+){0,2}"
    r"(?:photo(?:graph)?|picture|image|grab|screenshot|screengrab)s?\b"
    r"|\b(?:photo(?:graph)?|picture|image|footage)s?\s+(?:released|provided|distributed|issued|taken|supplied)\s+by\b)"
)
"""A sentence that describes a picture (an agency caption): outlets in it credit the picture, not the story."""
_VIA_CREDIT_BEFORE = re.compile(rf"\(\s*(?:{_CAPITALISED}[\s/,&-]*){{1,8}}via\s+(?:the\s+)?$")
"""The inside of a parenthesised credit line before the outlet: "(Korean Central News Agency/KNS via AP)"."""
_PHOTO_AFTER = re.compile(rf"^(?:\s?/\s?{_CAPITALISED}|\s*[-/]\s*{_CAPITALISED}\s*\))")
_VIA_AFTER = re.compile(rf"^,?\s+via\s+(?:the\s+)?{_CAPITALISED}")
_VIA_BEFORE = re.compile(rf"{_CAPITALISED},?\s+via\s+(?:the\s+)?$")
_HEADLINE_BEFORE = re.compile(r"\S\s*(?:[:：|]|\s[-–—])\s*$")
_HEADLINE_AFTER = re.compile(r"^\s*[:：|]\s*\S")
# A headline may end with what the outlet's piece is: "…: Global Times editorial", "…: KCNA commentary".
_END_OF_TITLE = re.compile(rf"^(?:\s+(?i:{_CONTENT_NOUNS}|opinion|op-ed|column))?[\s.!?\"”'’)]*$")
_DATELINE_BEFORE = re.compile(rf"^\s*(?:[A-ZÀ-ÞА-Я][^\n]{{0,110}}?)?{_WRAPPED_START}\s*$")
# "(Xinhua) --", "(KCNA) --", and a syndicator's credit closed by the date: "MOSCOW (Pakistan Point News / Sputnik -
# 02nd March, 2021) Moscow will …".
_DATELINE_AFTER = re.compile(r"^\s*(?:[)/|]\s*(?:--|—|–|-|:|\||\.(?=\s|$))|[-–—,]\s*[\w ,.]{1,30}\)\s)")
_DASH_DATELINE_BEFORE = re.compile(r"^\s*(?:[A-ZÀ-ÞА-Я][\w.'’ -]{0,40}?\s*(?:,[^\n—–]{0,30})?)?\s*(?:--|—|–)\s*$")
_CITY_AND_CREDIT_OPENING = re.compile(r"\s*[A-ZÀ-ÞА-Я][A-ZÀ-ÞА-Я .'-]{2,40}(?:,[^\n(]{0,30})?\s*\([^()\n]{0,60}$")
_DASH_DATELINE_AFTER = re.compile(r"^\s*(?:$|\n|--|—|–|:)")
"""A wire byline opening the copy with a dash: "— Anadolu Agency", "ANKARA — Anadolu Agency —"."""
_CJK_DATELINE_AFTER = re.compile(r"[^，。\n]{0,24}[电電]")
REFERENCE_NOUNS: tuple[str, ...] = (
    "news agency", "agency", "report", "dispatch", "broadcaster", "channel", "network", "newspaper", "paper", "daily",
    "outlet", "station", "tabloid", "commentary", "bulletin", "broadcast", "article", "editorial",
)  # fmt: skip
_BACK_REFERENCE = re.compile(
    r"\b(?:(?:[Tt]he|[Tt]hat|[Ii]ts)\s+(?:(?:state|official|state-run|news|party|[A-Z][\w-]*)\s+){0,2}"
    r"(?P<noun>news agency|agency|report|dispatch|broadcaster|channel|network|newspaper|paper|daily|outlet|"
    r"station|tabloid|commentary|bulletin|broadcast|article|editorial)\s+(?:also\s+|further\s+|later\s+)?"
    rf"(?:{_EN_VERBS})\b"
    r"|(?i:according to|citing|quoting)\s+the\s+(?P<noun2>agency|report|dispatch|newspaper|broadcaster|outlet|daily)\b)"
)
_NAMED_AS_OUTLET_BEFORE = re.compile(
    r"(?i:\b(?:news agency|press agency|agency|broadcaster|newspaper|television|tv channel|agence|agencia|"
    r"Nachrichtenagentur|агентство|خبرگزاری|خبرنگار|وكالة))\s+$"
)
_OUTLET_NOUNS = re.compile(
    r"(?i:\b(?:news agency|agency|agencies|broadcaster|channel|network|television|tv|newspaper|daily|tabloid|"
    r"outlet|website|station|radio|media|wire|reporter|correspondent|journalist|editor|state-run|state-owned|"
    r"state-controlled|state-funded|[a-z]+-backed|agence|Nachrichtenagentur|agencia|агентство)s?\b)|©"
)
_ABSORBING_GAP = re.compile(
    r"^[\s,(]*(?:(?:(?i:the|its|a|an|news|agency|outlet|outlets|network|channel|tabloid|newspaper|broadcaster|"
    rf"daily|official|semi-official|[a-z]+-run|[a-z]+-owned|[a-z]+-controlled|[a-z]+-funded|[a-z]+-backed)|{_CAPITALISED}"
    r")[\s,]*){0,4}[\s,)]*$"
)
_URL_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#\[\]]+)")
_QUALIFIER_GAP = re.compile(r"^(?:['’]s)?\s*$")
_FOLLOWING_PLACE = re.compile(r"^\s+(?i:in|of|from)\s+$")
_BEFORE = 100  # characters of context before a reference: a citing phrase and a few descriptive words
_AFTER = 160  # after it: an appositive (", the North's official news agency,") and the verb


@dataclass(frozen=True, slots=True)
class OutletMention:
    field: int
    start: int
    end: int
    outlet: OutletEntry


@dataclass(frozen=True, slots=True)
class CountryMention:
    """Evidence of a country: its name, metonym or demonym (``direct``), or an actor of that country."""

    field: int
    start: int
    end: int
    country: str
    direct: bool = True


@dataclass(frozen=True, slots=True)
class _Attribution:
    outlet: OutletEntry
    role: CitationRole
    field: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Sourcing:
    """The state-media result, and the outlet mentions that belong to the story text (actors of type outlet)."""

    state_media: StateMedia
    story_mentions: tuple[OutletMention, ...]


def has_outlet_cue(document: Document, field: int, start: int, end: int, cues: Sequence[str] = ()) -> bool:
    """Whether a short outlet form ("RT", "SANA") reads as an outlet.

    Generic rule: it has a role ("SANA reported", "told RT", "(KCNA/Yonhap)") or an outlet word is near it in its
    sentence ("RT, the Kremlin-backed broadcaster"). An outlet with its own ``cues`` ("CCTV": China, Chinese…)
    needs one of those instead: "CCTV footage showed" is a camera, not the broadcaster.
    """
    if field == _CREDITS:
        return True
    low, high = _window(document, field, start, end)
    text = document.texts[field]
    around = text[max(low, start - 60) : start] + " " + text[end : min(high, end + 60)]
    if _NAMED_AS_OUTLET_BEFORE.search(text, max(low, start - 40), start):
        return True  # "state news agency SPA", "the official agency WAM": the text says what it is
    if cues:
        return any(re.search(rf"(?i:\b{re.escape(cue)}\b)", around) for cue in cues)
    return _role(document, field, start, end) is not None or _OUTLET_NOUNS.search(around) is not None


def source(
    document: Document,
    outlets: OutletIndex,
    mentions: Sequence[OutletMention],
    media: Sequence[Candidate],
    countries: Callable[[], Sequence[CountryMention]],
    references: Sequence[Candidate] = (),
) -> Sourcing:
    """Publisher, citations with roles and evidence, and ``state_sourced`` for one article.

    ``countries`` gives the country mentions (only needed, so only computed, for unnamed "state media" phrases).
    """
    attributions: list[_Attribution] = []
    story: list[OutletMention] = []
    for mention in mentions:
        found = _role(document, mention.field, mention.start, mention.end)
        if found is None:
            story.append(mention)
            continue
        role, start, end = found
        attributions.append(_Attribution(mention.outlet, role, mention.field, start, end))
        if role not in ("photo_credit", "dateline", "republished") and mention.field != _CREDITS:
            story.append(mention)
    anchors: list[OutletMention] = [m for m in mentions if m.field != _CREDITS]
    for candidate in media:
        attribution = _descriptor(document, outlets, candidate, mentions, countries())
        if attribution is not None:
            attributions.append(attribution)
            anchors.append(OutletMention(candidate.field, candidate.start, candidate.end, attribution.outlet))
    attributions.extend(_back_references(document, anchors, references))
    publisher = publisher_of(document.article, outlets)
    return Sourcing(_state_media(publisher, attributions, document), tuple(story))


def publisher_of(article: Article, outlets: OutletIndex) -> OutletEntry | None:
    """The feed's outlet (``source.outlet``), else the outlet owning the source or article domain."""
    if article.source.outlet:
        named = outlets.get(article.source.outlet)
        if named is not None:
            return named
    found = outlets.by_host(article.source.domain) if article.source.domain else None
    if found is None:
        url_host = _URL_HOST.match(article.url)
        if url_host and url_host.group(1).lower() != article.source.domain.lower():
            found = outlets.by_host(url_host.group(1))
    return found


_TITLE = FIELDS.index("title")
_CREDITS = FIELDS.index("credits")


def _window(document: Document, field: int, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``[start, end)``, clipped to a few lines of text either side."""
    if field == _CREDITS:
        text = document.texts[field]
        low = text.rfind("\n", 0, start) + 1
        high = text.find("\n", end)
        return low, len(text) if high < 0 else high
    return document.sentence_span(field, start, end, _BEFORE, _AFTER)


def _role(document: Document, field: int, start: int, end: int) -> tuple[CitationRole, int, int] | None:
    """The role of the reference at ``[start, end)`` and its evidence span, or None for a plain mention."""
    text = document.texts[field]
    if field == _CREDITS:
        low, high = _window(document, field, start, end)
        return "photo_credit", low, high
    low, high = _window(document, field, start, end)
    before, after = text[low:start], text[end:high]
    line_start = text.rfind("\n", 0, start) + 1
    if field != _TITLE and start - line_start <= 150 and _CITY_AND_CREDIT_OPENING.match(text, line_start, start):
        # "MOSCOW (UrduPoint News / Sputnik - …) ": a wire's dateline, though "News / Sputnik" reads like a credit.
        dateline_end = _match_end(_DATELINE_AFTER, text[end : end + 40])
        if dateline_end is not None:
            return "dateline", line_start, end + dateline_end
    if _PHOTO_SENTENCE.search(text, low, high):
        return "photo_credit", low, high
    credit_line = _VIA_CREDIT_BEFORE.search(before)
    if credit_line and after.lstrip().startswith(")"):
        return "photo_credit", low + credit_line.start(), end + after.index(")") + 1
    photo = _PHOTO_BEFORE.search(before)
    if photo or _PHOTO_AFTER.match(after):
        evidence_start = low + photo.start() if photo else start
        return "photo_credit", evidence_start, end + (_match_end(_PHOTO_AFTER, after) or 0)
    if field == _TITLE:
        if not before.strip() and _HEADLINE_AFTER.match(after):
            return "headline", start, end
        if _END_OF_TITLE.match(after) and _HEADLINE_BEFORE.search(before):
            return "headline", start, end
    if field != _TITLE and line_start == 0 and start <= 150:
        opening = text[:start]
        dateline_end = _match_end(_DATELINE_AFTER, text[end : end + 40])
        if dateline_end is not None and _DATELINE_BEFORE.match(opening):
            return "dateline", 0, end + dateline_end
        dash_end = _match_end(_DASH_DATELINE_AFTER, text[end : end + 8])
        if dash_end is not None and _DASH_DATELINE_BEFORE.match(opening):
            return "dateline", 0, end + dash_end
    # "新华社北京3月8日电": the agency's own dateline opens a paragraph, wherever a photo caption put it.
    cjk_dateline = _CJK_DATELINE_AFTER.match(text, end)
    if field != _TITLE and cjk_dateline and not text[line_start:start].strip():
        return "dateline", start, cjk_dateline.end()
    for role, pattern in _BEFORE_CUES:
        cue = pattern.search(before)
        if cue:
            return role, low + cue.start(), end
    for role, pattern in _AFTER_CUES:
        cue = pattern.match(after)
        if cue:
            return role, start, end + cue.end()
    article_cue = _CITING_ARTICLE_BEFORE.search(before)
    if article_cue and _REPORT_NOUN_AFTER.match(after):
        return "cited", low + article_cue.start(), end + _REPORT_NOUN_AFTER.match(after).end()  # type: ignore[union-attr]
    via = _VIA_BEFORE.search(before)
    if via or _VIA_AFTER.match(after):
        return "photo_credit", (low + via.start()) if via else start, end + (_match_end(_VIA_AFTER, after) or 0)
    return None


def _match_end(pattern: re.Pattern[str], text: str) -> int | None:
    found = pattern.match(text)
    return found.end() if found else None


def _descriptor(
    document: Document,
    outlets: OutletIndex,
    candidate: Candidate,
    named: Sequence[OutletMention],
    countries: Sequence[CountryMention],
) -> _Attribution | None:
    """The generic state-media citation an unnamed phrase makes, if it is cited and its country is known."""
    text = document.texts[candidate.field]
    for mention in named:
        if mention.field != candidate.field:
            continue
        gap = (
            text[mention.end : candidate.start]
            if mention.end <= candidate.start
            else text[candidate.end : mention.start]
        )
        if len(gap) <= 60 and _ABSORBING_GAP.match(gap):
            return None
    qualifier = _qualifier(document, candidate, countries)
    start = qualifier.start if qualifier is not None else candidate.start
    found = _role(document, candidate.field, start, candidate.end)
    if found is None or found[0] == "photo_credit":
        return None
    country = (
        qualifier.country
        if qualifier is not None
        else _speaking_country(document, outlets, candidate, named, countries)
    )
    generic = outlets.state_media_of(country) if country else None
    if generic is None:
        return None
    role, evidence_start, evidence_end = found
    return _Attribution(
        generic, "descriptor" if role == "cited" else role, candidate.field, evidence_start, evidence_end
    )


def _qualifier(document: Document, candidate: Candidate, countries: Sequence[CountryMention]) -> CountryMention | None:
    """The country named right before ("Chinese state media", "North Korea's") or after ("… in Pyongyang")."""
    text = document.texts[candidate.field]
    for country in countries:
        if country.field != candidate.field or not country.direct:
            continue
        if country.end <= candidate.start and _QUALIFIER_GAP.match(text[country.end : candidate.start]):
            return country
        if candidate.end <= country.start and _FOLLOWING_PLACE.match(text[candidate.end : country.start]):
            return CountryMention(country.field, candidate.start, candidate.end, country.country)
    return None


def _speaking_country(
    document: Document,
    outlets: OutletIndex,
    candidate: Candidate,
    named: Sequence[OutletMention],
    countries: Sequence[CountryMention],
) -> str | None:
    """Whose state media an unqualified phrase ("…, state media said") is: the side the report comes from, not
    the nearest country adjective ("North Korean leader Kim congratulated Russian President Putin, state media
    said" is North Korean). In order:

    1. the country of a state outlet the article names (the nearest one if several): "KCNA" later in the text;
    2. the first country (or actor of a country) of the phrase's own sentence: the one doing the reported thing;
    3. the nearest country earlier in the paragraph;
    4. the country of the publisher, when the publisher is state media;
    5. the country the article names most (its own name, metonyms, demonyms and its people together).
    """
    state_outlets = [
        m
        for m in named
        if m.field != _CREDITS
        and m.outlet.state
        and not m.outlet.is_generic
        and m.outlet.country
        and outlets.state_media_of(m.outlet.country) is not None
    ]
    if state_outlets:
        nearest = min(state_outlets, key=lambda m: (m.field != candidate.field, abs(m.start - candidate.start)))
        return nearest.outlet.country
    with_media = [c for c in countries if outlets.state_media_of(c.country) is not None]
    if candidate.field != _CREDITS:
        sentence_start, _ = document.sentence_span(candidate.field, candidate.start, candidate.end, 400, 0)
        paragraph_start, _ = document.paragraph_span(candidate.field, candidate.start)
        earlier = [c for c in with_media if c.field == candidate.field and paragraph_start <= c.start < candidate.start]
        in_sentence = [c for c in earlier if c.start >= sentence_start]
        if in_sentence:
            return min(in_sentence, key=lambda c: c.start).country
        if earlier:
            return max(earlier, key=lambda c: c.start).country
    publisher = publisher_of(document.article, outlets)
    if publisher is not None and publisher.state and publisher.country and outlets.state_media_of(publisher.country):
        return publisher.country
    if not with_media:
        return None
    counts = Counter(c.country for c in with_media)
    first = {c.country: (c.field, c.start) for c in reversed(with_media)}
    return min(counts, key=lambda country: (-counts[country], first[country]))


def _back_references(
    document: Document, anchors: Sequence[OutletMention], nouns: Sequence[Candidate]
) -> Iterable[_Attribution]:
    """ "The agency said": cites the nearest outlet named earlier in the same paragraph.

    ``nouns`` are the automaton's hits of ``REFERENCE_NOUNS``; the phrase around each is checked here.
    """
    seen: set[tuple[int, int]] = set()
    for noun in nouns:
        low, _ = document.paragraph_span(noun.field, noun.start)
        earlier = [a for a in anchors if a.field == noun.field and low <= a.start and a.end <= noun.start]
        if not earlier:
            continue
        text = document.texts[noun.field]
        for reference in _BACK_REFERENCE.finditer(text, max(low, noun.start - 48), min(len(text), noun.end + 48)):
            if noun.start not in (reference.start("noun"), reference.start("noun2")) or reference.span() in seen:
                continue
            seen.add(reference.span())
            antecedent = max(earlier, key=lambda a: a.end)
            between = text[antecedent.end : reference.start()]
            noun_text = reference.group("noun") or reference.group("noun2")
            if re.search(rf"(?i:\b(?:a|an|another)\s+(?:[\w-]+\s+){{0,3}}?{noun_text}\b)", between):
                continue  # a new report/agency was introduced in between: the reference is to that one
            yield _Attribution(antecedent.outlet, "cited", noun.field, reference.start(), reference.end())


_NOTHING = StateMedia()
_ROLE_ORDER: dict[str, int] = {
    role: i
    for i, role in enumerate(
        ("publisher", "dateline", "headline", "cited", "interview", "descriptor", "republished", "photo_credit")
    )
}


def _state_media(publisher: OutletEntry | None, attributions: Sequence[_Attribution], document: Document) -> StateMedia:
    if publisher is None and not attributions:
        return _NOTHING
    grouped: dict[tuple[str, str], list[_Attribution]] = {}
    for attribution in attributions:
        grouped.setdefault((attribution.outlet.id, attribution.role), []).append(attribution)
    cited: list[Citation] = []
    if publisher is not None:
        cited.append(Citation(**publisher.to_outlet().model_dump(), role="publisher"))
    for group in sorted(grouped.values(), key=lambda g: (_ROLE_ORDER[g[0].role], min((a.field, a.start) for a in g))):
        evidence = sorted({(a.field, a.start, a.end) for a in group})
        outlet = group[0].outlet
        cited.append(
            Citation(
                **outlet.to_outlet().model_dump(),
                role=group[0].role,
                evidence=tuple(document.mention(*span) for span in evidence),
            )
        )
    state_sourced = (publisher is not None and publisher.state) or any(
        a.outlet.state and sources_content(a.role) for a in attributions
    )
    return StateMedia(
        publisher=publisher.to_outlet() if publisher is not None else None,
        cited=tuple(cited),
        state_sourced=state_sourced,
    )
