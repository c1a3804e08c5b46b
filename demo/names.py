"""Names and places: what the people of the demo school are called and where they live.

Weighted name pools per origin, the short forms people go by, the catchment's towns and
streets, and folding a name to plain letters for emails and codes.  Every draw takes a
seeded ``random.Random``, so the same stream gives the same people.
"""

from __future__ import annotations

import random
import unicodedata
from functools import lru_cache

# origin: (share of households, girls, boys, surnames), each pool "Name:weight" (weight 1 if
# omitted).  Names keep their accents, apostrophes, hyphens and spaces: that is what a sync
# has to cope with.  Origins keep forenames and surnames plausible together.
NAME_POOLS = {
    "british": (
        60,
        "Olivia:10 Amelia:9 Isla:6 Ava:7 Mia:5 Ivy:4 Lily:6 Isabella:4 Sophia:4 Grace:6 Freya:5 "
        "Emily:6 Poppy:5 Ella:5 Evie:5 Charlotte:4 Jessica:4 Sophie:5 Chloe:4 Chloë:3 Zoe:2 Zoë:3 "
        "Eleanor:4 Katherine:3 Elizabeth:3 Rebecca:2 Abigail:3 Harriet:2 Matilda:3 Daisy:3 Rosie:3 "
        "Florence:3 Millie:4 Holly:3 Megan:3 Lucy:4 Hannah:4 Ruby:4 Alice:3 Phoebe:3 Imogen:2 "
        "Scarlett:3 Willow:2 Siân:3 Ffion Cerys Bethany:2 Jasmine:2 Layla:2 Victoria:2 Margaret "
        "Alexandra:2 Gabriella Renée:2",
        "Oliver:10 George:8 Harry:7 Noah:6 Jack:7 Leo:5 Arthur:5 Oscar:5 Charlie:6 Jacob:5 Thomas:6 "
        "William:6 James:6 Alfred:3 Frederick:3 Alexander:4 Samuel:4 Benjamin:4 Joshua:4 Daniel:4 "
        "Matthew:3 Edward:3 Henry:4 Archie:4 Theo:4 Lucas:4 Ethan:5 Mason:3 Max:3 Finley:3 Riley:3 "
        "Isaac:3 Dylan:3 Logan:2 Toby:3 Reuben:2 Rhys:2 Dafydd Callum:2 Kieran:2 Aidan:2 Aiden:2 "
        "Christopher:2 Nathaniel Tyler:2 Kai:2 Elijah:2",
        "Smith:20 Jones:12 Williams:10 Taylor:9 Brown:9 Davies:7 Evans:6 Wilson:7 Thomas:6 Johnson:6 "
        "Roberts:5 Robinson:5 Thompson:5 Wright:5 Walker:5 White:4 Edwards:4 Hughes:4 Green:4 Hall:4 "
        "Lewis:4 Harris:4 Clarke:4 Jackson:3 Wood:3 Turner:3 Martin:3 Cooper:3 Hill:3 Ward:3 Morris:3 "
        "Moore:3 Clark:3 Lee:3 King:3 Baker:3 Harrison:3 Morgan:3 Allen:2 James:2 Scott:2 Phillips:2 "
        "Watson:2 Davis:2 Parker:2 Price:2 Bennett:2 Young:2 Griffiths:2 Mitchell:2 Cook:2 Carter:2 "
        "Richardson:2 Bailey:2 Collins:2 Bell:2 Shaw:2 Miller:2 Cox:2 Richards:2 MacDonald:2 "
        "McKenzie:2 Fletcher:2 Barker:2 Howard:2 Chapman:2 Ellis:2 Webb:2 Gray:2 Holmes:2 Marshall:2 "
        "Gibson:2 Saunders:2 Knight:2 Pearce:2 Dixon:2 Campbell:2 Francis:2 Grant:2 Ramsay Goodwin "
        "Lorrin Cloves Fairweather Blackwood Ashworth",
    ),
    "irish": (
        4,
        "Niamh:3 Aoife:3 Siobhán:2 Saoirse:2 Róisín:2 Ciara:2 Orla:2 Caoimhe",
        "Seán:4 Oisín:2 Cian:2 Conor:3 Declan:2 Patrick:2 Eoin:2 Ciarán:2",
        "O'Brien:4 O'Connor:3 O'Sullivan:2 Murphy:4 Kelly:3 Byrne:2 Ryan:2 Walsh:2 McCarthy:2 "
        "Doyle:2 Gallagher:2 O'Neill:3 Quinn:2",
    ),
    "south_asian_muslim": (
        10,
        "Aisha:5 Fatima:5 Maryam:5 Zainab:4 Hafsa:3 Inaya:3 Amira:3 Safa:2 Anaya:2 Noor:2 Aleena:2 "
        "Hana:2 Khadija:3 Sumaya:2",
        "Mohammed:12 Muhammad:10 Mohammad:4 Yusuf:5 Ibrahim:5 Ayaan:4 Zayn:4 Hamza:4 Ali:3 Adam:4 "
        "Omar:3 Bilal:2 Rayyan:3 Zakariya:2 Ismail:2",
        "Khan:12 Ahmed:8 Ali:7 Hussain:8 Begum:3 Rahman:4 Iqbal:3 Akhtar:3 Mahmood:3 Shah:3 "
        "Chowdhury:3 Uddin:3 Islam:3 Malik:3 Butt:2 Raza:2 Siddiqui:2",
    ),
    "south_asian": (
        6,
        "Priya:4 Anaya:3 Simran:3 Harleen:2 Gurleen:2 Aarna:2 Diya:3 Kavya:2 Ishani:2 Meera:2",
        "Arjun:4 Aarav:4 Vihaan:2 Rohan:3 Harjot:2 Gurpreet:2 Jaskaran:2 Krish:3 Dev:2 Ravi:2 Aryan:3",
        "Patel:12 Singh:10 Kaur:4 Sharma:4 Gill:3 Sandhu:3 Kumar:3 Shah:3 Mistry:2 Dhillon:2 "
        "Sidhu:2 Chauhan:2 Joshi:2 Parmar:2",
    ),
    "eastern_european": (
        7,
        "Zofia:3 Wiktoria:3 Julia:3 Maja:3 Zuzanna:3 Oliwia:2 Natalia:2 Alicja:2 Daria:2 Anastasia",
        "Łukasz:5 Jakub:4 Szymon:3 Kacper:3 Filip:3 Mateusz:3 Tomasz:2 Antoni:2 Wojciech Andrei:2 "
        "Mihai",
        "Nowak:4 Kowalski:3 Wiśniewski:2 Wójcik:2 Kowalczyk:2 Kamiński:2 Lewandowski:2 Zieliński "
        "Szymański Popescu:2 Ionescu Kovács Petrov",
    ),
    "west_african": (
        5,
        "Adaeze:2 Chiamaka:2 Amara:3 Ama:2 Abena:2 Ifeoma:2 Esther:3 Blessing:2 Precious:2 Favour:2 "
        "Temitope:2",
        "Chidi:2 Kwame:3 Kofi:2 Tobi:3 Emmanuel:4 David:3 Samuel:3 Oluwaseun:2 Ayodele:2 Chinedu:2",
        "Okafor:3 Adeyemi:3 Mensah:3 Osei:3 Okonkwo:2 Boateng:3 Asante:2 Adebayo:3 Eze:2 Nwosu:2 "
        "Owusu:3 Bello:2 Ogunleye",
    ),
    "east_asian": (
        3,
        "Mei:3 Xinyi:2 Linh:2 Anh:2 Jia:2 Min-ji Yuki",
        "Wei:3 Jiahao:2 Hao:2 Minh:2 Jun:2 Haoran Kenji",
        "Chen:4 Wang:4 Li:4 Zhang:3 Liu:3 Nguyen:4 Tran:3 Le:2 Pham:2 Huang:2 Wong:3 Lam:2 Kim:2",
    ),
    "southern_european": (
        5,
        "Lucía:2 María:2 Inês:2 Giulia:2 Chiara:2 Renée:3 Amélie:2 Léa:2 Beatriz Sofía",
        "José:5 Mateo:2 Luca:3 Tiago:2 João:2 Hugo:2 Matteo:2 Gabriel:2 Raphaël Santiago",
        "García:2 Fernández:2 Rodríguez:2 Da Silva:3 Santos:3 Pereira:2 Rossi:2 Ferreira:2 Costa:2 "
        "Dubois:2 Lefèvre D'Angelo De Souza",
    ),
}
# Parents and staff of British origin have their generation's names, not their children's.
ADULT_BRITISH_FORENAMES = (
    "Sarah:6 Emma:5 Claire:5 Helen:5 Rebecca:4 Laura:5 Rachel:4 Lisa:4 Nicola:4 Joanne:3 Louise:4 "
    "Gemma:4 Kelly:3 Victoria:3 Katherine:3 Karen:3 Michelle:3 Amanda:3 Samantha:3 Jennifer:3 "
    "Hayley:3 Donna:2 Kirsty:2 Valerie Gillian:2 Susan:2 Alison:2 Catherine:3 Dawn:2 Julie:2",
    "David:6 Paul:5 Mark:5 Richard:4 Andrew:5 Stephen:4 Ian:3 Christopher:4 James:5 Daniel:4 "
    "Matthew:4 Michael:5 Robert:3 Simon:3 Jonathan:3 Gareth:2 Neil:3 Craig:3 Lee:3 Darren:2 "
    "Stuart:2 Wayne:2 Gary:2 Martin:3 Peter:3 John:4 Steven:3 Carl:2 Adam:3 William:2 Alfred",
)
# Legal forename -> the name the person actually goes by (the MIS "preferred" forename).
NICKNAMES = {
    "Alfred": "Alfie", "Frederick": "Freddie", "William": "Bill", "Mohammed": "Mo",
    "Muhammad": "Mo", "Thomas": "Tom", "Alexander": "Alex", "Samuel": "Sam", "Benjamin": "Ben",
    "Joshua": "Josh", "Daniel": "Danny", "Matthew": "Matty", "Edward": "Ted", "Henry": "Harry",
    "Christopher": "Chris", "Nathaniel": "Nate", "Zakariya": "Zak", "Jakub": "Kuba",
    "Łukasz": "Luke", "Oluwaseun": "Seun", "Ayodele": "Ayo", "Jiahao": "Jack",
    "Eleanor": "Ellie", "Isabella": "Izzy", "Katherine": "Kate", "Elizabeth": "Lizzie",
    "Rebecca": "Becky", "Abigail": "Abbie", "Charlotte": "Lottie", "Jessica": "Jess",
    "Victoria": "Tori", "Margaret": "Maggie", "Alexandra": "Lexi", "Gabriella": "Gabby",
    "Xinyi": "Cindy", "Temitope": "Temi", "Wiktoria": "Vicky", "Stephen": "Steve",
    "Jennifer": "Jenny", "Michael": "Mike", "Robert": "Rob", "Catherine": "Cathy",
}  # fmt: skip
# --------------------------------------------------------------------------- places

