"""WebSocket tools: create_character and find_similar_characters (LiteLLM embeddings, Chroma)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from ._context import Context
from ._errors import StudioError


class CreateCharacter(BaseModel):
    """Embed and store a character in the project's collection."""

    tool: Literal["create_character"]
    project_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)


class FindSimilar(BaseModel):
    """Nearest characters of a project to a description."""

    tool: Literal["find_similar_characters"]
    project_id: str = Field(min_length=1)
    description: str = Field(min_length=1, max_length=4000)
    limit: int = Field(default=3, ge=1, le=50)


ToolCall = Annotated[CreateCharacter | FindSimilar, Field(discriminator="tool")]
_ADAPTER: TypeAdapter[CreateCharacter | FindSimilar] = TypeAdapter(ToolCall)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(
            str(p) for p in error["loc"] if p not in ("create_character", "find_similar_characters")
        )
        parts.append(f"{where or 'message'}: {error['msg']}")
    return "; ".join(parts)


async def run_tool(ctx: Context, message: Any) -> dict[str, Any]:
    """Answer one tool message with {"ok": true, "result": ...} or {"ok": false, "error": ...}."""
    request_id = message.get("id") if isinstance(message, dict) else None
    answer: dict[str, Any]
    try:
        call = _ADAPTER.validate_python(message)
        await ctx.store.get_project(call.project_id)
        answer = {"ok": True, "result": await _dispatch(ctx, call)}
    except ValidationError as exc:
        answer = {"ok": False, "error": _validation_message(exc)}
    except StudioError as exc:
        answer = {"ok": False, "error": exc.message}
    if request_id is not None:
        answer["id"] = request_id
    return answer


async def _dispatch(ctx: Context, call: CreateCharacter | FindSimilar) -> Any:
    if isinstance(call, CreateCharacter):
        vector = await ctx.llm.embed(f"{call.name}: {call.description}")
        character_id = f"char-{uuid.uuid4().hex[:16]}"
        await ctx.characters.add(call.project_id, character_id, call.name, call.description, vector)
        return {"id": character_id, "name": call.name, "description": call.description}
    vector = await ctx.llm.embed(call.description)
    return await ctx.characters.similar(call.project_id, vector, call.limit)
