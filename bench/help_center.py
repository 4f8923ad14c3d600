"""Help-center latency at 20,000 articles in 3 locales, against a minimal page in the same run.

    .venv/bin/python -m bench.help_center [--articles 20000] [--requests 200] [--keep]

Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it,
fills it with published articles (every one in English, German and French, so 60,000
translations with PostgreSQL's generated search vectors), runs VACUUM ANALYZE, then times
anonymous visitors through Django's real WSGI handler, the cases interleaved:

- a minimal page that reads one row and renders a line of HTML (the baseline);
- search (``/help/search/?q=``), a different query each request, in the three locales;
- suggestions while typing (``/help/suggest/?q=``);
- an article page cold: its cached page dropped before each request;
- an article page cached: the same articles, their pages in the cache.

The cache is Redis when one answers at ``--redis`` (as production runs), each run under a
key prefix of its own, else this process's memory. The per-visitor rate limits are lifted
(their Redis round trip is still paid). It prints median and p95 per case, SQL queries per
request, the ratio of each p95 to the baseline's p95 and a verdict against the targets
(search p95 < 30 ms, cached article p95 < 10 ms). It exits 0 whatever the verdict.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse

from bench.common import (
    Timed,
    _non_negative,
    _positive,
    add_keep_option,
    add_redis_option,
    add_server_option,
    run_in_new_database,
    wsgi_get,
)

LOCALES = ("en", "de", "fr")
BASELINE_PATH = "/bench/help-one-row/"
TARGETS_MS = {"search": 30.0, "article, cached": 10.0}

# --- Words: real ones per locale, so the text search configurations stem them -----------------


def _words(text: str) -> list[str]:
    return text.split()


VOCABULARY: dict[str, dict[str, Any]] = {
    "en": {
        "nouns": _words(
            "parcel order refund return delivery invoice payment account password address "
            "voucher discount warranty size colour jacket tent backpack boot battery charger "
            "subscription newsletter exchange receipt courier customs label tracking store"
        ),
        "verbs": _words(
            "track change cancel return pay update reset ship exchange claim find download "
            "confirm repair replace redeem delete contact choose"
        ),
        "filler": _words(
            "please you can the your within days after before when if we our a an of to in "
            "for on with by from business working usually always never email link page"
        ),
        "title": "How to {verb} your {noun}",
    },
    "de": {
        "nouns": _words(
            "Paket Bestellung Erstattung Rücksendung Lieferung Rechnung Zahlung Konto Passwort "
            "Adresse Gutschein Rabatt Garantie Größe Farbe Jacke Zelt Rucksack Stiefel Akku "
            "Ladegerät Abonnement Umtausch Quittung Kurier Zoll Etikett Sendungsverfolgung"
        ),
        "verbs": _words(
            "verfolgen ändern stornieren zurücksenden bezahlen aktualisieren zurücksetzen "
            "versenden umtauschen reklamieren finden herunterladen bestätigen reparieren"
        ),
        "filler": _words(
            "bitte Sie können die Ihre innerhalb Tage nach vor wenn falls wir unser ein eine "
            "der für mit von Werktage normalerweise immer nie E-Mail Link Seite"
        ),
        "title": "{noun} {verb}: so geht's",
    },
    "fr": {
        "nouns": _words(
            "colis commande remboursement retour livraison facture paiement compte "
            "adresse bon réduction garantie taille couleur veste tente sac chaussure batterie "
            "chargeur abonnement échange reçu transporteur douane étiquette suivi magasin"
        ),
        "verbs": _words(
            "suivre modifier annuler retourner payer mettre réinitialiser expédier échanger "
            "réclamer trouver télécharger confirmer réparer remplacer"
        ),
        "filler": _words(
            "vous pouvez votre vos dans les jours après avant quand si nous notre un une de "
            "pour avec par ouvrés généralement toujours jamais courriel lien page"
        ),
        "title": "Comment {verb} votre {noun}",
    },
}
CATEGORIES = ("shipping", "returns", "payments", "orders", "account", "products")
SECTIONS_PER_CATEGORY = 5


# --- The baseline page and the URLs of this run -------------------------------------------------


def one_row_page(request: HttpRequest) -> HttpResponse:
    """The cheapest honest page: one indexed row read, a line of escaped HTML."""
    from django.utils.html import escape

    from knowledge_base.models import Category

    category = Category.objects.only("slug").order_by("pk").first()
    slug = category.slug if category else ""
    return HttpResponse(f"<!doctype html><title>{escape(slug)}</title><h1>{escape(slug)}</h1>")


# --- Filling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filled:
    articles: int
    translations: int
    # (category slug, article slug) of a sample of articles to request.
    sample: list[tuple[str, str]]
    # (locale, query) pairs that match something.
    queries: list[tuple[str, str]]


# Made-up topic words (product names, features): a long tail, drawn with Zipf-like weights,
# so a query for one matches tens to hundreds of articles, as real help centers' words do;
# the real nouns above are the broad queries that match thousands.
TOPIC_WORDS = 3000
SYLLABLES = _words("ka lo mi ren tor vak sul bel dri fen gar hop jin kel mun por quis")


def _topics(rng: random.Random) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < TOPIC_WORDS:
        seen["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4)))] = None
    return list(seen)


@dataclass(frozen=True)
class _Writer:
    """Writes an article's words in one locale."""

    rng: random.Random
    words: dict[str, Any]
    topics: list[str]
    cumulative: list[float]

    def topic(self) -> str:
        return self.rng.choices(self.topics, cum_weights=self.cumulative, k=1)[0]

    def sentence(self) -> str:
        rng = self.rng
        parts = [rng.choice(self.words["filler"]) for _ in range(rng.randint(6, 12))]
        if rng.random() < 0.3:
            parts.insert(rng.randrange(len(parts)), rng.choice(self.words["nouns"]))
        if rng.random() < 0.5:
            parts.insert(rng.randrange(len(parts)), self.topic())
        if rng.random() < 0.3:
            parts.insert(rng.randrange(len(parts)), rng.choice(self.words["verbs"]))
        return " ".join(parts).capitalize() + "."

    def title(self) -> str:
        title = self.words["title"].format(
            verb=self.rng.choice(self.words["verbs"]), noun=self.rng.choice(self.words["nouns"])
        )
        return f"{title}: {self.topic()}"

    def paragraphs(self) -> list[str]:
        return [
            " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))
            for _ in range(self.rng.randint(2, 4))
        ]


