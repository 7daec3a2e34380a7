#!/usr/bin/env python3
"""Deterministic workload of page events shaped like a crawl of dspdaily.com, at any scale.

usage: bench/workload.py --events N --out FILE.jsonl [--seed S] [--stories K] [--truth FILE] [--load CONFIG]

A pool of K stories (default N/20), invented from the small vocabulary below, is rendered into the
site's templates (samples/README.md): text article pages (login header, body first, old template)
with BEST 뉴스 teasers (leads cut with "...") and 실시간뉴스 headline lists; old listings, all.php and
section listings with many titles and leads; 15% of pages in the HTML templates of tests/fixtures/html;
5% generic news HTML of other publishers (one article each, three in ten syndicating a pool story);
10% re-crawls (whole, cut at about 2 KB, or under http://www.). The older 45% of the pool is tagged
[동포투데이], the newer [인터내셔널포커스], and one rendering in five the other tag; one headline in five
is the edited one. Crawl time moves through the pool: pages show the stories recent at their time.

The same arguments give the same file byte for byte; writes stream, so memory stays flat at 1M events.
--truth writes each story that appeared (pool index, article numbers, both headlines) to score dedup.
--load CONFIG then publishes the file with `storyd produce -c CONFIG FILE` ($STORYD_BIN, default
build/storyd), which needs the broker the config names. A summary goes to standard error.
"""

import argparse
import bisect
import datetime
import html
import json
import os
import random
import shlex
import subprocess
import sys
import time
import types
from collections import Counter
from functools import lru_cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- Vocabulary. Every phrase here was written for this generator; none comes from the site.
# Lists are "|"-separated strings, so that a phrase with spaces stays whole.
PLACES = "연길|용정|훈춘|도문|화룡|돈화|왕청|안도|목단강|장춘|심양|대련|청도|안산|수원|청주|인천|김해".split("|")
# Names of organisations and venues are invented per story from syllables, so that the vocabulary
# does not run out at a million pages: each story then carries words no other story shares.
SYLLABLES = "누리한빛가람미르솔다온새해든라별마루도담봄예하늘품나래꽃뫼은결바른아름고운"
VENUES = "광장|회관|센터|공원|체육관|전시장".split("|")
ORG_TAILS = "물산|식품|협동조합|재단|협회|로지스|테크|문화원|상사|농업회사|여행사|의료원|건설|에너지".split("|")
SURNAMES, GIVEN = "김이박최정리윤한조강서허남오문전황송안류홍방채구", "민서지현수은하준영태윤정호성아람결솔빈혜철경석우진란희나"
TEAMS = "백산|해풍|청운|두만|장백|송화|해란|모아|천지|일송".split("|")
ABROAD = [pair.split("/") for pair in ("몽골/울란바토르|러시아/블라디보스토크|일본/삿포로|카자흐스탄/알마티|"
                                       "베트남/다낭|노르웨이/트롬쇠|칠레/산티아고|우즈베키스탄/타슈켄트").split("|")]
