"""Hand-written backpropagation through time, one ``autograd.Function`` per layer and direction.

Forward hoists the input projection out of the time loop (one GEMM for all steps), loops the
recurrent step from :mod:`lstmkit.functional`, and saves the activated gates and cell states.
Backward walks the steps in reverse, computing at each step only what the recurrence forces to be
sequential: the gate errors and the error flowing to the previous step (``dh``, ``dc``). Everything
else — ``dW_ih``, ``dW_hh``, ``db`` and ``dx`` (the error sent to the layer below) — is one GEMM or
sum over all steps after the loop. ``docs/equations.md`` derives each line.

Every function takes time-major input ``x (T, B, I)``, an optional ``step_mask (T, B)`` (bool, false
once a sequence has ended: its state is carried, its output is zero) and an optional
``recurrent_mask (B, P)`` (variational recurrent dropout, already scaled by ``1/(1-p)``). The LSTM and
GRU also take ``zoneout``, a bool mask ``(T, B, N)`` or a probability (see :mod:`lstmkit.functional`):
a zoned-out unit passes its error straight to the previous state, the rest reaches the cell.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit import functional as LF

__all__ = ["lstm_layer", "gru_layer", "rnn_layer"]


def _flat(t: Tensor) -> Tensor:
    """``(T, B, N) -> (T*B, N)`` so a sum over steps and batch becomes one GEMM."""
    return t.reshape(-1, t.shape[-1])


def _weight_grad(d_pre: Tensor, inputs: Tensor) -> Tensor:
    """``sum_t d_pre[t]^T @ inputs[t]`` as one GEMM: ``(T, B, N), (T, B, M) -> (N, M)``."""
    return _flat(d_pre).t().mm(_flat(inputs))


def _carry(keep: Tensor | None, new: Tensor, old: Tensor) -> Tensor:
    """The state after a step: ``new`` where the sequence is running, ``old`` where it has ended."""
    return new if keep is None else torch.where(keep, new, old)


def _split_grad(keep: Tensor | None, d_state: Tensor, d_output: Tensor) -> tuple[Tensor, Tensor]:
    """Split the errors reaching a step into (error on this step's new state, error skipping the step).

    Where the sequence has ended the step's output is a constant zero and its state was carried
    unchanged, so the whole ``d_state`` skips the step and ``d_output`` reaches nothing.
    """
    if keep is None:
        return d_state + d_output, torch.zeros_like(d_state)
    return (d_state + d_output) * keep, d_state * ~keep


def _zoneout_at(zoneout: Tensor | float | None, t: int) -> Tensor | float | None:
    """Step ``t``'s zoneout: its bool mask ``(B, N)``, the evaluation probability, or ``None``."""
    return zoneout[t] if isinstance(zoneout, Tensor) else zoneout


def _split_zoneout_grad(keep: Tensor | float, d_state: Tensor) -> tuple[Tensor, Tensor]:
    """Split the error on a zoned-out state into (error on the new value, error on the previous state).

    ``state = keep ⊙ previous + (1 − keep) ⊙ new``, with ``keep`` a bool mask or a probability.
    """
    weight = keep.to(d_state.dtype) if isinstance(keep, Tensor) else keep
    return d_state * (1 - weight), d_state * weight


def _bias_grads(ctx, d_pre_ih: Tensor, d_pre_hh: Tensor, first: int) -> tuple[Tensor | None, Tensor | None]:
    """``db_ih`` and ``db_hh`` (the sums of the pre-activation errors) where biases exist."""
    if not ctx.has_bias:
        return None, None
    db_ih = d_pre_ih.sum((0, 1)) if ctx.needs_input_grad[first] else None
    db_hh = d_pre_hh.sum((0, 1)) if ctx.needs_input_grad[first + 1] else None
    return db_ih, db_hh


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, step_mask, recurrent_mask, zoneout, trace):
        steps, batch, _ = x.shape
        hidden = w_hh.shape[0] // 4
        x_proj = LF.lstm_input_projection(x, w_ih, b_ih)  # (T, B, 4H): one GEMM for all steps
        gates = x.new_empty(steps, batch, 4 * hidden)  # activated i, f, g, o
        cells = x.new_empty(steps, batch, hidden)  # c_t as computed (before zoneout and masking)
        h_prev = x.new_empty(steps, batch, h0.shape[-1])  # the state entering each step
        c_prev = x.new_empty(steps, batch, hidden)
        output = x.new_empty(steps, batch, h0.shape[-1])
        h, c = h0, c0
        for t in range(steps):
            h_prev[t], c_prev[t] = h, c
            s = LF.lstm_step(x_proj[t], (h, c), w_hh, b_hh, w_hr, recurrent_mask=recurrent_mask)
            torch.cat((s.i, s.f, s.g, s.o), dim=-1, out=gates[t])
            cells[t] = s.c
            h_new, c_new = s.h, s.c
            zone = _zoneout_at(zoneout, t)
            if zone is not None:
                keep_h, keep_c = LF.split_lstm_zoneout(zone, h.shape[-1])
                h_new, c_new = LF.apply_zoneout(h, s.h, keep_h), LF.apply_zoneout(c, s.c, keep_c)
            keep = None if step_mask is None else step_mask[t].unsqueeze(-1)
            output[t] = _carry(keep, h_new, torch.zeros_like(h_new))
            h, c = _carry(keep, h_new, h), _carry(keep, c_new, c)
        ctx.has_bias = b_ih is not None
        ctx.zoneout_p = None if isinstance(zoneout, Tensor) else zoneout
        ctx.save_for_backward(x, w_ih, w_hh, w_hr, gates, cells, h_prev, c_prev, step_mask, recurrent_mask,
                              zoneout if isinstance(zoneout, Tensor) else None)  # fmt: skip
        # The cell state carried out of each step is the one entering the next (the last: the final c).
        states = torch.cat((c_prev[1:], c.unsqueeze(0)))
        traced = (gates.clone(), states) if trace else (x.new_empty(0), x.new_empty(0))
        ctx.mark_non_differentiable(*traced)
        return output, h, c, *traced

    @staticmethod
    @once_differentiable
    def backward(ctx, d_output, d_hn, d_cn, _d_gates, _d_cells):
        x, w_ih, w_hh, w_hr, gates, cells, h_prev, c_prev, step_mask, recurrent_mask, mask = ctx.saved_tensors
        zoneout = ctx.zoneout_p if mask is None else mask
        steps, out_size = x.shape[0], h_prev.shape[-1]
        d_pre = torch.empty_like(gates)  # dL/d(pre-activation) of i, f, g, o at every step
        d_h_new = torch.empty_like(d_output) if w_hr is not None else None  # error on projected h
        dh, dc = d_hn, d_cn
        for t in reversed(range(steps)):
            keep = None if step_mask is None else step_mask[t].unsqueeze(-1)
            dh_step, dh_skip = _split_grad(keep, dh, d_output[t])
            dc_step, dc_skip = _split_grad(keep, dc, torch.zeros_like(dc))
            dh_zone = dc_zone = 0
            zone = _zoneout_at(zoneout, t)
            if zone is not None:
                keep_h, keep_c = LF.split_lstm_zoneout(zone, out_size)
                dh_step, dh_zone = _split_zoneout_grad(keep_h, dh_step)
                dc_step, dc_zone = _split_zoneout_grad(keep_c, dc_step)
            if w_hr is not None:
                d_h_new[t] = dh_step
                dh_step = dh_step.mm(w_hr)  # back through h = W_hr (o * tanh c)
            i, f, g, o = gates[t].chunk(4, dim=-1)
            tanh_c = torch.tanh(cells[t])
            dc_total = dc_step + dh_step * o * (1 - tanh_c * tanh_c)
            d_i, d_f, d_g, d_o = d_pre[t].chunk(4, dim=-1)
            torch.mul(dc_total * g, i * (1 - i), out=d_i)
            torch.mul(dc_total * c_prev[t], f * (1 - f), out=d_f)
            torch.mul(dc_total * i, 1 - g * g, out=d_g)
            torch.mul(dh_step * tanh_c, o * (1 - o), out=d_o)
            dh_in = d_pre[t].mm(w_hh)
            if recurrent_mask is not None:
                dh_in = dh_in * recurrent_mask
            dh, dc = dh_in + dh_skip + dh_zone, dc_total * f + dc_skip + dc_zone
        need = ctx.needs_input_grad
        dx = d_pre.matmul(w_ih) if need[0] else None
        dw_ih = _weight_grad(d_pre, x) if need[3] else None
        h_in = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        dw_hh = _weight_grad(d_pre, h_in) if need[4] else None
        db_ih, db_hh = _bias_grads(ctx, d_pre, d_pre, first=5)
        dw_hr = None
        if w_hr is not None and need[7]:
            i, f, g, o = gates.chunk(4, dim=-1)
            dw_hr = _weight_grad(d_h_new, o * torch.tanh(cells))
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, dw_hr, None, None, None, None