def fill(articles: int, *, seed: int) -> Filled:
    """``articles`` published articles in 6 categories of 5 sections, each translated into
    every locale. Bodies are plain paragraphs, stored as the Markdown renderer stores them
    (``<p>`` elements, escaped), without running it 60,000 times."""
    from django.db import transaction
    from django.utils.html import escape

    from helpdesk.models import User
    from knowledge_base.models import (
        Article,
        ArticleTranslation,
        Category,
        CategoryTranslation,
        Section,
        SectionTranslation,
    )

    rng = random.Random(seed)
    topics = _topics(rng)
    cumulative: list[float] = []
    total = 0.0
    for rank in range(1, len(topics) + 1):
        total += 1 / rank
        cumulative.append(total)
    writers = {locale: _Writer(rng, VOCABULARY[locale], topics, cumulative) for locale in LOCALES}
    with transaction.atomic():
        author = User.objects.create_user("bench-writer", "writer@bench.test", None)
        categories = Category.objects.bulk_create(
            Category(slug=slug, position=index) for index, slug in enumerate(CATEGORIES)
        )
        CategoryTranslation.objects.bulk_create(
            CategoryTranslation(
                category=category,
                locale=locale,
                name=f"{category.slug.title()} ({locale})",
                description=f"Everything about {category.slug}",
            )
            for category in categories
            for locale in LOCALES
        )
        sections = Section.objects.bulk_create(
            Section(category=category, slug=f"section-{number}", position=number)
            for category in categories
            for number in range(SECTIONS_PER_CATEGORY)
        )
        SectionTranslation.objects.bulk_create(
            SectionTranslation(section=section, locale=locale, name=f"{section.slug} {locale}")
            for section in sections
            for locale in LOCALES
        )
        batch = 2000
        created = 0
        while created < articles:
            size = min(batch, articles - created)
            saved = Article.objects.bulk_create(
                Article(
                    category_id=sections[number % len(sections)].category_id,
                    section=sections[number % len(sections)],
                    slug=f"article-{number}",
                    status=Article.Status.PUBLISHED,
                    author=author,
                    position=number,
                    view_count=rng.randint(0, 10_000),
                )
                for number in range(created, created + size)
            )
            translations = []
            for article in saved:
                for locale, writer in writers.items():
                    paragraphs = writer.paragraphs()
                    translations.append(
                        ArticleTranslation(
                            article=article,
                            locale=locale,
                            title=writer.title(),
                            summary=writer.sentence()[:280],
                            body_markdown="\n\n".join(paragraphs),
                            body_html="\n".join(f"<p>{escape(text)}</p>" for text in paragraphs),
                            body_text="\n\n".join(paragraphs),
                        )
                    )
            ArticleTranslation.objects.bulk_create(translations, batch_size=1000)
            created += size
        slugs = dict(Category.objects.values_list("pk", "slug"))
    sample = []
    for number in rng.sample(range(articles), min(200, articles)):
        section = sections[number % len(sections)]
        sample.append((slugs[section.category_id], f"article-{number}"))
    queries = [
        (locale, query)
        for locale in LOCALES
        for query in (
            # Broad: a real noun in thousands of articles.
            VOCABULARY[locale]["nouns"][:3]
            # Common made-up topics (hundreds of articles), then rarer ones (tens).
            + topics[:4]
            + topics[50:53]
            + topics[400:403]
            # Two words, both required.
            + [f"{VOCABULARY[locale]['nouns'][index]} {topics[index]}" for index in range(3)]
        )
    ]
    return Filled(articles, articles * len(LOCALES), sample, queries)


