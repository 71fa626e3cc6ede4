"""Typed dependencies shared by routes: the settings and one database session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.search.keyword import KeywordIndex
from dailypapers.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


def get_search_engine(request: Request) -> SearchEngine | None:
    return request.app.state.search_engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
SearchEngineDep = Annotated[SearchEngine | None, Depends(get_search_engine)]


def get_keyword_index(request: Request) -> KeywordIndex:
    return request.app.state.keyword_index


KeywordIndexDep = Annotated[KeywordIndex, Depends(get_keyword_index)]
SessionDep = Annotated[Session, Depends(get_session)]