WORDS = {k: v.split("|") for k, v in {
    "thing": "공공도서관|돌봄센터|노인복지관|자전거 대여소|야외 수영장|주민 체육관|청소년 수련관|한국어 교실|무료 진료소",
    "product": "사과배|된장|김치|인삼|목이버섯|쌀|화장품|전기자전거|농기계|냉동만두",
    "thing2": "스마트팜|편의점|한국어 학당|찜질방|분식 거리|댄스 학원", "topicint": "물류|환경|에너지|관광|식량|철도",
    "theme": "국경무역|전통음식|청소년 과학|민속|농산물|빙설|사진|영화|독서", "etype": "박람회|축제|경연대회|포럼|전시회|문화제",
    "sport": "탁구|배드민턴|수영|씨름|바둑|태권도", "craft": "옹기|한지|장구|자수|목공예|떡",
    "book": "푸른 봄|늦은 편지|먼 골목|작은 기차|낯선 강|따뜻한 불빛|긴 장독|두 번째 바람|오래된 지도",
    "thing3": "동포 종합지원센터|다문화 도서관|동포 취업상담소|주말 한글학교", "thing4": "해외 인턴십|창업 지원 사업|직업훈련 과정|어학연수",
    "topic": "주말학교 교실|국경 도시의 밤|이주 청년의 첫 직장|동포 노인의 겨울|사라지는 간판|고향 음식|두 나라 사이의 가족",
    "role": "마을 이장|자원봉사자|상인회장|현지 통역사|구청 직원|학부모 대표|청년 창업가|퇴직 교사|택시 기사|시장 상인",
    "activity": "전통 음식을 만드는|아이들을 가르치는|물건을 나르는|길을 안내하는|사진을 찍는|악기를 고치는|농사를 짓는|"
                "장부를 정리하는|노인을 돌보는|책을 빌려주는",
    "quote": "생각보다 사람이 많아 놀랐다|아이들과 함께 다시 오고 싶다|이런 자리가 더 자주 열리면 좋겠다|처음에는 걱정이 "
             "많았지만 이웃들이 많이 도와줬다|작은 변화가 쌓이면 마을 전체가 달라진다|내년에는 규모를 두 배로 키우겠다|"
             "준비한 만큼 결과가 나와 다행이다|아직 갈 길이 멀다",
}.items()}
# Sections: name, old listing code, new section code, header of the new listing, breadcrumb path.
SECTIONS = [
    ("사회", "netfu_44711_17344", "10930", "사회", ("뉴스홈", "사회")),
    ("경제", "netfu_44711_17345", "10965", "경제", ("뉴스홈", "경제")),
    ("국제뉴스", "netfu_44711_17342", "10974", "글로벌이슈", ("뉴스홈", "국제뉴스")),
    ("스포츠", "20110516223442_0321", "10950", "스포츠", ("스포츠",)),
    ("문화", "netfu_44711_17346", "10940", "문화", ("뉴스홈", "문화")),
    ("동포사회", "netfu_44711_17347", "10960", "동포사회", ("뉴스홈", "동포사회")),
    ("칼럼/기고", "netfu_44711_17348", "10921", "칼럼/기고", ("오피니언", "칼럼/기고")),
]
COLUMNS = 6  # the section whose leads open with the author (●name), not a brand tag
# Per section: (headline, the edited headline the site also shows, opening sentence). Every
# headline opens with a person, an organisation or a number: a headline cut by the end of a page
# links to the stories it is a prefix of, and a vocabulary this small must not make that ambiguous.
TITLES = [[t.split("|") for t in section] for section in [
    ["{place}시 {b}곳에 {thing} 새로 연다…“{quote}”|{place}시, {b}곳에 {thing} 개관…“{quote}”|"
     "{place}시가 다음 달 {day}일부터 {thing_eul} {b}곳에서 새로 운영한다고 {day2}일 밝혔다.",
     "{c}명 몰린 ‘{event}’, {place}서 개막|{place}서 {c}명 몰린 ‘{event}’ 개막|"
     "{day2}일 {place}에서 개막한 ‘{event}’에 첫날에만 {c}명이 다녀갔다.",
     "{place}, {money}억 원 들여 {year}년까지 {thing} {a}곳 짓는다|{place}에 {money}억 원 투입…{thing} {a}곳 신설|"
     "{place}시는 {year}년까지 {money}억 원을 들여 {thing_eul} {a}곳 더 짓겠다고 발표했다."],
    ["{org}, {money}억 원 들여 {product} 공장 증설…“{year}년 매출 두 배”|{org} {money}억 원 투자…{product} 공장 증설|"
     "{org_eun} {day2}일 {place}에서 설명회를 열고 {product} 공장에 {money}억 원을 투자하겠다고 발표했다.",
     "{c}톤 수출한 {place} {product}, {pct}% 늘어 역대 최대|{c}톤…{place}산 {product} 수출 역대 최대|"
     "{place}에서 생산된 {product}의 지난해 수출량이 {c}톤으로 한 해 전보다 {pct}% 늘었다.",
     "{org}, {place}에 물류센터 세운다…일자리 {b}개 기대|{org} {place} 물류센터 착공, 일자리 {b}개|"
     "{org_i} {place} 외곽에 물류센터를 짓기 시작했으며 완공되면 일자리 {b}개가 생긴다."],
    ["{c}명 몰린 {city}의 한국식 {thing2}…{country} 첫선|{city}서 {c}명 몰린 한국식 {thing2}, 현지 첫선|"
     "{country} {city}에서 한국식 {thing2_i} 처음 문을 열자 첫 주에만 {b}명이 찾았다.",
     "하룻밤 {money}만 원 넘는 {city} ‘숙박 대란’|{city} 1박 {money}만 원 웃돌아…숙박난 심화|"
     "{country} {city}에 관광객이 몰리면서 하룻밤 숙박비가 {money}만 원을 넘는 곳까지 나왔다.",
     "{org} 등 {b}개 기관 모여 {topicint} 협력…{country} 실무회의|{org} 등 {country} {b}개 기관, {topicint} 협력 회의|"
     "{country} 정부가 {topicint} 분야 협력을 위해 {org_wa} {b}개 기관이 참여하는 실무회의를 열자고 제안했다."],
    ["{person} 멀티골…{team}, {team2}에 {s1}-{s2} 역전승|{person} 두 골, {team} {team2} 상대 {s1}-{s2} 역전|"
     "{team_i} {day2}일 홈 경기에서 {team2_eul} {s1}-{s2}로 꺾었고, {person_i} 두 골을 넣었다.",
     "{place} 출신 {person}, 청소년 {sport} 선수권 정상|{place}의 {person}, 청소년 {sport} 선수권 우승|"
     "{place} 출신 {person_i} 전국 청소년 {sport} 선수권대회에서 우승을 차지했다.",
     "{c}명 달리는 {place} 국제마라톤, 접수 시작|{place}서 {c}명 달린다…{a}회 국제마라톤 접수|"
     "올해로 {a}회째인 {place} 국제마라톤 대회가 참가자 {c}명을 모집한다."],
    ["{org} 후원 ‘{event}’ 성황…작품 {b}점|{org} 후원 {place} ‘{event}’ 폐막, 작품 {b}점|"
     "{place}에서 열린 ‘{event}’에 작품 {b}점이 나와 관람객의 발길이 이어졌다.",
     "{person} 작가, 첫 장편 ‘{book}’ 펴내|{person} 작가 첫 장편소설 ‘{book}’ 출간|"
     "{place}에서 나고 자란 {person} 작가가 첫 장편소설 ‘{book}’ 출간 소식을 알렸다.",
     "{person} 씨, {place}서 {a}0년째 {craft} 명맥 잇는다|{person} 장인 “{a}0년 {craft} 손맛 지키겠다”|"
     "{place}에서 {a}0년 동안 {craft}의 명맥을 이어 온 {person} 씨를 만났다."],
    ["{org}, {place} 이웃에 성금 {money}0만 원…재한동포 나눔|{org}·{place} 동포들 성금 {money}0만 원 전달|"
     "재한동포 단체 {org_i} {day2}일 {place} 지역 이웃을 돕기 위해 모은 성금 {money}0만 원을 전달했다.",
     "{c}명 이용할 대림동 ‘{thing3}’ 문 열어|동포 {c}명 찾을 ‘{thing3}’, 대림동에 개소|"
     "서울 대림동에 문을 연 ‘{thing3}’에서 동포 {c}명이 도움을 받을 것으로 보인다.",
     "{org}, 동포 청년 {b}명 뽑는 {thing4}…{month}월 {day}일까지|{org} 동포 청년 {thing4} {b}명 모집, {month}월 {day}일 마감|"
     "{org_i} 동포 청년을 위한 {thing4} 참가자 {b}명을 {month}월 {day}일까지 모집한다."],
    ["[{person} 칼럼] {topic}, 다시 생각해 볼 때|[칼럼] {person}, {topic_eul} 다시 묻다|"
     "●{person}({org} 연구원) {topic_eun} 늘 가까이 있지만 막상 이야기하려 하면 말이 막힌다.",
     "{person}의 창 - {topic}에 대하여|[{person}의 창] {topic}에 대하여|"
     "●{person}({org} 회원) {place}에서 {a}년을 지내는 동안 나는 {topic}에 대해 여러 번 생각했다."],
]]
# The second sentence of every lead: many combinations, so that the leads of two stories differ.
DETAILS = ("{role} {person2} 씨는 {place2}에서 {a}년째 {activity} 일을 해 왔다.|"
           "이날 {venue}에 온 {role} {b}명도 함께해 {activity} 모습을 지켜봤다.|"
           "{activity} 일을 하는 {role} {person2} 씨가 {a}개월 동안 준비를 도왔다.|"
           "{venue} 앞에서 {role} {b}명이 지난 {month}월부터 {activity} 일을 나눠 맡았다.|"
           "{person2}({age}) 씨처럼 {activity} {role}들이 먼저 나섰다.").split("|")
