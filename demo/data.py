"""Word lists for the demo shop: its staff, its customers' countries, its catalogue.

Everything here is plain data; ``demo.plans`` draws from it with a seeded random generator.
Addresses use the reserved ``example.*`` domains and phone numbers are drawn from ranges
that pass libphonenumber's validation, so the demo reads like a real shop without pointing
at real mailboxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SHOP_NAME = "Harbor & Pine"
SHOP_DOMAIN = "harborandpine.example"
STORE = "harbor-and-pine"
DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - documented in the README, demo only


# --- Staff ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamData:
    slug: str
    name: str
    description: str


TEAMS = (
    TeamData("support", "Support", "Orders, shipping, payments and product questions."),
    TeamData(
        "returns-exchanges",
        "Returns & Exchanges",
        "Returns, exchanges, damaged and wrong items, refunds.",
    ),
    TeamData("vip-wholesale", "VIP & Wholesale", "Wholesale accounts and our best customers."),
)


@dataclass(frozen=True)
class StaffData:
    username: str
    first_name: str
    last_name: str
    role: str
    teams: tuple[str, ...]
    languages: tuple[str, ...]
    capacity: int
    availability: str
    time_zone: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def email(self) -> str:
        return f"{self.username}@{SHOP_DOMAIN}"


ADMIN = StaffData(
    "admin", "Alex", "Morgan", "admin", ("support",), ("en",), 10, "online", "Europe/London"
)
AGENTS = (
    StaffData(
        "maya", "Maya", "Thompson", "agent", ("support",), ("en", "es"), 25, "online",
        "America/New_York",
    ),
    StaffData(
        "lukas", "Lukas", "Becker", "agent", ("support", "returns-exchanges"), ("de", "en"), 20,
        "online", "Europe/Berlin",
    ),
    StaffData(
        "ines", "Inès", "Moreau", "agent", ("support",), ("fr", "en"), 20, "away", "Europe/Paris"
    ),
    StaffData(
        "rafael", "Rafael", "Costa", "agent", ("support",), ("pt", "es", "en"), 20, "online",
        "America/Sao_Paulo",
    ),
    StaffData(
        "sofia", "Sofía", "Navarro", "agent", ("returns-exchanges",), ("es", "en"), 25, "online",
        "Europe/Madrid",
    ),
    StaffData(
        "tom", "Tom", "Walker", "agent", ("returns-exchanges", "vip-wholesale"), ("en",), 15,
        "offline", "Europe/London",
    ),
    StaffData(
        "hannah", "Hannah", "Schulz", "agent", ("returns-exchanges",), ("de", "en", "fr"), 20,
        "online", "Europe/Vienna",
    ),
    StaffData(
        "priya", "Priya", "Sharma", "agent", ("vip-wholesale", "support"), ("en",), 12, "online",
        "Europe/London",
    ),
)  # fmt: skip


# --- Channel accounts ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountData:
    kind: str
    slug: str
    name: str
    address: str
    default_team: str


CHANNEL_ACCOUNTS = (
    AccountData("email", "support-email", "Support mailbox", f"support@{SHOP_DOMAIN}", "support"),
    AccountData("chat", "website-chat", "Website chat", f"https://www.{SHOP_DOMAIN}", "support"),
    AccountData("whatsapp", "whatsapp", "WhatsApp", "+14155550142", "support"),
    AccountData("sms", "sms", "SMS", "+14155550177", "returns-exchanges"),
    AccountData("messenger", "messenger", "Facebook page", "104857392018475", "support"),
    AccountData("instagram", "instagram", "Instagram", "@harborandpine", "support"),
    AccountData("telegram", "telegram", "Telegram bot", "@HarborPineBot", "support"),
)
CHANNELS = tuple(account.kind for account in CHANNEL_ACCOUNTS)


# --- Countries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Carrier:
    name: str
    pattern: str  # "#" is a digit, "A" an upper-case letter
    url: str  # with {number}


@dataclass(frozen=True)
class City:
    name: str
    province: str
    postal: str  # pattern, as for Carrier.pattern


@dataclass(frozen=True)
class CountryData:
    code: str
    name: str
    weight: int
    locales: tuple[str, ...]
    currency: str
    tax_rate: Decimal
    phone_patterns: tuple[str, ...]  # E.164 patterns; candidates are checked for validity
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[City, ...]
    streets: tuple[str, ...]
    street_format: str  # {street} and {number}
    carriers: tuple[Carrier, ...]


UPS = Carrier("UPS", "1Z9A7W##03########", "https://www.ups.com/track?tracknum={number}")
USPS = Carrier(
    "USPS",
    "9400111#################",
    "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
)
ROYAL_MAIL = Carrier(
    "Royal Mail",
    "AA########GB",
    "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
)
DHL = Carrier(
    "DHL",
    "00340434##########",
    "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}",
)
COLISSIMO = Carrier(
    "Colissimo", "6A###########", "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
)
CORREOS = Carrier(
    "Correos",
    "PQ4F6P07##########",
    "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking-number={number}",
)
DHL_EXPRESS = Carrier(
    "DHL Express",
    "##########",
    "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}",
)
POSTNL = Carrier("PostNL", "3SHRBP#########", "https://jouw.postnl.nl/track-and-trace/{number}")
CTT = Carrier(
    "CTT",
    "RR#########PT",
    "https://appserver.ctt.pt/CustomerArea/PublicArea_Detail?ObjectCodeInput={number}",
)
CORREIOS = Carrier(
    "Correios",
    "AA#########BR",
    "https://rastreamento.correios.com.br/app/index.php?objeto={number}",
)
CANADA_POST = Carrier(
    "Canada Post",
    "################",
    "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{number}",
)
AUSTRALIA_POST = Carrier(
    "Australia Post", "33ABC#########", "https://auspost.com.au/mypost/track/details/{number}"
)
POSTE_ITALIANE = Carrier(
    "Poste Italiane", "RR#########IT", "https://www.poste.it/cerca/index.html#/risultati-spedizioni/{number}"
)  # fmt: skip

COUNTRIES = (
    CountryData(
        "US", "United States", 28, ("en-US",), "USD", Decimal("0.08"),
        ("+121255501##", "+141555501##", "+151255501##", "+120655501##", "+131255501##",
         "+161755501##", "+130355501##", "+150355501##"),
        ("Emma", "Olivia", "Ava", "Sophia", "Mia", "Liam", "Noah", "James", "Ethan", "Lucas",
         "Madison", "Chloe", "Ryan", "Tyler", "Grace", "Hannah", "Jackson", "Aiden", "Zoe",
         "Caleb", "Jasmine", "Marcus", "Aaliyah", "Diego"),
        ("Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Wilson", "Anderson", "Thomas",
         "Moore", "Jackson", "Martin", "Lee", "Harris", "Clark", "Lewis", "Walker", "Young",
         "Allen", "King", "Wright", "Nguyen", "Patel", "Kim", "Brooks"),
        (City("New York", "NY", "100##"), City("Brooklyn", "NY", "112##"),
         City("Austin", "TX", "787##"), City("Seattle", "WA", "981##"),
         City("Chicago", "IL", "606##"), City("Denver", "CO", "802##"),
         City("Portland", "OR", "972##"), City("San Francisco", "CA", "941##"),
         City("Boston", "MA", "021##"), City("Atlanta", "GA", "303##")),
        ("Maple Avenue", "Oak Street", "Elm Street", "Main Street", "Cedar Lane",
         "Washington Street", "Park Avenue", "Lakeview Drive", "Pine Street", "Highland Avenue"),
        "{number} {street}", (UPS, USPS),
    ),
    CountryData(
        "GB", "United Kingdom", 12, ("en-GB",), "GBP", Decimal("0.20"),
        ("+447400######", "+447700######", "+447911######", "+447825######"),
        ("Oliver", "George", "Harry", "Jack", "Amelia", "Isla", "Poppy", "Charlotte", "Freya",
         "Alfie", "Archie", "Evie", "Florence", "Theo", "Harriet", "Imogen"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
         "Roberts", "Hughes", "Wright", "Walker", "Edwards", "Green", "Hall", "Khan"),
        (City("London", "", "N1 #AA"), City("London", "", "SE15 #AA"),
         City("Manchester", "", "M4 #AA"), City("Bristol", "", "BS1 #AA"),
         City("Leeds", "", "LS6 #AA"), City("Edinburgh", "", "EH3 #AA"),
         City("Brighton", "", "BN1 #AA"), City("Glasgow", "", "G12 #AA")),
        ("High Street", "Church Road", "Station Road", "Victoria Road", "Park Lane",
         "Green Lane", "Mill Road", "Queen's Road"),
        "{number} {street}", (ROYAL_MAIL,),
    ),
    CountryData(
        "DE", "Germany", 12, ("de-DE",), "EUR", Decimal("0.19"),
        ("+49151########", "+49160#######", "+49170#######", "+49176########",
         "+49157########"),
        ("Lena", "Mia", "Hannah", "Emma", "Sophie", "Leon", "Paul", "Jonas", "Felix", "Lukas",
         "Anna", "Marie", "Finn", "Jan", "Katharina", "Moritz"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Hoffmann", "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Yılmaz"),
        (City("Berlin", "", "10###"), City("Hamburg", "", "22###"), City("München", "", "80###"),
         City("Köln", "", "50###"), City("Frankfurt am Main", "", "60###"),
         City("Leipzig", "", "04###"), City("Stuttgart", "", "70###")),
        ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Goethestraße",
         "Lindenstraße", "Bergstraße", "Kastanienallee"),
        "{street} {number}", (DHL,),
    ),
    CountryData(
        "AT", "Austria", 3, ("de-AT",), "EUR", Decimal("0.20"),
        ("+43664#######", "+43660#######", "+43676#######", "+43699########"),
        ("Valentina", "Tobias", "Florian", "Magdalena", "Lena", "Sebastian", "Johanna",
         "Maximilian", "Theresa", "Lukas"),
        ("Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser", "Mayer", "Hofer",
         "Leitner"),
        (City("Wien", "", "11#0"), City("Graz", "", "80##"), City("Linz", "", "40##"),
         City("Salzburg", "", "50##"), City("Innsbruck", "", "60##")),
        ("Mariahilfer Straße", "Hauptplatz", "Landstraße", "Kirchengasse", "Schulgasse"),
        "{street} {number}", (DHL,),
    ),
    CountryData(
        "FR", "France", 9, ("fr-FR",), "EUR", Decimal("0.20"),
        ("+336########", "+337########"),
        ("Camille", "Léa", "Manon", "Chloé", "Inès", "Louis", "Gabriel", "Hugo", "Arthur",
         "Jules", "Théo", "Élodie", "Mathilde", "Antoine", "Juliette", "Karim"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garnier", "Benali"),
        (City("Paris", "", "750##"), City("Lyon", "", "6900#"), City("Marseille", "", "130##"),
         City("Bordeaux", "", "33000"), City("Lille", "", "59000"), City("Nantes", "", "44000"),
         City("Toulouse", "", "31000")),
        ("rue de la République", "avenue Victor Hugo", "rue Nationale", "boulevard Voltaire",
         "rue du Moulin", "rue des Écoles", "rue Pasteur"),
        "{number} {street}", (COLISSIMO,),
    ),
    CountryData(
        "ES", "Spain", 7, ("es-ES",), "EUR", Decimal("0.21"),
        ("+346########",),
        ("Lucía", "Martina", "Sofía", "María", "Paula", "Hugo", "Martín", "Pablo", "Daniel",
         "Alejandro", "Carmen", "Javier", "Elena", "Sergio", "Irene"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
         "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno"),
        (City("Madrid", "Madrid", "280##"), City("Barcelona", "Barcelona", "080##"),
         City("Valencia", "Valencia", "460##"), City("Sevilla", "Sevilla", "410##"),
         City("Bilbao", "Bizkaia", "480##"), City("Málaga", "Málaga", "290##")),
        ("Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Calle Real",
         "Gran Vía", "Calle del Sol"),
        "{street}, {number}", (CORREOS,),
    ),
    CountryData(
        "MX", "Mexico", 4, ("es-MX",), "MXN", Decimal("0.16"),
        ("+5255########", "+5233########", "+5281########"),
        ("Ximena", "Valeria", "Regina", "Camila", "Santiago", "Mateo", "Diego", "Emiliano",
         "Leonardo", "Fernanda", "Andrea", "Luis", "José", "Guadalupe"),
        ("Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez",
         "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Reyes", "Vázquez"),
        (City("Ciudad de México", "CDMX", "06###"), City("Guadalajara", "Jalisco", "44###"),
         City("Monterrey", "Nuevo León", "64###"), City("Puebla", "Puebla", "72###")),
        ("Avenida Reforma", "Calle Insurgentes Sur", "Calle Durango", "Avenida Juárez",
         "Calle Colima"),
        "{street} {number}", (DHL_EXPRESS,),
    ),
    CountryData(
        "BR", "Brazil", 4, ("pt-BR",), "BRL", Decimal("0.00"),
        ("+55119########", "+55219########", "+55319########", "+55419########"),
        ("Ana", "Beatriz", "Júlia", "Larissa", "Mariana", "Gabriel", "Lucas", "Pedro",
         "Rafael", "Matheus", "Camila", "Thiago", "Fernanda", "Bruno", "Letícia"),
        ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
         "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Araújo"),
        (City("São Paulo", "SP", "01###-###"), City("Rio de Janeiro", "RJ", "22###-###"),
         City("Belo Horizonte", "MG", "30###-###"), City("Curitiba", "PR", "80###-###"),
         City("Porto Alegre", "RS", "90###-###")),
        ("Rua das Flores", "Avenida Paulista", "Rua Augusta", "Rua XV de Novembro",
         "Rua da Consolação"),
        "{street}, {number}", (CORREIOS,),
    ),
    CountryData(
        "PT", "Portugal", 2, ("pt-PT",), "EUR", Decimal("0.23"),
        ("+35191#######", "+35193#######", "+35196#######"),
        ("Inês", "Beatriz", "Leonor", "Matilde", "Carolina", "João", "Tomás", "Duarte",
         "Afonso", "Diogo", "Rita", "Miguel"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins",
         "Sousa", "Fernandes", "Gonçalves", "Marques"),
        (City("Lisboa", "", "1###-###"), City("Porto", "", "4###-###"),
         City("Braga", "", "47##-###"), City("Coimbra", "", "30##-###")),
        ("Rua Augusta", "Avenida da Liberdade", "Rua de Santa Catarina", "Rua do Carmo"),
        "{street}, {number}", (CTT,),
    ),
    CountryData(
        "IT", "Italy", 4, ("it-IT",), "EUR", Decimal("0.22"),
        ("+39312#######", "+39333#######", "+39347#######", "+39320#######"),
        ("Giulia", "Sofia", "Aurora", "Alice", "Ginevra", "Leonardo", "Francesco",
         "Alessandro", "Lorenzo", "Matteo", "Chiara", "Marco", "Federica", "Luca"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
         "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca"),
        (City("Milano", "MI", "201##"), City("Roma", "RM", "001##"), City("Torino", "TO", "101##"),
         City("Bologna", "BO", "401##"), City("Firenze", "FI", "501##")),
        ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante", "Via Mazzini"),
        "{street} {number}", (POSTE_ITALIANE,),
    ),
    CountryData(
        "NL", "Netherlands", 4, ("nl-NL",), "EUR", Decimal("0.21"),
        ("+316########",),
        ("Emma", "Julia", "Sophie", "Tess", "Anna", "Daan", "Sem", "Lucas", "Levi", "Finn",
         "Lotte", "Bram", "Sanne", "Thijs"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
         "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos"),
        (City("Amsterdam", "", "10## AA"), City("Utrecht", "", "35## AA"),
         City("Rotterdam", "", "30## AA"), City("Den Haag", "", "25## AA")),
        ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsstraat", "Prinsengracht"),
        "{street} {number}", (POSTNL,),
    ),
    CountryData(
        "CA", "Canada", 6, ("en-CA", "en-CA", "en-CA", "fr-CA"), "CAD", Decimal("0.13"),
        ("+141655501##", "+160455501##", "+151455501##", "+140355501##", "+161355501##"),
        ("Olivia", "Emma", "Charlotte", "Liam", "Noah", "William", "Benjamin", "Chloé",
         "Félix", "Amélie", "Ethan", "Maya", "Owen", "Léa"),
        ("Tremblay", "Roy", "Gagnon", "Côté", "Bouchard", "MacDonald", "Campbell", "Stewart",
         "Murphy", "Chen", "Wong", "Singh", "Brown", "Smith"),
        (City("Toronto", "ON", "M5V #A#"), City("Vancouver", "BC", "V6B #A#"),
         City("Montréal", "QC", "H2X #A#"), City("Calgary", "AB", "T2P #A#"),
         City("Ottawa", "ON", "K1P #A#")),
        ("King Street West", "Queen Street", "Rue Saint-Denis", "Granville Street",
         "Bank Street"),
        "{number} {street}", (CANADA_POST,),
    ),
    CountryData(
        "AU", "Australia", 5, ("en-AU",), "AUD", Decimal("0.10"),
        ("+6149157####", "+61412######", "+61423######"),
        ("Charlotte", "Olivia", "Amelia", "Isla", "Mia", "Oliver", "Noah", "Jack", "William",
         "Leo", "Matilda", "Harper", "Lachlan", "Cooper"),
        ("Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Johnson",
         "Martin", "White", "Anderson", "Walker", "Thompson", "Kelly"),
        (City("Sydney", "NSW", "20##"), City("Melbourne", "VIC", "30##"),
         City("Brisbane", "QLD", "40##"), City("Perth", "WA", "60##"),
         City("Adelaide", "SA", "50##")),
        ("George Street", "Collins Street", "Queen Street", "King William Street",
         "Oxford Street"),
        "{number} {street}", (AUSTRALIA_POST,),
    ),
)  # fmt: skip

EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")

# Prices are set in US dollars and converted, then rounded to a shop-like price point.
CURRENCY_RATES = {
    "USD": Decimal("1"),
    "CAD": Decimal("1.35"),
    "GBP": Decimal("0.80"),
    "EUR": Decimal("0.92"),
    "AUD": Decimal("1.50"),
    "BRL": Decimal("5.00"),
    "MXN": Decimal("17.00"),
}
# Flat shipping below the free-shipping threshold (100 USD converted).
SHIPPING_FEES = {
    "USD": Decimal("6.95"),
    "CAD": Decimal("9.95"),
    "GBP": Decimal("4.95"),
    "EUR": Decimal("4.95"),
    "AUD": Decimal("9.95"),
    "BRL": Decimal("29.90"),
    "MXN": Decimal("129.00"),
}


# --- Catalogue -----------------------------------------------------------------------------

APPAREL_SIZES = ("XS", "S", "M", "L", "XL")
WAIST_SIZES = ("28", "30", "32", "34", "36")
SHOE_SIZES = ("37", "38", "39", "40", "41", "42", "43", "44", "45")
SMALL_MEDIUM_LARGE = ("S", "M", "L")


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    category: str  # apparel, shoes, accessories
    price: Decimal  # USD
    colors: tuple[str, ...]
    sizes: tuple[str, ...] = ()


PRODUCTS = (
    Product(
        "MCS",
        "Merino Crew Sweater",
        "apparel",
        Decimal("89"),
        ("Navy", "Oatmeal", "Charcoal"),
        APPAREL_SIZES,
    ),
    Product(
        "OCT",
        "Organic Cotton Tee",
        "apparel",
        Decimal("29"),
        ("White", "Black", "Sage"),
        APPAREL_SIZES,
    ),
    Product(
        "LBS",
        "Linen Button-Down Shirt",
        "apparel",
        Decimal("69"),
        ("Sky Blue", "Sand", "White"),
        APPAREL_SIZES,
    ),
    Product(
        "RCT",
        "Relaxed Chino Trousers",
        "apparel",
        Decimal("79"),
        ("Khaki", "Olive", "Navy"),
        WAIST_SIZES,
    ),
    Product(
        "SSJ", "Slim Selvedge Jeans", "apparel", Decimal("119"), ("Indigo", "Black"), WAIST_SIZES
    ),
    Product(
        "PRJ",
        "Packable Rain Jacket",
        "apparel",
        Decimal("139"),
        ("Yellow", "Navy", "Forest"),
        APPAREL_SIZES,
    ),
    Product("QVE", "Quilted Vest", "apparel", Decimal("99"), ("Black", "Camel"), APPAREL_SIZES),
    Product(
        "FHZ", "Fleece Half-Zip", "apparel", Decimal("74"), ("Heather Grey", "Rust"), APPAREL_SIZES
    ),
    Product(
        "WMD",
        "Wrap Midi Dress",
        "apparel",
        Decimal("109"),
        ("Terracotta", "Black", "Floral"),
        APPAREL_SIZES,
    ),
    Product(
        "RKC", "Ribbed Knit Cardigan", "apparel", Decimal("95"), ("Cream", "Moss"), APPAREL_SIZES
    ),
    Product(
        "EHD",
        "Everyday Hoodie",
        "apparel",
        Decimal("65"),
        ("Black", "Heather Grey", "Navy"),
        APPAREL_SIZES,
    ),
    Product(
        "LCS",
        "Leather Court Sneakers",
        "shoes",
        Decimal("129"),
        ("White", "White/Green"),
        SHOE_SIZES,
    ),
    Product(
        "SCB", "Suede Chelsea Boots", "shoes", Decimal("179"), ("Tobacco", "Black"), SHOE_SIZES
    ),
    Product("CLT", "Canvas Low-Tops", "shoes", Decimal("59"), ("Off-White", "Navy"), SHOE_SIZES),
    Product("TRS", "Trail Running Shoes", "shoes", Decimal("139"), ("Slate", "Orange"), SHOE_SIZES),
    Product("WSL", "Wool Slippers", "shoes", Decimal("49"), ("Grey", "Charcoal"), SHOE_SIZES),
    Product("LLF", "Leather Loafers", "shoes", Decimal("159"), ("Cognac", "Black"), SHOE_SIZES),
    Product("CTB", "Canvas Tote Bag", "accessories", Decimal("39"), ("Natural", "Black")),
    Product(
        "LBT", "Leather Belt", "accessories", Decimal("49"), ("Brown", "Black"), SMALL_MEDIUM_LARGE
    ),
    Product("WBN", "Wool Beanie", "accessories", Decimal("29"), ("Mustard", "Navy", "Grey")),
    Product("CSF", "Cashmere Scarf", "accessories", Decimal("89"), ("Camel", "Grey", "Burgundy")),
    Product("LCW", "Leather Card Wallet", "accessories", Decimal("45"), ("Tan", "Black")),
    Product("CBB", "Crossbody Bag", "accessories", Decimal("119"), ("Cognac", "Black")),
    Product("CRS", "Classic Round Sunglasses", "accessories", Decimal("79"), ("Tortoise", "Black")),
    Product(
        "MSK", "Merino Socks (3-pack)", "accessories", Decimal("24"), ("Mixed",), SMALL_MEDIUM_LARGE
    ),
    Product("WDF", "Weekender Duffel", "accessories", Decimal("159"), ("Olive", "Navy")),
)

WHOLESALE_COMPANIES = (
    "Juniper Goods",
    "The Linen Room",
    "North Shore Supply Co.",
    "Atelier Rive",
    "Kiosk Nord",
    "Field & Fold",
    "Casa Mimosa",
    "Stockroom 21",
)

DISCOUNT_CODES = ("WELCOME10", "SPRING15", "NEWSLETTER20", "FREESHIP", "SUMMER25")
