"""placeholder"""


def run(*, quick=False, verbose=False):
    raise NotImplementedError