# Body sentences are a subject and a predicate drawn apart, or a fact: two stories then share
# half-sentences rather than sentences, and their texts stay far apart for MinHash.
SUBJECTS = ("{venue}에서 만난 {person2}({age}) 씨는|행사 관계자는|{org} 관계자는|{person2} 교수는|담당 부서는|현지 언론은|"
            "{place2}에서 왔다는 {person2}({age}) 씨는|인근 상인들은|{role} {person2} 씨는|주최 측은|경기 뒤 감독은").split("|")
PREDICATES = ("“{quote}”고 말했다.|“{quote}”며 웃었다.|“비슷한 사례가 {a}곳 넘게 있었지만 오래가지 못했다”고 지적했다.|"
              "{month}월 말까지 세부 계획을 마련하겠다고 밝혔다.|비용을 누가 얼마나 부담할지를 두고 의견이 엇갈린다고 전했다.|"
              "이번 결정이 주변 지역에도 적지 않은 영향을 줄 것으로 내다봤다.|일회성으로 끝나지 않도록 후속 관리가 중요하다고 강조했다.|"
              "“올해는 준비 기간이 {a}개월로 지난해보다 길었다”고 설명했다.|하루 매출이 평소보다 {pct}% 가까이 늘었다고 전했다.|"
              "“작은 시도지만 꾸준히 이어 가겠다”고 덧붙였다.|“{place2}의 사례를 참고했다”고 밝혔다.").split("|")
