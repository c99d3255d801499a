"""lstmkit: LSTM, GRU and RNN layers written from the gate equations, with hand-derived BPTT."""

from lstmkit import bptt, functional, init
from lstmkit.layers import GRU, LSTM, RNN, detach_state
from lstmkit.streaming import Streaming

__version__ = "0.1.0"

__all__ = ["LSTM", "GRU", "RNN", "Streaming", "detach_state", "functional", "bptt", "init", "__version__"]