# (town, district, postcode districts, share).  Postcodes are made up but well formed.
TOWNS = (
    ("Norwich", None, ("NR1", "NR2", "NR3", "NR4", "NR5", "NR6", "NR7"), 45),
    ("Norwich", "Costessey", ("NR8",), 8),
    ("Norwich", "Taverham", ("NR8",), 5),
    ("Norwich", "Hethersett", ("NR9",), 5),
    ("Wymondham", None, ("NR18",), 10),
    ("Attleborough", None, ("NR17",), 6),
    ("Dereham", None, ("NR19", "NR20"), 6),
    ("Norwich", "Sprowston", ("NR7",), 8),
    ("Norwich", "Poringland", ("NR14",), 4),
)
STREETS = (
    "Penrith Grove", "Hill Rise", "Windsor Road", "Sultan Road", "Unthank Road", "Earlham Road",
    "Dereham Road", "Newmarket Road", "Ipswich Road", "Bluebell Road", "Colney Lane", "Hall Road",
    "Church Lane", "Mill Lane", "Station Road", "The Avenue", "St Stephen's Road", "Queen's Road",
    "King Street", "Rosary Road", "Magdalen Street", "Aylsham Road", "Drayton High Road",
    "Mile Cross Road", "Plumstead Road", "Thorpe Road", "Yarmouth Road", "Harvey Lane",
    "Gurney Road", "Constitution Hill", "Spixworth Road", "Sprowston Road", "Wroxham Road",
    "Salhouse Road", "Cecil Road", "College Road", "Christchurch Road", "Bowthorpe Road",
    "Larkman Lane", "Beecheno Road", "Marl Pit Lane", "Waterworks Road", "Heigham Street",
    "Oak Street", "Silver Road", "Rupert Street", "Trinity Street", "Orchard Close", "Meadow Way",
    "Willow Crescent", "Beech Drive", "Chestnut Avenue", "Elm Grove", "Cherry Tree Close",
    "Poppy Way", "Blackthorn Road", "Hawthorn Close", "Lavender Close", "Foxglove Road",
    "Kestrel Avenue", "Heron Way", "Swallow Close", "Lime Tree Road", "Park Lane", "School Lane",
    "Norwich Road", "London Road", "Fairland Street", "Market Street", "Bridge Street",
    "Greenway Lane", "Brock Road", "Priory Road", "Abbey Road", "St Mary's Close", "Jubilee Way",
    "Coronation Road", "Victoria Street", "Albert Terrace",
)  # fmt: skip
HOUSE_NAMES = (
    "Rose Cottage", "The Old Rectory", "Orchard House", "Willow Barn", "Holly Lodge",
    "The Granary", "Meadow View", "Ivy Cottage",
)
APARTMENT_BLOCKS = ("Jubilee Court", "Wensum House", "Riverside Mews", "St Anne's Court")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code