FACTS = ("지난해 같은 기간과 비교하면 참가자가 {pct}%가량 늘어난 규모다.|주민 {b}명을 대상으로 한 설문에서는 응답자의 "
         "{pct}%가 찬성했다.|시는 주말 인파에 대비해 임시 주차장 {a}곳과 셔틀버스를 운영하기로 했다.|첫날에만 {c}명이 "
         "몰려 안내 책자가 오후 {a}시께 모두 동났다.|지원 대상은 {age}세 이하 청년이며, 최대 {money}0만 원을 받는다.|"
         "올해 처음 도입된 온라인 신청에는 {b}명이 몰렸다.|출품작 가운데 {a}점은 {place2}의 학생들이 직접 만들었다.|"
         "다음 행사는 {month}월 {day}일 {place2}에서 열린다.|{org_eun} 이번 사업에 모두 {money}억 원을 들일 계획이다.").split("|")
SUBTITLES = ["- 첫날에만 {c}명 다녀가", "- {year}년까지 {a}곳으로 늘린다", "- 참가 규모 지난해보다 {pct}% 늘어", "- “{quote}”"]
CAPTIONS = ["▲ {day}일 {place}에서 열린 행사 현장. 사진={reporter} 기자", "△ 사진=독자 제공", "▲ 사진={org}"]
JOSA = {"eul": ("을", "를"), "i": ("이", "가"), "eun": ("은", "는"), "wa": ("과", "와")}
BRANDS = ("동포투데이", "인터내셔널포커스")
PUBLISHERS = [("www.hanbit-ilbo.example", "한빛일보"), ("news.garam-times.example", "가람타임스"),
              ("www.bukbang-sinmun.example", "북방신문"), ("www.dooman-news.example", "두만뉴스")]
LOGIN = "비밀번호를 입력해주세요.\n\n키워드\n\n로그인을 하시면\n다양한 서비스를\n제공받으실 수 있습니다.\n\n"
KST = datetime.timezone(datetime.timedelta(hours=9))
END = datetime.datetime(2026, 3, 2, tzinfo=datetime.timezone.utc).timestamp()  # the crawl ends here


def josa(word, kind):
    """The particle that fits after word: Korean particles depend on its final consonant."""
    last = word[-1]
    final = (ord(last) - 0xAC00) % 28 if "가" <= last <= "힣" else last in "0136789"  # 영 일 삼 육 칠 팔 구
    return JOSA[kind][0 if final else 1]


def kst(ts, fmt):
    return datetime.datetime.fromtimestamp(ts, KST).strftime(fmt)


def make_story(seed, idx, count, span):
    """Story idx of the pool, from a generator of its own, so that any story can be rebuilt alone."""
    rnd = random.Random("%d:%d" % (seed, idx)).random  # indexing by random() is faster than choice()

    def pick(seq):
        return seq[int(rnd() * len(seq))]

    def num(low, high):
        return low + int(rnd() * (high - low + 1))

    def person():
        return pick(SURNAMES) + pick(GIVEN) + pick(GIVEN)

    def fresh():
        """Numbers and bystanders drawn anew for each sentence (the title's are the story's)."""
        return {"a": num(2, 12), "b": num(12, 980), "c": "{:,}".format(num(1000, 90000)), "money": num(2, 900),
                "pct": num(3, 60), "age": num(19, 78), "day": num(1, 28), "day2": num(1, 28), "month": num(1, 12),
                "person2": person(), "place2": pick(PLACES), "role": pick(WORDS["role"]),
                "quote": pick(WORDS["quote"]), "activity": pick(WORDS["activity"])}

    s = types.SimpleNamespace(idx=idx, no=100000 + idx, section=section_of(idx), reporter=person())
    s.alt_no = 100000 + count + idx if rnd() < 0.15 else None  # also published under a second number
    s.brand = BRANDS[0] if idx < count * 0.45 else BRANDS[1]
    s.published = END - span + (min(idx, count - 1) + rnd()) / count * span  # others' stories: late
    s.minute, s.day = kst(s.published, "%Y.%m.%d %H:%M"), kst(s.published, "%Y-%m-%d")
    (country, city), place, fill = pick(ABROAD), pick(PLACES), {k: pick(v) for k, v in WORDS.items()}
    home = num(0, len(TEAMS) - 1)
    away = TEAMS[(home + num(1, len(TEAMS) - 1)) % len(TEAMS)] + pick(("", "시티"))  # never the home side
    fill.update(fresh(), place=place, country=country, city=city, person=person(), reporter=s.reporter,
                org=pick(SYLLABLES) + pick(SYLLABLES) + pick(ORG_TAILS), venue=pick(SYLLABLES) + pick(SYLLABLES) +
                pick(VENUES), team=TEAMS[home] + "FC", team2=away, year=num(2026, 2030),
                s1=num(2, 5), event="제%d회 %s %s %s" % (num(2, 40), place, fill["theme"], fill["etype"]))
    fill["s2"] = num(1, fill["s1"] - 1)  # a comeback: the other side scored first
    for key in ("thing", "thing2", "org", "person", "team", "team2", "topic"):
        fill.update((key + "_" + kind, fill[key] + josa(fill[key], kind)) for kind in JOSA)
    s.title, s.variant, opening = (part.format(**fill) for part in pick(TITLES[s.section]))
    sentences = [opening, pick(DETAILS).format(**dict(fill, **fresh()))]
    for _ in range(num(4, 8)):
        template = pick(FACTS) if rnd() < 0.3 else pick(SUBJECTS) + " " + pick(PREDICATES)
        sentences.append(template.format(**dict(fill, **fresh())))
    # The first paragraph, a listing's shortest lead, holds three sentences: two would be mostly template.
    s.paragraphs = [" ".join(sentences[:3])] + [" ".join(sentences[i:i + 2]) for i in range(3, len(sentences), 2)]
    s.flat = " ".join(s.paragraphs)
    s.subtitle, s.caption = pick(SUBTITLES).format(**fill), pick(CAPTIONS).format(**fill)
    return s


