"""The JSON bodies of the service: requests (validated before any model sees them) and responses.

The limits bound what one request can ask of the server; a request over one is a 422 naming the
field, the limit and the value given. Every response names the run and the model that answered.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from lstmkit.tasks.lm.config import TEMPERATURE

__all__ = [
    "MAX_TEXTS", "MAX_TEXT_CHARS", "MAX_BATCH_TEXTS", "MAX_BEAM", "MAX_ROWS", "MAX_GENERATE_CHARS",
    "PredictRequest", "TranslateRequest", "ForecastRequest", "GenerateRequest", "TagRequest",
    "PredictResponse", "TranslateResponse", "ForecastResponse", "GenerateResponse", "TagResponse",
    "RunInfo", "RunsResponse", "Health", "ErrorBody",
]  # fmt: skip

MAX_TEXTS = 64  # texts in one request
MAX_TEXT_CHARS = 2000  # characters of one text or prime
MAX_BATCH_TEXTS = 256  # texts of several requests joined into one model call
MAX_BEAM = 16
MAX_ROWS = 20_000  # rows of a forecast history or future table
MAX_GENERATE_CHARS = 2000


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("the text is empty or only spaces: nothing to read")
    return text


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS), AfterValidator(_not_blank)]
Row = dict[str, float | str | None]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class PredictRequest(_Request):
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS, description="Texts to classify, in one model call.")


class TranslateRequest(_Request):
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS, description="Sentences to translate.")
    beam_size: int | None = Field(None, ge=1, le=MAX_BEAM, description="1: greedy; default: the run's beam size.")
    n_best: int = Field(1, ge=1, le=MAX_BEAM, description="Translations per text (at most the beam size).")


class ForecastRequest(_Request):
    history: list[Row] | None = Field(
        None,
        max_length=MAX_ROWS,
        description="Rows {date column, targets, covariates} to forecast after; default: the run's own series.",
    )
    future: list[Row] | None = Field(
        None, max_length=MAX_ROWS, description="Rows {date column, known covariates} of the forecast steps."
    )


class GenerateRequest(_Request):
    prime: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Text to start from.")
    temperature: float = Field(TEMPERATURE, ge=0, allow_inf_nan=False, description="0: always the likeliest.")
    chars: int = Field(200, ge=0, le=MAX_GENERATE_CHARS, description="Characters to generate after the prime.")
    seed: int | None = Field(None, ge=0, description="Random seed for a repeatable sample.")


class TagRequest(_Request):
    texts: list[Text] = Field(
        min_length=1,
        max_length=MAX_TEXTS,
        description="Texts to tag (Chinese text: its characters), in one model call.",
    )


class _Response(BaseModel):
    run: str = Field(description="The run that answered (its name in the URL).")
    model: str = Field(description="The model that produced the answer.")


class Prediction(BaseModel):
    text: str
    label: str
    probability: float
    probabilities: dict[str, float]
    model: str = Field(
        description="recurrent (the recurrent network), fused (with the TF-IDF logreg), forward_backward or "
        "ensemble (several recurrent networks averaged)."
    )


class PredictResponse(_Response):
    predictions: list[Prediction]


class Alternative(BaseModel):
    translation: str
    score: float


class Translation(BaseModel):
    text: str
    translation: str
    score: float = Field(description="Mean log-probability per target token (EOS included).")
    alternatives: list[Alternative]
    truncated: bool = Field(description="The text had more tokens than the model reads; its start was translated.")


class TranslateResponse(_Response):
    translations: list[Translation]


class ForecastResponse(_Response):
    quantiles: list[float]
    forecast: list[dict[str, float | str]] = Field(
        description="Rows {timestamp, series, q0.1, ...} or {..., forecast}."
    )


class GenerateResponse(_Response):
    prime: str
    text: str


class TaggedText(BaseModel):
    text: str
    tokens: list[str] = Field(description="What the model read: the characters (Chinese) or white-space words.")
    tags: list[str] = Field(description="One tag per token.")
    model: str = Field(description="The network that tagged the text, as `lstmkit tag --json` names it.")
    words: list[str | list[str]] | None = Field(
        None, description="Character data: the words the tags cut, as [word, POS] where the tags carry POS."
    )
    spans: list[tuple[int, int, str]] | None = Field(
        None, description="BIO/BIOES data: the spans [start, end, label], end exclusive."
    )


class TagResponse(_Response):
    tagged: list[TaggedText]


class RunInfo(BaseModel):
    name: str
    task: str
    model: str
    endpoint: str


class RunsResponse(BaseModel):
    runs: list[RunInfo]


class Health(BaseModel):
    status: str
    runs: int


class ErrorBody(BaseModel):
    error: str = Field(description="What was wrong, naming the field or run.")
