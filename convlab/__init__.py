"""Helpers the convlab notebooks import: data, kernels, plots, widgets."""