def tagged(story, tag):
    """The paragraphs as an article page shows them: the brand tag opens the first (but a column's)."""
    return story.paragraphs if story.section == COLUMNS else [tag + " " + story.paragraphs[0]] + story.paragraphs[1:]


def section_of(idx):
    """A cheap hash of the index, so that the pool knows every story's section without building it."""
    return ((idx * 2654435761) >> 7) % len(SECTIONS)


class Pool:
    """The stories, rebuilt on demand: pages mostly show recent stories, so a small cache holds them."""

    def __init__(self, seed, count):
        self.count, self.seen = count, bytearray(count)
        self.span = max(2.0, count / 40.0) * 86400.0  # about 40 stories a day, as the site publishes
        self.get = lru_cache(maxsize=8192)(lambda idx: make_story(seed, idx, count, self.span))
        self.boxes = {}  # the boxes the site serves at the current moment (see Page.box)
        self.by_section = [[] for _ in SECTIONS]  # story indexes of each section, ascending
        for idx in range(count):
            self.by_section[section_of(idx)].append(idx)

    def one(self, idx):
        story = self.get(max(0, min(self.count - 1, idx)))
        self.seen[story.idx] = 1
        return story


class Page:
    """The choices of one page: the page's generator, and which stories the site showed at its time."""

    def __init__(self, pool, rng, cur):
        self.pool, self.rng, self.cur = pool, rng, cur

    def brand_tag(self, story):
        """One rendering in five carries the story's other brand, one in ten names the reporter in the tag."""
        brand = story.brand if self.rng.random() >= 0.2 else BRANDS[story.brand == BRANDS[0]]
        return ("[%s %s 기자]" % (brand, story.reporter) if self.rng.random() < 0.1 else "[%s]" % brand), brand

    def lead(self, story, cut):
        """A teaser's lead: cut by the site at 150-230 characters, or whole paragraphs on old listings."""
        tag = "" if story.section == COLUMNS else self.brand_tag(story)[0] + " "
        if cut == "site":
            return (tag + story.flat)[:150 + int(self.rng.random() * 81)] + "..."
        return tag + " ".join(story.paragraphs[:1 + int(self.rng.random() * 3)])

    def box(self, name, build):
        """The site serves the same boxes (BEST 뉴스, 실시간뉴스) on every page at a time: built once a moment."""
        boxes = self.pool.boxes
        if boxes.get("cur") != self.cur:
            boxes.clear()
            boxes["cur"] = self.cur
        if name not in boxes:
            boxes[name] = build()
        return boxes[name]

    def title(self, story):
        """One headline in five is the edited one the site also shows."""
        return story.variant if self.rng.random() < 0.2 else story.title

    def nearby(self):
        return self.pool.one(self.cur - int(self.rng.expovariate(1 / 20.0)))

    def best(self, n=5):
        """BEST 뉴스: popular stories (every 8th) stay there for days, so they repeat on many pages."""
        picks = (self.cur - int(self.rng.expovariate(1 / 60.0)) for _ in range(2 * n))
        chosen = dict.fromkeys(idx - idx % 8 for idx in picks if idx >= 0)  # in order, without repeats
        return [self.pool.one(i) for i in list(chosen)[:n]]

    def latest(self, n=10):
        """실시간뉴스: the newest stories, as a page cached a little while ago shows them."""
        start = self.cur - int(self.rng.random() * 4)
        return [self.pool.one(i) for i in range(start, max(-1, start - n), -1)]

    def listed(self, section, page):
        """Page `page` of a listing, newest first; a page past the end shows the oldest stories there are."""
        ids = range(self.pool.count) if section is None else self.pool.by_section[section]
        rows = 5 + int(self.rng.random() * 5)
        end = max(rows, bisect.bisect_right(ids, self.cur) - (page - 1) * rows)
        return [self.pool.one(i) for i in reversed(ids[max(0, end - rows):end])]

    def edited(self):
        ts = self.pool.get(self.cur).published
        return "최종편집 %s(%s)" % (kst(ts, "%Y-%m-%d"), "월화수목금토일"[datetime.datetime.fromtimestamp(ts, KST).weekday()])

    def article_text(self, story, form):
        tag, brand = self.brand_tag(story)
        paragraphs = tagged(story, tag)
        if form == "old":
            return ("• %s\n \n\n%s\n태그\n비밀번호 :\n메일보내기닫기\n기사제목\n%s\n보내는 분 이메일\n받는 분 이메일\n"
                    % (self.edited(), "\n\n".join(paragraphs), story.title))
        footer = "ⓒ %s & www.dspdaily.com 무단전재-재배포금지\n" % (
            brand if self.rng.random() >= 0.1 else BRANDS[brand == BRANDS[0]])  # the footer may name the other
        best = self.box("best", lambda: "BEST 뉴스\n-\n" + " -\n".join(
            self.title(s) + "\n" + self.lead(s, "site") for s in self.best()))
        if form == "login":
            head = LOGIN + "%s\n\n  • %s 기자\n  • 입력 %s\n  • 댓글 %d\n  • 글자크기설정\n\n  • %s\n\n%d.jpg\n\n \n\n%s\n\n" % (
                story.title, story.reporter, story.minute, self.rng.random() * 10, story.subtitle,
                1000000000 + story.no, story.caption)
            picks = self.box("picks", lambda: "\n".join("  • " + self.title(s) for s in self.best(8)))
            return "%s%s\n%s\n%s\n\n추천뉴스\n\n%s\n\n포토뉴스\n" % (head, "\n\n\n".join(paragraphs), footer, best, picks)
        realtime = self.box("realtime", lambda: "실시간뉴스\n-\n" + "\n-\n".join(self.title(s) for s in self.latest()))
        return "\n".join(paragraphs) + "\n" + footer + best + "\n" + realtime + "\n\n\n"

    def listing_text(self, form, section, page):
        stories = self.listed(section, page)
        if form == "section":
            path = SECTIONS[section][4]
            return SECTIONS[section][3] + "최신기사\n" + "".join("-\n%s\n%s" % (self.title(s), self.lead(s, "site")) +
                                                            ("- %s\n- %s\n%s\n" % (path[0], path[-1], s.minute)) * 2
                                                            for s in stories)
        entries = "".join("  • %s\n    %s%s\n%s    %s\n" % (
            self.title(s), s.caption + " " if self.rng.random() < 0.3 else "", self.lead(s, "paragraphs"),
            "".join("    • %s\n" % p for p in SECTIONS[s.section][4]), s.day) for s in stories)
        if form == "all":
            return "• %s\n\n전체기사보기\n\n%s" % (self.edited(), entries)
        path = SECTIONS[section][4]
        return "• %s\n\n%s\nHome >  %s\n\n실시간뉴스\n%s%s" % (
            self.edited(), SECTIONS[section][0], "  >  ".join(path) + ("  > " if len(path) == 1 else ""),
            "\n실시간 기사\n\n" if self.rng.random() < 0.4 else "", entries)

    def article_html(self, story):
        tag, brand = self.brand_tag(story)
        e = html.escape
        best = self.box("best html", lambda: "".join(
            '<li><a href="/news/view.php?no=%d"><strong>%s</strong></a>\n<p class="lead">%s</p></li>\n'
            % (s.no, e(self.title(s)), e(self.lead(s, "site"))) for s in self.best()))
        realtime = self.box("realtime html", lambda: "".join(
            '<li><a href="/news/view.php?no=%d">%s</a></li>\n' % (s.no, e(self.title(s))) for s in self.latest()))
        return HTML_ARTICLE.format(
            title=e(story.title), no=story.no, brand=brand, reporter=story.reporter, date=story.minute,
            published=story.minute.replace(".", "-").replace(" ", "T") + ":00+09:00", subtitle=e(story.subtitle[2:]),
            caption=e(story.caption), body="".join("<p>%s</p>\n" % e(p) for p in tagged(story, tag)),
            best=best, realtime=realtime)

    def listing_html(self, section, page):
        e = html.escape
        rows = "".join('<li>\n<a href="/news/view.php?no=%d" class="tit">%s</a>\n<p class="lead">%s</p>\n'
                       '<ul class="sect">%s</ul>\n<span class="date">%s</span>\n</li>\n' % (
                           s.no, e(self.title(s)), e(self.lead(s, "paragraphs")),
                           "".join("<li>%s</li>" % p for p in SECTIONS[s.section][4]), s.day)
                       for s in self.listed(section, page))
        return HTML_LISTING.format(name=SECTIONS[section][0], code=SECTIONS[section][1], page=page, rows=rows,
                                   edited=self.edited())

    def other_html(self, story, publisher, now):
        e = html.escape
        return HTML_OTHER.format(
            title=e(story.title), publisher=publisher, reporter=story.reporter, date=kst(now, "%Y.%m.%d %H:%M"),
            published=kst(now, "%Y-%m-%dT%H:%M:00+09:00"), body="".join("<p>%s</p>\n" % e(p) for p in story.paragraphs),
            related="".join('<li><a href="/news/%d">%s</a></li>' % (s.no, e(s.title)) for s in self.latest(3)))