# --------------------------------------------------------------------------- drawing


def _pool(spec: str) -> tuple[str, ...]:
    """Expand "Olivia:10 Zoë:3 Ffion" into a tuple where each name appears weight times."""
    names: list[str] = []
    for item in spec.split():
        name, _, weight = item.partition(":")
        names.extend([name] * int(weight or 1))
    return tuple(names)


def pick(rng: random.Random, pool: tuple):
    return pool[int(rng.random() * len(pool))]


# origin -> (girls, boys, surnames), each a weighted pool.
_POOLS = {origin: tuple(map(_pool, spec[1:])) for origin, spec in NAME_POOLS.items()}
_ORIGINS = _pool(" ".join(f"{origin}:{spec[0]}" for origin, spec in NAME_POOLS.items()))
_ADULT_BRITISH = tuple(map(_pool, ADULT_BRITISH_FORENAMES))
# Legal names that have a well-known short form, per origin and gender, keeping their weights.
_FORMAL = {
    (origin, gender): tuple(n for n in pool if n in NICKNAMES)
    for origin, (girls, boys, _) in _POOLS.items()
    for gender, pool in (("F", girls), ("M", boys))
}
_TOWNS = _pool(" ".join(f"{i}:{town[3]}" for i, town in enumerate(TOWNS)))