class _GRULayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, zoneout, reset_after, trace):
        steps, batch, _ = x.shape
        hidden = h0.shape[-1]
        x_proj = F.linear(x, w_ih, b_ih)
        gates = x.new_empty(steps, batch, 3 * hidden)  # r, z, n
        h_prev = x.new_empty(steps, batch, hidden)
        output = x.new_empty(steps, batch, hidden)
        h = h0
        for t in range(steps):
            h_prev[t] = h
            s = LF.gru_step(x_proj[t], h, w_hh, b_hh, reset_after=reset_after, recurrent_mask=recurrent_mask)
            torch.cat((s.r, s.z, s.n), dim=-1, out=gates[t])
            zone = _zoneout_at(zoneout, t)
            h_new = s.h if zone is None else LF.apply_zoneout(h, s.h, zone)
            keep = None if step_mask is None else step_mask[t].unsqueeze(-1)
            output[t] = _carry(keep, h_new, torch.zeros_like(h_new))
            h = _carry(keep, h_new, h)
        ctx.has_bias = b_ih is not None
        ctx.reset_after = reset_after
        ctx.zoneout_p = None if isinstance(zoneout, Tensor) else zoneout
        ctx.save_for_backward(x, w_ih, w_hh, b_hh, gates, h_prev, step_mask, recurrent_mask,
                              zoneout if isinstance(zoneout, Tensor) else None)  # fmt: skip
        traced = gates.clone() if trace else x.new_empty(0)
        ctx.mark_non_differentiable(traced)
        return output, h, traced

    @staticmethod
    @once_differentiable
    def backward(ctx, d_output, d_hn, _d_gates):
        x, w_ih, w_hh, b_hh, gates, h_prev, step_mask, recurrent_mask, mask = ctx.saved_tensors
        zoneout = ctx.zoneout_p if mask is None else mask
        steps, hidden = x.shape[0], h_prev.shape[-1]
        w_hrz, w_hn = w_hh.split([2 * hidden, hidden])
        b_hn = None if b_hh is None else b_hh[2 * hidden :]
        h_in_all = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        d_pre_ih = torch.empty_like(gates)  # error on W_ih x + b_ih, blocks r, z, n
        d_pre_hh = torch.empty_like(gates)  # error on the recurrent pre-activations
        dh = d_hn
        for t in reversed(range(steps)):
            keep = None if step_mask is None else step_mask[t].unsqueeze(-1)
            dh_step, dh_skip = _split_grad(keep, dh, d_output[t])
            dh_zone = 0
            zone = _zoneout_at(zoneout, t)
            if zone is not None:
                dh_step, dh_zone = _split_zoneout_grad(zone, dh_step)
            r, z, n = gates[t].chunk(3, dim=-1)
            h_in = h_in_all[t]
            d_r, d_z, d_n = d_pre_ih[t].chunk(3, dim=-1)
            torch.mul(dh_step * (1 - z), 1 - n * n, out=d_n)
            torch.mul(dh_step * (h_prev[t] - n), z * (1 - z), out=d_z)
            if ctx.reset_after:
                # n = tanh(x_n + r * (W_hn h + b_hn)): recompute the recurrent term r scaled.
                h_n = F.linear(h_in, w_hn, b_hn)
                torch.mul(d_n * h_n, r * (1 - r), out=d_r)
                torch.cat((d_r, d_z, d_n * r), dim=-1, out=d_pre_hh[t])
                dh_in = d_pre_hh[t].mm(w_hh)
            else:
                # n = tanh(x_n + W_hn (r * h) + b_hn): the error reaches r and h through r * h.
                d_rh = d_n.mm(w_hn)
                torch.mul(d_rh * h_in, r * (1 - r), out=d_r)
                d_pre_hh[t] = d_pre_ih[t]
                dh_in = d_pre_ih[t, :, : 2 * hidden].mm(w_hrz) + d_rh * r
            if recurrent_mask is not None:
                dh_in = dh_in * recurrent_mask
            dh = dh_in + dh_step * z + dh_skip + dh_zone
        need = ctx.needs_input_grad
        dx = d_pre_ih.matmul(w_ih) if need[0] else None
        dw_ih = _weight_grad(d_pre_ih, x) if need[2] else None
        dw_hh = None
        if need[3]:
            r = gates[..., :hidden]
            n_input = h_in_all if ctx.reset_after else r * h_in_all  # what W_hn multiplies
            dw_hh = torch.cat(
                (
                    _weight_grad(d_pre_hh[..., : 2 * hidden], h_in_all),
                    _weight_grad(d_pre_hh[..., 2 * hidden :], n_input),
                )
            )
        db_ih, db_hh = _bias_grads(ctx, d_pre_ih, d_pre_hh, first=4)
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None, None, None, None, None