# The HTML templates follow tests/fixtures/html (dspdaily) and tests/fixtures/generic/news.html.
LD_JSON = ('<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle", '
           '"headline": "{title}", "datePublished": "{published}"}}</script>\n')
HTML_ARTICLE = ("""<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n<title>{title} - {brand}</title>
<link rel="canonical" href="/news/view.php?no={no}">\n<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">\n""" + LD_JSON + """</head>\n<body>\n<div id="wrap">
<div class="top_bar"><ul class="util"><li><a href="/member/login.php">로그인</a></li></ul></div>\n<div class="article_head">
<h1 class="tit_subject">{title}</h1>\n<h3 class="tit_sub">{subtitle}</h3>\n<ul class="art_info"><li>{reporter} 기자</li>
<li>입력 {date}</li><li>댓글 0</li><li><a href="javascript:setFontSize(1);">글자크기설정</a></li></ul>\n</div>
<div id="article_body" class="cnt_view">\n<figure class="photo"><img src="/data/photos/{no}.jpg" alt="">
<figcaption>{caption}</figcaption></figure>\n{body}<p class="copyright">ⓒ {brand} &amp; www.dspdaily.com 무단전재-재배포금지</p>
</div>\n<div class="box best_news"><h4 class="box_tit">BEST 뉴스</h4><ul>\n{best}</ul></div>
<div class="box realtime"><h4 class="box_tit">실시간뉴스</h4><ul>\n{realtime}</ul></div>
<div id="footer"><p>Copyright ⓒ dspdaily.com All rights reserved.</p></div>\n</div>\n</body>\n</html>\n""")
HTML_LISTING = """<!DOCTYPE html>\n<html lang="ko">\n<head><meta charset="utf-8"><title>{name} - 동포투데이</title>
<link rel="canonical" href="https://www.dspdaily.com/news/index.php?code={code}&amp;page={page}"></head>
<body><div id="wrap">\n<ul class="top_date"><li>{edited}</li></ul>\n<h2 class="sec_tit">{name}</h2>
<div class="news_list"><h3 class="list_tit">실시간뉴스</h3><ul class="art_list">\n{rows}</ul></div>\n</div></body>\n</html>\n"""
HTML_OTHER = ("""<!DOCTYPE html>\n<html lang="ko">\n<head><meta charset="utf-8"><title>{title} | {publisher}</title>
<meta property="og:title" content="{title}">\n""" + LD_JSON + """</head>\n<body>\n<header class="site-header">
<a href="/">{publisher}</a><nav><ul><li><a href="/news">뉴스</a></li><li><a href="/sports">스포츠</a></li></ul></nav></header>
<main><article class="article">\n<h1>{title}</h1>\n<div class="byline">{reporter} 기자 · {date}</div>
<div class="share-bar"><a href="#">공유하기</a></div>\n<div class="article-body">\n{body}</div>
<div class="related-articles"><h3>관련 기사</h3><ul>{related}</ul></div>\n</article></main>
<footer><p>Copyright {publisher}. All rights reserved.</p></footer>\n</body>\n</html>\n""")