def family_origin(rng: random.Random) -> str:
    return pick(rng, _ORIGINS)


def forename(rng: random.Random, origin: str, gender: str, adult: bool = False) -> str:
    if adult and origin == "british":
        return pick(rng, _ADULT_BRITISH[gender == "M"])
    # A child of any family may have a name from the majority pool.
    if origin != "british" and rng.random() < 0.12:
        origin = "british"
    girls, boys, _ = _POOLS[origin]
    return pick(rng, boys if gender == "M" else girls)


def surname(rng: random.Random, origin: str) -> str:
    return pick(rng, _POOLS[origin][2])


def preferred_forename(rng: random.Random, origin: str, gender: str, rate: float) -> tuple[str, str]:
    """(legal, preferred): for ``rate`` of people a formal legal name and its short form."""
    if rng.random() < rate:
        formal = _FORMAL[(origin, gender)] or _FORMAL[("british", gender)]
        legal = pick(rng, formal)
        return legal, NICKNAMES[legal]
    name = forename(rng, origin, gender)
    return name, name


def middle_name(rng: random.Random, origin: str, gender: str) -> str | None:
    draw = rng.random()
    if draw < 0.3:
        return forename(rng, origin, gender)
    if draw < 0.35:
        return f"{forename(rng, origin, gender)} {forename(rng, 'british', gender)}"
    return None


