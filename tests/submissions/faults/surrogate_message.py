"""Honest but unlucky: conv2d raises an exception whose message holds a lone surrogate."""


def conv2d(inputs, filters, strides, padding):
    raise ValueError("cannot handle \ud800 here")