def dspdaily_url(rng, path):
    """The crawler reaches a page under several spellings; final_url is where the redirect led."""
    host = rng.choices(("https://dspdaily.com", "https://www.dspdaily.com", "http://dspdaily.com"), (7, 2, 1))[0]
    return host + path, host.replace("http://", "https://") + path


def render(args, pool, page, rng, i, now, recrawlable):
    """One page: (url, final_url, body, kind); kinds html/ and other/ are HTML, the others text."""
    roll, number = rng.random(), 1 + min(19, int(rng.expovariate(1 / 1.5)))  # listings: page 1 most often
    if roll < 0.10 and recrawlable:
        # A re-crawl of a recent text page: later, whole or cut at about 2 KB, or under http://www. (cut).
        (url, body), kind = rng.choice(recrawlable), rng.choice(("same", "cut", "cut", "www"))
        if kind != "same":
            body = body.encode()[:1500 + int(rng.random() * 800)].decode("utf-8", "ignore")
        if kind != "www":
            return url, url, body, "recrawl/" + kind
        path = url[url.index("/news/"):]
        final = rng.choice(("https://www.", "https://")) + "dspdaily.com" + path
        return "http://www.dspdaily.com" + path, final, body, "recrawl/www"
    if roll < 0.15:
        host, publisher = rng.choice(PUBLISHERS)
        syndicated = rng.random() < 0.3  # else a story of its own, never seen again
        story = page.nearby() if syndicated else make_story(args.seed, 10 ** 9 + i, args.stories, pool.span)
        url = "https://%s/news/%s/%d" % (host, kst(now, "%Y%m%d"), 500000 + i)
        return url, url, page.other_html(story, publisher, now), "other/" + ("syndicated" if syndicated else "own")
    if roll < 0.25:
        story = page.nearby()
        return dspdaily_url(rng, "/news/view.php?no=%d" % story.no) + (page.article_html(story), "html/article")
    if roll < 0.30:
        section = rng.randrange(len(SECTIONS))
        path = "/news/index.php?code=%s&page=%d" % (SECTIONS[section][1], number)
        return dspdaily_url(rng, path) + (page.listing_html(section, number), "html/listing")
    if roll < 0.78:
        story, form = page.nearby(), rng.choices(("login", "body", "old"), (40, 45, 15))[0]
        no = story.alt_no if story.alt_no and rng.random() < 0.4 else story.no
        tail = "&page=%d" % number if rng.random() < 0.15 else ""  # a parameter canonicalization drops
        return dspdaily_url(rng, "/news/view.php?no=%d%s" % (no, tail)) + (page.article_text(story, form),
                                                                          "text/article-" + form)
    form = rng.choices(("old", "all", "section"), (45, 20, 35))[0]
    section = None if form == "all" else rng.randrange(len(SECTIONS))
    code = SECTIONS[section][1 if form == "old" else 2] if section is not None else ""
    path = {"all": "/news/all.php?page=%d" % number,  # parameters repeated or empty, as the site's links have them
            "old": "/news/index.php?code=%s&page=%d%s" % (code, number, rng.choice(("", "&d_code=", "&page=1"))),
            "section": rng.choice(("/news/index.php?section%%5B0%%5D=%s&page=%d" % (code, number),
                                   "/news/index.php?page=%d&section%%5B0%%5D=%s" % (number, code)))}[form]
    return dspdaily_url(rng, path) + (page.listing_text(form, section, number), "text/listing-" + form)