class _RNNLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, nonlinearity):
        steps = x.shape[0]
        x_proj = F.linear(x, w_ih, b_ih)
        h_new_all = torch.empty_like(x_proj)  # h_t as computed (before masking)
        h_prev = torch.empty_like(x_proj)
        output = torch.empty_like(x_proj)
        h = h0
        for t in range(steps):
            h_prev[t] = h
            h_new_all[t] = LF.rnn_step(
                x_proj[t], h, w_hh, b_hh, nonlinearity=nonlinearity, recurrent_mask=recurrent_mask
            )
            keep = None if step_mask is None else step_mask[t].unsqueeze(-1)
            output[t] = _carry(keep, h_new_all[t], torch.zeros_like(h))
            h = _carry(keep, h_new_all[t], h)
        ctx.has_bias = b_ih is not None
        ctx.nonlinearity = nonlinearity
        ctx.save_for_backward(x, w_ih, w_hh, h_new_all, h_prev, step_mask, recurrent_mask)
        return output, h

    @staticmethod
    @once_differentiable
    def backward(ctx, d_output, d_hn):
        x, w_ih, w_hh, h_new_all, h_prev, step_mask, recurrent_mask = ctx.saved_tensors
        # The activation's derivative, written in terms of its output.
        if ctx.nonlinearity == "tanh":
            d_act = 1 - h_new_all * h_new_all
        else:
            d_act = (h_new_all > 0).to(h_new_all.dtype)
        d_pre = torch.empty_like(h_new_all)
        dh = d_hn
        for t in reversed(range(x.shape[0])):
            keep = None if step_mask is None else step_mask[t].unsqueeze(-1)
            dh_step, dh_skip = _split_grad(keep, dh, d_output[t])
            torch.mul(dh_step, d_act[t], out=d_pre[t])
            dh_in = d_pre[t].mm(w_hh)
            if recurrent_mask is not None:
                dh_in = dh_in * recurrent_mask
            dh = dh_in + dh_skip
        need = ctx.needs_input_grad
        dx = d_pre.matmul(w_ih) if need[0] else None
        dw_ih = _weight_grad(d_pre, x) if need[2] else None
        h_in = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        dw_hh = _weight_grad(d_pre, h_in) if need[3] else None
        db_ih, db_hh = _bias_grads(ctx, d_pre, d_pre, first=4)
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None, None, None


