"""Build tagged articles for pipeline tests without the tagger: mentions are found by exact name search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.core.models import (
    ActorTag,
    Mention,
    Source,
    StateMedia,
    TaggedArticle,
    TopicTag,
    Watch,
)

KIM = ("Q56226", "Kim Jong Un", "KP")
PUTIN = ("Q7747", "Vladimir Putin", "RU")
XI = ("Q15031", "Xi Jinping", "CN")
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def tagged(
    article_id: str,
    title: str,
    content: str = "",
    summary: str = "",
    actors: tuple[tuple[str, str, str], ...] = (KIM, PUTIN, XI),
    fetched_after_s: float = 0.0,
    topics: tuple[str, ...] = (),
    state_sourced: bool = False,
    outlet: str = "Example Wire",
    published: datetime | None = None,
) -> TaggedArticle:
    fields = {"title": title, "summary": summary, "content": content}
    tags = []
    for actor_id, name, country in actors:
        mentions = []
        surname = name.split()[-1] if actor_id != KIM[0] else "Kim Jong Un"
        for field, text in fields.items():
            for needle in {name, surname}:
                start = text.find(needle)
                while start >= 0:
                    mentions.append(Mention(field=field, start=start, end=start + len(needle), text=needle))  # type: ignore[arg-type]
                    start = text.find(needle, start + 1)
        if mentions:
            tags.append(ActorTag(id=actor_id, name=name, type="person", country=country, mentions=tuple(mentions)))
    return TaggedArticle(
        id=article_id,
        url=f"https://{outlet.lower().replace(' ', '')}.example/{article_id}",
        title=title,
        summary=summary,
        content=content,
        fetched=T0 + timedelta(seconds=fetched_after_s),
        published=published,
        source=Source(feed_url="https://example.org/rss", name=outlet, domain="example.org"),
        actors=tuple(tags),
        topics=tuple(TopicTag(id=t, label=t, score=1.0) for t in topics),
        state_media=StateMedia(state_sourced=state_sourced),
    )


def watch(
    watch_id: str = "w1",
    entities: tuple[str, ...] = (KIM[0], PUTIN[0]),
    scope: str = "article",
    cooldown_s: int = 6 * 3600,
    **extra: object,
) -> Watch:
    return Watch.model_validate(
        {"watch_id": watch_id, "desk": "korea", "entities": entities, "scope": scope, "cooldown_s": cooldown_s, **extra}
    )