def title(rng: random.Random, gender: str) -> str:
    draw = rng.random()
    if draw < 0.04:
        return "Dr"
    if gender == "M":
        return "Mr"
    return "Mrs" if draw < 0.55 else ("Ms" if draw < 0.8 else "Miss")


def phone(rng: random.Random, mobile: bool) -> str:
    # Ofcom's drama ranges: numbers that will never ring anyone.
    number = int(rng.random() * 1000)
    return f"07700 900{number:03d}" if mobile else f"01632 960{number:03d}"


class Catchment:
    """Made-up but well-formed addresses around Norwich, where neighbours share a postcode."""

    def __init__(self) -> None:
        self._postcodes: dict[tuple, str] = {}

    def address(self, rng: random.Random) -> dict:
        town, district, outcodes, _ = TOWNS[int(pick(rng, _TOWNS))]
        street = pick(rng, STREETS)
        number = rng.randint(1, 140)
        house_no: str | None = str(number)
        house_name = apartment = None
        kind = rng.random()
        if kind < 0.06:
            house_no, house_name = None, pick(rng, HOUSE_NAMES)
        elif kind < 0.15:
            apartment, house_name = f"Flat {rng.randint(1, 24)}", pick(rng, APARTMENT_BLOCKS)
        # Neighbours share a postcode: one per stretch of about twenty doors.
        block = (town, district, street, number // 20)
        postcode = self._postcodes.get(block)
        if postcode is None:
            postcode = (
                f"{pick(rng, outcodes)} {rng.randint(1, 9)}"
                f"{pick(rng, POSTCODE_LETTERS)}{pick(rng, POSTCODE_LETTERS)}"
            )
            self._postcodes[block] = postcode
        county = "Norfolk" if rng.random() < 0.4 else None
        first_line = f"{house_no} {street}" if house_no else street
        lines = [apartment, house_name, first_line, district, town, county, postcode, "United Kingdom"]
        return {
            "AddressBlock": "\n".join(line for line in lines if line),
            "HouseNo": house_no,
            "HouseName": house_name,
            "Apartment": apartment,
            "Street": street,
            "District": district,
            "TownOrCity": town,
            "County": county,
            "PostCode": postcode,
            "Country": "United Kingdom",
        }


# --------------------------------------------------------------------------- folding

_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Đ": "D", "đ": "d"})


@lru_cache(maxsize=None)
def as_ascii(text: str) -> str:
    """Letters and digits only, accents folded (Zoë -> Zoe, Łukasz -> Lukasz): for emails and codes."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if c.isalnum())


@lru_cache(maxsize=None)
def strip_accents(text: str) -> str:
    """Zoë -> Zoe but O'Brien stays O'Brien: how a name looks typed on a UK keyboard."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))