# --- Measuring --------------------------------------------------------------------------------


class WsgiClient:
    """Calls Django's WSGI handler the way a WSGI server does, as an anonymous visitor."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path_and_query: str) -> tuple[int, bytes]:
        path_info, _, query = path_and_query.partition("?")
        return wsgi_get(self.handler, path_info, query, {"HTTP_ACCEPT": "text/html"})


@dataclass
class Case(Timed):
    label: str
    # Each call gives the next request's path and query.
    next_request: Callable[[], str]
    # Run with each request's path before it, untimed (the cold case forgets that page).
    prepare: Callable[[str], None] = lambda _path: None
    baseline: bool = False
    must_contain: bytes = b""
    # Requested once before measuring, untimed (the cached case's pages).
    warm_paths: Sequence[str] = ()
    timings_ms: list[float] = field(default_factory=list)
    # This process's CPU per request (PostgreSQL's and Redis's work excluded): unlike the
    # wall clock, it barely moves when other processes compete for the CPUs.
    cpu_ms: list[float] = field(default_factory=list)
    queries: int = 0
    error: str = ""


def _rotating(items: Sequence[str]) -> Callable[[], str]:
    state = {"index": -1}

    def next_item() -> str:
        state["index"] = (state["index"] + 1) % len(items)
        return items[state["index"]]

    return next_item


def cases_for(filled: Filled) -> list[Case]:
    from urllib.parse import urlencode

    from knowledge_base import links

    searches = [
        f"/help/search/?{urlencode({'q': query, 'lang': locale})}"
        for locale, query in filled.queries
    ]
    suggestions = [
        f"/help/suggest/?{urlencode({'q': query[: max(3, len(query) - 2)], 'lang': locale})}"
        for locale, query in filled.queries
    ]
    articles = [
        links.article_path(category, article, locale)
        for (category, article), locale in zip(
            filled.sample, LOCALES * len(filled.sample), strict=False
        )
    ]
    # Two halves: the cold case forgets only its own pages, so it never empties the cached
    # case's (emptying the whole cache before each cold request would).
    cold, cached = articles[: len(articles) // 2], articles[len(articles) // 2 :]
    return [
        Case("minimal page (one row)", _rotating([BASELINE_PATH]), baseline=True),
        Case("search", _rotating(searches), must_contain=b"<mark>"),
        Case("suggestions", _rotating(suggestions), must_contain=b"<mark>"),
        Case(
            "article, cold",
            _rotating(cold or articles),
            prepare=forget_page,
            must_contain=b"help-feedback",
        ),
        Case(
            "article, cached",
            _rotating(cached or articles),
            must_contain=b"help-feedback",
            warm_paths=cached or articles,
        ),
    ]


def forget_page(path: str) -> None:
    """Drop the cached page at ``path``: its next request is built from the database."""
    from django.core.cache import cache

    from knowledge_base import links
    from knowledge_base.cache import page_key

    first = path.removeprefix("/help/").split("/", 1)[0]
    locale = first if links.is_prefixed_locale(first) else links.default_locale()
    cache.delete(page_key(path, locale))


def measure(client: WsgiClient, cases: Sequence[Case], *, requests: int, warmup: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for case in cases:
        status, body = client.get(case.next_request())
        if status != 200:
            case.error = f"HTTP {status}: {body[:200].decode(errors='replace')}"
        elif case.must_contain and case.must_contain not in body:
            case.error = f"response lacks {case.must_contain!r}"
    live = [case for case in cases if not case.error]
    for case in live:
        for warm_path in case.warm_paths:
            client.get(warm_path)
    for round_index in range(warmup + requests):
        shift = round_index % len(live) if live else 0
        for case in live[shift:] + live[:shift]:
            request = case.next_request()
            case.prepare(request)
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(request)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu_started) * 1000
            if round_index >= warmup:
                case.timings_ms.append(elapsed)
                case.cpu_ms.append(cpu)
    for case in live:
        request = case.next_request()
        case.prepare(request)
        with CaptureQueriesContext(connection) as captured:
            client.get(request)
        case.queries = len(captured.captured_queries)


def format_table(cases: Sequence[Case]) -> str:
    baseline = next((case for case in cases if case.baseline and not case.error), None)
    width = max(len(case.label) for case in cases)
    lines = [
        f"{'case':<{width}}  {'queries':>7} {'median ms':>9} {'p95 ms':>7} {'p95/min':>7} "
        f"{'cpu ms':>6}  verdict"
    ]
    failures = []
    for case in cases:
        if case.error:
            lines.append(
                f"{case.label:<{width}}  {'-':>7} {'-':>9} {'-':>7} {'-':>7} {'-':>6}  ERROR"
            )
            failures.append(f"{case.label}: {case.error}")
            continue
        ratio = f"{case.p95_ms / baseline.p95_ms:.2f}×" if baseline else "-"
        target = TARGETS_MS.get(case.label)
        if case.baseline:
            verdict = "baseline"
        elif target is None:
            verdict = "-"
        elif case.p95_ms < target:
            verdict = f"PASS (< {target:.0f} ms)"
        else:
            verdict = f"FAIL (≥ {target:.0f} ms)"
            failures.append(f"{case.label}: p95 {case.p95_ms:.2f} ms ≥ {target:.0f} ms")
        lines.append(
            f"{case.label:<{width}}  {case.queries:>7} {case.median_ms:>9.2f} "
            f"{case.p95_ms:>7.2f} {ratio:>7} {statistics.median(case.cpu_ms):>6.2f}  {verdict}"
        )
    if failures:
        lines.append(f"VERDICT: FAIL ({len(failures)} problem(s))")
        lines.extend(f"  - {failure}" for failure in failures)
    else:
        lines.append("VERDICT: PASS: search p95 < 30 ms and cached article p95 < 10 ms")
    return "\n".join(lines)


# --- The command line ---------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.help_center", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--articles", type=_positive, default=20_000)
    parser.add_argument("--requests", type=_positive, default=200, help="timed per case")
    parser.add_argument("--warmup", type=_non_negative, default=20, help="rounds, untimed")
    parser.add_argument("--seed", type=int, default=2024)
    add_server_option(parser)
    add_redis_option(
        parser,
        help="Redis URL for the cache; empty for this process's memory (env BENCH_REDIS_URL)",
    )
    add_keep_option(parser)
    return parser.parse_args(argv)


def _redis_answers(url: str) -> bool:
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # any failure means: measure with the memory cache
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    # Stopped with SIGTERM, still drop the database and forget the Redis keys (finally).
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    server = args.server.rstrip("/")
    database = f"switchboard_bench_help_{os.getpid()}"
    return run_in_new_database(server, database, lambda url: _run(args, url), keep=args.keep)


def _run(args: argparse.Namespace, database_url: str) -> int:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["HELP_CENTER_LOCALES"] = ",".join(LOCALES)
    os.environ["HELP_CENTER_DEFAULT_LOCALE"] = LOCALES[0]
    use_redis = _redis_answers(args.redis)
    if use_redis:
        os.environ["REDIS_URL"] = args.redis
        os.environ["REDIS_KEY_PREFIX"] = f"bench-help-{os.getpid()}"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.urls import clear_url_caches

    from bench.fill import vacuum_analyze
    from helpdesk.ratelimits import Limit
    from knowledge_base import views

    # This module's URLs: the product's plus the baseline page.
    settings.ROOT_URLCONF = "bench.help_center_urls"
    clear_url_caches()
    # One address makes every request; the limits' counting is still paid.
    views.SEARCH_LIMIT = Limit("bench-help-search", 10**9, 60)
    views.SUGGEST_LIMIT = Limit("bench-help-suggest", 10**9, 60)

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    filled = fill(args.articles, seed=args.seed)
    filled_at = time.perf_counter()
    vacuum_analyze()
    analyzed = time.perf_counter()
    print(
        f"migrate {migrated - started:.1f} s; fill {filled_at - migrated:.1f} s "
        f"({filled.articles:,} articles, {filled.translations:,} translations in "
        f"{len(LOCALES)} locales); VACUUM ANALYZE {analyzed - filled_at:.1f} s"
    )
    cases = cases_for(filled)
    client = WsgiClient()
    load_before = os.getloadavg()[0]
    try:
        measure(client, cases, requests=args.requests, warmup=args.warmup)
    finally:
        if use_redis:
            _forget_redis_keys(args.redis, os.environ["REDIS_KEY_PREFIX"])
    load_after = os.getloadavg()[0]
    postgres = getattr(connection, "pg_version", 0) // 10000
    print(
        f"PostgreSQL {postgres}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs; cache "
        f"{'Redis ' + args.redis if use_redis else 'in process memory'}; "
        f"{args.requests} timed requests per case after {args.warmup} warm-up rounds, "
        "cases interleaved"
    )
    busy = max(load_before, load_after)
    print(f"load average {load_before:.2f} before, {load_after:.2f} after measuring", end="")
    print(": WARNING, other processes competed for the CPUs" if busy > 1.5 else "")
    print()
    print(format_table(cases))
    return 0


def _forget_redis_keys(url: str, prefix: str) -> None:
    """Delete this run's cached pages and rate-limit counters."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)


if __name__ == "__main__":
    sys.exit(main())