def lstm_layer(
    x: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    zoneout: Tensor | float | None = None,
    trace: bool = False,
) -> tuple[Tensor, tuple[Tensor, Tensor], dict[str, Tensor]]:
    """One LSTM layer in one direction with the hand-written backward.

    Same contract as :func:`lstmkit.functional.lstm_sequence` (``zoneout``: bool mask ``(T, B, P + H)``
    or a probability): returns ``output (T, B, P)``, the final ``(h, c)``, and, when ``trace``, the
    gates and cell states per step (else ``{}``).
    """
    zoneout = LF.zoneout_per_step(zoneout, x.shape[0], x.shape[1], hx[0].shape[-1] + hx[1].shape[-1])
    output, h, c, gates, cells = _LSTMLayer.apply(
        x, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh, w_hr, step_mask, recurrent_mask, zoneout, trace
    )
    records = {}
    if trace:
        records = dict(zip(LF.LSTM_GATES, gates.chunk(4, dim=-1)))
        records["cell_state"] = cells
        records = LF.zero_ended(records, step_mask)
    return output, (h, c), records


def gru_layer(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    zoneout: Tensor | float | None = None,
    reset_after: bool = True,
    trace: bool = False,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One GRU layer in one direction with the hand-written backward (see :func:`lstm_layer`).

    ``zoneout``: a bool mask ``(T, B, H)`` or a probability.
    """
    zoneout = LF.zoneout_per_step(zoneout, x.shape[0], x.shape[1], h0.shape[-1])
    output, h, gates = _GRULayer.apply(
        x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, zoneout, reset_after, trace
    )
    records = LF.zero_ended(dict(zip(LF.GRU_GATES, gates.chunk(3, dim=-1))), step_mask) if trace else {}
    return output, h, records


def rnn_layer(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    nonlinearity: str = "tanh",
    trace: bool = False,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One Elman RNN layer in one direction with the hand-written backward (an RNN has no gates)."""
    output, h = _RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, nonlinearity)
    return output, h, {}
