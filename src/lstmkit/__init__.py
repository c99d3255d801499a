"""lstmkit: LSTM, GRU and RNN layers written from the gate equations, with hand-derived BPTT."""

from lstmkit import functional

__version__ = "0.1.0"

__all__ = ["functional", "__version__"]
