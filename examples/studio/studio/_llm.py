"""LiteLLM proxy through the openai client: episode scripts and text embeddings."""

from __future__ import annotations

from ._backends import Backends
from ._errors import PipelineError
from ._retry import call

SYSTEM_PROMPT = (
    "You are a screenwriter for a streaming studio. Write a short, vivid episode script "
    "with scene headings and dialogue."
)


class Llm:
    """Chat completions and embeddings with retries."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends

    async def write_script(self, project: str, number: int, title: str, premise: str) -> str:
        """The script of one episode."""
        settings = self.backends.settings
        user = f"Project: {project}\nEpisode {number}: {title}\nPremise: {premise}"

        async def complete(_attempt: int) -> str:
            reply = await self.backends.llm().chat.completions.create(
                model=settings.chat_model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": user},
                ],
            )
            content = reply.choices[0].message.content if reply.choices else None
            if not content:
                raise PipelineError("the language model returned an empty script")
            return content

        return await call(
            "litellm", "chat_completion", complete, self.backends.policy(), self.backends.metrics
        )

    async def embed(self, text: str) -> list[float]:
        """One embedding vector for `text` (one input per request: proxies may batch oddly)."""
        model = self.backends.settings.embed_model

        async def embedding(_attempt: int) -> list[float]:
            reply = await self.backends.llm().embeddings.create(model=model, input=[text])
            if not reply.data or not reply.data[0].embedding:
                raise PipelineError("the embedding model returned no vector")
            return [float(x) for x in reply.data[0].embedding]

        return await call(
            "litellm", "embedding", embedding, self.backends.policy(), self.backends.metrics
        )
