"""Tools for working on MEG that are not MEG: shared by the tests, the benchmarks and the
sandboxes' self-checks. Nothing here imports Django or the project's apps."""