def generate(args, out):
    rng = random.Random(args.seed)
    pool = Pool(args.seed, args.stories)
    mix, recrawlable, written = Counter(), [], 0
    warm = min(args.stories // 4, 40)  # the site had a backlog before the crawl, so lists start full
    for i in range(args.events):
        now = END - pool.span + (i + 1) * pool.span / args.events
        page = Page(pool, rng, warm + (i + 1) * (args.stories - 1 - warm) // args.events)
        url, final, body, kind = render(args, pool, page, rng, i, now, recrawlable)
        host = url.split("/")[2].replace("www.", "")
        event = {"url": url, "final_url": final, "http_status": 200, "source_id": "bench-crawler",
                 "publisher_hint": host, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                 "content_type": "text/%s; charset=utf-8" % ("plain" if kind[:4] in ("text", "recr") else "html"),
                 "body": body}
        if final == url and rng.random() < 0.2:
            del event["final_url"]  # optional: some crawls leave it out when there was no redirect
        if rng.random() < 0.5:
            event["headers"] = {"server": "Apache" if host == "dspdaily.com" else "nginx"}
        if kind.startswith("text/"):
            recrawlable.append((url, body))
            if len(recrawlable) > 200:
                del recrawlable[0]
        data = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        out.write(data)
        written += len(data)
        mix[kind] += 1
    return pool, mix, written


def produce_command(config, path):
    """The load step: storyd's own producer, so that the events reach Kafka as storyd expects them."""
    return [os.environ.get("STORYD_BIN", os.path.join(ROOT, "build", "storyd")), "produce", "-c", config, path]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stories", type=int, help="stories in the pool (default events/20)")
    parser.add_argument("--out", required=True, help="the output file (JSON Lines)")
    parser.add_argument("--truth", help="also write the stories that appeared, one JSON object a line")
    parser.add_argument("--load", metavar="CONFIG", help="then publish the output with storyd produce -c CONFIG")
    args = parser.parse_args()
    args.stories = args.stories or max(1, round(args.events / 20))
    if min(args.events, args.stories) < 1:
        parser.error("--events and --stories must be at least 1")
    started = time.monotonic()
    with open(args.out, "wb", buffering=1 << 20) as out:
        pool, mix, written = generate(args, out)
    seconds = time.monotonic() - started
    appeared = [i for i in range(args.stories) if pool.seen[i]]
    if args.truth:
        with open(args.truth, "w", encoding="utf-8") as truth:
            for s in map(pool.get, appeared):
                truth.write(json.dumps({"story": s.idx, "no": s.no, "alt_no": s.alt_no, "title": s.title,
                                        "variant": s.variant}, ensure_ascii=False) + "\n")
    summary = ["workload: %d events, %.1f MB (%d B/event) in %.2f s: %.0f events/s, %.1f MB/s" % (
        args.events, written / 1e6, written // args.events, seconds, args.events / seconds, written / 1e6 / seconds),
        "stories: %d in the pool, %d appeared on a page, %.1f days of crawl; other publishers' own: %d" % (
        args.stories, len(appeared), pool.span / 86400, mix["other/own"])]
    summary += ["  %-22s %8d  %5.1f%%" % (kind, n, 100.0 * n / args.events) for kind, n in sorted(mix.items())]
    print("\n".join(summary), file=sys.stderr)
    if args.load:
        command = produce_command(args.load, args.out)
        print("load: " + shlex.join(command), file=sys.stderr)
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
