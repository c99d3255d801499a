"""ULMFiT fine-tuning helpers: discriminative learning rates and gradual unfreezing (Howard & Ruder 2018)."""

from __future__ import annotations

from typing import Any

from torch import nn

from lstmkit.cell_kinds import parse_parameter_name
from lstmkit.heads.encoder import RecurrentEncoder

__all__ = ["parameter_groups", "freeze_encoder_layers", "gradual_unfreezing"]


def _layer_groups(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """``model``'s parameters top down: ``head`` (all outside the encoder), ``rnn_l{L-1}`` .. ``rnn_l0``,
    ``embedding``; each parameter in exactly one group (a tied weight counts as the embedding's). A
    model of several ``members`` (:class:`~lstmkit.heads.ForwardBackwardClassifier`) has the same
    levels, each the union of the members'."""
    members = getattr(model, "members", None)
    if members is not None:
        per_member = [_layer_groups(member) for member in members]
        return [(name, [p for groups in per_member for p in groups[k][1]]) for k, (name, _) in enumerate(per_member[0])]
    encoder = getattr(model, "encoder", None)
    if not isinstance(encoder, RecurrentEncoder):
        raise TypeError(f"model must have a RecurrentEncoder as .encoder, got {type(encoder).__name__}")
    in_encoder = {id(p) for p in encoder.parameters()}
    head = [p for p in model.parameters() if id(p) not in in_encoder]
    layers: list[list[nn.Parameter]] = [[] for _ in range(encoder.rnn.num_layers)]
    for name, p in encoder.rnn.named_parameters():
        layers[parse_parameter_name(name).layer].append(p)
    recurrent = [(f"rnn_l{k}", layers[k]) for k in reversed(range(len(layers)))]
    return [("head", head), *recurrent, ("embedding", list(encoder.embedding.parameters()))]


def parameter_groups(model: nn.Module, base_lr: float, decay: float = 2.6) -> list[dict[str, Any]]:
    """Optimizer parameter groups with discriminative learning rates (ULMFiT's ``lr / 2.6`` per level).

    The head gets ``base_lr``, the top recurrent layer ``base_lr / decay``, each layer below a further
    ``1 / decay``, and the embedding the lowest. Groups are ordered top down and carry a ``"name"``
    (``"head"``, ``"rnn_l1"``, ``"rnn_l0"``, ``"embedding"``). Frozen parameters are included, so one
    optimizer serves every stage of :func:`freeze_encoder_layers`.
    """
    if not base_lr > 0:
        raise ValueError(f"base_lr must be positive, got {base_lr!r}")
    if not decay >= 1:
        raise ValueError(f"decay must be >= 1 (the factor between levels), got {decay!r}")
    return [
        {"name": name, "params": params, "lr": base_lr / decay**level}
        for level, (name, params) in enumerate(_layer_groups(model))
        if params
    ]


def freeze_encoder_layers(model: nn.Module, n_trainable_from_top: int) -> None:
    """Gradual unfreezing: the head and the top ``n_trainable_from_top`` encoder levels train, the rest freeze.

        Encoder levels, top down, are the recurrent layers then the embedding: ``0`` trains the head only,
        ``num_layers + 1`` trains everything. Sets ``requires_grad`` in place. A tied language-model output
    matrix is the embedding, so it trains only once the embedding does.
    """
    head, *levels = _layer_groups(model)
    if not isinstance(n_trainable_from_top, int) or not 0 <= n_trainable_from_top <= len(levels):
        raise ValueError(f"n_trainable_from_top must be an int in 0..{len(levels)}, got {n_trainable_from_top!r}")
    for p in head[1]:
        p.requires_grad_(True)
    for index, (_, params) in enumerate(levels):
        for p in params:
            p.requires_grad_(index < n_trainable_from_top)


def gradual_unfreezing(model: nn.Module, epoch: int) -> None:
    """ULMFiT's gradual unfreezing as a per-epoch hook (``fit(..., epoch_start=gradual_unfreezing)``):
    epoch 0 trains the head alone, and each later epoch one more encoder level from the top, until
    everything trains (epoch ``num_layers + 1`` and after); see :func:`freeze_encoder_layers`."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    levels = len(_layer_groups(model)) - 1
    freeze_encoder_layers(model, min(epoch, levels))
